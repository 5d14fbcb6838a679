"""Browsing operations in a notebook: ``client.ops.<tag>.<OperationId>(...)``.

Tags become attributes (``client.ops.market``, ``client.ops.faction_warfare``)
and operations callables with the operation's real signature, docstring and
rich display, so TAB completion and ``?`` work in Jupyter.
"""

from __future__ import annotations

import difflib
import html
import inspect
import re
from collections.abc import Callable
from typing import Any

import pandas as pd

from .operations import Operation
from .spec import Spec

__all__ = ["BoundOperation", "CallFunction", "Description", "Ops", "TagGroup", "tag_attribute"]

#: call(operation_id, **params) -> DataFrame, e.g. ``Client.get``
CallFunction = Callable[..., pd.DataFrame]


def tag_attribute(tag: str) -> str:
    """``"Faction Warfare"`` -> ``"faction_warfare"``."""
    return re.sub(r"\W+", "_", tag).strip("_").lower()


def _closest(name: str, candidates: list[str], n: int = 5) -> list[str]:
    """The ``n`` candidates most like ``name`` (case and underscores ignored), best first."""
    key = name.lower().replace("_", "")
    unique = list(dict.fromkeys(candidates))
    return sorted(unique, key=lambda c: -difflib.SequenceMatcher(None, key, c.lower()).ratio())[:n]


class Description:
    """What ``ef.describe(op)`` shows: the facts as a table in Jupyter, as text elsewhere.

    Attribute access reaches the operation itself (``describe(op).signature``).
    """

    def __init__(self, operation: Operation) -> None:
        self.operation = operation

    def __str__(self) -> str:
        return self.operation.describe_text()

    __repr__ = __str__

    def _repr_markdown_(self) -> str:
        return self.operation._repr_markdown_()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.operation, name)


class BoundOperation:
    """An operation bound to a call function; calling it is ``call(operation_id, ...)``."""

    def __init__(self, call: CallFunction, operation: Operation) -> None:
        self._call = call
        self.operation = operation
        self.__name__ = operation.operation_id
        self.__doc__ = operation.__doc__
        self.__signature__: inspect.Signature = operation.__signature__

    def __call__(self, *args: Any, **params: Any) -> pd.DataFrame:
        if args:
            raise self.operation.positional_error(args)
        return self._call(self.operation.operation_id, **params)

    def __repr__(self) -> str:
        return f"<{self.operation.signature}>"

    def _repr_markdown_(self) -> str:
        return self.operation._repr_markdown_()

    def _repr_html_(self) -> str:
        return "<pre>" + html.escape(self.operation.__doc__ or "") + "</pre>"


class TagGroup:
    """The operations of one tag."""

    def __init__(self, spec: Spec, call: CallFunction, tag: str, operation_ids: list[str]) -> None:
        self._spec = spec
        self._call = call
        self.tag = tag
        self._ids = operation_ids

    def __dir__(self) -> list[str]:
        return sorted(self._ids)

    def __getattr__(self, name: str) -> BoundOperation:
        if name.startswith("_") or name not in self._ids:
            raise AttributeError(
                f"no operation {name!r} under tag {self.tag!r}; closest: "
                + ", ".join(_closest(name, [*self._ids, *self._spec.ids()]))
            )
        return BoundOperation(self._call, self._spec.operation(name))

    def __iter__(self) -> Any:
        return (getattr(self, op_id) for op_id in self._ids)

    def __repr__(self) -> str:
        return f"<{self.tag}: {', '.join(self._ids)}>"

    def _repr_markdown_(self) -> str:
        spec = self._spec
        rows = [f"**{self.tag}**", "", "| operation | summary |", "|---|---|"]
        rows += [f"| `{op_id}` | {spec.operation(op_id).summary} |" for op_id in self._ids]
        return "\n".join(rows)


class Ops:
    """Every operation of a spec, grouped by tag; ``call`` runs one (``Client.get``)."""

    def __init__(self, spec: Spec, call: CallFunction) -> None:
        self._spec = spec
        self._call = call
        self._groups = {tag_attribute(tag): (tag, ids) for tag, ids in spec.by_tag().items()}

    def __dir__(self) -> list[str]:
        return sorted(self._groups)

    def __getattr__(self, name: str) -> TagGroup:
        if name.startswith("_") or name not in self._groups:
            raise AttributeError(f"no tag {name!r}; tags are: {', '.join(sorted(self._groups))}")
        tag, ids = self._groups[name]
        return TagGroup(self._spec, self._call, tag, ids)

    def __repr__(self) -> str:
        return "<ESI operations by tag: " + ", ".join(sorted(self._groups)) + ">"

    def _repr_markdown_(self) -> str:
        rows = ["| tag | operations |", "|---|---|"]
        rows += [f"| `{attr}` | {len(ids)} |" for attr, (_, ids) in sorted(self._groups.items())]
        return "\n".join(rows)
