"""Rules read aloud."""

from cdp.segments.describe import describe
from cdp.segments.rules import parse_rule


def test_a_rule_with_metrics_traits_and_events_reads_as_a_sentence() -> None:
    rule = parse_rule(
        {
            "and": [
                {"metric": {"metric": "ORDERS", "op": "GTE", "value": 2}},
                {"trait": {"name": "country", "op": "IN", "value": ["FR", "BE"]}},
                {
                    "or": [
                        {"events": {"type": "email_open", "atLeast": 3, "withinDays": 30}},
                        {"identifier": {"type": "customer_id"}},
                    ]
                },
            ]
        }
    )
    assert describe(rule) == (
        "orders at least 2 and trait country is one of FR, BE and "
        "(email open at least 3 times in the last 30 days or has a customer id)"
    )


def test_a_negation_and_an_existence_check() -> None:
    rule = parse_rule({"not": {"trait": {"name": "vip", "op": "EXISTS", "value": True}}})
    assert describe(rule) == "not (trait vip is known)"
