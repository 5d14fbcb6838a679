"""ESI operations: what the spec says about each, and binding user parameters to requests.

An :class:`Operation` knows its parameters, pagination style, rate-limit group,
scope, localization and response schema. It is built from its raw spec entry
and a ``resolve`` callable for ``$ref``s, so it needs no back-reference to the
spec. :meth:`Operation.plan` checks user parameters against the spec before
any request and says how many requests they make; :meth:`Operation.bind`
returns them as :class:`Call` objects. A list for a scalar parameter fans out
(lists cross); ``each=`` rows pair (one request per row).
"""

from __future__ import annotations

import difflib
import inspect
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal
from urllib.parse import quote

from .errors import ParameterError
from .readonly import is_read_only
from .values import check_value, is_listlike, is_missing, plain

__all__ = ["HEADER_PARAMETERS", "Call", "Operation", "Pagination", "Parameter", "Plan"]

Pagination = Literal["x-pages", "cursor", "from_id"]
Resolve = Callable[[Any], Any]

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
#: ESI's documented hidden per-minute limits (docs/esi.md §5.1), by operation.
_HIDDEN_PER_MINUTE = {
    "GetMarketsRegionIdHistory": 300,
    "GetCharactersCharacterIdCorporationhistory": 300,
}
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

    @property
    def required_text(self) -> str:
        """``yes``, or ``no (default 'all')``: a default makes a required parameter optional."""
        if self.needed:
            return "yes"
        return "no" if self.default is None else f"no (default {self.default!r})"

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
        checked = check_value(self.name, self.schema, value)
        if self.location == "path" and str(checked) in {".", ".."}:
            # A dot segment would be folded away by URL normalisation and change the path sent.
            raise ParameterError(f"{self.name} cannot be {checked!r}: it is part of the URL path")
        return checked


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


@dataclass(frozen=True)
class Plan:
    """Checked parameters of one ``get``, before any :class:`Call` is built.

    ``len(plan)`` is the number of requests (each row x fan-out values x body
    batches), computed without building them, so a limit can refuse a huge
    cross product cheaply.
    """

    operation: Operation
    fixed: Mapping[str, Any]
    rows: tuple[Mapping[str, Any], ...]
    spread: tuple[tuple[str, tuple[Any, ...]], ...]
    bodies: tuple[Any, ...]

    def __len__(self) -> int:
        return len(self.rows) * math.prod(len(v) for _, v in self.spread) * len(self.bodies)

    def calls(self) -> list[Call]:
        """One Call per row, fan-out combination and body batch (rows outermost)."""
        combos: list[dict[str, Any]] = [{}]
        for name, values in self.spread:
            combos = [{**combo, name: value} for combo in combos for value in values]
        where = {p.name: p.location for p in self.operation.user_parameters}
        calls = []
        for row in self.rows:
            for combo in combos:
                chosen = {**self.fixed, **row, **combo}
                path_params = {k: v for k, v in chosen.items() if where[k] == "path"}
                query = {k: v for k, v in chosen.items() if where[k] == "query"}
                fanout = {**row, **combo}
                calls += [Call(self.operation, path_params, query, b, fanout) for b in self.bodies]
        return calls

    def check_limit(self, max_requests: int, *, languages: int = 1, characters: int = 1) -> None:
        """Refuse, before any request, a call that would send more than ``max_requests``.

        ``languages`` and ``characters`` multiply the plan (the client runs it
        once per language of ``languages=`` and per character of ``character=``).
        """
        count = len(self) * languages * characters
        if count <= max_requests:
            return
        parts = [f"{len(self.rows):,} each= rows"] if len(self.rows) > 1 else []
        parts += [f"{len(v):,} {name} values" for name, v in self.spread]
        parts += [f"{len(self.bodies):,} body batches"] if len(self.bodies) > 1 else []
        parts += [f"{languages} languages"] if languages > 1 else []
        parts += [f"{characters} characters"] if characters > 1 else []
        raise ParameterError(
            f"{self.operation.operation_id} would send {count:,} requests "
            f"({' x '.join(parts) or 'one call'}), more than max_requests={max_requests:,}; "
            "nothing was sent. Give fewer values (lists cross: use each= to pair them), or "
            "raise the limit: max_requests=... on this call, Client(max_requests=...), "
            "ef.configure(max_requests=...) or ESIFRAME_MAX_REQUESTS."
        )


