"""The esiframe client: settings plus the pipeline from an operation name to a DataFrame.

``get(op, **params)`` binds and checks the parameters, walks every page of
every fanned-out request concurrently within ESI's limits, and builds one
typed frame with its metadata in ``df.attrs["esi"]``. Module-level
:func:`get` and friends use a default client set up by :func:`configure` or
environment variables.
"""

from __future__ import annotations

import json
import os
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, get_args

import pandas as pd

from . import __version__
from .errors import (
    EsiError,
    EsiframeWarning,
    EsiHTTPError,
    InconsistentPagesError,
    ParameterError,
    PartialResultError,
    RateLimitedError,
)
from .frames import DtypeBackend, merge_languages, scalar_column_name, to_frame
from .http import Clock, Response, Transport, WaitPolicy, cache_owner, iso_time
from .limits import RouteLimit, Wait
from .memo import ResultCache
from .operations import Call, Operation
from .paging import Fetch, Walk, cursor_field, walk
from .progress import Progress, progress_enabled
from .spec import BUNDLED_DATE, Spec, check_compatibility_date, load_spec

if TYPE_CHECKING:
    from .auth import Auth, Character, Login
    from .catalog import Ops

__all__ = ["Client", "Settings", "configure", "default_client", "get"]

PROJECT_URL = "https://github.com/esiframe/esiframe"
LANGUAGES = ("en", "de", "fr", "ja", "ru", "zh", "ko", "es")
ErrorPolicy = Literal["raise", "skip"]
_T = TypeVar("_T")


