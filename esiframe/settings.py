"""Every setting of a client, and every ``ESIFRAME_*`` environment variable, in one place.

:class:`Settings` is frozen: a client's configuration cannot drift under it.
Values come from the defaults, then the environment (:meth:`Settings.from_env`),
then explicit keywords. One parser reads every variable: booleans share one
set of words, integers and paths one rule each, and a bad value raises
:class:`~esiframe.errors.ParameterError` naming the variable.
"""

from __future__ import annotations

import ipaddress
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from ._version import __version__
from .errors import EsiframeWarning, ParameterError
from .frames import DtypeBackend
from .http import CACHE_FILE, WaitPolicy
from .spec import DateLike, check_compatibility_date

__all__ = [
    "CACHE_FILE",
    "CALLBACK_URL",
    "ENV",
    "LANGUAGES",
    "PROJECT_URL",
    "TOKEN_FILE",
    "ErrorPolicy",
    "Settings",
    "config_dir",
    "env_bool",
    "progress_default",
    "warn_plain_http",
]

PROJECT_URL = "https://github.com/esiframe/esiframe"
#: The languages ESI translates into (Accept-Language values).
LANGUAGES = ("en", "de", "fr", "ja", "ru", "zh", "ko", "es")
#: The loopback address the login listens on unless told otherwise.
CALLBACK_URL = "http://127.0.0.1:8765/callback"
#: The token store, inside the config directory.
TOKEN_FILE = "tokens.json"
ErrorPolicy = Literal["raise", "skip"]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", "none"})


@dataclass(frozen=True)
class Settings:
    """Everything a :class:`~esiframe.client.Client` is configured with (see the README)."""

    base_url: str = "https://esi.evetech.net"
    sso_url: str = "https://login.eveonline.com"
    #: None: the bundled spec's date, or a ``spec=`` file's own ``info.version``.
    compatibility_date: DateLike | None = None
    cache: str | os.PathLike[str] | Literal[False] | None = None
    language: str = "en"
    tenant: str = "tranquility"
    app_name: str | None = None
    app_version: str | None = None
    contact: str | None = None
    url: str | None = None
    max_workers: int = 16
    max_requests: int = 10_000
    timeout: float = 30.0
    retries: int = 4
    on_limit: WaitPolicy = "sleep"
    errors: ErrorPolicy = "raise"
    progress: bool | None = None
    dtype_backend: DtypeBackend = "numpy_nullable"
    spec: str | None = None
    client_id: str | None = None
    callback_url: str = CALLBACK_URL
    loopback: bool = True
    config_dir: str | os.PathLike[str] | None = None

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Defaults, then ``ESIFRAME_*`` environment variables, then ``overrides``."""
        _check_names(overrides)
        env = {
            name: parse(var, os.environ[var])
            for name, (var, parse) in ENV.items()
            if var in os.environ
        }
        settings = cls(**{**env, **overrides})
        settings.check()
        return settings

    def updated(self, **overrides: Any) -> Settings:
        """A copy with ``overrides`` applied and checked."""
        _check_names(overrides)
        settings = replace(self, **overrides)
        settings.check()
        return settings

    def check(self) -> None:
        """Raise ParameterError for a value outside what the setting allows."""
        if self.compatibility_date is not None:
            check_compatibility_date(self.compatibility_date)
        check_choice("language", self.language, LANGUAGES)
        check_choice("on_limit", self.on_limit, get_args(WaitPolicy))
        check_choice("errors", self.errors, get_args(ErrorPolicy))
        check_choice("dtype_backend", self.dtype_backend, get_args(DtypeBackend))
        for name in ("max_workers", "max_requests"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ParameterError(f"{name} must be a positive integer, got {value!r}")
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, int | float):
            raise ParameterError(f"timeout must be a number of seconds, got {self.timeout!r}")
        if self.timeout <= 0:
            raise ParameterError(f"timeout must be positive, got {self.timeout!r}")

    @property
    def user_agent(self) -> str:
        """``App/1.2 (contact; +url) esiframe/0.1.0 (+project url)`` (docs/esi.md §7)."""
        ours = f"esiframe/{__version__} (+{PROJECT_URL})"
        details = "; ".join(x for x in (self.contact, f"+{self.url}" if self.url else None) if x)
        about = f" ({details})" if details else ""
        if not self.app_name:
            return ours + about
        app = f"{self.app_name}/{self.app_version}" if self.app_version else self.app_name
        return f"{app}{about} {ours}"

    @property
    def cache_dir(self) -> Path | None:
        """The HTTP cache directory, or None when caching is off."""
        if self.cache is False:
            return None
        if self.cache is None:
            import platformdirs

            return Path(platformdirs.user_cache_dir("esiframe"))
        return Path(self.cache)

    @property
    def token_path(self) -> Path:
        """Where the token store lives: ``<config_dir>/tokens.json``."""
        return config_dir(self.config_dir) / TOKEN_FILE


def warn_plain_http(url: str, what: str, carries: str) -> None:
    """Warn when ``url`` is plain ``http://`` on another host: ``carries`` would cross in clear.

    Plain http is for a sandbox on this machine (loopback); ESI and its SSO speak https.
    """
    parts = urlsplit(url)
    if parts.scheme != "http" or _is_loopback(parts.hostname or ""):
        return
    warnings.warn(
        f"{what} {url} is plain http on another host: {carries} would cross the network "
        "unencrypted; use https (plain http is only for a sandbox on this machine)",
        EsiframeWarning,
        stacklevel=3,
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def config_dir(setting: str | os.PathLike[str] | None = None) -> Path:
    """The config directory: ``setting``, else ``ESIFRAME_CONFIG_DIR``, else the user's."""
    if setting is not None:
        return Path(setting)
    configured = os.environ.get("ESIFRAME_CONFIG_DIR")
    if configured:
        return _path("ESIFRAME_CONFIG_DIR", configured)
    import platformdirs

    return Path(platformdirs.user_config_dir("esiframe"))


