"""The sandbox's synthetic ESI data, under its historical import path.

The data lives in `dataset` (the `Dataset`), `generator` (values from schemas), `markets`
(orders, history, prices), `lookups` (the read-only POSTs) and `vocabulary` (ids, names,
words, `Sizes`); this module keeps ``from esiframe.sandbox.data import Sizes`` working.
"""

from __future__ import annotations

from esiframe.sandbox.dataset import Dataset
from esiframe.sandbox.vocabulary import INVALID_IDS, LANGUAGES, TYPE_IDS, Sizes

__all__ = ["INVALID_IDS", "LANGUAGES", "TYPE_IDS", "Dataset", "Sizes"]
