"""What real ESI users do, end to end against the sandbox: numpy values, the route planner,
and a compatibility date newer than the list esiframe was built with (issue 11)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import esiframe as ef
from esiframe.sandbox.messages import SandboxResponse
from esiframe.spec import compatibility_dates

JITA, AMARR = 30000142, 30002187


def test_numpy_and_pandas_values_are_parameters_like_any_other(esi_sandbox, make_client):
    client = make_client(esi_sandbox, cache=False)
    plain = client.get("GetMarketsRegionIdHistory", region_id=10000002, type_id=34)
    types = pd.Series([34, 35], dtype="int64")
    for region in (np.int64(10000002), np.int32(10000002)):
        same = client.get("GetMarketsRegionIdHistory", region_id=region, type_id=types.iloc[0])
        pd.testing.assert_frame_equal(same, plain)
    fanned = client.get("GetMarketsRegionIdHistory", region_id=10000002, type_id=types)
    assert set(fanned["type_id"]) == {34, 35}
    for missing in (None, np.nan, pd.NA):
        with pytest.raises(ef.ParameterError, match="type_id"):
            client.get("GetMarketsRegionIdHistory", region_id=10000002, type_id=missing)
        with pytest.raises(ef.ParameterError, match="type_id"):
            client.get("GetMarketsRegionIdHistory", region_id=10000002, type_id=[34, missing])


def test_the_route_planner_is_a_read_and_takes_its_body(esi_sandbox, make_client):
    client = make_client(esi_sandbox, cache=False)
    route = client.get("PostRoute", origin_system_id=JITA, destination_system_id=AMARR)
    systems = list(route.loc[0, "route"])
    assert systems[0] == JITA and systems[-1] == AMARR
    hop = systems[1]
    avoided = client.get(
        "PostRoute",
        origin_system_id=JITA,
        destination_system_id=AMARR,
        body={"avoid_systems": [hop], "preference": "Shorter"},
    )
    other = list(avoided.loc[0, "route"])
    assert other[0] == JITA and other[-1] == AMARR and hop not in other
    assert avoided.attrs["esi"]["compatibility_date_used"] == "2025-09-30"  # the route's own
    logged = [e for e in esi_sandbox.log if e.operation_id == "PostRoute"]
    assert [e.method for e in logged] == ["POST", "POST"]


def test_a_date_newer_than_the_bundled_list_is_learned_from_esi(esi_sandbox_factory, make_client):
    sandbox = esi_sandbox_factory()
    asked: list[str] = []

    def dates(request):
        asked.append(request.path)
        body = {"compatibility_dates": ["2026-11-24", *compatibility_dates()]}
        return SandboxResponse(200, {"Content-Type": "application/json"}, json.dumps(body).encode())

    sandbox.add_route("GET", "/meta/compatibility-dates", dates)
    client = make_client(sandbox, cache=False, compatibility_date="2026-11-25")
    assert client.spec.date == "2026-11-24"  # the newest published date not after it
    assert asked == ["/meta/compatibility-dates"]
    df = client.get("GetStatus")
    meta = df.attrs["esi"]
    assert meta["compatibility_date_asked"] == "2026-11-25"
    assert meta["compatibility_date"] == "2026-11-24"
    assert {e.headers.get("X-Compatibility-Date") for e in sandbox.log if e.path == "/status"} == {
        "2026-11-24"
    }
