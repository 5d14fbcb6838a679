"""Cursor-paginated lists that change over time, as ESI's ``before``/``after`` routes do.

A `CursorFeed` holds one list (one operation and its parameters) ordered by when each record
last changed, oldest first (docs/esi.md §3.2). Every record carries a sequence number; a cursor
token names a sequence number, so ``after=<token>`` gives exactly the records added or changed
since that token was issued, whatever happened in between. A changed record moves to the newest
end with a new sequence number (a client walking ``after`` replaces its old copy).

Tokens also carry the time they were issued. A route's ``x-tombstone-ttl`` (seconds) is how long
ESI remembers changes for a token: an older token answers 400 and the client must scan afresh.
"""

from __future__ import annotations

import base64
import binascii
import threading
from bisect import bisect_right
from collections.abc import Callable, Iterable
from typing import Any

from esiframe.sandbox.binding import BadRequest

__all__ = ["CursorFeed"]


class CursorFeed:
    """One cursor list; thread-safe. ``records`` are given oldest first."""

    def __init__(self, operation_id: str, records: Iterable[dict[str, Any]]) -> None:
        self.operation_id = operation_id
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = list(records)
        self._seqs: list[int] = list(range(1, len(self._records) + 1))
        self.added = 0  # records added since the list was made

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def records(self) -> list[dict[str, Any]]:
        """Every record, oldest change first."""
        with self._lock:
            return list(self._records)

    def change(
        self, modify: Callable[[dict[str, Any]], dict[str, Any]], count: int
    ) -> list[dict[str, Any]]:
        """Change the ``count`` least recently changed records with ``modify``; returns them.

        Each changed record moves to the newest end with a new sequence number.
        """
        with self._lock:
            changed = [modify(dict(record)) for record in self._records[:count]]
            del self._records[:count], self._seqs[:count]
            self._append_locked(changed)
        return changed

    def add(self, records: Iterable[dict[str, Any]]) -> None:
        """Append new records at the newest end."""
        with self._lock:
            new = list(records)
            self._append_locked(new)
            self.added += len(new)

    def _append_locked(self, records: list[dict[str, Any]]) -> None:
        last = self._seqs[-1] if self._seqs else 0
        self._records.extend(records)
        self._seqs.extend(range(last + 1, last + 1 + len(records)))

    def page(
        self,
        limit: int,
        before: str | None,
        after: str | None,
        now: float,
        ttl: float | None,
    ) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """One request's records and its ``cursor`` object.

        No cursor (or ``before='0'``) gives the newest ``limit`` records. Walking ``before``
        repeats the boundary record of the previous page once (ESI says duplicates are normal)
        and ends with an empty list; ``after`` moves forward without overlap, and ``after='0'``
        starts from the oldest record.
        """
        with self._lock:
            records, seqs = list(self._records), list(self._seqs)
        if after is not None:
            start = 0 if after == "0" else self._position(seqs, after, "query.after", now, ttl)
            end = min(start + limit, len(records))
        elif before is None or before == "0":
            end = len(records)
            start = max(0, end - limit)
        else:
            position = self._position(seqs, before, "query.before", now, ttl)
            if position == 0:
                return [], {"before": self._token(seqs, 0, now), "after": self._token(seqs, 0, now)}
            end = min(position + 1, len(records))
            start = max(0, end - limit)
        cursor = {"before": self._token(seqs, start, now), "after": self._token(seqs, end, now)}
        return records[start:end], cursor

    def _token(self, seqs: list[int], position: int, now: float) -> str:
        """The token of the boundary after the first ``position`` records."""
        seq = seqs[position - 1] if position > 0 else 0
        raw = f"{self.operation_id}:{seq}:{int(now)}".encode()
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    def _position(
        self, seqs: list[int], token: str, where: str, now: float, ttl: float | None
    ) -> int:
        """How many records lie at or before the token's boundary; 400 for a foreign token."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            owner, seq, issued = raw.rsplit(":", 2)
            if owner != self.operation_id or not seq.isdigit() or not issued.isdigit():
                raise ValueError(raw)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise _refused(where, token, "not a cursor this route issued") from None
        if ttl is not None and now - int(issued) > ttl:
            message = f"cursor expired: older than the route's x-tombstone-ttl of {ttl:g} s"
            raise _refused(where, token, message + "; start a new scan")
        return bisect_right(seqs, int(seq))


def _refused(where: str, token: str, message: str) -> BadRequest:
    return BadRequest([{"location": where, "message": message, "value": token}])
