"""The esiframe client: settings plus the pipeline from an operation name to a DataFrame.

``get(op, **params)`` binds and checks the parameters, walks every page of
every fanned-out request concurrently within ESI's limits, and builds one
typed frame with its metadata in ``df.attrs["esi"]``. Module-level
:func:`get` and friends use a default client set up by :func:`configure` or
environment variables.
"""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypeVar, overload

import pandas as pd

from .assemble import (
    Context,
    complete,
    metadata,
    partial_error,
    served_from_cache,
    valid_until,
)
from .assemble import frame as make_frame
from .assemble import raw as raw_json
from .catalog import Ops
from .errors import AuthError, EsiError, EsiframeWarning, ParameterError
from .fetcher import Budget, FetchContext, run_jobs
from .frames import DtypeBackend
from .http import Clock, Transport, WaitPolicy
from .limits import RouteLimit
from .memo import ResultCache
from .operations import Call, Operation
from .pagedecode import page_decoder
from .pagemeta import FrozenMeta
from .plan import Job, Options, plan_options
from .progress import Progress, progress_enabled
from .readonly import changes_data_message
from .results import ResultStore
from .settings import ErrorPolicy, Settings
from .spec import BUNDLED_DATE, Spec, load_spec

if TYPE_CHECKING:
    import requests
    from requests.adapters import BaseAdapter

    from .auth import Auth, Character, Login

__all__ = ["Client", "Settings", "configure", "default_client", "get"]

_T = TypeVar("_T")
#: What ``Client(transport=...)`` accepts: an adapter mounted under the cache, or a session.
Connection: TypeAlias = "requests.Session | BaseAdapter"


