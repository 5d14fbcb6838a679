"""The operations browser is built from a spec and a call function: no client, no sockets."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from esiframe.catalog import Ops
from esiframe.spec import bundled_spec


def test_ops_call_the_function_they_were_given():
    calls: list[tuple[str, dict[str, Any]]] = []

    def call(operation_id: str, **params: Any) -> pd.DataFrame:
        calls.append((operation_id, params))
        return pd.DataFrame({"x": [1]})

    ops = Ops(bundled_spec(), call)
    assert "market" in dir(ops)
    history = ops.market.GetMarketsRegionIdHistory
    assert str(history.__signature__) == "(*, region_id: int, type_id: int)"
    assert history(region_id=10000002, type_id=34)["x"].tolist() == [1]
    assert calls == [("GetMarketsRegionIdHistory", {"region_id": 10000002, "type_id": 34})]
    with pytest.raises(AttributeError, match="no tag 'nope'"):
        _ = ops.nope