@dataclass(eq=False)
class Operation:
    """An ESI operation as the spec describes it."""

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
    _resolve: Resolve = field(repr=False)

    @classmethod
    def from_raw(
        cls, path: str, method: str, raw: Mapping[str, Any], resolve: Resolve
    ) -> Operation:
        """Build from the spec entry ``raw``; ``resolve`` replaces ``$ref``s in a node."""
        params = []
        for ref in raw.get("parameters", []):
            p = resolve(ref)
            params.append(
                Parameter(
                    name=p["name"],
                    location=p["in"],
                    required=bool(p.get("required", False)),
                    schema=p.get("schema", {}),
                    description=p.get("description") or p.get("schema", {}).get("description", ""),
                )
            )
        security = raw.get("security") or []
        scopes = [s for req in security for s in req.get("OAuth2", [])]
        ok: Mapping[str, Any] = next(
            (raw["responses"][c] for c in ("200", "201") if c in raw["responses"]), {}
        )
        body = raw.get("requestBody", {}).get("content", {}).get("application/json", {})
        return cls(
            operation_id=raw["operationId"],
            method=method.upper(),
            path=path,
            tag=(raw.get("tags") or ["Other"])[0],
            summary=raw.get("summary", ""),
            description=raw.get("description", ""),
            parameters=tuple(params),
            pagination=_pagination(raw, params),
            rate_limit=raw.get("x-rate-limit"),
            scope=scopes[0] if scopes else None,
            roles=tuple(raw.get("x-required-roles", ())),
            localized="Content-Language" in ok.get("headers", {}),
            cache_seconds=raw.get("x-cache-age", raw.get("x-client-cache-ttl")),
            route_date=raw.get("x-compatibility-date", ""),
            body_schema=resolve(body["schema"]) if "schema" in body else None,
            _raw=raw,
            _resolve=resolve,
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
        """A limit ESI enforces without saying so in the spec (docs/esi.md §5.1)."""
        return _HIDDEN_PER_MINUTE.get(self.operation_id)

    @property
    def read_only(self) -> bool:
        """GETs, and the POSTs that only look things up (decided in :mod:`esiframe.readonly`)."""
        return is_read_only(self.method, self.operation_id)

    @property
    def tombstone_ttl(self) -> int | None:
        """Seconds a deleted record stays visible to an ``after`` walk (``x-tombstone-ttl``)."""
        ttl = self._raw.get("x-tombstone-ttl")
        return int(ttl) if ttl is not None else None

    @cached_property
    def response_schema(self) -> Mapping[str, Any] | None:
        """The 200/201 JSON schema with every ``$ref`` resolved (computed once)."""
        for code in ("200", "201"):
            response = self._raw["responses"].get(code)
            if response:
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                return self._resolve(schema) if schema is not None else None
        return None

    @cached_property
    def user_parameters(self) -> tuple[Parameter, ...]:
        """The parameters a user passes, in signature order (required ones first)."""
        walked = _WALK_PARAMETERS.get(self.pagination or "", frozenset())
        given = [p for p in self.parameters if p.location != "header" and p.name not in walked]
        return tuple(sorted(given, key=lambda p: not p.needed))

    @cached_property
    def __signature__(self) -> inspect.Signature:
        params = [
            inspect.Parameter(
                p.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=inspect.Parameter.empty if p.needed else p.default,
                annotation=p.annotation() if p.needed else p.annotation() | None,
            )
            for p in self.user_parameters
        ]
        if self.body_schema is not None:
            default: Any = {} if self._body_optional else inspect.Parameter.empty
            body = inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, default=default)
            params.insert(0, body)
        return inspect.Signature(params)

    @property
    def signature(self) -> str:
        """``GetMarketsRegionIdHistory(*, region_id: int, type_id: int)``."""
        text = str(self.__signature__).replace("<class '", "").replace("'>", "")
        text = text.replace("typing.Optional", "Optional")
        return f"{self.operation_id}{text}"

    @property
    def _body_optional(self) -> bool:
        """An object body with no required field may be left out (PostRoute sends ``{}``)."""
        schema = self.body_schema
        return schema is not None and schema.get("type") == "object" and not schema.get("required")

    # -- binding ------------------------------------------------------------------------

    def bind(
        self,
        params: Mapping[str, Any],
        *,
        body: Any = None,
        each: Any = None,
    ) -> list[Call]:
        """Check ``params`` (and ``body``, ``each``) against the spec; return the calls to make.

        A list (tuple, set, range, numpy array, Series) for a scalar parameter
        fans out: one call per value, the cartesian product over several such
        parameters. ``each`` (a DataFrame or a list of dicts keyed by parameter
        names) pairs: one call per row, crossed with the fan-out lists.
        """
        return self.plan(params, body=body, each=each).calls()

    def plan(self, params: Mapping[str, Any], *, body: Any = None, each: Any = None) -> Plan:
        """Check all the user gave; a mistake raises ParameterError with the signature."""
        try:
            rows = self._rows(each, params)
            self._check_names(params, rows)
            fixed, spread = self._split(params)
            bodies = self._bodies(body)
        except ParameterError as exc:
            raise ParameterError(f"{exc}. Call it as {self.signature}") from None
        return Plan(self, fixed, rows, spread, bodies)

    def _check_names(self, params: Mapping[str, Any], rows: tuple[Mapping[str, Any], ...]) -> None:
        """Unknown names, and required parameters given neither as a keyword nor in every row."""
        known = {p.name for p in self.user_parameters}
        unknown = [name for name in params if name not in known]
        if unknown:
            raise ParameterError(self._unknown_message(unknown))
        missing = [
            p.name
            for p in self.user_parameters
            if p.needed and params.get(p.name) is None and not all(p.name in r for r in rows)
        ]
        if missing:
            raise ParameterError(
                f"{self.operation_id} is missing required parameter(s) {', '.join(missing)}"
            )

    def _split(
        self, params: Mapping[str, Any]
    ) -> tuple[dict[str, Any], tuple[tuple[str, tuple[Any, ...]], ...]]:
        """Single values (sent with every call) and fan-out lists (crossed)."""
        known = {p.name: p for p in self.user_parameters}
        # A required parameter with a default (order_type, docs/esi.md §10) is sent with it.
        fixed: dict[str, Any] = {
            p.name: p.default for p in self.user_parameters if p.required and p.default is not None
        }
        spread: list[tuple[str, tuple[Any, ...]]] = []
        for name, value in params.items():
            p = known[name]
            if value is None:
                # A missing value read from a frame must not silently widen the call (all
                # types instead of one): leaving the parameter out is how not to send it.
                raise ParameterError(
                    f"{name} is None; give a value, or leave {name} out to not send it"
                )
            if p.type != "array" and is_listlike(value):
                values = value.tolist() if hasattr(value, "tolist") else list(value)
                if not values:
                    raise ParameterError(f"{name} was given an empty list; give at least one value")
                checked = [_check_item(p, v, i) for i, v in enumerate(values)]
                spread.append((name, tuple(dict.fromkeys(checked))))
                fixed.pop(name, None)
            else:
                fixed[name] = p.check(value)
        return fixed, tuple(spread)

    def _rows(self, each: Any, params: Mapping[str, Any]) -> tuple[Mapping[str, Any], ...]:
        """``each=`` as checked rows (duplicates dropped); ``({},)`` without it."""
        if each is None:
            return ({},)
        records = _records(each)
        known = {p.name: p for p in self.user_parameters}
        rows: dict[Any, dict[str, Any]] = {}
        for number, record in enumerate(records):
            row = {}
            for name, value in record.items():
                if name not in known:
                    raise ParameterError(f"each= {self._unknown_message([str(name)])}")
                if name in params:
                    raise ParameterError(
                        f"{name} is given both as a keyword and as an each= column; give it once"
                    )
                row[name] = _check_row_value(known[name], value, number)
            rows.setdefault(_row_key(row), row)
        return tuple(rows.values())

    def _bodies(self, body: Any) -> tuple[Any, ...]:
        """The checked body; a list body split into batches of the spec's ``maxItems``."""
        schema = self.body_schema
        if schema is None:
            if body is not None:
                raise ParameterError(f"{self.operation_id} takes no body")
            return (None,)
        if body is None and self._body_optional:
            body = {}
        if body is None:
            raise ParameterError(f"{self.operation_id} needs body=")
        if schema.get("type") != "array":
            return (check_value("body", schema, body),)
        if not is_listlike(body):
            raise ParameterError(f"{self.operation_id} body must be a list, got {body!r}")
        unbounded = {k: v for k, v in schema.items() if k not in {"maxItems"}}
        items = check_value("body", unbounded, body)
        if not items:
            raise ParameterError(f"{self.operation_id} body must not be empty")
        size = int(schema.get("maxItems") or len(items))
        return tuple(items[i : i + size] for i in range(0, len(items), size))

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
        allowed = ", ".join(names) or "none"
        return (
            f"{self.operation_id} got unexpected parameter(s): {'; '.join(hints)} "
            f"(its parameters: {allowed})"
        )

    def positional_error(self, args: tuple[Any, ...]) -> ParameterError:
        """The error for a positional call such as ``ops.market.GetMarketsPrices(10000002)``."""
        needed = [p.name for p in self.user_parameters if p.needed]
        example = ", ".join(f"{n}={a!r}" for n, a in zip(needed, args, strict=False))
        hint = f" (e.g. {self.operation_id}({example}))" if example else ""
        return ParameterError(
            f"{self.operation_id} takes keyword arguments only, got {len(args)} positional "
            f"argument(s); call it as {self.signature}{hint}"
        )

    # -- display ------------------------------------------------------------------------

    def _parameter_rows(self) -> list[tuple[str, str, str, str]]:
        """(name, type, required, description) per parameter, in signature order."""
        rows = []
        if self.body_schema is not None:
            kind = "list" if self.body_schema.get("type") == "array" else "object"
            required = "no (default {})" if self._body_optional else "yes"
            rows.append(("body", f"JSON {kind}", required, self._body_text()))
        for p in self.user_parameters:
            desc = " ".join(p.description.split())
            rows.append((p.name, p.describe_type(), p.required_text, desc))
        return rows

    def _body_text(self) -> str:
        schema = self.body_schema or {}
        if schema.get("type") == "array":
            item = schema.get("items", {})
            size = f", up to {schema['maxItems']} per request" if "maxItems" in schema else ""
            return f"list of {item.get('type', 'value')}{size}"
        fields = ", ".join(schema.get("properties", {}))
        return f"fields: {fields}" if fields else str(schema.get("description", ""))

    def describe_text(self) -> str:
        """The same facts as the notebook table, as plain text (terminal, ``str(op)``, ``?``)."""
        lines = [f"{self.operation_id}: {self.summary}", "", self.signature, ""]
        if self.description and self.description != self.summary:
            lines += [" ".join(self.description.split()), ""]
        rows = self._parameter_rows()
        if rows:
            head = ("parameter", "type", "required", "description")
            widths = [max(len(r[i]) for r in [head, *rows]) for i in range(3)]
            for row in [head, *rows]:
                cells = [row[i].ljust(widths[i]) for i in range(3)]
                lines.append(("  ".join(cells) + "  " + row[3]).rstrip())
            lines.append("")
        lines += [f"- {fact}" for fact in self._facts()]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.describe_text()

    @cached_property
    def __doc__(self) -> str:  # type: ignore[override]
        return self.describe_text()

    def _facts(self) -> list[str]:
        facts = [f"{self.method} {self.path}  (tag: {self.tag}, route version {self.route_date})"]
        if self.method != "GET":
            what = "only reads" if self.read_only else "changes data in EVE; esiframe refuses it"
            facts.append(f"{self.method} that {what}")
        if self.pagination:
            facts.append(f"Pagination: {self.pagination} (esiframe walks every page)")
        if self.scope:
            facts.append(f"Requires login with scope {self.scope}")
        if self.roles:
            facts.append(f"Corporation roles: {', '.join(self.roles)}")
        facts.append(self._limit_fact())
        if self.localized:
            facts.append("Localized: text fields follow language=")
        if self.cache_seconds:
            facts.append(f"Cached by ESI for {self.cache_seconds} s")
        return facts

    def _limit_fact(self) -> str:
        if self.rate_limit:
            return (
                f"Rate limit: group {self.rate_limit_group}, "
                f"{self.rate_limit.get('max-tokens')} tokens / {self.rate_limit_window}"
            )
        if self.hidden_per_minute:
            return f"Rate limit: error limit, and {self.hidden_per_minute} requests/minute"
        return "Rate limit: ESI error limit"

    def _repr_markdown_(self) -> str:
        rows = [f"**{self.operation_id}** — {self.summary}", "", f"`{self.signature}`", ""]
        table = self._parameter_rows()
        if table:
            rows += ["| parameter | type | required | description |", "|---|---|---|---|"]
            for name, kind, required, desc in table:
                desc = desc.replace("|", "\\|")
                rows.append(f"| `{name}` | {kind} | {required} | {desc} |")
            rows.append("")
        rows += [f"- {fact}" for fact in self._facts()]
        return "\n".join(rows)

    def __repr__(self) -> str:
        return f"<Operation {self.signature}>"