def env_bool(var: str, default: bool) -> bool:
    """A boolean environment variable (unset: ``default``), parsed like every other."""
    raw = os.environ.get(var)
    return default if raw is None else _bool(var, raw)


def progress_default() -> bool:
    """Whether progress bars show when no setting says: ``ESIFRAME_PROGRESS``, default on."""
    return env_bool("ESIFRAME_PROGRESS", True)


def _bool(var: str, raw: str) -> bool:
    word = raw.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ParameterError(
        f"{var}={raw!r} is not a yes/no value; use one of "
        f"{', '.join(sorted(_TRUE))} or {', '.join(sorted(_FALSE))}"
    )


def _int(var: str, raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ParameterError(f"{var} must be a whole number, got {raw!r}") from None


def _path(var: str, raw: str) -> Path:
    if not raw.strip():
        raise ParameterError(f"{var} is set but empty; give a directory or unset it")
    return Path(raw.strip()).expanduser()


def _cache(var: str, raw: str) -> Path | Literal[False]:
    """A directory, or a false word for no cache at all."""
    return False if raw.strip().lower() in _FALSE else _path(var, raw)


def _text(var: str, raw: str) -> str:
    return raw


_Parser = Callable[[str, str], Any]
#: setting name -> (environment variable, parser)
ENV: Mapping[str, tuple[str, _Parser]] = {
    "base_url": ("ESIFRAME_BASE_URL", _text),
    "sso_url": ("ESIFRAME_SSO_URL", _text),
    "compatibility_date": ("ESIFRAME_COMPATIBILITY_DATE", _text),
    "cache": ("ESIFRAME_CACHE_DIR", _cache),
    "language": ("ESIFRAME_LANGUAGE", _text),
    "tenant": ("ESIFRAME_TENANT", _text),
    "app_name": ("ESIFRAME_APP_NAME", _text),
    "app_version": ("ESIFRAME_APP_VERSION", _text),
    "contact": ("ESIFRAME_CONTACT", _text),
    "max_workers": ("ESIFRAME_MAX_WORKERS", _int),
    "max_requests": ("ESIFRAME_MAX_REQUESTS", _int),
    "progress": ("ESIFRAME_PROGRESS", _bool),
    "spec": ("ESIFRAME_SPEC", _text),
    "client_id": ("ESIFRAME_CLIENT_ID", _text),
    "callback_url": ("ESIFRAME_CALLBACK_URL", _text),
    "loopback": ("ESIFRAME_LOOPBACK", _bool),
    "config_dir": ("ESIFRAME_CONFIG_DIR", _path),
}


def _check_names(overrides: Mapping[str, Any]) -> None:
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ParameterError(
            f"unknown setting(s) {', '.join(unknown)}; settings are: {', '.join(sorted(known))}"
        )


def check_choice(name: str, value: Any, allowed: Sequence[Any]) -> None:
    """Raise ParameterError unless ``value`` is one of ``allowed``, listing them."""
    if value not in allowed:
        raise ParameterError(
            f"{name}={value!r} is not allowed; choose one of {', '.join(map(repr, allowed))}"
        )