@dataclass(frozen=True)
class Settings:
    """Everything a :class:`Client` is configured with (see the README's settings table)."""

    base_url: str = "https://esi.evetech.net"
    sso_url: str = "https://login.eveonline.com"
    compatibility_date: str = BUNDLED_DATE
    cache: str | os.PathLike[str] | Literal[False] | None = None
    language: str = "en"
    tenant: str = "tranquility"
    app_name: str | None = None
    app_version: str | None = None
    contact: str | None = None
    url: str | None = None
    max_workers: int = 16
    timeout: float = 30.0
    retries: int = 4
    on_limit: WaitPolicy = "sleep"
    errors: ErrorPolicy = "raise"
    progress: bool | None = None
    dtype_backend: DtypeBackend = "numpy_nullable"
    spec: str | None = None
    client_id: str | None = None
    callback_url: str = "http://127.0.0.1:8765/callback"
    loopback: bool = True

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Defaults, then ``ESIFRAME_*`` environment variables, then ``overrides``."""
        env: dict[str, Any] = {}
        for name, var in _ENV.items():
            if var in os.environ:
                env[name] = os.environ[var]
        if "max_workers" in env:
            try:
                env["max_workers"] = int(env["max_workers"])
            except ValueError:
                raise ParameterError(
                    f"ESIFRAME_MAX_WORKERS must be a whole number, got {env['max_workers']!r}"
                ) from None
        if "loopback" in env:
            env["loopback"] = env["loopback"].strip().lower() not in {"0", "false", "no", "off"}
        if "cache" in env and env["cache"].lower() in {"0", "false", "off", "none"}:
            env["cache"] = False
        _check_names(overrides)
        settings = cls(**{**env, **overrides})
        settings.check()
        return settings

    def updated(self, **overrides: Any) -> Settings:
        """A copy with ``overrides`` applied and checked."""
        _check_names(overrides)
        settings = replace(self, **overrides)
        settings.check()
        return settings

    def check(self) -> None:
        check_compatibility_date(self.compatibility_date)
        _check_choice("language", self.language, LANGUAGES)
        _check_choice("on_limit", self.on_limit, get_args(WaitPolicy))
        _check_choice("errors", self.errors, get_args(ErrorPolicy))
        _check_choice("dtype_backend", self.dtype_backend, get_args(DtypeBackend))
        if not isinstance(self.max_workers, int) or self.max_workers < 1:
            raise ParameterError(
                f"max_workers must be a positive integer, got {self.max_workers!r}"
            )
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, int | float):
            raise ParameterError(f"timeout must be a number of seconds, got {self.timeout!r}")
        if self.timeout <= 0:
            raise ParameterError(f"timeout must be positive, got {self.timeout!r}")

    @property
    def user_agent(self) -> str:
        """``App/1.2 (contact; +url) esiframe/0.1.0 (+project url)``, as ESI asks (FACTS 7)."""
        ours = f"esiframe/{__version__} (+{PROJECT_URL})"
        details = "; ".join(x for x in (self.contact, f"+{self.url}" if self.url else None) if x)
        about = f" ({details})" if details else ""
        if not self.app_name:
            return ours + about
        app = f"{self.app_name}/{self.app_version}" if self.app_version else self.app_name
        return f"{app}{about} {ours}"

    @property
    def cache_dir(self) -> Path | None:
        if self.cache is False:
            return None
        if self.cache is None:
            import platformdirs

            return Path(platformdirs.user_cache_dir("esiframe"))
        return Path(self.cache)


_ENV = {
    "base_url": "ESIFRAME_BASE_URL",
    "sso_url": "ESIFRAME_SSO_URL",
    "compatibility_date": "ESIFRAME_COMPATIBILITY_DATE",
    "cache": "ESIFRAME_CACHE_DIR",
    "language": "ESIFRAME_LANGUAGE",
    "tenant": "ESIFRAME_TENANT",
    "app_name": "ESIFRAME_APP_NAME",
    "app_version": "ESIFRAME_APP_VERSION",
    "contact": "ESIFRAME_CONTACT",
    "max_workers": "ESIFRAME_MAX_WORKERS",
    "spec": "ESIFRAME_SPEC",
    "client_id": "ESIFRAME_CLIENT_ID",
    "callback_url": "ESIFRAME_CALLBACK_URL",
    "loopback": "ESIFRAME_LOOPBACK",
}


def _check_names(overrides: Mapping[str, Any]) -> None:
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ParameterError(
            f"unknown setting(s) {', '.join(unknown)}; settings are: {', '.join(sorted(known))}"
        )


def _check_choice(name: str, value: Any, allowed: Sequence[Any]) -> None:
    if value not in allowed:
        raise ParameterError(
            f"{name}={value!r} is not allowed; choose one of {', '.join(map(repr, allowed))}"
        )


@dataclass
class _Job:
    call: Call
    language: str
    result: Walk | None = None
    error: EsiError | None = None


class Client:
    """An ESI client: settings, a cached HTTP transport, limits, and the SSO tokens.

    >>> client = Client(app_name="MyNotebook", contact="me@example.com")
    >>> df = client.get("GetMarketsRegionIdHistory", region_id=10000002, type_id=34)
    """

    _warned_contact = False

    def __init__(
        self, settings: Settings | None = None, *, clock: Clock | None = None, **overrides: Any
    ) -> None:
        if settings is None:
            self.settings = Settings.from_env(**overrides)
        else:
            self.settings = settings.updated(**overrides)
        self.clock = clock
        self.memo = ResultCache()
        self._building = threading.RLock()
        self._parts: dict[str, Any] = {}
        if not self.settings.contact and not Client._warned_contact:
            Client._warned_contact = True
            warnings.warn(
                "esiframe: no contact given; ESI asks every client to identify itself. "
                "Pass Client(app_name=..., contact='you@example.com') or set ESIFRAME_CONTACT.",
                EsiframeWarning,
                stacklevel=2,
            )

    # -- lazily built parts -------------------------------------------------------------

    def _once(self, name: str, build: Callable[[], _T]) -> _T:
        """Build a part on first use, once, even when threads ask at the same moment."""
        with self._building:
            if name not in self._parts:
                self._parts[name] = build()
            part: _T = self._parts[name]
            return part

    @property
    def spec(self) -> Spec:
        """The spec for this client's compatibility date."""
        return self._once(
            "spec",
            lambda: load_spec(
                self.settings.compatibility_date, path=self.settings.spec, fetch=self._fetch_spec
            ),
        )

    @property
    def transport(self) -> Transport:
        """The HTTP side: cached session, limits, retries."""
        return self._once(
            "transport",
            lambda: Transport(
                self.settings.base_url,
                headers={"User-Agent": self.settings.user_agent},
                cache=self.settings.cache_dir,
                timeout=self.settings.timeout,
                max_workers=self.settings.max_workers,
                retries=self.settings.retries,
                clock=self.clock,
            ),
        )

    @property
    def auth(self) -> Auth:
        """The SSO logins (one Auth per client, so refreshes are single-flight)."""
        from .auth import Auth, TokenStore

        return self._once(
            "auth",
            lambda: Auth(
                sso_url=self.settings.sso_url, session=self.transport.plain, store=TokenStore()
            ),
        )

    @property
    def ops(self) -> Ops:
        """Every operation, grouped by tag: ``client.ops.market.GetMarketsRegionIdHistory(...)``."""
        from .catalog import Ops

        return self._once("ops", lambda: Ops(self))

    def _fetch_spec(self, date: str) -> Mapping[str, Any]:
        response = self.transport.send(
            "GET",
            "/meta/openapi.json",
            route=RouteLimit(),
            query={"compatibility_date": date},
            headers={
                "X-Compatibility-Date": date,
                "X-Tenant": self.settings.tenant,
                "Accept-Language": self.settings.language,
            },
        )
        if not isinstance(response.body, Mapping):
            raise EsiError(f"ESI served no OpenAPI document for {date}")
        return response.body

    def close(self) -> None:
        if "transport" in self._parts:
            self.transport.close()

    # -- the main job ---------------------------------------------------------------------

    def operation(self, name: str) -> Operation:
        """Look up an operation (exact, any case, or legacy snake_case id)."""
        return self.spec.operation(name)

    def get(
        self,
        operation: str,
        /,
        *,
        pages: int | None = None,
        language: str | None = None,
        languages: Sequence[str] | None = None,
        character: str | int | None = None,
        token: str | None = None,
        body: Any = None,
        on_limit: WaitPolicy | None = None,
        errors: ErrorPolicy | None = None,
        raw: bool = False,
        dtype_backend: DtypeBackend | None = None,
        force_refresh: bool = False,
        use_cache: bool = True,
        if_modified_since: datetime | str | None = None,
        progress: bool | None = None,
        **params: Any,
    ) -> Any:
        """All the data of one ESI operation as a typed DataFrame.

        ``params`` are the operation's path and query parameters; a list for
        a scalar parameter fans out (one request per value, the value as a
        column). ``pages`` limits the walk to the first N pages. ``languages``
        merges translated text of a localized operation as ``name_en``,
        ``name_de``, ... ``raw=True`` returns the parsed JSON instead.
        Everything is checked before the first request.
        """
        op = self.spec.operation(operation)
        options = self._check_options(
            op, pages, language, languages, on_limit, errors, dtype_backend, if_modified_since
        )
        if not op.read_only:
            raise ParameterError(
                f"{op.operation_id} ({op.method}) changes data in EVE; esiframe only reads. "
                "Read-only POSTs are PostUniverseNames, PostUniverseIds, PostCharactersAffiliation."
            )
        who, owner = self._whose(op, character, token, params)  # local: the token store only
        calls = op.bind(params, body=body)
        memo_key = None
        reusable = use_cache and not force_refresh and not raw and not options["if_modified_since"]
        if reusable and self.settings.cache_dir is not None:
            memo_key = self._memo_key(op, calls, options, owner)
            hit = self.memo.get(memo_key)
            if hit is not None:
                _served_from_cache(hit.attrs["esi"])
                return hit
        headers_auth = self._authorization(op, who, token)  # may refresh the access token
        jobs = [_Job(call, lang) for lang in options["languages"] for call in calls]
        self._run(op, jobs, options, headers_auth, owner, force_refresh, use_cache, progress)
        failures = [self._failure(job) for job in jobs if job.error is not None]
        if failures and len(jobs) == 1:
            assert jobs[0].error is not None
            raise jobs[0].error
        failed_calls = {id(job.call) for job in jobs if job.error is not None}
        complete = [job for job in jobs if id(job.call) not in failed_calls]  # in every language
        result: Any
        if raw:
            result = self._raw(jobs)
        else:
            result = self._frame(op, complete, options)
            result.attrs["esi"] = self._metadata(op, params, jobs, options, who, failures)
            if memo_key is not None and not failures:
                expires = _valid_until(result.attrs["esi"])
                if expires is not None:
                    self.memo.put(memo_key, result, expires)
        if failures and options["errors"] == "raise":
            failed = "; ".join(
                f"{f['params']} ({f['status']}: {f['error']})" for f in failures[:10]
            )
            more = f" and {len(failures) - 10} more" if len(failures) > 10 else ""
            where = (
                "the others' data is in .frame (failed entries carry 'error')"
                if raw
                else "the rows of the others are in .frame; errors='skip' returns them with "
                "the failures listed in df.attrs['esi']['errors']"
            )
            raise PartialResultError(
                f"{len(failures)} of {len(jobs)} requests of {op.operation_id} failed: "
                f"{failed}{more}. {where.capitalize()}.",
                failures=failures,
                frame=result,
            )
        return result

    def names(self, ids: Sequence[int] | Any) -> pd.DataFrame:
        """id, name and category of any EVE ids (PostUniverseNames, batched as ESI allows)."""
        if isinstance(ids, str | bytes) or not hasattr(ids, "__iter__"):
            raise ParameterError(f"names() takes a list of ids, got {ids!r}; e.g. names([34, 35])")
        return self.get("PostUniverseNames", body=list(ids))  # type: ignore[no-any-return]

    # -- login ----------------------------------------------------------------------------

    def login(
        self,
        client_id: str | None = None,
        scopes: Sequence[str] = (),
        *,
        callback_url: str | None = None,
        loopback: bool | None = None,
    ) -> Login:
        """Start an EVE SSO login (PKCE); never blocks. See :class:`esiframe.auth.Login`.

        ``loopback=False`` (or ``ESIFRAME_LOOPBACK=0``) is for remote kernels:
        no local callback server; paste the redirected URL into the panel.
        """
        client_id = client_id or self.settings.client_id
        if not client_id:
            raise ParameterError(
                "login needs client_id= (the Client ID of your application on "
                "developers.eveonline.com) or ESIFRAME_CLIENT_ID"
            )
        login = self.auth.login(
            client_id,
            scopes,
            callback_url=callback_url or self.settings.callback_url,
            loopback=self.settings.loopback if loopback is None else loopback,
        )
        from .widgets import panel  # the face attaches the notebook panel; auth knows no widgets

        login.view = panel
        return login

    def characters(self) -> pd.DataFrame:
        """The logged-in characters: character_id, name, scopes, expires."""
        return self.auth.characters()

    def logout(self, character: str | int) -> None:
        """Revoke and forget a character's tokens."""
        self.auth.logout(character)

    # -- pipeline pieces --------------------------------------------------------------------

    def _check_options(
        self,
        op: Operation,
        pages: int | None,
        language: str | None,
        languages: Sequence[str] | None,
        on_limit: WaitPolicy | None,
        errors: ErrorPolicy | None,
        dtype_backend: DtypeBackend | None,
        if_modified_since: datetime | str | None,
    ) -> dict[str, Any]:
        if pages is not None and (
            isinstance(pages, bool) or not isinstance(pages, int) or pages < 1
        ):
            raise ParameterError(f"pages must be a positive integer or None (all), got {pages!r}")
        if language is not None and languages is not None:
            raise ParameterError("give language= or languages=, not both")
        if isinstance(languages, str):
            languages = [languages]
        langs = list(dict.fromkeys(languages or [language or self.settings.language]))
        for lang in langs:
            _check_choice("language", lang, LANGUAGES)
        if len(langs) > 1 and not op.localized:
            raise ParameterError(
                f"{op.operation_id} returns no translated text, so languages= does not apply; "
                "localized operations are: " + ", ".join(o for o in _localized(self.spec))
            )
        on_limit = on_limit or self.settings.on_limit
        errors = errors or self.settings.errors
        backend = dtype_backend or self.settings.dtype_backend
        _check_choice("on_limit", on_limit, get_args(WaitPolicy))
        _check_choice("errors", errors, get_args(ErrorPolicy))
        _check_choice("dtype_backend", backend, get_args(DtypeBackend))
        ims = _http_date_header(if_modified_since) if if_modified_since is not None else None
        return {
            "pages": pages,
            "languages": langs,
            "on_limit": on_limit,
            "errors": errors,
            "dtype_backend": backend,
            "if_modified_since": ims,
        }

    def _whose(
        self,
        op: Operation,
        character: str | int | None,
        token: str | None,
        params: dict[str, Any],
    ) -> tuple[Character | None, str]:
        """The logged-in character (its id filled into params) and the rate-limit owner.

        Read from the token store alone: no request is made here.
        """
        if op.scope is None:
            if character is not None or token is not None:
                raise ParameterError(f"{op.operation_id} is public; character=/token= do not apply")
            return None, "public"
        if token is not None:
            return None, cache_owner(f"Bearer {token}")
        who = self.auth.character(character, scope=op.scope, client_id=self.settings.client_id)
        if any(p.name == "character_id" for p in op.user_parameters):
            params.setdefault("character_id", who.character_id)
        return who, f"character:{who.character_id}"

    def _authorization(
        self, op: Operation, who: Character | None, token: str | None
    ) -> dict[str, str]:
        """The Authorization header: the given token, or the character's (refreshed if due)."""
        if token is not None:
            return {"Authorization": f"Bearer {token}"}
        if who is None:
            return {}
        access, _ = self.auth.access_token(
            character=who.character_id, scope=op.scope, client_id=self.settings.client_id
        )
        return {"Authorization": f"Bearer {access}"}

    def _run(
        self,
        op: Operation,
        jobs: list[_Job],
        options: Mapping[str, Any],
        auth_header: Mapping[str, str],
        owner: str,
        force_refresh: bool,
        use_cache: bool,
        progress: bool | None,
    ) -> None:
        transport = self.transport
        route = RouteLimit.from_spec(op.rate_limit, per_minute=op.hidden_per_minute)
        stop = threading.Event()
        enabled = progress_enabled(progress if progress is not None else self.settings.progress)
        bar = Progress(op.operation_id, enabled=enabled, total=len(jobs))
        base_headers = {
            "X-Compatibility-Date": self.settings.compatibility_date,
            "X-Tenant": self.settings.tenant,
            **auth_header,
        }
        if options["if_modified_since"]:
            base_headers["If-Modified-Since"] = options["if_modified_since"]

        def on_wait(w: Wait) -> None:
            bar.status(w.reason)

        def fetch_for(job: _Job) -> Fetch:
            headers = {**base_headers, "Accept-Language": job.language}

            def fetch(call: Call, extra: Mapping[str, Any], refetch: bool) -> Response:
                if stop.is_set():
                    raise KeyboardInterrupt("esiframe call interrupted")
                response = transport.send(
                    op.method,
                    call.path,
                    route=route,
                    owner=owner,
                    query=_encode_query({**call.query, **extra}),
                    headers=headers,
                    body=call.body,
                    on_limit=options["on_limit"],
                    on_wait=on_wait,
                    force_refresh=force_refresh or refetch,
                    use_cache=use_cache,
                    stop=stop,
                )
                bar.advance()
                return response

            return fetch

        workers = self.settings.max_workers
        with (
            bar,
            ThreadPoolExecutor(workers, thread_name_prefix="esiframe-page") as pages_pool,
            ThreadPoolExecutor(workers, thread_name_prefix="esiframe-call") as calls_pool,
        ):

            def run(job: _Job) -> None:
                try:
                    job.result = walk(
                        job.call,
                        fetch_for(job),
                        pages_pool,
                        pages=options["pages"],
                        on_total=lambda n: bar.add_total(n - 1),
                    )
                except RateLimitedError:
                    raise  # on_limit="raise" stops the whole call, not one request
                except (EsiHTTPError, InconsistentPagesError) as exc:
                    job.error = exc

            futures = [calls_pool.submit(run, job) for job in jobs]
            try:
                for future in as_completed(futures):
                    future.result()  # the first failure (or Ctrl-C) stops the whole call
            except BaseException:
                stop.set()
                for future in futures:
                    future.cancel()
                raise

    def _memo_key(
        self, op: Operation, calls: list[Call], options: Mapping[str, Any], owner: str
    ) -> str:
        """Everything that makes one result differ from another."""
        what = {
            "base_url": self.settings.base_url,
            "date": self.settings.compatibility_date,
            "tenant": self.settings.tenant,
            "op": op.operation_id,
            "calls": [(c.path, c.query, c.body, sorted(c.fanout)) for c in calls],
            "languages": options["languages"],
            "pages": options["pages"],
            "dtype_backend": options["dtype_backend"],
            "owner": owner,
        }
        return json.dumps(what, sort_keys=True, default=str)

    @staticmethod
    def _failure(job: _Job) -> dict[str, Any]:
        error = job.error
        return {
            "params": dict(job.call.params),
            "language": job.language,
            "status": getattr(error, "status", None),
            "error": str(error),
        }

    @staticmethod
    def _raw(jobs: list[_Job]) -> Any:
        """The parsed JSON: one call's data, or one entry per call (failed ones with 'error')."""

        def one(job: _Job) -> Any:
            assert job.result is not None
            return job.result.body if job.result.body is not None else job.result.records

        if len(jobs) == 1:
            return one(jobs[0])
        return [
            {"params": dict(job.call.params), "language": job.language}
            | ({"data": one(job)} if job.error is None else {"error": str(job.error)})
            for job in jobs
        ]

    def _frame(self, op: Operation, jobs: list[_Job], options: Mapping[str, Any]) -> pd.DataFrame:
        per_language: dict[str, pd.DataFrame] = {}
        record_schema: Mapping[str, Any] = {}
        for lang in options["languages"]:
            records: list[Any] = []
            fanned: dict[str, Any] = {}
            for job in _joined_batches(op, [j for j in jobs if j.language == lang]):
                assert job.result is not None
                rows, record_schema = _records(op, job.result)
                for name, value in job.call.fanout.items():
                    if name in record_schema.get("properties", {}):
                        continue
                    fanned[name] = next(p.schema for p in op.user_parameters if p.name == name)
                    for row in rows:
                        row[name] = value
                records.extend(rows)
            if not record_schema:
                record_schema = _records(op, Walk([], [], None))[1]
            if fanned:
                record_schema = {
                    **record_schema,
                    "properties": {**fanned, **record_schema.get("properties", {})},
                    "required": [*fanned, *record_schema.get("required", [])],
                }
            frame = to_frame(records, record_schema, dtype_backend=options["dtype_backend"])
            if fanned:
                frame = frame[[*fanned, *(c for c in frame.columns if c not in fanned)]]
            per_language[lang] = frame
        if len(per_language) == 1:
            return next(iter(per_language.values()))
        return merge_languages(per_language, record_schema)

    def _metadata(
        self,
        op: Operation,
        params: Mapping[str, Any],
        jobs: list[_Job],
        options: Mapping[str, Any],
        who: Character | None,
        failures: list[dict[str, Any]],
    ) -> dict[str, Any]:
        responses = []
        for job in jobs:
            pages = job.result.responses if job.result is not None else []
            for number, response in enumerate(pages, start=1):
                responses.append(
                    {
                        "params": _jsonable(dict(job.call.params)),
                        "language": job.language,
                        "page": number,
                        "status": response.status,
                        "cache": response.cache,
                        "expires": iso_time(response.headers.get("Expires")),
                        "last_modified": iso_time(response.headers.get("Last-Modified")),
                        "etag": response.headers.get("ETag"),
                    }
                )
        expires = [r["expires"] for r in responses if r["expires"]]
        modified = [r["last_modified"] for r in responses if r["last_modified"]]
        etags = {r["etag"] for r in responses if r["etag"]}
        counts = {
            state: sum(r["cache"] == state for r in responses)
            for state in ("cache", "revalidated", "fresh", "uncached", "not-modified")
        }
        return {
            "operation": op.operation_id,
            "method": op.method,
            "path": op.path,
            "parameters": _jsonable(dict(params)),
            "compatibility_date": self.settings.compatibility_date,
            "languages": options["languages"],
            "tenant": self.settings.tenant,
            "character": who.character_id if who is not None else None,
            "requests": len(jobs),
            "pages": len(responses),
            "expires": min(expires) if expires else None,
            "last_modified": max(modified) if modified else None,
            "etag": etags.pop() if len(etags) == 1 else None,
            "cache": counts,
            "responses": responses,
            "errors": failures,
        }


