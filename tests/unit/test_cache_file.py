"""The HTTP cache file opened by several processes at once, as scripts started together do."""

from __future__ import annotations

from pathlib import Path

from together import failures_at_once

from esiframe.httpcache import cached_session


def test_processes_starting_at_once_all_open_a_new_cache_file(tmp_path: Path) -> None:
    # Switching a new file to WAL answers "database is locked" at once, without SQLite's busy
    # wait, to whoever comes second. Six sessions at once, 100 times: every one must open it.
    def open_it(path: Path) -> None:
        session = cached_session(path)
        session.cache.responses.count()
        session.close()

    failures = []
    for round_ in range(100):
        path = tmp_path / str(round_) / "http_cache.sqlite"
        path.parent.mkdir()
        failures += failures_at_once(lambda path=path: open_it(path))
    assert failures == []
