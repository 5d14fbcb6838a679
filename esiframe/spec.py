"""The ESI OpenAPI document: bundled copy, compatibility dates, and the operation index.

The spec for the bundled compatibility date ships gzipped in ``esiframe/data``.
:class:`Spec` indexes its operations by operationId, case-insensitively and by
the legacy snake_case id; response schemas are resolved only when asked for.
"""

from __future__ import annotations

import difflib
import gzip
import json
import re
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

from .errors import CompatibilityDateError, OperationNotFound
from .operations import Operation

__all__ = [
    "BUNDLED_DATE",
    "Spec",
    "bundled_spec",
    "check_compatibility_date",
    "compatibility_dates",
    "load_spec",
    "snake_case",
]

BUNDLED_DATE = "2026-08-04"
_DATA = resources.files("esiframe") / "data"
_HTTP_METHODS = ("get", "post", "put", "delete", "patch")


def snake_case(operation_id: str) -> str:
    """``GetMarketsRegionIdHistory`` -> ``get_markets_region_id_history``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()


@cache
def _bundled_document() -> dict[str, Any]:
    raw = (_DATA / f"openapi-{BUNDLED_DATE}.json.gz").read_bytes()
    document: dict[str, Any] = json.loads(gzip.decompress(raw))
    return document


@cache
def compatibility_dates() -> tuple[str, ...]:
    """The compatibility dates ESI publishes, newest first (as bundled)."""
    payload = json.loads((_DATA / "compatibility-dates.json").read_text("utf-8"))
    return tuple(payload["compatibility_dates"])


def check_compatibility_date(date: str) -> str:
    """Return ``date`` if ESI publishes it, else raise naming the valid dates."""
    if date not in compatibility_dates():
        valid = ", ".join(compatibility_dates())
        raise CompatibilityDateError(
            f"{date!r} is not an ESI compatibility date; valid dates are: {valid}"
        )
    return date


class Spec:
    """An OpenAPI document with an index of its operations.

    Operations are built when first looked up; a lookup accepts the exact
    operationId, any casing of it, or the legacy snake_case id.
    """

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.date: str = str(document.get("info", {}).get("version", ""))
        self._where: dict[str, tuple[str, str]] = {}
        self._aliases: dict[str, str] = {}
        for path, item in document.get("paths", {}).items():
            for method in _HTTP_METHODS:
                raw = item.get(method)
                if raw is None:
                    continue
                op_id = raw["operationId"]
                self._where[op_id] = (path, method)
                self._aliases[op_id.lower()] = op_id
                self._aliases[snake_case(op_id)] = op_id
        self._operations: dict[str, Operation] = {}

    def __len__(self) -> int:
        return len(self._where)

    def __iter__(self) -> Iterator[Operation]:
        return (self.operation(op_id) for op_id in self._where)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._canonical(name) is not None

    def ids(self) -> list[str]:
        """Every operationId, in spec order."""
        return list(self._where)

    def operation(self, name: str) -> Operation:
        """Look up an operation; an unknown name raises naming the closest ones."""
        op_id = self._canonical(name)
        if op_id is None:
            raise OperationNotFound(self._not_found_message(name))
        op = self._operations.get(op_id)
        if op is None:
            path, method = self._where[op_id]
            op = Operation.from_spec(self, path, method, self.document["paths"][path][method])
            self._operations[op_id] = op
        return op

    def resolve(self, node: Any) -> Any:
        """Return ``node`` with every local ``$ref`` replaced by its target (recursively)."""
        return _resolve(self.document, node, ())

    def deref(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        """Follow a single top-level ``$ref`` (parameters, responses)."""
        while "$ref" in node:
            node = _pointer(self.document, node["$ref"])
        return node

    def by_tag(self) -> dict[str, list[str]]:
        """operationIds grouped by their first tag, in spec order (no Operation is built)."""
        groups: dict[str, list[str]] = {}
        for op_id, (path, method) in self._where.items():
            tags = self.document["paths"][path][method].get("tags") or ["Other"]
            groups.setdefault(tags[0], []).append(op_id)
        return groups

    def _canonical(self, name: str) -> str | None:
        if name in self._where:
            return name
        return self._aliases.get(name.lower()) or self._aliases.get(snake_case(name))

    def _not_found_message(self, name: str) -> str:
        key = name.lower().replace("_", "")
        scored = sorted(
            self._where,
            key=lambda op_id: -difflib.SequenceMatcher(None, key, op_id.lower()).ratio(),
        )
        close = ", ".join(scored[:5])
        return f"no ESI operation named {name!r}; closest: {close}"


def _pointer(document: Mapping[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $refs are supported, got {ref!r}")
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _resolve(document: Mapping[str, Any], node: Any, seen: tuple[str, ...]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in seen:  # a recursive schema: stop here rather than loop
                return {"type": "object"}
            target = _resolve(document, _pointer(document, ref), (*seen, ref))
            extra = {k: v for k, v in node.items() if k != "$ref"}
            return {**target, **extra} if extra else target
        return {k: _resolve(document, v, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(document, v, seen) for v in node]
    return node


@cache
def bundled_spec() -> Spec:
    """The spec bundled with esiframe (compatibility date :data:`BUNDLED_DATE`)."""
    return Spec(_bundled_document())


def load_spec(
    compatibility_date: str | None = None,
    *,
    path: str | None = None,
    fetch: Callable[[str], Mapping[str, Any]] | None = None,
) -> Spec:
    """The spec for a compatibility date.

    ``path`` names a local openapi.json that replaces any other source. The
    bundled date is served from the package; another published date is
    fetched with ``fetch(date)`` (the client passes its cached HTTP session).
    """
    if path is not None:
        with open(path, encoding="utf-8") as fh:
            return Spec(json.load(fh))
    date = check_compatibility_date(compatibility_date or BUNDLED_DATE)
    if date == BUNDLED_DATE:
        return bundled_spec()
    if fetch is None:
        raise CompatibilityDateError(
            f"the spec for {date} is not bundled (only {BUNDLED_DATE} is) and no HTTP "
            "access was given to fetch it"
        )
    return Spec(fetch(date))
