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
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypeVar, overload

import pandas as pd

from .assemble import (
    Context,
    complete,
    jsonable,
    merged_metadata,
    metadata,
    named_frame,
    partial_error,
    record_schema,
    served_from_cache,
    valid_until,
)
from .assemble import frame as make_frame
from .assemble import raw as raw_json
from .catalog import Ops
from .errors import (
    AuthError,
    EsiError,
    EsiframeWarning,
    EsiHTTPError,
    ParameterError,
    TransportError,
)
from .fetcher import Budget, FetchContext, run_jobs
from .frames import DATE_COLUMNS_ATTR, DtypeBackend, date_columns
from .http import Clock, Transport, WaitPolicy
from .limits import RouteLimit
from .many import cast, is_many, stack
from .memo import ResultCache
from .naming import NameBook, clean_ids, resolve
from .naming import label as label_frame
from .operations import Call, Operation
from .pagedecode import page_decoder
from .pagemeta import FrozenMeta
from .paging import cursor_start
from .plan import Job, Options, plan_options
from .progress import Progress, progress_enabled
from .readonly import changes_data_message
from .results import RESULTS_DIR, ResultStore
from .settings import ErrorPolicy, Settings, warn_plain_http
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
        warn_plain_http(self.settings.base_url, "the ESI URL", "your requests and tokens")
        self.clock = clock
        self.memo = ResultCache()
        self.name_book = NameBook()
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
        response = self.transport.send_alone(
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
        response = self.transport.send_alone(
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
        character: str | int | Sequence[str | int] | None = None,
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
        after: str | Mapping[str, Any] | None = None,
        **params: Any,
    ) -> Any:
        """All the data of one ESI operation as a typed DataFrame (checked before any request).

        A list for a scalar fans out (lists cross), ``each=`` rows pair; ``pages=N`` walks N
        pages; ``character="all"`` or a list: one frame for those characters; cursor routes'
        ``after=df.attrs["esi"]["cursor"]``: only records changed since. See the README.
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
        start = cursor_start(op, after, time.time())
        request = _Request(op, options, params, body, each, character, token, raw, start)
        return self._execute_many(request) if is_many(character) else self._execute(request)

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
        jobs = self._fetch(request, calls, headers, owner, decode)
        result = self._assemble(request, jobs, who, memo_key)
        return self._report(request, jobs, result)

    def _plan(self, request: _Request) -> tuple[list[Call], Character | None, str]:
        """The requests to send, the character they read for, and whose limits they spend.

        Local (the spec and the token store): every refusal comes before any request. The
        one request it may send, after the count is checked, is the acting character's
        public record, for the ``corporation_id`` of a corporation route.
        """
        op = request.op
        if not op.read_only:
            raise ParameterError(changes_data_message(op.operation_id, op.method))
        who, owner = self._whose(op, request.character, request.token, request.params)
        params = request.params
        corporation = _takes(op, "corporation_id") and params.get("corporation_id") is None
        if corporation and owner.startswith("character:"):
            self._check_count(request, {**params, "corporation_id": 1}, characters=1)
            params["corporation_id"] = self._corporation_of(int(owner.split(":", 1)[1]))
        self._check_count(request, params, characters=1)
        calls = op.plan(params, body=request.body, each=request.each).calls()
        if request.after is not None and len(calls) > 1:
            raise ParameterError(
                f"after= walks one list forward, but this call of {op.operation_id} makes "
                f"{len(calls)} requests; give one value per parameter"
            )
        return calls, who, owner

    @staticmethod
    def _check_count(request: _Request, params: dict[str, Any], *, characters: int) -> None:
        """Refuse a call over ``max_requests`` (languages and characters multiply it)."""
        plan = request.op.plan(params, body=request.body, each=request.each)
        options = request.options
        plan.check_limit(
            options.max_requests, languages=len(options.languages), characters=characters
        )

    def _corporation_of(self, character_id: int) -> int:
        """A character's corporation, from its public record (cached until ESI's Expires)."""
        record = self.get("GetCharactersDetail", character_id=character_id, progress=False)
        return int(record["corporation_id"].iloc[0])

    def _execute_many(self, request: _Request) -> pd.DataFrame:
        """One call per logged-in character of ``character=``, stacked into one frame.

        Characters without the scope are refused together (or skipped with
        ``errors="skip"``) and the whole count is checked, before any request.
        """
        op, options = request.op, request.options
        scope = _check_many(request)
        client_id = self.settings.client_id
        chosen = cast(
            op.operation_id,
            scope,
            request.character,
            self.auth.characters_with(None, client_id),
            self.auth.characters_with(op.scope, client_id),
            skip=options.errors == "skip",
            client_id=client_id,
        )
        if chosen.chosen:
            probe = dict(request.params)
            for name in ("character_id", "corporation_id"):
                if _takes(op, name):
                    probe.setdefault(name, 1)  # a placeholder: only the count matters here
            self._check_count(request, probe, characters=len(chosen.chosen))
        results, failed = self._each_character(request, chosen.chosen)
        filled = [name for name in ("corporation_id",) if _takes(op, name)]
        result = stack(results, make_frame(op, [], options), filled)
        metas = [df.attrs["esi"] for _, df in results]
        result.attrs["esi"] = merged_metadata(metas, sum(m["requests"] for m in metas)) | {
            "operation": op.operation_id,
            "parameters": jsonable(request.params),
            "character": None,
            "characters": [who.character_id for who, _ in results],
            "skipped_characters": [*chosen.skipped, *failed],
        }
        return result

    def _each_character(
        self, request: _Request, chosen: Sequence[Character]
    ) -> tuple[list[tuple[Character, pd.DataFrame]], list[dict[str, Any]]]:
        """Run the call for each character in turn; with ``errors="skip"`` a character whose
        call failed outright is listed with ESI's error instead of stopping the others."""
        results, failed = [], []
        for who in chosen:
            try:
                one = replace(request, params=dict(request.params), character=who.character_id)
                results.append((who, self._execute(one)))
            except (EsiHTTPError, TransportError) as exc:
                if request.options.errors != "skip":
                    raise
                failed.append(
                    {
                        "character_id": who.character_id,
                        "character_name": who.name,
                        "reason": str(exc),
                    }
                )
        return results, failed

    @staticmethod
    def _report(request: _Request, jobs: list[Job], result: Any) -> Any:
        """The result, or PartialResultError carrying it when some requests failed."""
        if any(job.error is not None for job in jobs) and request.options.errors == "raise":
            raise partial_error(request.op, jobs, result, is_raw=request.raw)
        return result

    def sync(
        self,
        operation: str,
        path: str | os.PathLike[str],
        key: str | Sequence[str] | None = None,
        partition_cols: Sequence[str] | None = None,
        **params: Any,
    ) -> pd.DataFrame:
        """Fetch ``operation`` and upsert it into the Parquet dataset at ``path``.

        Rows are matched on ``key`` (default: the record's id fields, plus parameters that
        became columns); rows ESI no longer returns are kept; the write is atomic and logged
        in the dataset's metadata. Returns the rows that were new or changed. A re-run within
        ``Expires`` makes no request and changes nothing. ``params`` are as for :meth:`get`.
        """
        from .datasets import sync as sync_dataset  # Parquet is heavy: imported on first use

        op = self.spec.operation(operation)
        return sync_dataset(
            self.get,
            op.operation_id,
            path,
            key,
            partition_cols,
            record_schema=record_schema(op),
            **params,
        )

    def names(self, ids: Sequence[int] | Any, *, language: str | None = None) -> pd.DataFrame:
        """id, name and category of every valid EVE id (PostUniverseNames, batched).

        ESI refuses a whole batch for one invalid id (docs/esi.md §1.9); such a batch is
        split until the bad ids stand alone. They are listed in
        ``df.attrs["esi"]["invalid_ids"]``, never raised. Duplicates and numpy/pandas
        arrays are fine; rows come in the order the ids were first given.
        """
        wanted = clean_ids(ids)
        lang = language or self.settings.language
        answers: list[pd.DataFrame] = []
        asked = [0]  # requests sent, refused batches included

        def lookup(batch: list[int]) -> pd.DataFrame:
            asked[0] += 1
            found = self.get("PostUniverseNames", body=batch, language=lang, errors="raise")
            answers.append(found)
            return found

        missing = self.name_book.unknown(lang, wanted)
        if missing:  # ids named or refused before cost nothing (NameBook)
            self.name_book.learn(lang, *resolve(missing, lookup))
        found, invalid = self.name_book.lookup(lang, wanted)
        return named_frame(wanted, found, invalid, [a.attrs["esi"] for a in answers], asked[0])

    def label(
        self,
        df: pd.DataFrame,
        columns: Sequence[str] | None = None,
        *,
        language: str | None = None,
    ) -> pd.DataFrame:
        """A copy of ``df`` with ``<stem>_name`` after each entity-id column (``type_id`` ->
        ``type_name``); ids ESI cannot name stay NA. Other id columns cost no request."""
        return label_frame(df, lambda ids: self.names(ids, language=language), columns)

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
        request: _Request,
        calls: list[Call],
        headers: Mapping[str, str],
        owner: str,
        decode: Callable[[bytes], Any] | None = None,
    ) -> list[Job]:
        """Walk every call in every language; failures stay on their job."""
        op, options = request.op, request.options
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
                after=request.after,
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
        meta = metadata(op, jobs, request.options, context)
        result.attrs["esi"] = FrozenMeta(meta)  # frozen last: nothing changes it after
        if dates := date_columns(record_schema(op)):  # an empty list too is copied by every
            result.attrs[DATE_COLUMNS_ATTR] = dates  # derived frame (pandas deep-copies attrs)
        if memo_key is not None and not result.attrs["esi"]["errors"]:
            expires = valid_until(result.attrs["esi"])
            # on disk (memory-mapped, read back as fast as a copy from memory) when it fits
            # Arrow; else a copy in memory: never both, which held a second frame in memory
            if expires is not None and not self._results().put(memo_key, result, expires):
                self.memo.put(memo_key, result, expires)
        return result

    def _results(self) -> ResultStore:
        """Finished results on disk beside the HTTP cache (a new process starts warm)."""
        directory = self.settings.cache_dir
        assert directory is not None  # reuse needs an on-disk cache
        return self._once("results", lambda: ResultStore(directory / RESULTS_DIR))

    def _reuse(self, key: str) -> pd.DataFrame | None:
        """A finished result still within Expires: from disk, else from memory."""
        hit = self._results().get(key)
        return hit if hit is not None else self.memo.get(key)

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
            "after": request.after,
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
    character: Any  # a name or id; for _execute_many also "all" or a list of them
    token: str | None
    raw: bool
    after: str | None = None  # cursor routes: walk forward from this token


def _check_many(request: _Request) -> str:
    """The scope of the operation run by ``character="all"`` or a list: only authenticated
    operations, without the options that name one character or return one answer."""
    op = request.op
    if op.scope is None:
        raise ParameterError(f"{op.operation_id} is public; character= does not apply")
    clash = [k for k in ("character_id", "corporation_id") if k in request.params]
    if request.token is not None or request.raw or clash:
        raise ParameterError(
            f"character={request.character!r} runs {op.operation_id} once per logged-in "
            "character, filling character_id (and corporation_id) for each; leave out "
            "token=, raw=True, character_id= and corporation_id="
        )
    return op.scope


def _takes(op: Operation, name: str) -> bool:
    return any(p.name == name for p in op.user_parameters)


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
