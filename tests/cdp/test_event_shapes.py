"""Documented event shapes: a property the metrics read, sent with the wrong kind,
rejects its event by name; the rest of the properties are the sender's own."""

from datetime import UTC, datetime
from typing import Any

import pytest

from cdp.events import EventRejected, EventRules, parse_event
from cdp.records import RejectionCode
from tests.stories import event

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
RULES = EventRules(default_phone_region="GB", max_properties_bytes=65536)


def sent(type_: str, **properties: Any) -> dict[str, Any]:
    return event(
        type_,
        "WEB",
        [("email", "ana@example.com")],
        at="2026-03-10T11:00:00Z",
        properties=properties,
    )


ITEM = {"sku": "whole milk 1L", "name": "Whole milk", "category": "dairy", "price": 1.2}
WRONG = [
    (sent("purchase", total="not-a-number"), "properties.total", "must be a number"),
    (sent("purchase", total=True), "properties.total", "must be a number"),
    (sent("purchase", total=12.5, currency=978), "properties.currency", "must be text"),
    (sent("purchase", total=5, items="MAT-1"), "properties.items", "must be a list"),
    (sent("purchase", total=5, items=["MAT-1"]), "properties.items[0]", "must be an object"),
    (
        sent("purchase", total=5, items=[ITEM, {**ITEM, "price": "1,20"}]),
        "properties.items[1].price",
        "must be a number",
    ),
    (
        sent("purchase", total=5, items=[{**ITEM, "sku": "$where"}]),
        "properties.items[0].sku",
        "not starting with '$'",
    ),
    (sent("refund", orderId=["A-1"], total=5), "properties.orderId", "text or a number"),
    (sent("product_view", sku="TENT\n2P"), "properties.sku", "is not a sku"),
    (sent("add_to_cart", sku="MAT-1", category={"name": "mats"}), "properties.category", "text"),
    (sent("email_open", campaign=2026), "properties.campaign", "must be text"),
    (sent("page_view", url="/", device=1), "properties.device", "must be text"),
]
RIGHT = [
    sent("purchase", orderId=1001, total=54.9, currency="EUR", items=[ITEM, {"sku": "MAT-1"}]),
    sent("purchase", total=None, discountCode=None),  # null means not known
    sent("refund", orderId="A-1", total=12),
    sent("product_view", sku="whole milk 1L", category="dairy"),
    sent("survey_answer", question="How likely are you to recommend us?", answer=9),
    sent("custom_thing", total="anything", sku=["not", "documented"]),  # not a documented type
]


@pytest.mark.parametrize(("raw", "field", "fragment"), WRONG)
def test_a_documented_property_of_the_wrong_kind_rejects_the_event_by_name(
    raw: dict[str, Any], field: str, fragment: str
) -> None:
    with pytest.raises(EventRejected) as rejected:
        parse_event(raw, RULES, NOW)
    assert rejected.value.code is RejectionCode.INVALID_EVENT
    assert rejected.value.field == field
    assert fragment in rejected.value.message


@pytest.mark.parametrize("raw", RIGHT)
def test_documented_shapes_and_undocumented_properties_are_accepted(raw: dict[str, Any]) -> None:
    assert parse_event(raw, RULES, NOW).properties == raw["properties"]


@pytest.mark.parametrize(
    ("traits", "field"),
    [
        ({"profile": {"$gt": ""}}, "traits.profile.$gt"),
        ({"profile": {"a.b": 1}}, "traits.profile.a.b"),
        ({"addresses": [{"city": "Leeds"}, {"$where": "1"}]}, "traits.addresses[1].$where"),
    ],
)
def test_keys_mongodb_could_misread_are_refused_inside_trait_values(
    traits: dict[str, Any], field: str
) -> None:
    raw = event("identify", "WEB", [("email", "ana@example.com")], at="2026-03-10", traits=traits)
    with pytest.raises(EventRejected) as rejected:
        parse_event(raw, RULES, NOW)
    assert rejected.value.code is RejectionCode.INVALID_EVENT
    assert rejected.value.field == field
