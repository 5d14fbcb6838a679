"""ESI operations: what the spec says about each, and binding user parameters to requests.

An :class:`Operation` knows its parameters, pagination style, rate-limit group,
scope, localization and response schema. :meth:`Operation.bind` checks user
parameters against the spec before any request is made and expands fan-out
(a list for a scalar parameter) into one :class:`Call` per value.
"""

from __future__ import annotations

import difflib
import inspect
import itertools
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from .errors import ParameterError

if TYPE_CHECKING:
    from .spec import Spec

__all__ = ["HEADER_PARAMETERS", "Call", "Operation", "Pagination", "Parameter"]

Pagination = Literal["x-pages", "cursor", "from_id"]

#: Parameters that esiframe sets itself, never the user.
HEADER_PARAMETERS = frozenset(
    {"Accept-Language", "If-None-Match", "X-Compatibility-Date", "X-Tenant", "If-Modified-Since"}
)
#: Query parameters that drive the page walk; users limit it with ``pages=``.
_WALK_PARAMETERS: dict[str, frozenset[str]] = {
    "x-pages": frozenset({"page"}),
    "cursor": frozenset({"before", "after", "limit"}),
    "from_id": frozenset({"from_id"}),
}
#: ESI's documented hidden per-minute limits (FACTS 5.1), by operation.
_HIDDEN_PER_MINUTE = {
    "GetMarketsRegionIdHistory": 300,
    "GetCharactersCharacterIdCorporationhistory": 300,
}
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_PY_TYPES = {"integer": int, "number": float, "string": str, "boolean": bool}


@dataclass(frozen=True)
class Parameter:
    """One path or query parameter of an operation (its schema with ``$ref``s resolved)."""

    name: str
    location: Literal["path", "query", "header"]
    required: bool
    schema: Mapping[str, Any]
    description: str = ""

    @property
    def type(self) -> str:
        return str(self.schema.get("type", "string"))

    @property
    def enum(self) -> tuple[Any, ...] | None:
        values = self.schema.get("enum") or self.schema.get("items", {}).get("enum")
        return tuple(values) if values else None

    @property
    def default(self) -> Any:
        return self.schema.get("default")

    @property
    def needed(self) -> bool:
        """Required and without a default: the caller must give it."""
        return self.required and self.default is None

    def annotation(self) -> Any:
        if self.type == "array":
            item = _PY_TYPES.get(self.schema.get("items", {}).get("type", "string"), str)
            return list[item]  # type: ignore[valid-type]
        return _PY_TYPES.get(self.type, str)

    def describe_type(self) -> str:
        text = self.type
        if self.type == "array":
            text = f"list of {self.schema.get('items', {}).get('type', 'string')}"
        if self.enum:
            text += " in {" + ", ".join(map(str, self.enum)) + "}"
        return text

    def check(self, value: Any) -> Any:
        """Return ``value`` as it is sent, or raise ParameterError (without signature)."""
        if self.type == "array":
            if isinstance(value, str) or not isinstance(value, Iterable):
                raise ParameterError(f"{self.name} must be a list of {self.describe_type()}")
            items = [_check_scalar(self.name, self.schema.get("items", {}), v) for v in value]
            _check_length(self.name, self.schema, items)
            return items
        return _check_scalar(self.name, self.schema, value)


def _check_scalar(name: str, schema: Mapping[str, Any], value: Any) -> Any:
    kind = schema.get("type", "string")
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ParameterError(f"{name} must be an integer, got {value!r}")
        value = int(value)
        low, high = _INT_RANGES.get(schema.get("format", ""), (None, None))
        low = schema.get("minimum", low)
        high = schema.get("maximum", high)
        if (low is not None and value < low) or (high is not None and value > high):
            raise ParameterError(f"{name} must be between {low} and {high}, got {value}")
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ParameterError(f"{name} must be a number, got {value!r}")
        value = float(value)
    elif kind == "boolean":
        if not isinstance(value, bool) and type(value).__name__ != "bool_":
            raise ParameterError(f"{name} must be True or False, got {value!r}")
        value = bool(value)
    elif not isinstance(value, str):
        raise ParameterError(f"{name} must be a string, got {value!r}")
    enum = schema.get("enum")
    if enum and value not in enum:
        allowed = ", ".join(map(repr, enum))
        raise ParameterError(f"{name}={value!r} is not allowed; allowed values: {allowed}")
    if isinstance(value, str):
        _check_length(name, schema, value, what="characters")
    return value


