"""Whole results kept in memory until the earliest ``Expires`` of their pages.

Before that moment ESI's data cannot change for esiframe (it never asks
before ``Expires``), so re-running a call — a notebook cell, say — returns a
copy of the finished frame without reading, parsing and typing every cached
page again. Bounded by a memory budget; the least recently used results go
first. Only results that the disk store (``results.py``) cannot hold are kept
here: one copy of a finished frame is enough.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

__all__ = ["ResultCache", "independent_copy"]


@dataclass
class _Entry:
    frame: pd.DataFrame
    expires: float
    size: int


def independent_copy(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy sharing nothing mutable with ``frame``: values, attrs and Python objects in
    object columns (list and dict cells), which ``DataFrame.copy(deep=True)`` shares."""
    result = frame.copy(deep=True)
    for i, dtype in enumerate(result.dtypes):
        if pd.api.types.is_object_dtype(dtype):
            cells = pd.Series([copy.deepcopy(v) for v in result.iloc[:, i]], dtype=object)
            result.isetitem(i, cells.array)
    result.attrs = copy.deepcopy(frame.attrs)
    return result


class ResultCache:
    """A thread-safe LRU of frames, each valid until its ``expires`` (epoch seconds)."""

    def __init__(self, budget: int = 256 << 20, clock: Callable[[], float] = time.time) -> None:
        self.budget = budget
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> pd.DataFrame | None:
        """A copy of the stored frame (attrs included), or None if absent or expired."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.expires <= self._clock():
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            frame = entry.frame
        return independent_copy(frame)

    def put(self, key: str, frame: pd.DataFrame, expires: float) -> None:
        """Keep a copy of ``frame`` until ``expires``, if it fits the budget."""
        size = int(frame.memory_usage(index=True, deep=True).sum())
        if size > self.budget or expires <= self._clock():
            return
        stored = independent_copy(frame)
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = _Entry(stored, expires, size)
            self._size += size
            while self._size > self.budget:
                self._drop(next(iter(self._entries)))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._size = 0

    def _drop(self, key: str) -> None:
        self._size -= self._entries.pop(key).size
