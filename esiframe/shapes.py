"""Is a 200 answer's body the shape its operation promises? Checked before any row is made.

A proxy's HTML error page, a captive portal, a plain-text message or an empty body can all
arrive with status 200. Typed as if they were ESI's data they would give a raw
``TypeError``, a column of single characters, or a silent empty frame. Here they become an
:class:`~esiframe.errors.UnexpectedAnswerError` naming the operation, the URL and what came
back. Only the outer shape is checked: fields that deviate from the schema are kept and warned
about when the frame is typed (docs/esi.md §11).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import UnexpectedAnswerError

__all__ = ["check_answer", "promised_shape"]

_EXCERPT = 80


def promised_shape(response_schema: Mapping[str, Any] | None) -> str | None:
    """``"array"``, ``"object"`` or ``"value"`` (a scalar), or None when the spec says nothing."""
    if not response_schema:
        return None
    kind = response_schema.get("type")
    if kind == "array":
        return "array"
    if kind == "object" or "properties" in response_schema or "oneOf" in response_schema:
        return "object"
    return "value" if kind in ("integer", "number", "string", "boolean") else None


def check_answer(operation_id: str, shape: str | None, body: Any, url: str) -> None:
    """Raise UnexpectedAnswerError unless ``body`` (parsed JSON, or the text when it was not
    JSON) can be the ``shape`` promised for a 200 answer of ``operation_id``."""
    if shape is None:
        return
    if body is None or body == "":
        found = "an empty body"
    elif isinstance(body, str) and shape != "value":
        found = "an HTML page" if body.lstrip()[:1] == "<" else "text"
    elif not _fits(shape, body):
        found = f"a JSON {_kind(body)}"
    else:
        return
    excerpt = str(body)[:_EXCERPT]
    promised = {"array": "a JSON list", "object": "a JSON object", "value": "a single value"}
    raise UnexpectedAnswerError(
        f"{operation_id} answered 200 with {found} where the spec promises {promised[shape]} "
        f"({url}); something between you and ESI (a proxy, a captive portal) may have "
        f"answered instead. It began: {excerpt!r}",
        url=url,
        excerpt=excerpt,
    )


def _fits(shape: str, body: Any) -> bool:
    if shape == "array":
        return isinstance(body, list)
    if shape == "object":
        return isinstance(body, Mapping)
    return not isinstance(body, list | Mapping)


def _kind(body: Any) -> str:
    if isinstance(body, list):
        return "list"
    if isinstance(body, Mapping):
        return "object"
    return type(body).__name__
