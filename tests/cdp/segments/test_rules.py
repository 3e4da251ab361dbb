"""Rules are checked when saved, with a message that names the bad part."""

import pytest

from cdp.segments.rules import RuleError, parse_rule, rule_to_data

GOOD = {
    "or": [
        {
            "and": [
                {"metric": {"metric": "ORDERS", "op": "GTE", "value": 3}},
                {"not": {"identifier": {"type": "twitter"}}},
            ]
        },
        {"trait": {"name": "country", "op": "IN", "value": ["FR", "BE"]}},
        {
            "events": {
                "type": "page_view",
                "where": [{"path": "url", "value": "/pricing"}],
                "atLeast": 2,
                "withinDays": 14,
            }
        },
    ]
}


def test_a_rule_reads_back_as_it_was_written() -> None:
    assert rule_to_data(parse_rule(GOOD)) == GOOD
    assert parse_rule(rule_to_data(parse_rule(GOOD))) == parse_rule(GOOD)


@pytest.mark.parametrize(
    ("rule", "path", "message"),
    [
        ({}, "rule", "give exactly one of"),
        ({"and": [], "or": None}, "rule.and", "non-empty list"),
        (
            {"trait": {"name": "city", "op": "EQ", "value": "x"}, "metric": {}},
            "rule",
            "got trait, metric",
        ),
        (
            {"metric": {"metric": "LOYALTY", "op": "EQ", "value": 1}},
            "rule.metric.metric",
            "unknown metric",
        ),
        (
            {"metric": {"metric": "RFM_SEGMENT", "op": "EQ", "value": 5}},
            "rule.metric.value",
            "RFM_SEGMENT is a text",
        ),
        (
            {"trait": {"name": "a.b", "op": "EQ", "value": 1}},
            "rule.trait.name",
            "top-level trait name",
        ),
        (
            {"trait": {"name": "city", "op": "LIKE", "value": "x"}},
            "rule.trait.op",
            "unknown operator",
        ),
        ({"trait": {"name": "city", "op": "EQ", "value": None}}, "rule.trait.value", "use EXISTS"),
        (
            {"trait": {"name": "vip", "op": "GT", "value": True}},
            "rule.trait.value",
            "needs a number or text",
        ),
        (
            {"trait": {"name": "vip", "op": "IN", "value": []}},
            "rule.trait.value",
            "IN takes a list",
        ),
        (
            {"events": {"type": "page_view", "atLeast": 3, "atMost": 1}},
            "rule.events",
            "nobody can match",
        ),
        (
            {"events": {"type": "page_view", "withinDays": 0}},
            "rule.events.withinDays",
            "at least 1",
        ),
        (
            {"events": {"type": "page_view", "where": [{"path": "$where", "value": 1}]}},
            "rule.events.where[0].path",
            "property path",
        ),
        (
            {"events": {"type": "purchase", "where": [{"path": "orderNo", "value": 2**64}]}},
            "rule.events.where[0].value",
            "beyond 64 bits",
        ),
        (
            {"trait": {"name": "loyaltyId", "op": "IN", "value": [1, 2**70]}},
            "rule.trait.value[1]",
            "send it as text",
        ),
        (
            {
                "not": {
                    "not": {
                        "not": {
                            "not": {"not": {"not": {"not": {"not": {"identifier": {"type": "x"}}}}}}
                        }
                    }
                }
            },
            "rule" + ".not" * 8,
            "nest at most",
        ),
    ],
)
def test_a_bad_rule_names_its_bad_part(rule: dict[str, object], path: str, message: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_rule(rule)
    assert caught.value.path == path
    assert message in caught.value.message


def test_an_event_condition_without_bounds_means_at_least_once() -> None:
    parsed = parse_rule({"events": {"type": "purchase"}})
    assert rule_to_data(parsed) == {"events": {"type": "purchase", "where": [], "atLeast": 1}}
