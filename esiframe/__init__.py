"""esiframe: EVE Online's ESI web API as pandas DataFrames.

>>> import esiframe as ef
>>> df = ef.get("GetMarketsRegionIdHistory", region_id=10000002, type_id=34)

One call walks every page, stays inside ESI's limits, caches by ``Expires``
and returns a frame typed from the spec, with its metadata in
``df.attrs["esi"]``. ``esiframe.sandbox`` is an offline ESI for tests and
teaching.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import (
    AuthError,
    ClientError,
    CompatibilityDateError,
    EsiError,
    EsiframeWarning,
    EsiHTTPError,
    InconsistentPagesError,
    LoginRequired,
    OperationNotFound,
    ParameterError,
    PartialResultError,
    RateLimitedError,
    ServerError,
    TokenInvalid,
    TransportError,
    UnexpectedAnswerError,
)

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    import pandas as pd

    from .auth import Login
    from .catalog import Description
    from .client import Client, Settings, configure, get
    from .export import read_parquet, to_parquet
    from .frames import explode

__all__ = [
    "AuthError",
    "Client",
    "ClientError",
    "CompatibilityDateError",
    "EsiError",
    "EsiHTTPError",
    "EsiframeWarning",
    "InconsistentPagesError",
    "LoginRequired",
    "OperationNotFound",
    "ParameterError",
    "PartialResultError",
    "RateLimitedError",
    "ServerError",
    "Settings",
    "TokenInvalid",
    "TransportError",
    "UnexpectedAnswerError",
    "__version__",
    "characters",
    "configure",
    "describe",
    "explode",
    "get",
    "label",
    "login",
    "logout",
    "names",
    "ops",
    "read_parquet",
    "sync",
    "to_parquet",
]


def names(ids: Any, *, language: str | None = None) -> pd.DataFrame:
    """id, name and category of EVE ids, on the default client (PostUniverseNames).

    Invalid ids are listed in ``df.attrs["esi"]["invalid_ids"]``, never raised.
    """
    return _default().names(ids, language=language)


def label(df: pd.DataFrame, columns: Any = None, *, language: str | None = None) -> pd.DataFrame:
    """A copy of ``df`` with ``type_name`` after ``type_id`` and so on, on the default client."""
    return _default().label(df, columns, language=language)


def sync(
    operation: str,
    path: str | os.PathLike[str],
    key: str | Sequence[str] | None = None,
    partition_cols: Sequence[str] | None = None,
    **params: Any,
) -> pd.DataFrame:
    """Upsert an operation's data into a Parquet dataset; see :meth:`Client.sync`."""
    return _default().sync(operation, path, key, partition_cols, **params)


def describe(operation: str) -> Description:
    """An operation's parameters and facts: a table in Jupyter, text when printed elsewhere."""
    from .catalog import Description

    return Description(_default().operation(operation))


def login(client_id: str | None = None, scopes: Any = (), **kwargs: Any) -> Login:
    """Start an EVE SSO login on the default client; see :meth:`Client.login`."""
    return _default().login(client_id, scopes, **kwargs)


def logout(character: str | int) -> None:
    """Revoke and forget a character's tokens on the default client."""
    _default().logout(character)


def characters() -> pd.DataFrame:
    """The characters logged in on the default client."""
    return _default().characters()


#: Public names served on first use (PEP 562), so that ``import esiframe`` stays light: the
#: client pulls in the HTTP stack, the frame builders pyarrow's compute kernels, and Parquet
#: pyarrow.dataset. Each is imported by the first call that needs it.
_LAZY = {
    "Client": "client",
    "Settings": "client",
    "configure": "client",
    "default_client": "client",
    "get": "client",
    "Description": "catalog",
    "explode": "frames",
    "read_parquet": "export",
    "to_parquet": "export",
}


def _default() -> Client:
    """The default client (imports the client module on first use)."""
    from .client import default_client

    return default_client()


def __getattr__(name: str) -> Any:
    if name == "ops":
        return _default().ops
    if name in _LAZY:
        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module 'esiframe' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names (``ops`` included) for TAB completion, without import noise."""
    return sorted(__all__)
