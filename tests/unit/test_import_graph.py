"""The import graph of esiframe goes one way: no cycles, and nothing imports the package.

Every import statement counts: at the top, under ``if TYPE_CHECKING:``, and inside
functions (a lazy import is still a dependency). ``from . import x`` where ``x`` is a
submodule is an edge to that submodule; any other import of ``esiframe`` itself is an
edge to the package ``__init__``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import esiframe.client  # the package, located without relying on its __init__'s names

ROOT = Path(esiframe.client.__file__).resolve().parent
PACKAGE = "esiframe"


def module_names() -> dict[str, Path]:
    """Every module of the package: dotted name -> file."""
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join([PACKAGE, *parts])] = path
    return found


def is_package(name: str, modules: dict[str, Path]) -> bool:
    return modules[name].name == "__init__.py"


def imported(name: str, source: str, modules: dict[str, Path]) -> set[str]:
    """The esiframe modules that the module ``name`` (with ``source``) imports."""
    here = name if is_package(name, modules) else name.rsplit(".", 1)[0]
    edges: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            submodules = [f"{base}.{a.name}" for a in node.names]
            targets = [m for m in submodules if m in modules] or [base]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # import a.b.c of a function: its module
                target = target.rpartition(".")[0]
            if target.startswith(PACKAGE) and target != name:
                edges.add(target)
    return edges


def graph() -> dict[str, set[str]]:
    modules = module_names()
    return {
        name: imported(name, path.read_text(encoding="utf-8"), modules)
        for name, path in modules.items()
    }


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_walker_sees_lazy_and_type_checking_imports():
    modules = {
        "esiframe": Path("__init__.py"),
        "esiframe.a": Path("a.py"),
        "esiframe.b": Path("b.py"),
        "esiframe.c": Path("c.py"),
        "esiframe.d": Path("d.py"),
    }
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from .b import B\n"
        "def f():\n    from . import c\n    import esiframe.d\n"
        "def g():\n    from . import __version__\n"
    )
    assert imported("esiframe.a", source, modules) == {
        "esiframe.b",
        "esiframe.c",
        "esiframe.d",
        "esiframe",
    }
    assert cycles({"x": {"y"}, "y": {"z"}, "z": {"x"}, "w": {"x"}}) == [["x", "y", "z"]]


def test_no_import_cycles():
    found = cycles(graph())
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_no_module_imports_the_package_init():
    offenders = sorted(name for name, edges in graph().items() if PACKAGE in edges)
    assert not offenders, f"these modules import the package esiframe itself: {offenders}"
