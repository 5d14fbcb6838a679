"""Several connections opening one new file at the same instant, as processes started
together do (a scheduler, a notebook and a script on one cache directory)."""

from __future__ import annotations

import threading
from collections.abc import Callable


def failures_at_once(open_it: Callable[[], object], connections: int = 6) -> list[str]:
    """Run ``open_it`` in ``connections`` threads released together; the errors they met."""
    start, failures = threading.Barrier(connections), []

    def one() -> None:
        start.wait()
        try:
            open_it()
        except Exception as exc:  # any failure to open is what is counted
            failures.append(repr(exc))

    threads = [threading.Thread(target=one) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failures
