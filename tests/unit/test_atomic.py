"""Writes stopped at each step of the commit protocol (as a SIGKILL would) leave old or new data.

A ``Killed`` exception derives from ``BaseException`` so no ``except Exception`` cleanup runs,
as after a SIGKILL; the lock is released as the kernel would release it.
"""

from __future__ import annotations

import os
import pathlib
import threading
from collections.abc import Callable
from typing import Any

import duckdb
import pandas as pd
import pytest
from swaps import swaps_here

from esiframe import commit
from esiframe.export import read_parquet, to_parquet


class Killed(BaseException):
    """Stands for a SIGKILL: nothing after it runs."""


def version(v: int, regions: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "key": range(v * 100, v * 100 + 6),
            "region": [r % regions for r in range(6)],
            "v": [v] * 6,
        }
    )


def rows(df: pd.DataFrame) -> list[tuple[int, int]]:
    return sorted(zip(df["key"].tolist(), df["v"].tolist(), strict=True))


def duck(path: pathlib.Path) -> list[tuple[int, int]]:
    rel = duckdb.sql(f"select key, v from read_parquet('{path}/**/*.parquet') order by key")
    return [(int(k), int(v)) for k, v in rel.fetchall()]


def staged_files(path: pathlib.Path) -> list[pathlib.Path]:
    return [p for p in path.rglob("*") if p.name.endswith(".tmp")]


def kill_on_call(n: int, real: Callable[..., Any]) -> Callable[..., Any]:
    """A stand-in for ``real`` that is killed on its ``n``-th call."""
    calls = 0

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == n:
            raise Killed
        return real(*args, **kwargs)

    return wrapper