def _joined_batches(op: Operation, jobs: list[_Job]) -> list[_Job]:
    """A body split into batches whose answers are one object each (PostUniverseIds) answers
    as one object: the batches' lists joined, so the call still gives one row."""
    schema = op.response_schema or {}
    if op.body_schema is None or schema.get("type") != "object" or len(jobs) < 2:
        return jobs
    joined: dict[str, Any] = {}
    for job in jobs:
        assert job.result is not None
        for key, value in (job.result.body or {}).items():
            joined[key] = [*joined.get(key, []), *value] if isinstance(value, list) else value
    first = jobs[0].result
    assert first is not None
    return [replace(jobs[0], result=Walk([], first.responses, joined))]


def _records(op: Operation, result: Walk) -> tuple[list[Any], Mapping[str, Any]]:
    """The rows of one walk and the schema of one row (object-shaped).

    Rows are the parsed JSON itself (fresh for every call), so fan-out may add
    fields to them without copying.
    """
    schema = op.response_schema or {}
    if op.pagination == "cursor":
        return result.records, schema["properties"][cursor_field(schema)].get("items", {})
    if op.pagination is not None:
        rows: list[Any] = result.records
        item = schema.get("items", {})
    elif schema.get("type") == "array":
        rows = list(result.body or [])
        item = schema.get("items", {})
    elif schema.get("type") == "object" or "properties" in schema or "oneOf" in schema:
        return ([result.body] if isinstance(result.body, Mapping) else []), schema
    else:
        name = op.path.rstrip("/").rsplit("/", 1)[-1]
        return ([{name: result.body}] if result.body is not None else []), {
            "type": "object",
            "properties": {name: schema},
            "required": [name],
        }
    if item.get("type") not in (None, "object") and "properties" not in item:
        name = scalar_column_name(op.path)
        return [{name: v} for v in rows], {
            "type": "object",
            "properties": {name: item},
            "required": [name],
        }
    return rows, item


