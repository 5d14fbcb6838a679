"""The HTTP cache: requests-cache on SQLite, its keys, and writes kept off the request path.

requests-cache commits one SQLite transaction per response under one lock, so
every page of a walk waits for its own write and every lookup queues behind
the writes of the others. :class:`QueuedWrites` instead hands each response to
one writer thread per cache file, which commits whatever is pending in one
transaction. Reads see pending writes first, so nothing looks missing in this
process. A crash loses only responses not yet committed (they are fetched
again), never serves a half-written one (each batch is one SQLite
transaction); pending writes are flushed on close and at exit.

Pages known to be new (see ``Transport``) skip requests-cache's session altogether:
:func:`save_later` queues the answer, and the writer thread makes it an entry by
requests-cache's own rules, so the key, the copy and the serialization are off the
request path too.

Stored values are requests-cache's pickles compressed with zstd (pyarrow's codec,
level 1, on the writer thread and off the GIL): a page of market orders takes about a
fifth of the disk, and the writer writes a fifth of the bytes. Values stored uncompressed
(by a pyarrow built without zstd) are still read.

requests-cache is imported only when a cached session is first built: most
imports of esiframe never need it.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import hashlib
import json
import threading
from collections import deque
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .sqlitefile import open_wal, when_unlocked

if TYPE_CHECKING:
    import sqlite3

__all__ = [
    "QueuedWrites",
    "cache_key",
    "cache_owner",
    "cached_session",
    "clear",
    "save_later",
    "stored",
]

#: How long a write waits for another process's write (and a new file for its WAL switch).
_BUSY_SECONDS = 30

#: The headers ESI varies its answers on (docs/esi.md §2), part of every cache key.
VARY = ("Accept-Language", "X-Compatibility-Date", "X-Tenant")
#: What requests-cache leaves out of keys and stored requests (its own default list, given
#: explicitly so that :func:`stored` makes the same keys without importing requests-cache).
IGNORED = (
    "Authorization",
    "Proxy-Authorization",
    "X-API-Key",
    "X-Auth-Token",
    "X-API-Token",
    "X-Access-Token",
    "access_token",
    "api_key",
    "apikey",
)


def cache_owner(authorization: str | None) -> str:
    """Whose data a request reads, for cache keys: ``character:<id>`` or ``public``.

    Read from the bearer JWT's ``sub`` claim without validating it: the key
    only has to separate characters, and the token itself never enters it.
    """
    if not authorization or not authorization.startswith("Bearer "):
        return "public"
    try:
        payload = authorization[7:].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return "character:" + str(claims["sub"]).rsplit(":", 1)[-1]
    except (IndexError, ValueError, KeyError, TypeError):
        return "bearer"


def cache_key(
    request: Any,
    match_headers: Any = None,
    ignored_parameters: Any = IGNORED,
    **kwargs: Any,
) -> str:
    """The cache key: method, URL, body, ESI's Vary headers, and whose data it is.

    requests-cache also calls this for its Vary check, passing the response's
    Vary headers as ``match_headers`` and comparing the stored request (its
    Authorization redacted) with the new one; that comparison gets the key
    without the owner, which the primary key already holds.

    The parts of requests-cache's ``create_key``, normalised only as far as
    esiframe's requests need (host case, query order, ``ignored_parameters``
    such as ``access_token`` left out): its ``url_normalize`` cost about
    0.25 ms a key, and a cached lookup takes three keys. A spelling left
    unnormalised only misses the cache; distinct requests never share a key.
    The serializer is not part of it: one file holds one serializer's values,
    and a value it cannot read is a miss.
    """
    headers = request.headers
    names = sorted(match_headers or VARY, key=str.lower)
    parts = [
        (request.method or "").upper(),
        _normal_url(request.url or "", frozenset(ignored_parameters or ())),
        request.body or b"",
        str(bool(kwargs.get("verify", True))),
        *(f"{name.lower()}={headers[name]}" for name in names if name in headers),
    ]
    key = hashlib.blake2b(digest_size=8)
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode()
        key.update(len(data).to_bytes(8, "big"))  # lengths first: no two splits read alike
        key.update(data)
    if match_headers:
        return key.hexdigest()
    return key.hexdigest() + "-" + cache_owner(headers.get("Authorization"))


#: The start of a compressed value, then its size (8 bytes, little-endian), then zstd's frame.
#: A pickle never starts so: values without it are read as they are.
_PACKED = b"EFZ1"


@cache
def _codec() -> Any:
    import pyarrow as pa  # loaded with pandas already

    return pa.Codec("zstd", compression_level=1) if pa.Codec.is_available("zstd") else None


def _pack(data: bytes) -> bytes:
    """A pickled value, compressed; as it is when this pyarrow has no zstd."""
    codec = _codec()
    if codec is None:
        return data
    size = len(data).to_bytes(8, "little")
    return b"".join((_PACKED, size, codec.compress(data, asbytes=True)))


def _unpack(data: bytes) -> bytes:
    """The pickle of a stored value; ValueError (which requests-cache reads as a miss) when a
    compressed value is damaged or cannot be read here."""
    if data[:4] != _PACKED:
        return data
    import pyarrow as pa

    size, codec = int.from_bytes(data[4:12], "little"), _codec()
    if codec is None:
        raise ValueError("a compressed cache entry, and this pyarrow has no zstd")
    try:
        unpacked: bytes = codec.decompress(data[12:], decompressed_size=size, asbytes=True)
    except (pa.ArrowException, OSError) as exc:
        raise ValueError(f"a damaged cache entry ({exc})") from exc
    if len(unpacked) != size:
        raise ValueError("a damaged cache entry (its size does not match)")
    return unpacked


def _serializer() -> Any:
    """requests-cache's pickle serializer, its output compressed (see the module doc)."""
    from requests_cache.serializers import SerializerPipeline, Stage, pickle_serializer

    stages = [*pickle_serializer.stages, Stage(dumps=_pack, loads=_unpack)]
    return SerializerPipeline(stages, name="pickle+zstd", is_binary=True)