def journal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commit as where directories cannot be swapped (macOS, Windows): through the journal."""
    monkeypatch.setattr(commit, "exchange", lambda first, second: False)


needs_swap = pytest.mark.skipif(not swaps_here(), reason="no atomic directory swap here")


def swap_leftovers(path: pathlib.Path) -> list[pathlib.Path]:
    return list(path.parent.glob(f".{path.name}.*.swap"))


@needs_swap
def test_killed_while_the_new_tree_is_built_keeps_the_old_data_for_every_reader(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "data"
    to_parquet(version(1), path, partition_cols=["region"])
    monkeypatch.setattr(commit, "exchange", kill_on_call(1, commit.exchange))
    with pytest.raises(Killed):
        to_parquet(version(2), path, partition_cols=["region"], existing="replace_partitions")
    monkeypatch.undo()

    assert len(swap_leftovers(path)) == 1  # the new tree, complete but never swapped in
    assert duck(path) == rows(version(1))
    assert rows(read_parquet(path)) == rows(version(1))
    to_parquet(version(3), path, partition_cols=["region"], existing="append")
    assert swap_leftovers(path) == [] and staged_files(path) == []
    assert duck(path) == rows(pd.concat([version(1), version(3)]))


@needs_swap
def test_killed_right_after_the_swap_every_reader_sees_the_new_data(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "data"
    to_parquet(version(1), path, partition_cols=["region"])
    monkeypatch.setattr(commit.shutil, "rmtree", kill_on_call(1, commit.shutil.rmtree))
    with pytest.raises(Killed):
        to_parquet(version(2), path, partition_cols=["region"], existing="overwrite")
    monkeypatch.undo()

    assert len(swap_leftovers(path)) == 1  # the old tree, not yet deleted
    assert duck(path) == rows(version(2))  # DuckDB knows no journal and needs none
    assert not (path / commit.JOURNAL).exists()
    to_parquet(version(3), path, partition_cols=["region"], existing="append")
    assert swap_leftovers(path) == []
    assert rows(read_parquet(path)) == rows(pd.concat([version(2), version(3)]))


@needs_swap
def test_a_swap_keeps_files_it_does_not_change_and_drops_emptied_partitions(
    tmp_path: pathlib.Path,
) -> None:
    path = tmp_path / "data"
    to_parquet(version(1, regions=3), path, partition_cols=["region"])
    kept = {p.relative_to(path): p.stat().st_ino for p in path.rglob("*.parquet")}
    to_parquet(version(2, regions=1), path, partition_cols=["region"], existing="append")
    after = {p.relative_to(path): p.stat().st_ino for p in path.rglob("*.parquet")}
    assert {p: after[p] for p in kept} == kept  # the same files (hard links), not copies
    to_parquet(version(3, regions=1), path, partition_cols=["region"], existing="overwrite")
    assert sorted(p.name for p in path.iterdir() if not p.name.startswith((".", "_"))) == [
        "region=0"
    ]
    assert duck(path) == rows(version(3, regions=1))


def test_killed_before_the_journal_keeps_the_old_data_and_the_next_write_cleans_up(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "data"
    to_parquet(version(1), path, partition_cols=["region"])
    journal_only(monkeypatch)
    monkeypatch.setattr(commit, "_write_journal", kill_on_call(1, commit._write_journal))

    with pytest.raises(Killed):
        to_parquet(version(2), path, partition_cols=["region"], existing="replace_partitions")

    assert len(staged_files(path)) == 3  # the new files, written whole but hidden
    assert rows(read_parquet(path)) == rows(version(1))
    assert duck(path) == rows(version(1))
    monkeypatch.undo()
    to_parquet(version(3), path, partition_cols=["region"], existing="append")
    assert staged_files(path) == []
    assert rows(read_parquet(path)) == rows(pd.concat([version(1), version(3)]))


def test_killed_after_the_journal_is_rolled_forward_by_the_next_read(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "data"
    to_parquet(version(1), path, partition_cols=["region"])
    journal_only(monkeypatch)
    monkeypatch.setattr(commit, "_apply_folder", kill_on_call(2, commit._apply_folder))

    with pytest.raises(Killed):
        to_parquet(version(2), path, partition_cols=["region"], existing="replace_partitions")

    assert (path / commit.JOURNAL).is_file()
    assert duck(path) not in (rows(version(1)), rows(version(2)))  # what a raw reader sees
    assert rows(read_parquet(path)) == rows(version(2))
    assert not (path / commit.JOURNAL).exists()
    assert duck(path) == rows(version(2))


def test_killed_after_the_journal_is_rolled_forward_by_the_next_write(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "data"
    to_parquet(version(1), path, partition_cols=["region"])
    journal_only(monkeypatch)
    monkeypatch.setattr(commit, "_apply_folder", kill_on_call(1, commit._apply_folder))
    with pytest.raises(Killed):
        to_parquet(version(2), path, partition_cols=["region"], existing="overwrite")
    monkeypatch.undo()

    to_parquet(version(3), path, partition_cols=["region"], existing="append")

    assert rows(read_parquet(path)) == rows(pd.concat([version(2), version(3)]))
    assert staged_files(path) == [] and not (path / commit.JOURNAL).exists()


def test_a_killed_single_file_write_keeps_the_old_file(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "data.parquet"
    to_parquet(version(1), path)
    real = os.replace

    def replace(src: Any, dst: Any) -> None:
        if pathlib.Path(dst) == path:
            raise Killed
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(Killed):
        to_parquet(version(2), path, existing="overwrite")
    monkeypatch.undo()

    assert rows(read_parquet(path)) == rows(version(1))
    assert len(staged_files(tmp_path)) == 1
    to_parquet(version(3), path, existing="overwrite")
    assert rows(read_parquet(path)) == rows(version(3))
    assert [p.name for p in tmp_path.iterdir()] == ["data.parquet"]


def test_concurrent_appends_take_turns_and_lose_nothing(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "data"
    to_parquet(version(0), path, partition_cols=["region"])
    errors: list[BaseException] = []

    def append(first: int) -> None:
        try:
            for v in range(first, first + 4):
                to_parquet(version(v), path, partition_cols=["region"], existing="append")
        except BaseException as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(1 + 4 * i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    expected = rows(pd.concat([version(v) for v in range(17)]))
    assert rows(read_parquet(path)) == expected
    assert duck(path) == expected


def test_readers_during_writes_see_one_whole_version(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "data"
    same_keys = [version(1).assign(v=v, key=range(6)) for v in range(40)]
    to_parquet(same_keys[0], path, partition_cols=["region"])
    errors: list[BaseException] = []

    def rewrite() -> None:
        try:
            for frame in same_keys[1:]:
                to_parquet(frame, path, partition_cols=["region"], existing="replace_partitions")
        except BaseException as exc:  # reported below
            errors.append(exc)

    writer = threading.Thread(target=rewrite)
    writer.start()
    seen = []
    while writer.is_alive():
        seen.append(rows(read_parquet(path)))
    writer.join()

    assert errors == []
    allowed = [rows(frame) for frame in same_keys]
    assert [s for s in seen if s not in allowed] == []
    assert seen and rows(read_parquet(path)) == allowed[-1]
