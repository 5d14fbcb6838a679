"""The plan of one ``get``: its checked per-call options and the requests it will send.

Pure: nothing here sends a request. Planning happens before the first byte
goes out, so every mistake in the input (a bad option, too many requests)
is raised here as :class:`~esiframe.errors.ParameterError`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import get_args

from .errors import EsiError, ParameterError
from .frames import DtypeBackend
from .http import WaitPolicy
from .operations import Call, Operation
from .paging import Walk
from .settings import LANGUAGES, ErrorPolicy, Settings, check_choice

__all__ = ["Job", "Options", "http_date_header", "plan_options"]


@dataclass(frozen=True)
class Options:
    """The per-call options of one ``get``, checked and with the settings' defaults filled in."""

    pages: int | None
    languages: tuple[str, ...]
    on_limit: WaitPolicy
    errors: ErrorPolicy
    dtype_backend: DtypeBackend
    if_modified_since: str | None = None  # an HTTP date
    force_refresh: bool = False
    use_cache: bool = True
    progress: bool | None = None
    max_requests: int = 10_000


@dataclass
class Job:
    """One request of the plan in one language, and what became of it."""

    call: Call
    language: str
    result: Walk | None = None
    error: EsiError | None = None


def plan_options(
    settings: Settings,
    op: Operation,
    *,
    localized: Callable[[], Sequence[str]],
    pages: int | None = None,
    language: str | None = None,
    languages: Sequence[str] | None = None,
    on_limit: WaitPolicy | None = None,
    errors: ErrorPolicy | None = None,
    dtype_backend: DtypeBackend | None = None,
    if_modified_since: datetime | str | None = None,
    force_refresh: bool = False,
    use_cache: bool = True,
    progress: bool | None = None,
    max_requests: int | None = None,
) -> Options:
    """Check the per-call options against ``op`` and fill in the settings' defaults.

    ``localized()`` lists the operations that translate text, for the message
    when ``languages=`` is given to one that does not.
    """
    if pages is not None and (isinstance(pages, bool) or not isinstance(pages, int) or pages < 1):
        raise ParameterError(f"pages must be a positive integer or None (all), got {pages!r}")
    limit = settings.max_requests if max_requests is None else max_requests
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ParameterError(f"max_requests must be a positive integer, got {limit!r}")
    options = Options(
        pages=pages,
        languages=_languages(settings, op, language, languages, localized),
        on_limit=on_limit or settings.on_limit,
        errors=errors or settings.errors,
        dtype_backend=dtype_backend or settings.dtype_backend,
        if_modified_since=(
            http_date_header(if_modified_since) if if_modified_since is not None else None
        ),
        force_refresh=force_refresh,
        use_cache=use_cache,
        progress=progress if progress is not None else settings.progress,
        max_requests=limit,
    )
    check_choice("on_limit", options.on_limit, get_args(WaitPolicy))
    check_choice("errors", options.errors, get_args(ErrorPolicy))
    check_choice("dtype_backend", options.dtype_backend, get_args(DtypeBackend))
    return options


def _languages(
    settings: Settings,
    op: Operation,
    language: str | None,
    languages: Sequence[str] | None,
    localized: Callable[[], Sequence[str]],
) -> tuple[str, ...]:
    if language is not None and languages is not None:
        raise ParameterError("give language= or languages=, not both")
    if isinstance(languages, str):
        languages = [languages]
    langs = tuple(dict.fromkeys(languages or [language or settings.language]))
    for lang in langs:
        check_choice("language", lang, LANGUAGES)
    if len(langs) > 1 and not op.localized:
        raise ParameterError(
            f"{op.operation_id} returns no translated text, so languages= does not apply; "
            "localized operations are: " + ", ".join(localized())
        )
    return langs


def http_date_header(value: datetime | str) -> str:
    """An HTTP date from a tz-aware datetime/Timestamp, an ISO 8601 or an HTTP date string."""
    when: datetime | None = value if isinstance(value, datetime) else None
    if isinstance(value, str):
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            try:
                when = datetime.fromisoformat(value)
            except ValueError:
                when = None
    if when is None or when.tzinfo is None:
        raise ParameterError(
            f"if_modified_since must be a timezone-aware datetime, an ISO 8601 time with an "
            f"offset (as in df.attrs['esi']['last_modified']) or an HTTP date; got {value!r}"
        )
    return format_datetime(when.astimezone(UTC), usegmt=True)

