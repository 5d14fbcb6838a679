"""Atomic changes to a Parquet file or dataset: a SIGKILL at any moment leaves old or new data.

Readers (pyarrow, pandas, Dask, DuckDB's ``**/*.parquet``) ignore names that start with ``.``
or ``_`` and, for DuckDB's glob, names that do not end in ``.parquet``. So every new file is
first written under a hidden *staged* name (``.part-x.parquet.<run>.tmp``) beside its final
place and flushed to disk. A change to a dataset is then committed by one atomic rename: the
*journal* (``_esiframe_journal.json``), listing the staged files to rename in and the old files
to delete, appears under its final name only once complete. After that the change is applied
(renames, then deletes, directory by directory) and the journal removed.

Whoever next takes the dataset's lock (a writer, or :func:`recover` from a reader) finishes a
journal it finds (roll forward: the change was committed) and deletes staged files no journal
names (roll back: the change was not). Locks are ``flock`` on the directory itself, so no lock
file is left beside the user's data; writers to one dataset take turns.

Where the system can swap two directories atomically (Linux: :mod:`.swap`), a change to a
dataset is committed without a journal: the new tree is built beside the dataset in a hidden
folder (``.name.<run>.swap``), unchanged files hard-linked from the old tree, and the two
directories are exchanged in one step. Then every reader, DuckDB and Dask included, sees the
whole old dataset or the whole new one, even after a kill. Elsewhere the journal does the job
and a window remains for readers that do not know it: between the first and the last rename
of a commit (or after a kill inside it, until the next esiframe read or write of the dataset)
such a reader can see one partition old and another new.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from .swap import exchange

__all__ = [
    "JOURNAL",
    "Change",
    "apply_journal",
    "commit_change",
    "commit_lock",
    "data_files",
    "locked",
    "recover",
    "staged_path",
    "write_staged",
]

JOURNAL = "_esiframe_journal.json"
COMMIT_LOCK = ".esiframe-commit.lock"
_STAGED_SUFFIX = ".tmp"
_SWAP_SUFFIX = ".swap"


@dataclass(frozen=True)
class Change:
    """One committed change to the dataset at ``root``: paths are relative, POSIX-style."""

    root: pathlib.Path
    renames: tuple[tuple[str, str], ...]
    deletes: tuple[str, ...]


def staged_path(final: pathlib.Path, run_id: str) -> pathlib.Path:
    """The hidden name a new file is written under before it is renamed to ``final``."""
    return final.with_name(f".{final.name}.{run_id}{_STAGED_SUFFIX}")


def final_path(staged: pathlib.Path) -> pathlib.Path:
    """The inverse of :func:`staged_path`."""
    name = staged.name[1:].removesuffix(_STAGED_SUFFIX).rsplit(".", 1)[0]
    return staged.with_name(name)


def is_hidden(name: str) -> bool:
    """Whether readers skip this file or directory name (pyarrow's default ignore prefixes)."""
    return name.startswith((".", "_"))


def data_files(root: pathlib.Path) -> list[pathlib.Path]:
    """Every file a reader sees in the dataset at ``root``: hidden names and folders skipped."""
    found: list[pathlib.Path] = []
    if not root.is_dir():
        return found
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not is_hidden(d))
        found.extend(pathlib.Path(folder, f) for f in sorted(files) if not is_hidden(f))
    return found