def _normal_url(url: str, ignored: frozenset[str]) -> str:
    """``url`` with scheme and host in lower case, query parameters sorted (the ignored ones
    left out), no fragment."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = urlencode(sorted((k, v) for k, v in pairs if k not in ignored))
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", query, ""))


class _Writer:
    """The one writer thread of one table of one cache file, and what waits for it."""

    def __init__(self, path: str, table: str) -> None:
        self.path, self.table = path, table
        self.serialize: Callable[[Any], Any] | None = None  # set by the cache's QueuedDict
        self.pending: dict[str, Any] = {}
        self.unsaved: deque[Callable[[], None]] = deque()  # saves still to turn into entries
        self.busy = False
        self.changed = threading.Condition()
        self.failures = 0
        self.thread = threading.Thread(target=self._run, name="esiframe-cache-writer", daemon=True)
        self.thread.start()

    def put(self, key: str, value: Any) -> None:
        with self.changed:
            self.pending[key] = value
            self.changed.notify_all()

    def later(self, save: Callable[[], None]) -> None:
        """Run ``save`` (which :meth:`put` s an entry) on this thread, not the caller's."""
        with self.changed:
            self.unsaved.append(save)
            self.changed.notify_all()

    def peek(self, key: str) -> Any:
        with self.changed:
            self._settle(everything=True)  # a queued save may be the entry asked for
            return self.pending.get(key)

    def idle(self) -> bool:
        """Nothing queued, pending or being committed: the file holds all there is."""
        with self.changed:
            return not self.pending and not self.unsaved and not self.busy

    def flush(self) -> None:
        """Wait until everything queued so far is committed (or given up on)."""
        with self.changed:
            self.changed.notify_all()
            self.changed.wait_for(
                lambda: not self.pending and not self.unsaved and not self.busy, timeout=60
            )

    def _settle(self, *, everything: bool) -> None:
        """Turn queued saves into pending entries: one (the writer, between commits, so that
        puts wait briefly) or all of them (a reader). Called with ``changed`` held, so no
        reader ever sees a save neither queued nor pending."""
        while self.unsaved:
            save = self.unsaved.popleft()
            try:
                save()
            except Exception:  # e.g. headers requests-cache cannot read: the page is not kept
                self.failures += 1
            if not everything:
                return

    def _run(self) -> None:
        connection = open_wal(self.path, _BUSY_SECONDS)  # WAL and synchronous as requests-cache
        while True:
            self._round(connection)

    def _round(self, connection: sqlite3.Connection) -> None:
        """Wait for work; turn the saves queued so far into entries; commit them all."""
        import sqlite3

        with self.changed:
            self.changed.wait_for(lambda: bool(self.pending or self.unsaved))
            self.busy, queued = True, len(self.unsaved)
        for _ in range(queued):  # one at a time: puts and lookups wait one save at most
            with self.changed:
                self._settle(everything=False)
        with self.changed:
            batch = dict(self.pending)
        try:
            self._commit(connection, batch)
        except sqlite3.Error:  # e.g. the file was removed or is locked for too long
            self.failures += 1  # the entries stay unstored: the pages are fetched again
        with self.changed:
            for key, value in batch.items():
                if self.pending.get(key) is value:  # a newer answer stays queued
                    del self.pending[key]
            self.busy = False
            self.changed.notify_all()

    def _commit(self, connection: sqlite3.Connection, batch: dict[str, Any]) -> None:
        if not batch:  # e.g. every queued save failed: nothing to write
            return
        assert self.serialize is not None  # entries are put only through a QueuedDict
        rows = [
            (key, self.serialize(value), getattr(value, "expires_unix", None))
            for key, value in batch.items()
        ]
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany(
                f"INSERT OR REPLACE INTO {self.table} (key,value,expires) VALUES (?,?,?)", rows
            )
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")


_writers: dict[tuple[str, str], _Writer] = {}
_writers_lock = threading.Lock()


@cache
def _real_path(path: str) -> str:
    """``path`` resolved, once per spelling: every page stored asks (a resolve is ~20 us)."""
    return str(Path(path).resolve())


