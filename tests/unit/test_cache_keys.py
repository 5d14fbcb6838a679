"""Cache keys: one key per distinct ESI request, the same key for the same request spelled
another way, and never the same key for two characters' data."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import requests

from esiframe.httpcache import IGNORED, VARY, cache_key

URL = "https://esi.evetech.net/markets/10000002/orders"
HEADERS = {"Accept-Language": "en", "X-Compatibility-Date": "2026-08-04", "X-Tenant": "tq"}


def token(character_id: int) -> str:
    claims = json.dumps({"sub": f"CHARACTER:EVE:{character_id}"}).encode()
    return "Bearer h." + base64.urlsafe_b64encode(claims).decode().rstrip("=") + ".s"


def request(
    url: str = URL,
    params: Any = (("order_type", "all"), ("page", 2)),
    method: str = "GET",
    **headers: str,
) -> requests.PreparedRequest:
    sent = {**HEADERS, **{k.replace("_", "-"): v for k, v in headers.items()}}
    return requests.Request(method, url, params=list(params), headers=sent).prepare()


def test_the_same_request_spelled_another_way_has_the_same_key():
    key = cache_key(request())
    assert cache_key(request(params=[("page", 2), ("order_type", "all")])) == key
    assert cache_key(request(url=URL.replace("esi.evetech.net", "ESI.EveTech.net"))) == key
    assert cache_key(request(), verify=True) == key  # requests-cache passes the session's


@pytest.mark.parametrize(
    "other",
    [
        request(params=[("order_type", "all"), ("page", 3)]),
        request(params=[("order_type", "buy"), ("page", 2)]),
        request(url=URL.replace("10000002", "10000043")),
        request(url=URL.replace("https://", "http://")),
        request(method="HEAD"),
        request(Accept_Language="de"),
        request(X_Compatibility_Date="2025-12-16"),
        request(X_Tenant="singularity"),
        request(Authorization=token(2112000001)),
    ],
    ids=["page", "parameter", "path", "scheme", "method", "language", "date", "tenant", "owner"],
)
def test_requests_esi_answers_differently_never_share_a_key(other: requests.PreparedRequest):
    assert cache_key(other) != cache_key(request())


def test_keys_of_two_characters_differ_and_their_own_tokens_share_one():
    alice = cache_key(request(Authorization=token(2112000001)))
    bob = cache_key(request(Authorization=token(2112000002)))
    assert alice != bob
    assert alice.endswith("-character:2112000001")
    # a refreshed token of the same character reads the same entries
    assert cache_key(request(Authorization=token(2112000001) + "x")) == alice


def test_unverified_tls_is_kept_apart_and_the_body_counts():
    assert cache_key(request(), verify=False) != cache_key(request())
    post = requests.Request("POST", URL, json=[34, 35], headers=HEADERS).prepare()
    other = requests.Request("POST", URL, json=[34, 36], headers=HEADERS).prepare()
    assert cache_key(post) != cache_key(other)


def test_the_vary_check_compares_only_the_named_headers_without_the_owner():
    """requests-cache's Vary check: the stored request (no Authorization) and the new one."""
    names = [name.lower() for name in VARY]
    stored = cache_key(request(), match_headers=names)
    assert cache_key(request(Authorization=token(2112000001)), match_headers=names) == stored
    assert "-" not in stored
    assert cache_key(request(Accept_Language="de"), match_headers=names) != stored
    assert cache_key(request(Accept_Language="de"), match_headers=["x-tenant"]) == cache_key(
        request(), match_headers=["x-tenant"]
    )


def test_parameters_requests_cache_ignores_stay_out_of_the_key():
    """requests-cache passes its ``ignored_parameters`` (tokens) to every key."""
    ignored = ["Authorization", "access_token"]
    with_token = request(params=[("order_type", "all"), ("page", 2), ("access_token", "abc")])
    assert cache_key(with_token, ignored_parameters=ignored) == cache_key(
        request(), ignored_parameters=ignored
    )
    owned = cache_key(request(Authorization=token(2112000001)), ignored_parameters=ignored)
    assert owned.endswith("-character:2112000001")


def test_every_credential_requests_cache_would_leave_out_is_left_out():
    """esiframe passes its own list (to make keys before requests-cache loads): it must keep
    out at least what requests-cache itself would, tokens above all."""
    from requests_cache.policy.settings import DEFAULT_IGNORED_PARAMS

    assert set(DEFAULT_IGNORED_PARAMS) <= set(IGNORED)
    assert "Authorization" in IGNORED
