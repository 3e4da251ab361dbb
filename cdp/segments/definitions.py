"""Segment definitions: the built-in ones (each a rule in the same language users write),
one per interest topic, and the user-defined ones stored in ``segments``.

Built-in thresholds are constants here and in the README's table, so a marketer can read
exactly why someone is in ``high_aov``; a team that wants other numbers defines its own
segment with ``createSegment``.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cdp.metrics.rfm import SEGMENT_NAMES
from cdp.metrics.summary import CLV_TIERS
from cdp.segments.rules import Rule, parse_rule

HIGH_AOV = 100.0
FREQUENT_ORDERS_30D = 3
LOW_AOV = 30.0
HIGH_SINGLE_AOV = 150.0
HIGH_INCOME_BANDS = ["high", "very_high"]
INTEREST_PREFIX = "interest:"


class SegmentKind(enum.Enum):
    BUILT_IN = "BUILT_IN"
    INTEREST = "INTEREST"
    USER = "USER"


@dataclass(frozen=True, slots=True)
class SegmentDefinition:
    id: str
    name: str
    description: str
    kind: SegmentKind
    rule: Rule
    created_at: datetime | None = None
    updated_at: datetime | None = None


def _metric(name: str, op: str, value: Any) -> dict[str, Any]:
    return {"metric": {"metric": name, "op": op, "value": value}}


def _built_in(
    segment_id: str, name: str, description: str, rule: dict[str, Any]
) -> SegmentDefinition:
    return SegmentDefinition(segment_id, name, description, SegmentKind.BUILT_IN, parse_rule(rule))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower().replace("'", "")).strip("_")


_RFM_NAMES = sorted({name for row in SEGMENT_NAMES for name in row})

BUILT_IN: tuple[SegmentDefinition, ...] = (
    _built_in(
        "purchased_last_30d",
        "Purchased in the last 30 days",
        "At least one order in the last 30 days.",
        _metric("PURCHASES_30D", "GTE", 1),
    ),
    _built_in(
        "lapsed_90d",
        "Lapsed for 90 days",
        "Bought before, nothing in the last 90 days.",
        {"and": [_metric("ORDERS", "GTE", 1), _metric("DAYS_SINCE_LAST_ORDER", "GT", 90)]},
    ),
    _built_in(
        "high_aov",
        "High average order value",
        f"Average order value of {HIGH_AOV:g} or more.",
        _metric("AVERAGE_ORDER_VALUE", "GTE", HIGH_AOV),
    ),
    _built_in(
        "frequent_low_aov",
        "Frequent, low basket",
        f"{FREQUENT_ORDERS_30D} or more orders in 30 days at an average of {LOW_AOV:g} or less.",
        {
            "and": [
                _metric("PURCHASES_30D", "GTE", FREQUENT_ORDERS_30D),
                _metric("AVERAGE_ORDER_VALUE", "LTE", LOW_AOV),
            ]
        },
    ),
    _built_in(
        "rare_high_aov",
        "Rare, high basket",
        f"Bought this year, at most once in 30 days, at an average of {HIGH_SINGLE_AOV:g} or more.",
        {
            "and": [
                _metric("PURCHASES_365D", "GTE", 1),
                _metric("PURCHASES_30D", "LTE", 1),
                _metric("AVERAGE_ORDER_VALUE", "GTE", HIGH_SINGLE_AOV),
            ]
        },
    ),
    _built_in(
        "high_income",
        "High income",
        f"Trait incomeBand is one of {', '.join(HIGH_INCOME_BANDS)}.",
        {"trait": {"name": "incomeBand", "op": "IN", "value": HIGH_INCOME_BANDS}},
    ),
    _built_in(
        "email_engaged",
        "Engaged by email",
        "Sent 3 or more emails and opened at least a quarter of them.",
        {"and": [_metric("EMAILS_SENT", "GTE", 3), _metric("OPEN_RATE", "GTE", 0.25)]},
    ),
    _built_in(
        "email_unengaged",
        "Not engaged by email",
        "Sent 5 or more emails and opened fewer than 1 in 20.",
        {"and": [_metric("EMAILS_SENT", "GTE", 5), _metric("OPEN_RATE", "LT", 0.05)]},
    ),
    _built_in(
        "cart_abandoners",
        "Cart abandoners",
        "Added to cart between 24 hours and 30 days ago, and bought nothing since.",
        _metric("CART_ABANDONED", "EQ", True),
    ),
    _built_in(
        "discount_seekers",
        "Discount seekers",
        "Two or more orders, at least half of them with a discount code.",
        {"and": [_metric("ORDERS", "GTE", 2), _metric("DISCOUNT_SHARE", "GTE", 0.5)]},
    ),
    _built_in(
        "wishlist_holders",
        "Wishlist holders",
        "At least one item on the wishlist, not removed and not bought.",
        _metric("WISHLIST_SIZE", "GTE", 1),
    ),
    _built_in(
        "mobile_first",
        "Mobile first",
        "More than half of the interactions on a phone or tablet, or in the mobile app.",
        _metric("MOBILE_SHARE", "GT", 0.5),
    ),
    *(
        _built_in(
            f"rfm_{_slug(name)}",
            f"RFM: {name}",
            f"RFM named segment {name} (see the RFM map in the README).",
            _metric("RFM_SEGMENT", "EQ", name),
        )
        for name in _RFM_NAMES
    ),
    *(
        _built_in(
            f"clv_{tier}",
            f"CLV: {tier}",
            f"Expected 12-month value in the {tier} tier "
            "(high: top 20% of customers, medium: next 30%, low: the rest).",
            _metric("CLV_TIER", "EQ", tier),
        )
        for tier in CLV_TIERS
    ),
)
BUILT_IN_BY_ID = {segment.id: segment for segment in BUILT_IN}


def interest_segment(topic: str) -> SegmentDefinition:
    return SegmentDefinition(
        f"{INTEREST_PREFIX}{topic}",
        f"Interested in {topic}",
        f"{topic} is among the person's interests, weighted by recency.",
        SegmentKind.INTEREST,
        parse_rule(_metric("INTEREST_TOPICS", "EQ", topic)),
    )