def _check_length(
    name: str, schema: Mapping[str, Any], value: Sequence[Any], what: str = "items"
) -> None:
    key = "Length" if what == "characters" else "Items"
    low, high = schema.get(f"min{key}"), schema.get(f"max{key}")
    if low is not None and len(value) < low:
        raise ParameterError(f"{name} needs at least {low} {what}, got {len(value)}")
    if high is not None and len(value) > high:
        raise ParameterError(f"{name} allows at most {high} {what}, got {len(value)}")


@dataclass(frozen=True)
class Call:
    """One request of an operation, before its pages are walked."""

    operation: Operation
    path_params: Mapping[str, Any]
    query: Mapping[str, Any]
    body: Any = None
    fanout: Mapping[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """The URL path with path parameters filled in."""
        path = self.operation.path
        for name, value in self.path_params.items():
            path = path.replace("{" + name + "}", quote(str(value), safe=""))
        return path

    @property
    def params(self) -> dict[str, Any]:
        """All parameters of this call, for metadata and error reports."""
        return {**self.path_params, **self.query}


@dataclass(eq=False)
class Operation:
    """An ESI operation as the spec describes it."""

    spec: Spec = field(repr=False)
    operation_id: str
    method: str
    path: str
    tag: str
    summary: str
    description: str
    parameters: tuple[Parameter, ...]
    pagination: Pagination | None
    rate_limit: Mapping[str, Any] | None
    scope: str | None
    roles: tuple[str, ...]
    localized: bool
    cache_seconds: int | None
    route_date: str
    body_schema: Mapping[str, Any] | None = field(repr=False)
    _raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_spec(cls, spec: Spec, path: str, method: str, raw: Mapping[str, Any]) -> Operation:
        params = []
        for ref in raw.get("parameters", []):
            p = spec.deref(ref)
            params.append(
                Parameter(
                    name=p["name"],
                    location=p["in"],
                    required=bool(p.get("required", False)),
                    schema=spec.resolve(p.get("schema", {})),
                    description=p.get("description") or p.get("schema", {}).get("description", ""),
                )
            )
        pagination: Pagination | None = None
        if raw.get("x-pagination") == "cursor":
            pagination = "cursor"
        elif any(p.name == "page" and p.location == "query" for p in params):
            pagination = "x-pages"
        elif any(p.name == "from_id" for p in params):
            pagination = "from_id"
        security = raw.get("security") or []
        scopes = [s for req in security for s in req.get("OAuth2", [])]
        ok: Mapping[str, Any] = next(
            (raw["responses"][c] for c in ("200", "201") if c in raw["responses"]), {}
        )
        body = raw.get("requestBody", {}).get("content", {}).get("application/json", {})
        return cls(
            spec=spec,
            operation_id=raw["operationId"],
            method=method.upper(),
            path=path,
            tag=(raw.get("tags") or ["Other"])[0],
            summary=raw.get("summary", ""),
            description=raw.get("description", ""),
            parameters=tuple(params),
            pagination=pagination,
            rate_limit=raw.get("x-rate-limit"),
            scope=scopes[0] if scopes else None,
            roles=tuple(raw.get("x-required-roles", ())),
            localized="Content-Language" in ok.get("headers", {}),
            cache_seconds=raw.get("x-cache-age", raw.get("x-client-cache-ttl")),
            route_date=raw.get("x-compatibility-date", ""),
            body_schema=spec.resolve(body["schema"]) if "schema" in body else None,
            _raw=raw,
        )

    # -- what the spec says -------------------------------------------------------------

    @property
    def rate_limit_group(self) -> str | None:
        return self.rate_limit.get("group") if self.rate_limit else None

    @property
    def rate_limit_window(self) -> str | None:
        return self.rate_limit.get("window-size") if self.rate_limit else None

    @property
    def hidden_per_minute(self) -> int | None:
        """A limit ESI enforces without saying so in the spec (FACTS 5.1)."""
        return _HIDDEN_PER_MINUTE.get(self.operation_id)

    @property
    def read_only(self) -> bool:
        """GETs, and the POSTs that only look things up."""
        return self.method == "GET" or self.operation_id in _READ_ONLY_POSTS

    @cached_property
    def response_schema(self) -> Mapping[str, Any] | None:
        """The 200/201 JSON schema with every ``$ref`` resolved (computed once)."""
        for code in ("200", "201"):
            response = self._raw["responses"].get(code)
            if response:
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                return self.spec.resolve(schema) if schema is not None else None
        return None

    @cached_property
    def user_parameters(self) -> tuple[Parameter, ...]:
        """The parameters a user passes: path and query, minus the page-walk ones."""
        walked = _WALK_PARAMETERS.get(self.pagination or "", frozenset())
        return tuple(p for p in self.parameters if p.location != "header" and p.name not in walked)

    @cached_property
    def __signature__(self) -> inspect.Signature:
        ordered = sorted(self.user_parameters, key=lambda p: not p.needed)
        params = [
            inspect.Parameter(
                p.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=inspect.Parameter.empty if p.needed else p.default,
                annotation=p.annotation() if p.needed else p.annotation() | None,
            )
            for p in ordered
        ]
        if self.body_schema is not None:
            params.insert(0, inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY))
        return inspect.Signature(params)

    @property
    def signature(self) -> str:
        """``GetMarketsRegionIdHistory(*, region_id: int, type_id: int)``."""
        text = str(self.__signature__).replace("<class '", "").replace("'>", "")
        text = text.replace("typing.Optional", "Optional")
        return f"{self.operation_id}{text}"

    # -- binding ------------------------------------------------------------------------

    def bind(self, params: Mapping[str, Any], *, body: Any = None) -> list[Call]:
        """Check ``params`` against the spec and return the calls to make.

        A list (or tuple, set, range, array, Series) given for a scalar
        parameter fans out: one call per value, the cartesian product over
        several such parameters.
        """
        known = {p.name: p for p in self.user_parameters}
        unknown = [name for name in params if name not in known]
        if unknown:
            raise ParameterError(self._unknown_message(unknown))
        missing = [p.name for p in self.user_parameters if p.needed and params.get(p.name) is None]
        if missing:
            raise ParameterError(
                f"{self.operation_id} is missing required parameter(s) {', '.join(missing)}. "
                f"Call it as {self.signature}"
            )
        # A required parameter with a default (order_type, FACTS 10) is sent with it.
        fixed: dict[str, Any] = {
            p.name: p.default for p in self.user_parameters if p.required and p.default is not None
        }
        spread: dict[str, list[Any]] = {}
        for name, value in params.items():
            p = known[name]
            if value is None:
                continue
            try:
                if p.type != "array" and _is_listlike(value):
                    values = list(value)
                    if not values:
                        raise ParameterError(
                            f"{name} was given an empty list; give at least one value"
                        )
                    spread[name] = list(dict.fromkeys(p.check(v) for v in values))
                    fixed.pop(name, None)
                else:
                    fixed[name] = p.check(value)
            except ParameterError as exc:
                raise ParameterError(f"{exc}. Call it as {self.signature}") from None
        try:
            bodies = self._bodies(body)
        except ParameterError as exc:
            raise ParameterError(f"{exc}. Call it as {self.signature}") from None
        calls = []
        names = list(spread)
        combos: Iterable[tuple[Any, ...]] = (
            itertools.product(*(spread[n] for n in names)) if names else [()]
        )
        for combo in combos:
            chosen = {**fixed, **dict(zip(names, combo, strict=True))}
            path_params = {k: v for k, v in chosen.items() if known[k].location == "path"}
            query = {k: v for k, v in chosen.items() if known[k].location == "query"}
            for chunk in bodies:
                calls.append(
                    Call(self, path_params, query, chunk, dict(zip(names, combo, strict=True)))
                )
        return calls

    def _bodies(self, body: Any) -> list[Any]:
        """The request body, split into batches no longer than the spec's ``maxItems``."""
        if self.body_schema is None:
            if body is not None:
                raise ParameterError(f"{self.operation_id} takes no body")
            return [None]
        if body is None:
            raise ParameterError(f"{self.operation_id} needs body=")
        if self.body_schema.get("type") != "array":
            return [body]
        if isinstance(body, str) or not isinstance(body, Iterable):
            raise ParameterError(f"{self.operation_id} body must be a list")
        item = self.body_schema.get("items", {})
        items = [_check_scalar("body item", item, v) for v in body]
        if self.body_schema.get("uniqueItems"):
            items = list(dict.fromkeys(items))
        if not items:
            raise ParameterError(f"{self.operation_id} body must not be empty")
        size = int(self.body_schema.get("maxItems") or len(items))
        return [items[i : i + size] for i in range(0, len(items), size)]

    def _unknown_message(self, unknown: list[str]) -> str:
        names = [p.name for p in self.user_parameters]
        hints = []
        for name in unknown:
            if name in HEADER_PARAMETERS:
                hints.append(f"{name} is set by esiframe (see Client settings)")
            elif any(name in walked for walked in _WALK_PARAMETERS.values()):
                hints.append(f"{name} is walked by esiframe; use pages=N to limit the walk")
            else:
                close = difflib.get_close_matches(name, names, n=1)
                hints.append(
                    f"{name!r} is unknown" + (f" (did you mean {close[0]!r}?)" if close else "")
                )
        return (
            f"{self.operation_id} got unexpected parameter(s): {'; '.join(hints)}. "
            f"Call it as {self.signature}"
        )

    # -- display ------------------------------------------------------------------------

    @cached_property
    def __doc__(self) -> str:  # type: ignore[override]
        lines = [self.summary, "", self.signature, ""]
        if self.description and self.description != self.summary:
            lines += [self.description, ""]
        if self.user_parameters:
            lines.append("Parameters:")
            for p in self.user_parameters:
                req = "required" if p.required else f"optional, default {p.default!r}"
                lines.append(f"  {p.name} ({p.describe_type()}, {req}): {p.description}".rstrip())
            lines.append("")
        lines += self._facts()
        return "\n".join(lines)

    def _facts(self) -> list[str]:
        facts = [f"{self.method} {self.path}  (tag: {self.tag}, route version {self.route_date})"]
        if self.pagination:
            facts.append(f"Pagination: {self.pagination} (esiframe walks every page)")
        if self.scope:
            facts.append(f"Requires login with scope {self.scope}")
        if self.roles:
            facts.append(f"Corporation roles: {', '.join(self.roles)}")
        if self.rate_limit:
            facts.append(
                f"Rate limit: group {self.rate_limit_group}, "
                f"{self.rate_limit.get('max-tokens')} tokens / {self.rate_limit_window}"
            )
        elif self.hidden_per_minute:
            facts.append(f"Rate limit: error limit, and {self.hidden_per_minute} requests/minute")
        else:
            facts.append("Rate limit: ESI error limit")
        if self.localized:
            facts.append("Localized: text fields follow language=")
        if self.cache_seconds:
            facts.append(f"Cached by ESI for {self.cache_seconds} s")
        return facts

    def _repr_markdown_(self) -> str:
        rows = [
            f"**{self.operation_id}** — {self.summary}",
            "",
            f"`{self.signature}`",
            "",
        ]
        if self.user_parameters:
            rows += ["| parameter | type | required | description |", "|---|---|---|---|"]
            for p in self.user_parameters:
                desc = p.description.replace("|", "\\|").replace("\n", " ")
                required = "yes" if p.required else "no"
                rows.append(f"| `{p.name}` | {p.describe_type()} | {required} | {desc} |")
            rows.append("")
        rows += [f"- {fact}" for fact in self._facts()]
        return "\n".join(rows)

    def __repr__(self) -> str:
        return f"<Operation {self.signature}>"


_READ_ONLY_POSTS = frozenset({"PostUniverseNames", "PostUniverseIds", "PostCharactersAffiliation"})


def _is_listlike(value: Any) -> bool:
    if isinstance(value, str | bytes | Mapping):
        return False
    return isinstance(value, Iterable) or hasattr(value, "tolist")
