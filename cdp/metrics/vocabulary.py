"""Every metric kept on a profile, by its stored name, with its kind.

Segment rules name metrics from this table (the GraphQL ``MetricField`` enum is built
from it), so a rule can be checked before it is saved: comparing ``rfm_segment`` with a
number is an error that names the metric and its kind, not a segment that is silently
empty. Date-time metrics are left out of rules on purpose: their day counts
(``days_since_last_order``) say the same thing without a moving "now" in the rule.
"""

from __future__ import annotations

import enum


class Kind(enum.Enum):
    NUMBER = "number"
    TEXT = "text"
    FLAG = "true or false"
    TEXT_LIST = "list of text"


METRICS: dict[str, Kind] = {
    # purchases
    "orders": Kind.NUMBER,
    "revenue": Kind.NUMBER,
    "average_order_value": Kind.NUMBER,
    "days_since_last_order": Kind.NUMBER,
    "purchases_30d": Kind.NUMBER,
    "purchases_90d": Kind.NUMBER,
    "purchases_365d": Kind.NUMBER,
    "discount_share": Kind.NUMBER,
    # RFM and CLV
    "rfm_recency": Kind.NUMBER,
    "rfm_frequency": Kind.NUMBER,
    "rfm_monetary": Kind.NUMBER,
    "rfm_code": Kind.TEXT,
    "rfm_segment": Kind.TEXT,
    "expected_purchases_90d": Kind.NUMBER,
    "probability_alive": Kind.NUMBER,
    "expected_value_12m": Kind.NUMBER,
    "clv_tier": Kind.TEXT,
    # engagement
    "emails_sent": Kind.NUMBER,
    "emails_opened": Kind.NUMBER,
    "emails_clicked": Kind.NUMBER,
    "open_rate": Kind.NUMBER,
    "click_rate": Kind.NUMBER,
    "days_since_last_engagement": Kind.NUMBER,
    "most_active_hour": Kind.NUMBER,
    "preferred_channel": Kind.TEXT,
    # interests, technographic, shopping state, demographic
    "interest_topics": Kind.TEXT_LIST,
    "devices": Kind.TEXT_LIST,
    "operating_systems": Kind.TEXT_LIST,
    "channels": Kind.TEXT_LIST,
    "mobile_share": Kind.NUMBER,
    "cart_abandoned": Kind.FLAG,
    "wishlist_size": Kind.NUMBER,
    "age": Kind.NUMBER,
    "days_to_birthday": Kind.NUMBER,
}
