"""A 200 whose body is not the promised shape is an UnexpectedAnswerError, never rows."""

from __future__ import annotations

import pytest

from esiframe.errors import EsiError, UnexpectedAnswerError
from esiframe.shapes import check_answer, promised_shape
from esiframe.spec import bundled_spec

URL = "https://esi.evetech.net/markets/10000002/orders"


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("<html><body>Gateway login</body></html>", "an HTML page"),
        ("Service Unavailable", "text"),
        (None, "an empty body"),
        ("", "an empty body"),
        ({"error": "oops"}, "a JSON object"),
    ],
)
def test_a_list_route_refuses_what_is_not_a_list(body: object, said: str) -> None:
    expected = f"GetMarketsRegionIdOrders answered 200 with {said}"
    with pytest.raises(UnexpectedAnswerError, match=expected) as caught:
        check_answer("GetMarketsRegionIdOrders", "array", body, URL)
    assert isinstance(caught.value, EsiError)
    assert caught.value.url == URL


def test_bodies_of_the_promised_shape_pass() -> None:
    check_answer("A", "array", [], URL)  # an empty list is a real answer
    check_answer("B", "object", {"players": 1}, URL)
    check_answer("C", "value", 1.5, URL)
    check_answer("D", None, "<html>", URL)  # the spec promises nothing to check against
    with pytest.raises(UnexpectedAnswerError, match="a JSON list"):
        check_answer("E", "object", [1, 2], URL)


def test_every_read_operation_of_the_spec_has_a_shape() -> None:
    spec = bundled_spec()
    shapes = {op.operation_id: promised_shape(op.response_schema) for op in spec if op.read_only}
    unknown = [op for op, shape in shapes.items() if shape is None]
    assert shapes["GetMarketsRegionIdOrders"] == "array"
    assert shapes["GetStatus"] == "object"
    assert len(unknown) < len(shapes) // 10, unknown
