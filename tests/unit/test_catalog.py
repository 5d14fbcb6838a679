"""The operations browser is built from a spec and a call function: no client, no sockets."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from esiframe.catalog import Description, Ops
from esiframe.errors import ParameterError
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


def test_a_typo_under_a_tag_names_the_closest_operations():
    ops = Ops(bundled_spec(), lambda op, **kw: pd.DataFrame())
    with pytest.raises(AttributeError, match="closest: GetMarketsPrices"):
        _ = ops.market.GetMarketPrices
    assert not hasattr(ops.market, "GetMarketPrices")  # still an AttributeError for hasattr


def test_a_positional_call_is_explained_and_sends_nothing():
    calls: list[str] = []
    ops = Ops(bundled_spec(), lambda op, **kw: calls.append(op) or pd.DataFrame())
    with pytest.raises(ParameterError, match=r"keyword arguments only.*region_id=10000002"):
        ops.market.GetMarketsRegionIdHistory(10000002, 34)
    assert calls == []


def test_describe_prints_the_facts_outside_jupyter():
    op = bundled_spec().operation("GetMarketsRegionIdOrders")
    text = repr(Description(op))
    assert text == str(Description(op)) == op.describe_text()
    wanted = ("region_id", "order_type", "type_id")
    names = [line.split()[0] for line in text.splitlines() if line.startswith(wanted)]
    assert names == ["region_id", "order_type", "type_id"]  # signature order
    assert "no (default 'all')" in text  # required in the spec, but it has a default
    assert Description(op).signature == op.signature
    assert Description(op)._repr_markdown_() == op._repr_markdown_()