def _http_date_header(value: datetime | str) -> str:
    """An HTTP date from a tz-aware datetime/Timestamp, an ISO 8601 or an HTTP date string."""
    when: datetime | None = value if isinstance(value, datetime) else None
    if isinstance(value, str):
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            try:
                when = datetime.fromisoformat(value)
            except ValueError:
                when = None
    if when is None or when.tzinfo is None:
        raise ParameterError(
            f"if_modified_since must be a timezone-aware datetime, an ISO 8601 time with an "
            f"offset (as in df.attrs['esi']['last_modified']) or an HTTP date; got {value!r}"
        )
    return format_datetime(when.astimezone(UTC), usegmt=True)


def _valid_until(meta: Mapping[str, Any]) -> float | None:
    """Epoch seconds until which the result cannot change: its earliest page Expires."""
    responses = meta["responses"]
    if not responses or any(r["cache"] == "uncached" or not r["expires"] for r in responses):
        return None
    return min(datetime.fromisoformat(r["expires"]).timestamp() for r in responses)


def _served_from_cache(meta: dict[str, Any]) -> None:
    """Metadata of a result reused whole: every page came from the cache, no request."""
    for response in meta["responses"]:
        response["cache"] = "cache"
    meta["cache"] = {state: 0 for state in meta["cache"]} | {"cache": len(meta["responses"])}


def _encode_query(query: Mapping[str, Any]) -> dict[str, Any]:
    encoded: dict[str, Any] = {}
    for name, value in query.items():
        if isinstance(value, bool):
            encoded[name] = "true" if value else "false"
        else:
            encoded[name] = value
    return encoded


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | range):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def _localized(spec: Spec) -> list[str]:
    return [op.operation_id for op in spec if op.localized and op.read_only]


_default: Client | None = None
_default_lock = threading.Lock()


def configure(**settings: Any) -> Client:
    """Set up the default client used by :func:`esiframe.get` (settings as in :class:`Settings`)."""
    global _default
    with _default_lock:
        if _default is not None:
            _default.close()
        _default = Client(Settings.from_env(**settings))
        return _default


def default_client() -> Client:
    """The client behind the module-level functions, built from the environment on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Client(Settings.from_env())
        return _default


def get(operation: str, /, **kwargs: Any) -> Any:
    """``Client.get`` on the default client; see :meth:`Client.get`."""
    return default_client().get(operation, **kwargs)