def _pagination(raw: Mapping[str, Any], params: list[Parameter]) -> Pagination | None:
    """The page-walk style: ``x-pagination: cursor``, a ``page`` query, or ``from_id``."""
    if raw.get("x-pagination") == "cursor":
        return "cursor"
    if any(p.name == "page" and p.location == "query" for p in params):
        return "x-pages"
    if any(p.name == "from_id" for p in params):
        return "from_id"
    return None


def _check_item(p: Parameter, value: Any, index: int) -> Any:
    """One value of a fan-out list; a missing one is named with its position."""
    if is_missing(value):
        raise ParameterError(f"{p.name} has a missing value ({plain(value)!r}) at position {index}")
    return p.check(value)


def _check_row_value(p: Parameter, value: Any, number: int) -> Any:
    """One cell of an ``each=`` row: a single value (a list only for an array parameter)."""
    where = f"each= row {number}"
    if p.type != "array" and is_listlike(value):
        raise ParameterError(
            f"{where}: {p.name} must be one value, got {value!r} (one request per row; "
            "a list as a keyword fans out)"
        )
    try:
        return p.check(value)
    except ParameterError as exc:
        raise ParameterError(f"{where}: {exc}") from None


def _records(each: Any) -> list[Mapping[str, Any]]:
    """The rows of a DataFrame or a list of dicts; anything else is refused."""
    if hasattr(each, "to_dict") and hasattr(each, "columns"):
        records: Any = each.to_dict(orient="records")
    elif isinstance(each, Iterable) and not isinstance(each, str | bytes | Mapping):
        records = list(each)
    else:
        raise ParameterError(
            f"each= must be a DataFrame or a list of dicts keyed by parameter names, got {each!r}"
        )
    if not records:
        raise ParameterError("each= has no rows; give at least one")
    bad = next((r for r in records if not isinstance(r, Mapping)), None)
    if bad is not None:
        raise ParameterError(f"each= rows must be dicts of parameter names, got {bad!r}")
    result: list[Mapping[str, Any]] = records
    return result


def _row_key(row: Mapping[str, Any]) -> Any:
    return tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(row.items()))
