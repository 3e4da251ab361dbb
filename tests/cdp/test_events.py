from datetime import UTC, datetime
from typing import Any

import pytest

from cdp.events import EventRejected, EventRules, parse_event
from cdp.records import Channel, RejectionCode
from tests.stories import event

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
RULES = EventRules(default_phone_region="GB", max_properties_bytes=1024)


def good(**changes: Any) -> dict[str, Any]:
    raw = event("page_view", "WEB", [("cookie_id", "ck-1")], at="2026-03-10T11:00:00+01:00")
    raw.update(changes)
    return raw


def test_a_valid_event_is_normalised_to_utc_milliseconds_and_given_an_id() -> None:
    parsed = parse_event(good(timestamp="2026-03-10T11:00:00.123456+01:00"), RULES, NOW)
    assert parsed.timestamp == datetime(2026, 3, 10, 10, 0, 0, 123000, tzinfo=UTC)
    assert parsed.channel is Channel.WEB
    assert len(parsed.message_id) == 32


def test_a_missing_timestamp_means_now_and_a_naive_one_means_utc() -> None:
    assert parse_event(good(timestamp=None), RULES, NOW).timestamp == NOW
    naive = parse_event(good(timestamp="2026-03-09T08:00:00"), RULES, NOW)
    assert naive.timestamp == datetime(2026, 3, 9, 8, 0, tzinfo=UTC)


def test_the_same_identifier_twice_in_one_event_counts_once() -> None:
    raw = good(
        identifiers=[{"type": "email", "value": "A@x.io"}, {"type": "email", "value": "a@x.io"}]
    )
    assert [i.key for i in parse_event(raw, RULES, NOW).identifiers] == ["email:a@x.io"]


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"identifiers": []}, RejectionCode.NO_IDENTIFIERS, "identifiers"),
        (
            {
                "identifiers": [
                    {"type": "cookie_id", "value": "c"},
                    {"type": "email", "value": "ana@"},
                ]
            },
            RejectionCode.INVALID_IDENTIFIER,
            "identifiers[1].value",
        ),
        (
            {"identifiers": [{"type": "phone", "value": "555"}]},
            RejectionCode.INVALID_IDENTIFIER,
            "identifiers[0].value",
        ),
        ({"channel": "CARRIER_PIGEON"}, RejectionCode.INVALID_EVENT, "channel"),
        ({"timestamp": "yesterday"}, RejectionCode.INVALID_TIMESTAMP, "timestamp"),
        ({"timestamp": "2026-03-12T12:00:01Z"}, RejectionCode.INVALID_TIMESTAMP, "timestamp"),
        ({"timestamp": "1969-12-31T23:59:59Z"}, RejectionCode.INVALID_TIMESTAMP, "timestamp"),
        ({"properties": {"blob": "x" * 2000}}, RejectionCode.PROPERTIES_TOO_LARGE, "properties"),
        (
            {"properties": {"$where": "sleep(1000)"}},
            RejectionCode.INVALID_EVENT,
            "properties.$where",
        ),
        ({"properties": {"a": [{"b.c": 1}]}}, RejectionCode.INVALID_EVENT, "properties.a[0].b.c"),
        ({"traits": {"first name": "Ana"}}, RejectionCode.INVALID_EVENT, "traits.first name"),
        ({"traits": ["not", "an", "object"]}, RejectionCode.INVALID_EVENT, "traits"),
        ({"type": ""}, RejectionCode.INVALID_EVENT, "type"),
        ({"messageId": "m" * 257}, RejectionCode.INVALID_EVENT, "messageId"),
        ({"colour": "blue"}, RejectionCode.INVALID_EVENT, "colour"),
        (
            {"properties": {"order": {"number": 2**64}}},
            RejectionCode.INVALID_EVENT,
            "properties.order.number",
        ),
        ({"traits": {"loyaltyId": -(2**63) - 1}}, RejectionCode.INVALID_EVENT, "traits.loyaltyId"),
    ],
)
def test_a_bad_event_is_rejected_with_a_code_and_the_field_named(
    changes: dict[str, Any], code: RejectionCode, field: str
) -> None:
    with pytest.raises(EventRejected) as caught:
        parse_event(good(**changes), RULES, NOW)
    assert caught.value.code is code
    assert caught.value.field == field
    assert caught.value.message.startswith(f"{field}: ")


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("properties", "field", "problem"),
    [
        ({"note": "caf\ud800"}, "properties.note", "not valid Unicode"),
        ({"caf\udc00": 1}, "properties", "not valid Unicode"),
        ({"tags": ["ok", ["deeper", "\ud83d"]]}, "properties.tags[1][1]", "not valid Unicode"),
        ({"ids": [1, 2, 2**64]}, "properties.ids[2]", "beyond 64 bits"),
        ({"tree": _nested(40)}, "properties.tree" + ".a" * 30, "nested more than 32"),
    ],
)
def test_what_the_database_cannot_store_is_refused_wherever_it_sits(
    properties: dict[str, Any], field: str, problem: str
) -> None:
    """Most events are plain JSON the database stores as it is, checked in one quick
    pass; an event that fails it is walked again to say what is wrong and where."""
    with pytest.raises(EventRejected) as caught:
        parse_event(good(properties=properties), RULES, NOW)
    assert caught.value.code is RejectionCode.INVALID_EVENT
    assert caught.value.field == field
    assert problem in caught.value.message


def test_text_beyond_ascii_and_every_json_kind_are_stored_as_sent() -> None:
    properties: dict[str, Any] = {"città": "Zürich ✓ 東京 🙂", "n": [1, 2.5, None, True, {"x": []}]}
    assert parse_event(good(properties=properties), RULES, NOW).properties == properties


def test_whole_numbers_up_to_64_bits_are_kept_as_sent() -> None:
    """The largest and smallest numbers the database holds pass; one further is refused
    (the parametrised cases above) rather than failing the batch's write."""
    raw = good(properties={"big": 2**63 - 1, "small": -(2**63), "flag": True, "ratio": 1e300})
    parsed = parse_event(raw, RULES, NOW)
    assert parsed.properties == {"big": 2**63 - 1, "small": -(2**63), "flag": True, "ratio": 1e300}
