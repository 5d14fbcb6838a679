"""The fast paths of a walk give exactly what the plain paths give: pages typed as they
arrive, queued cache writes, finished results reused from disk by a new client."""

from __future__ import annotations

import contextlib
import pickle
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import requests
from frametypes import check_frame

import esiframe as ef
from esiframe import httpcache, pagedecode
from esiframe.export import DATE_COLUMNS_ATTR
from esiframe.fetcher import FetchContext
from esiframe.httpcache import cache_key, cached_session, save_later, stored
from esiframe.pagedecode import PendingPage
from esiframe.results import RESULTS_DIR, ResultStore
from esiframe.sandbox import Sandbox
from esiframe.sandbox.data import Sizes
from esiframe.sandbox.messages import SandboxResponse

QUERY = {"order_type": "all", "page": 1}
SIZES = Sizes(page_size=50, forge_order_pages=5, region_order_pages=3)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(sizes=SIZES) as sb:
        yield sb


def _without_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every page go the JSON + records way, as before pages were typed on arrival."""
    original = FetchContext.__init__

    def plain(self: FetchContext, *args: object, **kwargs: object) -> None:
        kwargs["decode"] = None
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(FetchContext, "__init__", plain)


@pytest.mark.parametrize("backend", ["numpy_nullable", "pyarrow"])
def test_pages_typed_on_arrival_equal_the_record_path(sandbox, make_client, monkeypatch, backend):
    region = [10000002, 10000043]  # fan-out: region_id becomes a column
    fast = make_client(sandbox, cache=False).get(
        "GetMarketsRegionIdOrders", region_id=region, dtype_backend=backend
    )
    _without_decoding(monkeypatch)
    slow = make_client(sandbox, cache=False).get(
        "GetMarketsRegionIdOrders", region_id=region, dtype_backend=backend
    )
    assert len(fast) > (SIZES.forge_order_pages - 1) * SIZES.page_size  # every page is in
    pd.testing.assert_frame_equal(fast, slow)
    assert list(fast.dtypes) == list(slow.dtypes)
    assert fast.columns[0] == "region_id"
    if backend == "numpy_nullable":  # the types the spec promises (frametypes knows these)
        check_frame(fast, "GetMarketsRegionIdOrders")


def test_decoded_pages_keep_no_body(sandbox, make_client):
    client = make_client(sandbox, cache=False)
    seen = []
    send = client.transport.send

    def spy(*args, **kwargs):
        response = send(*args, **kwargs)
        seen.append(response)
        return response

    client.transport.send = spy  # type: ignore[method-assign]
    df = client.get("GetMarketsRegionIdOrders", region_id=10000002)
    assert len(seen) == SIZES.forge_order_pages
    assert all(r.body is None and r.decoded is not None for r in seen)
    pages = [r.decoded.result() if isinstance(r.decoded, PendingPage) else r.decoded for r in seen]
    assert sum(page.rows for page in pages) == len(df)


def test_requests_keep_going_out_while_pages_are_typed(sandbox, make_client, monkeypatch):
    # A fetch worker hands its page to the decoding threads and sends the next request: with
    # typing held up, every page of the walk is still asked for, and the frame is the same.
    expected = make_client(sandbox, cache=False).get("GetMarketsRegionIdOrders", region_id=10000002)
    release = threading.Event()
    typed = pagedecode.decode_page

    def held(body, plan):
        release.wait(10)
        return typed(body, plan)

    monkeypatch.setattr(pagedecode, "decode_page", held)
    sandbox.log.clear()
    client = make_client(sandbox, cache=False)
    with ThreadPoolExecutor(1) as pool:
        walk = pool.submit(client.get, "GetMarketsRegionIdOrders", region_id=10000002)
        deadline = time.monotonic() + 10
        while len(sandbox.log) < SIZES.forge_order_pages and time.monotonic() < deadline:
            time.sleep(0.01)
        asked = len(sandbox.log)
        release.set()
        df = walk.result(timeout=30)
    assert asked == SIZES.forge_order_pages
    pd.testing.assert_frame_equal(df, expected)


def test_queued_cache_writes_are_seen_at_once_and_survive_close(sandbox, tmp_path):
    path = tmp_path / "http_cache.sqlite"
    session = cached_session(path)
    url = f"{sandbox.url}/markets/10000002/orders"
    headers = {"X-Compatibility-Date": "2026-08-04"}
    first = session.get(url, params=QUERY, headers=headers)
    assert first.status_code == 200 and not first.from_cache
    again = session.get(url, params=QUERY, headers=headers)  # pending or committed
    assert again.from_cache and again.content == first.content
    session.close()  # commits what is pending
    other = cached_session(path)  # a new cache on the same file reads it from disk
    assert other.cache.responses.count() == 1
    third = other.get(url, params=QUERY, headers=headers)
    assert third.from_cache and third.content == first.content
    other.cache.clear()
    assert other.cache.responses.count() == 0
    other.close()


def test_metadata_is_shared_by_derived_frames_and_cannot_be_changed(sandbox, make_client):
    df = make_client(sandbox, cache=False).get("GetMarketsRegionIdOrders", region_id=10000002)
    meta = df.attrs["esi"]
    assert df["price"].attrs["esi"] is meta  # copied for free into every derived object
    assert df[df["price"] > 0].attrs["esi"] is meta
    assert meta["responses"].num_rows == meta["pages"] == SIZES.forge_order_pages
    assert list(meta["responses"]["page"]) == list(range(1, SIZES.forge_order_pages + 1))
    with pytest.raises(TypeError):
        meta["pages"] = 0
    with pytest.raises(TypeError):
        meta["cache"]["fresh"] = 0


def test_only_frames_with_esi_dates_carry_the_list_of_date_columns(sandbox, make_client):
    # pandas deep-copies attrs into every derived frame: an entry that says nothing costs
    # every column access, so orders (no date fields) carry the frozen metadata alone
    client = make_client(sandbox, cache=False)
    orders = client.get("GetMarketsRegionIdOrders", region_id=10000002)
    history = client.get("GetMarketsRegionIdHistory", region_id=10000002, type_id=34)
    assert list(orders.attrs) == ["esi"]
    assert history.attrs[DATE_COLUMNS_ATTR] == ["date"]


def test_metadata_survives_a_json_round_trip(sandbox, make_client):
    import json

    from esiframe.pagemeta import FrozenMeta, PageTable, restore_attrs

    df = make_client(sandbox, cache=False).get("GetMarketsRegionIdOrders", region_id=10000002)
    back = restore_attrs(json.loads(json.dumps(df.attrs)))
    assert isinstance(back["esi"], FrozenMeta)
    assert isinstance(back["esi"]["responses"], PageTable)
    assert back["esi"]["responses"] == df.attrs["esi"]["responses"]
    assert back["esi"] == df.attrs["esi"]


@pytest.mark.parametrize("backend", ["numpy_nullable", "pyarrow"])
def test_a_new_client_reuses_the_finished_result_from_disk(sandbox, make_client, backend):
    first = make_client(sandbox).get(
        "GetMarketsRegionIdOrders", region_id=[10000002, 10000043], dtype_backend=backend
    )
    sent = sandbox.log.count(operation_id="GetMarketsRegionIdOrders")
    fresh = make_client(sandbox)  # a restarted notebook: same cache directory, empty memory
    again = fresh.get(
        "GetMarketsRegionIdOrders", region_id=[10000002, 10000043], dtype_backend=backend
    )
    assert sandbox.log.count(operation_id="GetMarketsRegionIdOrders") == sent  # no request
    pd.testing.assert_frame_equal(again, first)
    assert list(again.dtypes) == list(first.dtypes)
    meta = again.attrs["esi"]
    assert meta["cache"]["cache"] == meta["pages"] == first.attrs["esi"]["pages"]
    assert set(meta["responses"]["cache"]) == {"cache"}
    assert meta["responses"]["page"] == first.attrs["esi"]["responses"]["page"]


def test_a_result_the_disk_cannot_keep_is_reused_from_memory(
    sandbox, make_client, tmp_path, monkeypatch
):
    # A finished result is kept once: on disk, or in memory when the disk refuses it (here the
    # results folder cannot be made). A repeat within Expires then takes the finished frame:
    # no request, and not even a look at the cached pages.
    from requests_cache.backends.base import BaseCache

    cache = tmp_path / "blocked-cache"
    cache.mkdir()
    (cache / "results").write_text("not a folder")
    client = make_client(sandbox, cache=cache)
    first = client.get("GetMarketsRegionIdOrders", region_id=10000002)
    looked_up: list[str] = []
    real = BaseCache.get_response

    def get_response(self, key, default=None):
        looked_up.append(key)
        return real(self, key, default)

    monkeypatch.setattr(BaseCache, "get_response", get_response)
    sent = len(sandbox.log)
    again = client.get("GetMarketsRegionIdOrders", region_id=10000002)
    assert len(sandbox.log) == sent and looked_up == []
    pd.testing.assert_frame_equal(again, first)


def _public_gets() -> list[str]:
    from esiframe.spec import bundled_spec

    return [op.operation_id for op in bundled_spec() if op.method == "GET" and op.scope is None]


def test_every_public_get_comes_back_from_disk_unchanged(sandbox, make_client, tmp_path):
    """Whatever the shape (lists, nested objects, enums, times), a result served from disk
    in a new process is the very frame the walk built."""
    first, second = make_client(sandbox), make_client(sandbox)
    served = 0
    for op_id in _public_gets():
        params = sandbox.dataset.example_params(op_id)
        built = first.get(op_id, **params)
        before = sandbox.log.count(operation_id=op_id)
        again = second.get(op_id, **params)
        pd.testing.assert_frame_equal(again, built, obj=op_id)
        served += sandbox.log.count(operation_id=op_id) == before
    assert served > len(_public_gets()) // 2  # most answers carry an Expires: no request


def test_pending_cache_writes_are_seen_by_every_cache_on_the_file(sandbox, tmp_path):
    path = tmp_path / "http_cache.sqlite"
    one, two = cached_session(path), cached_session(path)  # two clients, one cache file
    url = f"{sandbox.url}/markets/10000002/orders"
    headers = {"X-Compatibility-Date": "2026-08-04"}
    first = one.get(url, params=QUERY, headers=headers)
    seen = two.get(url, params=QUERY, headers=headers)  # committed or still queued
    assert seen.from_cache and seen.content == first.content
    one.close()
    two.close()


def test_an_answer_saved_later_is_found_at_once_as_the_cache_would_have_kept_it(sandbox, tmp_path):
    # Pages known to be new go out through a plain session and are stored by the writer
    # thread: a lookup right after (queued, not yet stored) must find them all the same,
    # under the key and with the Expires the cached session itself would have given.
    path = tmp_path / "http_cache.sqlite"
    cached = cached_session(path)
    url = f"{sandbox.url}/markets/10000002/orders"
    headers = {"X-Compatibility-Date": "2026-08-04"}
    pages = [requests.get(url, params={**QUERY, "page": n}, headers=headers) for n in (1, 2)]
    for page in pages:
        save_later(path, lambda: cached, page)
    for n, page in zip((1, 2), pages, strict=True):
        seen = cached.get(url, params={**QUERY, "page": n}, headers=headers)
        assert seen.from_cache and seen.content == page.content
        assert seen.expires is not None and seen.headers["ETag"] == page.headers["ETag"]
    save_later(path, lambda: cached, requests.get(url, params={"page": 1}, headers=headers))  # 400
    cached.close()  # everything queued is committed first
    assert cached_session(path).cache.responses.count() == 2  # only 200s are kept


def test_the_cache_file_itself_says_what_it_certainly_does_not_hold(sandbox, tmp_path):
    # Before requests-cache is loaded, a first request asks the file: "not there" must be
    # certain (no file, no such key, nothing queued), and the key must be requests-cache's.
    path = tmp_path / "http_cache.sqlite"
    url = f"{sandbox.url}/markets/10000002/orders"
    page = requests.get(url, params=QUERY, headers={"X-Compatibility-Date": "2026-08-04"})
    key = cache_key(page.request)
    assert not stored(path, key)  # no file yet
    cached = cached_session(path)
    assert cached.cache.create_key(page.request) == key
    assert not stored(path, key)  # a file without it
    save_later(path, lambda: cached, page)
    assert stored(path, key)  # queued or committed: never "certainly not"
    cached.close()
    assert stored(path, key)
    other = cache_key(requests.Request("GET", url, params={**QUERY, "page": 2}).prepare())
    assert not stored(path, other)


def test_a_new_client_finds_the_pages_another_stored_without_asking_esi(
    sandbox, make_client, tmp_path
):
    # A new process asks the cache file itself whether page 1 is there (requests-cache still
    # loading): it must find what requests-cache stored, under the same key, or ESI is asked.
    first = make_client(sandbox)
    built = first.get("GetMarketsRegionIdOrders", region_id=10000002)
    first.close()  # every page committed: the file alone answers now
    ResultStore(tmp_path / "cache" / RESULTS_DIR).clear()  # the pages must answer, not the frame
    sent = len(sandbox.log)
    again = make_client(sandbox).get("GetMarketsRegionIdOrders", region_id=10000002)
    assert len(sandbox.log) == sent
    assert again.attrs["esi"]["cache"]["cache"] == built.attrs["esi"]["pages"]
    pd.testing.assert_frame_equal(again, built)


#: Cache values are compressed only where pyarrow was built with zstd (PyPI's wheels are).
needs_zstd = pytest.mark.skipif(not pa.Codec.is_available("zstd"), reason="pyarrow without zstd")


def _stored_values(path: Path) -> list[bytes]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return [bytes(row[0]) for row in db.execute("SELECT value FROM responses")]


@needs_zstd
def test_a_walk_takes_a_fraction_of_its_bodies_on_disk(sandbox, make_client, tmp_path):
    # A region's orders fill hundreds of MB a snapshot: the cache keeps them compressed, and
    # every stored value reads back as the page ESI sent.
    client = make_client(sandbox)
    client.get("GetMarketsRegionIdOrders", region_id=10000002)
    client.close()  # every page committed
    path = tmp_path / "cache" / "http_cache.sqlite"
    reader = cached_session(path).cache.responses
    values = _stored_values(path)
    bodies = [reader.deserialize("-", value).content for value in values]
    assert len(values) == SIZES.forge_order_pages and all(b.startswith(b"[{") for b in bodies)
    assert sum(map(len, values)) < sum(map(len, bodies)) / 2


def test_a_damaged_cache_entry_is_fetched_again(sandbox, tmp_path):
    path = tmp_path / "http_cache.sqlite"
    url = f"{sandbox.url}/markets/10000002/orders"
    headers = {"X-Compatibility-Date": "2026-08-04"}
    session = cached_session(path)
    first = session.get(url, params=QUERY, headers=headers)
    session.close()
    (value,) = _stored_values(path)
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE responses SET value=?", (value[:20] + bytes(len(value) - 20),))
    again = cached_session(path).get(url, params=QUERY, headers=headers)
    assert not again.from_cache and again.status_code == 200 and again.content == first.content


@needs_zstd
def test_entries_kept_uncompressed_are_read_and_compressed_ones_need_zstd(
    sandbox, tmp_path, monkeypatch
):
    # A pyarrow built without zstd stores plain pickles; one with zstd reads them, and a
    # compressed entry met without zstd is a miss (fetched again), never an error.
    url = f"{sandbox.url}/markets/10000002/orders"
    headers = {"X-Compatibility-Date": "2026-08-04"}
    plain, packed = tmp_path / "plain.sqlite", tmp_path / "packed.sqlite"
    with monkeypatch.context() as patched:
        patched.setattr(httpcache, "_codec", lambda: None)
        session = cached_session(plain)
        first = session.get(url, params=QUERY, headers=headers)
        session.close()
        assert pickle.loads(_stored_values(plain)[0])  # as requests-cache's own pickles
    kept = cached_session(plain).get(url, params=QUERY, headers=headers)
    assert kept.from_cache and kept.content == first.content
    session = cached_session(packed)
    session.get(url, params=QUERY, headers=headers)
    session.close()
    assert _stored_values(packed)[0].startswith(b"EFZ1")  # stored by a pyarrow with zstd
    monkeypatch.setattr(httpcache, "_codec", lambda: None)
    missed = cached_session(packed).get(url, params=QUERY, headers=headers)
    assert not missed.from_cache and missed.content == first.content


def test_a_cache_that_cannot_be_opened_is_said_once_and_the_answers_still_come(
    sandbox, make_client, monkeypatch, caplog
):
    import sqlite3

    from esiframe import http, httpcache

    def refused(path):
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(http, "cached_session", refused)
    client = make_client(sandbox)
    df = client.get("GetMarketsRegionIdOrders", region_id=10000002)
    whole = make_client(sandbox, cache=False).get("GetMarketsRegionIdOrders", region_id=10000002)
    pd.testing.assert_frame_equal(df, whole)
    history = {"region_id": 10000002, "type_id": 34}  # another call: not a finished result
    pd.testing.assert_frame_equal(
        client.get("GetMarketsRegionIdHistory", **history),
        make_client(sandbox, cache=False).get("GetMarketsRegionIdHistory", **history),
    )
    said = [r.getMessage() for r in caplog.records if "cannot be used" in r.getMessage()]
    assert len(said) == 1 and str(client.transport.cache_path) in said[0]
    writer = httpcache._writers.get((str(client.transport.cache_path.resolve()), "responses"))
    if writer is not None:  # saves queued before the failure was known are given up
        writer.flush()
        assert writer.idle() and writer.thread.is_alive()


ORDERS_PATH = "/markets/{region_id}/orders"


@pytest.mark.parametrize(
    ("path", "operation", "body", "said"),
    [
        (ORDERS_PATH, "GetMarketsRegionIdOrders", b"<html>login</html>", "an HTML page"),
        (ORDERS_PATH, "GetMarketsRegionIdOrders", b"", "an empty body"),
        (ORDERS_PATH, "GetMarketsRegionIdOrders", b'{"a": 1}', "a JSON object"),
        (ORDERS_PATH, "GetMarketsRegionIdOrders", b"[not json]", "text"),  # typed later
        ("/status", "GetStatus", b'"maintenance"', "text"),
        ("/status", "GetStatus", b"Service Unavailable", "text"),
        ("/status", "GetStatus", b"[1, 2]", "a JSON list"),
    ],
)
def test_an_odd_200_body_is_an_esi_error_naming_the_operation(
    esi_sandbox_factory, make_client, path, operation, body, said
):
    """A proxy's page or an empty answer with status 200 never becomes rows, nor a TypeError."""
    sb = esi_sandbox_factory()

    def odd(request):
        return SandboxResponse(200, {"Content-Type": "text/html", "X-Pages": "1"}, body)

    sb.add_route("GET", path, odd)
    client = make_client(sb, cache=False)
    params = {"region_id": 10000002} if "region_id" in path else {}
    with pytest.raises(ef.UnexpectedAnswerError, match=f"{operation} answered 200 with {said}"):
        client.get(operation, **params)