def _writer(path: str, table: str, serialize: Callable[[Any], Any] | None = None) -> _Writer:
    """The writer of a table, shared by every cache on that file in this process."""
    with _writers_lock:
        key = (_real_path(path), table)
        if key not in _writers:
            _writers[key] = _Writer(path, table)
        if serialize is not None:
            _writers[key].serialize = serialize
        return _writers[key]


@atexit.register
def _flush_all() -> None:
    for writer in list(_writers.values()):
        writer.flush()


def _queued_dict_class() -> type[Any]:
    """``SQLiteDict`` whose writes go through the file's writer thread (built on first use)."""
    from requests_cache.backends.sqlite import SQLiteDict

    class QueuedDict(SQLiteDict):
        """Writes queued; reads see them first; everything else flushes, then reads disk."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.writer = _writer(str(self.db_path), self.table_name, self.serialize)

        def __setitem__(self, key: str, value: Any) -> None:
            self.writer.put(key, value)

        def __getitem__(self, key: str) -> Any:
            value = self.writer.peek(key)
            if value is not None:  # a fresh object, as a read from disk gives
                return self.deserialize(key, self.serialize(value))
            return super().__getitem__(key)  # type: ignore[no-untyped-call]

        def __del__(self) -> None:
            # closed by the garbage collector, in whatever thread, perhaps one the writer is
            # waiting for: no flush (the writes are the writer's, not this object's)
            SQLiteDict.close(self)  # type: ignore[no-untyped-call]

    for name in ("__delitem__", "__iter__", "bulk_delete", "clear", "count", "sorted", "close"):
        setattr(QueuedDict, name, _flushed(getattr(SQLiteDict, name)))
    return QueuedDict


def _flushed(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` once the pending writes are committed (deletes, counts, listings)."""

    def flushed(self: Any, *args: Any, **kwargs: Any) -> Any:
        if hasattr(self, "writer"):  # not yet while SQLiteDict sets itself up
            self.writer.flush()
        return method(self, *args, **kwargs)

    return flushed


class QueuedWrites:
    """Builds the SQLite cache whose response writes are queued (see the module doc)."""

    @staticmethod
    def backend(path: str, **kwargs: Any) -> Any:
        from requests_cache.backends.sqlite import SQLiteCache

        cache = SQLiteCache(path, **kwargs)
        queued = _queued_dict_class()(path, table_name="responses", **kwargs)
        cache.responses.close()  # type: ignore[no-untyped-call]
        cache.responses = queued
        return cache


def cached_session(path: Path) -> Any:
    """A requests-cache session on the SQLite file ``path`` honouring ESI's ``Expires``."""
    from requests_cache import CachedSession

    backend = when_unlocked(
        lambda: QueuedWrites.backend(
            str(path), wal=True, busy_timeout=_BUSY_SECONDS * 1000, serializer=_serializer()
        ),
        _BUSY_SECONDS,
    )
    return CachedSession(
        backend=backend,
        cache_control=True,
        expire_after=0,
        allowable_codes=(200,),
        allowable_methods=("GET",),
        ignored_parameters=IGNORED,
        key_fn=cache_key,
    )


def save_later(path: Path, session: Callable[[], Any], response: Any) -> None:
    """Store ``response`` (sent by a plain session) in the cache file ``path`` as the cached
    ``session()`` would have, by requests-cache's own rules (key, ``Expires``, what may be
    stored), on the file's writer thread: the thread that fetched it goes on at once, and
    ``session()`` (which may still be importing requests-cache) is called there.

    Used for answers known not to be in the cache (see ``Transport``): the whole
    requests-cache round (key, lookup, copy, serialization) would otherwise run on the
    request path.
    """
    _writer(str(path), "responses").later(lambda: _save(session(), response))


def stored(path: Path, key: str) -> bool:
    """Whether the cache file ``path`` may hold an answer under ``key`` (fresh or stale),
    found without requests-cache: False only when it certainly does not.

    So a first request in a new process goes out while requests-cache loads (about 0.1 s);
    an answer that is there, or still being written by this process, goes through
    requests-cache's session as always.
    """
    import sqlite3

    writer = _writers.get((_real_path(str(path)), "responses"))
    if writer is not None and not writer.idle():
        return True
    if not path.exists():
        return False
    query = "SELECT 1 FROM responses WHERE key=? UNION ALL SELECT 1 FROM redirects WHERE key=?"
    try:
        with contextlib.closing(sqlite3.connect(path)) as db:
            return db.execute(query, (key, key)).fetchone() is not None
    except sqlite3.Error:  # no tables yet, locked too long: requests-cache decides
        return True


def _save(session: Any, response: Any) -> None:
    from requests_cache.policy.actions import CacheActions

    cache = session.cache
    key = cache.create_key(response.request, verify=session.verify)
    actions = CacheActions.from_request(key, response.request, session.settings)
    actions.update_from_response(response)
    if not actions.skip_write:
        cache.save_response(response, key, actions.expires)


def clear(path: Path) -> None:
    """Empty the cache file ``path`` (pending writes first, so none lands after)."""
    QueuedWrites.backend(str(path)).clear()