class Client:
    """An ESI client: settings, a cached HTTP transport, limits, and the SSO tokens.

    >>> client = Client(app_name="MyNotebook", contact="me@example.com")
    >>> df = client.get("GetMarketsRegionIdHistory", region_id=10000002, type_id=34)
    """

    _warned_contact = False

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        clock: Clock | None = None,
        transport: Connection | None = None,
        **overrides: Any,
    ) -> None:
        """``transport`` replaces the network: a ``requests`` adapter (mounted under the
        cache, e.g. :class:`esiframe.inprocess.InProcessAdapter`) or a whole session."""
        import requests  # first needed here: `import esiframe` stays light
        from requests.adapters import BaseAdapter

        if transport is not None and not isinstance(transport, requests.Session | BaseAdapter):
            raise ParameterError(
                f"transport must be a requests.Session or a requests adapter, got {transport!r}"
            )
        self._connection = transport
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
                self.settings.compatibility_date,
                path=self.settings.spec,
                fetch=self._fetch_spec,
                fetch_dates=self._fetch_dates,
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
                connection=self._connection,
            ),
        )

    @property
    def auth(self) -> Auth:
        """The SSO logins (one Auth per client, so refreshes are single-flight)."""
        from .auth import Auth, TokenStore

        return self._once(
            "auth",
            lambda: Auth(
                sso_url=self.settings.sso_url,
                session=self.transport.plain,
                store=TokenStore(self.settings.token_path),
            ),
        )

    @property
    def ops(self) -> Ops:
        """Every operation, grouped by tag: ``client.ops.market.GetMarketsRegionIdHistory(...)``."""
        return self._once("ops", lambda: Ops(self.spec, self.get))

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

    def _fetch_dates(self) -> Any:
        """The compatibility dates ESI publishes now (cached like any answer; docs/esi.md §2)."""
        response = self.transport.send(
            "GET",
            "/meta/compatibility-dates",
            route=RouteLimit(),
            headers={"X-Compatibility-Date": BUNDLED_DATE, "X-Tenant": self.settings.tenant},
        )
        return response.body

    def close(self) -> None:
        if "transport" in self._parts:
            self.transport.close()

    # -- the main job ---------------------------------------------------------------------

    def operation(self, name: str) -> Operation:
        """Look up an operation (exact, any case, or legacy snake_case id)."""
        return self.spec.operation(name)

    @overload
    def get(
        self, operation: str, /, *, raw: Literal[False] = False, **kwargs: Any
    ) -> pd.DataFrame: ...

    @overload
    def get(self, operation: str, /, *, raw: Literal[True], **kwargs: Any) -> Any: ...

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
        each: Any = None,
        on_limit: WaitPolicy | None = None,
        errors: ErrorPolicy | None = None,
        raw: bool = False,
        dtype_backend: DtypeBackend | None = None,
        force_refresh: bool = False,
        use_cache: bool = True,
        if_modified_since: datetime | str | None = None,
        progress: bool | None = None,
        max_requests: int | None = None,
        **params: Any,
    ) -> Any:
        """All the data of one ESI operation as a typed DataFrame (checked before any request).

        ``params`` are the operation's parameters; a list for a scalar fans out (lists cross),
        ``each=`` rows pair. ``pages`` walks only the first N pages; ``languages`` merges
        translated text as ``name_en``, ``name_de``...; ``raw=True`` (or :meth:`get_raw`)
        gives the parsed JSON. A call over ``max_requests`` requests is refused.
        """
        op = self.spec.operation(operation)
        options = plan_options(
            self.settings,
            op,
            localized=lambda: _localized(self.spec),
            pages=pages,
            language=language,
            languages=languages,
            on_limit=on_limit,
            errors=errors,
            dtype_backend=dtype_backend,
            if_modified_since=if_modified_since,
            force_refresh=force_refresh,
            use_cache=use_cache,
            progress=progress,
            max_requests=max_requests,
        )
        return self._execute(_Request(op, options, params, body, each, character, token, raw))

    def get_raw(self, operation: str, /, **kwargs: Any) -> Any:
        """The parsed JSON of an operation: one call's data, or one entry per request."""
        return self.get(operation, raw=True, **kwargs)

    def _execute(self, request: _Request) -> Any:
        """plan -> reuse -> fetch -> assemble -> report."""
        calls, who, owner = self._plan(request)
        memo_key = self._memo_key(request, calls, owner) if self._reusable(request) else None
        hit = self._reuse(memo_key) if memo_key is not None else None
        if hit is not None:
            hit.attrs["esi"] = served_from_cache(hit.attrs["esi"])
            return hit
        headers = self._headers(request.op, who, request.token, request.options)
        decode = None if request.raw else page_decoder(request.op)  # typed as pages arrive
        jobs = self._fetch(request.op, calls, request.options, headers, owner, decode)
        result = self._assemble(request, jobs, who, memo_key)
        return self._report(request, jobs, result)

    def _plan(self, request: _Request) -> tuple[list[Call], Character | None, str]:
        """The requests to send, the character they read for, and whose limits they spend.

        Local only (the spec and the token store): every refusal comes before any request.
        """
        op = request.op
        if not op.read_only:
            raise ParameterError(changes_data_message(op.operation_id, op.method))
        who, owner = self._whose(op, request.character, request.token, request.params)
        plan = op.plan(request.params, body=request.body, each=request.each)
        plan.check_limit(request.options.max_requests, languages=len(request.options.languages))
        return plan.calls(), who, owner

    @staticmethod
    def _report(request: _Request, jobs: list[Job], result: Any) -> Any:
        """The result, or PartialResultError carrying it when some requests failed."""
        if any(job.error is not None for job in jobs) and request.options.errors == "raise":
            raise partial_error(request.op, jobs, result, is_raw=request.raw)
        return result

    def names(self, ids: Sequence[int] | Any) -> pd.DataFrame:
        """id, name and category of any EVE ids (PostUniverseNames, batched as ESI allows)."""
        if isinstance(ids, str | bytes) or not hasattr(ids, "__iter__"):
            raise ParameterError(f"names() takes a list of ids, got {ids!r}; e.g. names([34, 35])")
        return self.get("PostUniverseNames", body=list(ids))

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
            # Proven before anything is served for it: the cache is keyed by the token's
            # owner, so an unchecked `sub` would read another character's data.
            claims = self.auth.verify(token)
            if op.scope not in claims.scopes:
                raise AuthError(
                    f"{op.operation_id} needs scope {op.scope}; the token given has "
                    f"{', '.join(claims.scopes) or 'no scopes'}"
                )
            if any(p.name == "character_id" for p in op.user_parameters):
                params.setdefault("character_id", claims.character_id)
            return None, f"character:{claims.character_id}"
        who = self.auth.character(character, scope=op.scope, client_id=self.settings.client_id)
        if any(p.name == "character_id" for p in op.user_parameters):
            params.setdefault("character_id", who.character_id)
        return who, f"character:{who.character_id}"

    def _headers(
        self, op: Operation, who: Character | None, token: str | None, options: Options
    ) -> dict[str, str]:
        """The headers every request of the call carries (the token refreshed if due)."""
        headers = {
            "X-Compatibility-Date": self.spec.date,
            "X-Tenant": self.settings.tenant,
        }
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        elif who is not None:
            access, _ = self.auth.access_token(
                character=who.character_id, scope=op.scope, client_id=self.settings.client_id
            )
            headers["Authorization"] = f"Bearer {access}"
        if options.if_modified_since:
            headers["If-Modified-Since"] = options.if_modified_since
        return headers

    def _fetch(
        self,
        op: Operation,
        calls: list[Call],
        options: Options,
        headers: Mapping[str, str],
        owner: str,
        decode: Callable[[bytes], Any] | None = None,
    ) -> list[Job]:
        """Walk every call in every language; failures stay on their job."""
        jobs = [Job(call, lang) for lang in options.languages for call in calls]
        enabled = progress_enabled(options.progress)
        with Progress(op.operation_id, enabled=enabled, total=len(jobs)) as bar:
            context = FetchContext(
                transport=self.transport,
                op=op,
                options=options,
                owner=owner,
                headers=headers,
                budget=Budget(op, options.max_requests, len(jobs)),
                bar=bar,
                decode=decode,
            )
            run_jobs(jobs, context, self.settings.max_workers)
        return jobs

    def _assemble(
        self, request: _Request, jobs: list[Job], who: Character | None, memo_key: str | None
    ) -> Any:
        """The frame (or raw JSON) of the jobs, its metadata, and a copy kept for reuse.

        A call of one request that failed raises that request's own error.
        """
        if len(jobs) == 1 and jobs[0].error is not None:
            raise jobs[0].error
        if request.raw:
            return raw_json(jobs)
        op = request.op
        result = make_frame(op, complete(jobs), request.options)
        context = Context(
            params=request.params,
            compatibility_date=self.spec.date,
            compatibility_date_asked=_text_date(self.settings.compatibility_date),
            tenant=self.settings.tenant,
            character=who.character_id if who is not None else None,
        )
        result.attrs["esi"] = FrozenMeta(metadata(op, jobs, request.options, context))
        if memo_key is not None and not result.attrs["esi"]["errors"]:
            expires = valid_until(result.attrs["esi"])
            if expires is not None:
                self.memo.put(memo_key, result, expires)
                self._results().put(memo_key, result, expires)
        return result

    def _results(self) -> ResultStore:
        """Finished results on disk beside the HTTP cache (a new process starts warm)."""
        directory = self.settings.cache_dir
        assert directory is not None  # reuse needs an on-disk cache
        return self._once("results", lambda: ResultStore(directory / "results"))

    def _reuse(self, key: str) -> pd.DataFrame | None:
        """A finished result still within Expires: from memory, else from disk."""
        hit = self.memo.get(key)
        if hit is None:
            hit = self._results().get(key)
            expires = valid_until(hit.attrs["esi"]) if hit is not None else None
            if hit is not None and expires is not None:
                self.memo.put(key, hit, expires)
        return hit

    def _reusable(self, request: _Request) -> bool:
        """A finished result may be reused only for a plain call with an on-disk cache."""
        options = request.options
        return (
            options.use_cache
            and not options.force_refresh
            and not request.raw
            and not options.if_modified_since
            and self.settings.cache_dir is not None
        )

    def _memo_key(self, request: _Request, calls: list[Call], owner: str) -> str:
        """Everything that makes one result differ from another."""
        op, options = request.op, request.options
        what = {
            "base_url": self.settings.base_url,
            "date": self.spec.date,
            "tenant": self.settings.tenant,
            "op": op.operation_id,
            "calls": [(c.path, c.query, c.body, sorted(c.fanout.items())) for c in calls],
            "languages": options.languages,
            "pages": options.pages,
            "dtype_backend": options.dtype_backend,
            "owner": owner,
        }
        return json.dumps(what, sort_keys=True, default=str)


@dataclass(frozen=True)
class _Request:
    """One ``get`` as the user made it: the operation, options and parameters."""

    op: Operation
    options: Options
    params: dict[str, Any]
    body: Any
    each: Any
    character: str | int | None
    token: str | None
    raw: bool


def _text_date(value: Any) -> str | None:
    return None if value is None else str(value)


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


@overload
def get(operation: str, /, *, raw: Literal[False] = False, **kwargs: Any) -> pd.DataFrame: ...


@overload
def get(operation: str, /, *, raw: Literal[True], **kwargs: Any) -> Any: ...


def get(operation: str, /, **kwargs: Any) -> Any:
    """``Client.get`` on the default client; see :meth:`Client.get`."""
    return default_client().get(operation, **kwargs)
