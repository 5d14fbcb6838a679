"""Swap two directories in one atomic step, where the operating system can.

Linux's ``renameat2(..., RENAME_EXCHANGE)`` (kernel 3.15+, glibc 2.28+; ext4, xfs, btrfs,
tmpfs and overlayfs support it) exchanges two paths atomically: every other process sees
either the old directory or the new one under the name, never neither and never a mix. That
is what lets a whole dataset change at once for readers that know nothing of esiframe
(DuckDB, Dask), even when the writer is killed mid-change.

Python has no binding for it, so this module calls the C library through :mod:`ctypes`.
Elsewhere (macOS, Windows, old kernels, filesystems that refuse) :func:`exchange` returns
False and the caller falls back to its journal.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import pathlib
import sys
from collections.abc import Callable

__all__ = ["exchange"]

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
#: errno values meaning "not here": the call, the flag or the filesystem lacks the exchange.
_UNSUPPORTED = frozenset({errno.ENOSYS, errno.EINVAL, errno.EXDEV, errno.EPERM, errno.ENOTSUP})


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    """The C library's ``renameat2``, or None where it has none (non-Linux, old glibc).

    Looked up on first use among the symbols the process already has (libc among them), not
    with ``ctypes.util.find_library``, which runs ``ldconfig`` in a subprocess.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError):
        return None
    path, at = ctypes.c_char_p, ctypes.c_int
    function.argtypes = [at, path, at, path, ctypes.c_uint]
    function.restype = ctypes.c_int
    found: Callable[..., int] = function
    return found


def exchange(first: pathlib.Path, second: pathlib.Path) -> bool:
    """Atomically swap what ``first`` and ``second`` name; False where that is not possible.

    Both must exist on one filesystem. Errors other than "not supported here" are raised
    (as :class:`OSError`), since a fallback would meet them too.
    """
    function = _renameat2()
    if function is None:
        return False
    result = function(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in _UNSUPPORTED:
        return False
    raise OSError(code, os.strerror(code), str(first), None, str(second))
