"""Whether this machine swaps directories atomically (Linux's ``renameat2``), for the tests
that expect raw readers never to see a dataset half old, half new."""

from __future__ import annotations

import pathlib
import tempfile

from esiframe.swap import exchange


def swaps_here() -> bool:
    """Whether two fresh directories in a temporary folder can be exchanged here."""
    with tempfile.TemporaryDirectory() as folder:
        first, second = pathlib.Path(folder, "a"), pathlib.Path(folder, "b")
        first.mkdir()
        second.mkdir()
        return exchange(first, second)
