"""ESI's header conventions as the sandbox applies them: languages, dates, ETags, windows.

Pure functions of their arguments (the caller passes the time), tested without sockets.
"""

from __future__ import annotations

import email.utils
import hashlib
import re
from datetime import UTC, datetime, timedelta

__all__ = [
    "etag_matches",
    "etag_of",
    "http_date",
    "negotiate_language",
    "next_daily",
    "parse_http_date",
    "window_label",
]

_QUALITY = re.compile(r"q=([0-9.]+)")


def negotiate_language(header: str | None, supported: tuple[str, ...]) -> str:
    """The first supported language of an Accept-Language header by preference; default en."""
    if not header:
        return "en"
    choices = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        match = _QUALITY.search(params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in supported and quality > 0:
            choices.append((-quality, position, primary))
    return min(choices)[2] if choices else "en"


def http_date(timestamp: float) -> str:
    return email.utils.formatdate(timestamp, usegmt=True)


def parse_http_date(value: str) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def next_daily(now: float, hour: int, minute: int) -> float:
    """The next HH:MM UTC after ``now`` (routes that "expire daily at HH:MM")."""
    current = datetime.fromtimestamp(now, UTC)
    target = current.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target <= current:
        target += timedelta(days=1)
    return target.timestamp()


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def etag_matches(header: str, etag: str) -> bool:
    """Whether an If-None-Match header names ``etag`` (weak or strong, or ``*``)."""
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


def window_label(max_tokens: int, window: float, spec_text: str, shrunk: bool) -> str:
    """The X-Ratelimit-Limit value: ``150/15m`` as the spec says, or seconds when shrunk."""
    if not shrunk:
        return f"{max_tokens}/{spec_text}"
    seconds = f"{int(window)}" if float(window).is_integer() else f"{window:g}"
    return f"{max_tokens}/{seconds}s"