def fsync_path(path: pathlib.Path) -> None:
    """Flush a file's or a directory's content to disk (directories: their entries)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot fsync a directory; the rename is still atomic
    finally:
        os.close(fd)


def write_staged(write: Callable[[pathlib.Path], None], final: pathlib.Path, run_id: str) -> str:
    """Write a file under its staged name with ``write(path)`` and flush it; return that name."""
    staged = staged_path(final, run_id)
    staged.parent.mkdir(parents=True, exist_ok=True)
    write(staged)
    fsync_path(staged)
    return staged.name


@contextlib.contextmanager
def locked(folder: pathlib.Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``folder`` (created if missing) for the block.

    Locking the directory, not a file in it, leaves nothing behind. Where ``flock`` is missing
    (Windows) writers are not serialized across processes; each change is still atomic.
    """
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    while True:
        fd = os.open(folder, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        if _same_file(os.fstat(fd), folder):
            break
        os.close(fd)  # a commit swapped the folder while we waited: lock the new one
    key = os.path.abspath(folder)
    _HELD[key] = []
    try:
        yield
    finally:
        for swapped_in in _HELD.pop(key, []):
            os.close(swapped_in)
        os.close(fd)  # closing the descriptor releases the lock


#: Per folder locked by :func:`locked` here: descriptors (locked) of trees a commit swapped in
#: while the lock was held, so that the swap does not hand the folder to another writer early.
_HELD: dict[str, list[int]] = {}


def _lock_new_tree(root: pathlib.Path, new: pathlib.Path) -> int | None:
    """Lock the not yet visible tree ``new`` for the holder of ``locked(root)``, if any."""
    if os.path.abspath(root) not in _HELD:
        return None
    import fcntl

    fd = os.open(new, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # nobody else knows ``new`` yet: never waits
    return fd


def _same_file(held: os.stat_result, path: pathlib.Path) -> bool:
    """Whether ``path`` still names the directory whose descriptor gave ``held``."""
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return False
    return (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino)


@contextlib.contextmanager
def commit_lock(root: pathlib.Path, *, shared: bool) -> Iterator[None]:
    """Readers (shared) never overlap a commit (exclusive): they see the dataset old or new.

    Held only while a journal is written and applied, not while new files are staged, so a
    long write does not block readers. A dataset without the lock file (not written by
    esiframe, or read-only) is read without it.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    path = root / COMMIT_LOCK
    try:
        fd = os.open(path, os.O_RDONLY) if shared else os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        if not shared:
            raise
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def commit_change(change: Change) -> None:
    """Commit ``change`` at once: one rename, a directory swap, or through the journal."""
    for staged, _ in change.renames:
        fsync_path((change.root / staged).parent)
    if len(change.renames) == 1 and not change.deletes:  # one rename is atomic by itself
        with commit_lock(change.root, shared=False):
            os.replace(change.root / change.renames[0][0], change.root / change.renames[0][1])
        fsync_path((change.root / change.renames[0][1]).parent)
        return
    if _commit_by_swap(change):
        return
    with commit_lock(change.root, shared=False):
        _write_journal(change)
        apply_journal(change.root)


def _commit_by_swap(change: Change) -> bool:
    """Build the changed tree beside the dataset and swap it in whole; False if impossible.

    Readers holding the commit lock finish first; the lock file is hard-linked into the new
    tree, so its lock is the same one on both sides of the swap.
    """
    root = change.root
    if root.is_symlink() or not root.is_dir():
        return False
    new = root.with_name(f".{root.name}.{uuid.uuid4().hex}{_SWAP_SUFFIX}")
    held = None
    try:
        (root / COMMIT_LOCK).touch(exist_ok=True)
        _build_tree(change, new)
        held = _lock_new_tree(root, new)
        with commit_lock(root, shared=False):
            swapped = exchange(new, root)
    except OSError:
        swapped = False
    if swapped:
        fsync_path(root.parent)
        if held is not None:
            _HELD[os.path.abspath(root)].append(held)  # released when ``locked`` ends
    elif held is not None:
        os.close(held)
    shutil.rmtree(new, ignore_errors=True)  # after the swap: the old tree
    return swapped


def _build_tree(change: Change, new: pathlib.Path) -> None:
    """Hard-link the dataset's files into ``new``, minus the deletes, plus the renames; flush."""
    root = change.root
    leave = set(change.deletes) | {staged for staged, _ in change.renames} | {JOURNAL}
    links: list[tuple[pathlib.Path, str]] = []
    for walked, dirs, files in os.walk(root):
        here = pathlib.Path(walked)
        for name in [*files, *(d for d in dirs if (here / d).is_symlink())]:
            rel = (here / name).relative_to(root).as_posix()
            staged = name.startswith(".") and name.endswith(_STAGED_SUFFIX)
            if rel not in leave and not staged:
                links.append((here / name, rel))
    links += [(root / staged, final) for staged, final in change.renames]  # last: they win
    new.mkdir()
    folders = {new}
    for source, rel in links:
        target = new / rel
        if target.parent not in folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            folders.update([target.parent, *target.parent.parents])
        target.unlink(missing_ok=True)  # a staged file replacing an old one of the same name
        os.link(source, target, follow_symlinks=False)
    for folder in folders:
        if folder == new or new in folder.parents:
            fsync_path(folder)


def _write_journal(change: Change) -> None:
    """Write the journal whole under a hidden name, then rename it in: the commit point."""
    body = json.dumps({"renames": change.renames, "deletes": change.deletes}).encode()
    partial = change.root / f".{JOURNAL}.{uuid.uuid4().hex}{_STAGED_SUFFIX}"
    with open(partial, "wb") as fh:
        fh.write(body)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(partial, change.root / JOURNAL)
    fsync_path(change.root)


def apply_journal(root: pathlib.Path) -> bool:
    """Finish the change a journal at ``root`` records (idempotent); False if there is none."""
    journal = root / JOURNAL
    try:
        record = json.loads(journal.read_bytes())
    except FileNotFoundError:
        return False
    except ValueError:  # cannot happen (renamed in whole), but never block the dataset on it
        journal.unlink(missing_ok=True)
        return False
    folders: dict[pathlib.Path, tuple[list[tuple[str, str]], list[str]]] = {}
    for staged, final in record.get("renames", []):
        folders.setdefault((root / final).parent, ([], []))[0].append((staged, final))
    for old in record.get("deletes", []):
        folders.setdefault((root / old).parent, ([], []))[1].append(old)
    for renames, deletes in folders.values():
        _apply_folder(root, renames, deletes)
    for folder in folders:  # flushed after all switches, to keep the switching window short
        fsync_path(folder)
    journal.unlink(missing_ok=True)
    fsync_path(root)
    return True


def _apply_folder(
    root: pathlib.Path, renames: Sequence[tuple[str, str]], deletes: list[str]
) -> None:
    """One partition's switch: new files in, then old files out (a short window for readers)."""
    for staged, final in renames:
        with contextlib.suppress(FileNotFoundError):  # already renamed by an earlier attempt
            os.replace(root / staged, root / final)
    for old in deletes:
        (root / old).unlink(missing_ok=True)


def recover(root: pathlib.Path) -> bool:
    """Roll a committed change forward, then delete staged leftovers and emptied partitions.

    Call with the lock held. Returns whether a journal was found.
    """
    found = False
    for swap in root.parent.glob(f".{root.name}.*{_SWAP_SUFFIX}"):
        shutil.rmtree(swap, ignore_errors=True)  # a killed swap: new tree unused or old tree
    if (root / JOURNAL).is_file():
        with commit_lock(root, shared=False):
            found = apply_journal(root)
    if not root.is_dir():
        return found
    for folder, _dirs, files in os.walk(root, topdown=False):
        here = pathlib.Path(folder)
        for name in files:
            if name.startswith(".") and name.endswith(_STAGED_SUFFIX):
                (here / name).unlink(missing_ok=True)
        if here != root and not is_hidden(here.name):
            with contextlib.suppress(OSError):
                here.rmdir()  # only succeeds when empty: a partition all of whose files went
    return found


def recover_file(target: pathlib.Path) -> None:
    """Delete staged copies of a single file left by killed writes (call with the lock held)."""
    for leftover in target.parent.glob(f".{target.name}.*{_STAGED_SUFFIX}"):
        leftover.unlink(missing_ok=True)
