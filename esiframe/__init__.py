"""esiframe: EVE Online's ESI web API as pandas DataFrames."""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import EsiError

__all__ = ["EsiError", "__version__"]
