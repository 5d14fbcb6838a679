"""A free 127.0.0.1 port for a server a test starts in another process.

A port probed with ``bind(0)`` comes from the kernel's ephemeral range, so between the probe
closing and the other process listening, any socket opened meanwhile (the sandbox itself, a
parallel test) may be handed the very same port. Ports below that range are only ever taken on
purpose, so a free one found there stays free until the process we start binds it.
"""

from __future__ import annotations

import random
import socket

_LOW, _HIGH = 20000, 32000  # below Linux's default ephemeral range (32768-60999)


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on and ``bind(0)`` will not hand out."""
    for port in random.sample(range(_LOW, _HIGH), 200):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {_LOW}-{_HIGH} on 127.0.0.1")
