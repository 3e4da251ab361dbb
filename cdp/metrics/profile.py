"""A person's computed metrics: pure functions over their events.

Purchases are ``purchase`` events with ``properties.total`` (and ``discountCode``);
``refund`` events with ``properties.total`` take revenue back. Email engagement counts
``email_sent``, ``email_open`` and ``email_click``. Every function here reads one person's
history only, so the same code can run when an event arrives and in a bulk recompute.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

ENGAGEMENT_TYPES = frozenset({"email_open", "email_click"})


@dataclass(frozen=True, slots=True)
class Interaction:
    """What the metrics read of one event."""

    type: str
    channel: str
    timestamp: datetime
    properties: Mapping[str, Any]

    @property
    def total(self) -> float:
        value = self.properties.get("total")
        return (
            float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
        )


# not frozen: the GraphQL type extends it (resolvers/types/metrics.py), typed once
@dataclass(slots=True)
class PurchaseMetrics:
    orders: int
    revenue: float
    average_order_value: float | None
    first_order_at: datetime | None
    last_order_at: datetime | None
    days_since_last_order: int | None
    purchases_30d: int
    purchases_90d: int
    purchases_365d: int
    discount_share: float | None


# not frozen: the GraphQL type extends it (resolvers/types/metrics.py), typed once
@dataclass(slots=True)
class EngagementMetrics:
    emails_sent: int
    emails_opened: int
    emails_clicked: int
    open_rate: float | None
    click_rate: float | None
    last_engaged_at: datetime | None
    most_active_hour: int | None
    preferred_channel: str | None


def purchase_metrics(history: Sequence[Interaction], now: datetime) -> PurchaseMetrics:
    orders = [e for e in history if e.type == "purchase"]
    refunded = sum(e.total for e in history if e.type == "refund")
    revenue = round(sum(e.total for e in orders) - refunded, 2)
    times = sorted(e.timestamp for e in orders)
    discounted = sum(1 for e in orders if e.properties.get("discountCode"))

    def within(days: int) -> int:  # times are sorted: those from ``now - days`` on
        return len(times) - bisect_left(times, now - timedelta(days=days))

    return PurchaseMetrics(
        orders=len(orders),
        revenue=revenue,
        average_order_value=round(revenue / len(orders), 2) if orders else None,
        first_order_at=times[0] if times else None,
        last_order_at=times[-1] if times else None,
        days_since_last_order=(now - times[-1]).days if times else None,
        purchases_30d=within(30),
        purchases_90d=within(90),
        purchases_365d=within(365),
        discount_share=round(discounted / len(orders), 4) if orders else None,
    )


def engagement_metrics(
    history: Sequence[Interaction], consented_channels: frozenset[str] | None = None
) -> EngagementMetrics:
    """Email engagement, the hour of day a person is most active (UTC), and the channel
    they use most, among the consented ones when ``consented_channels`` is given."""
    kinds = Counter(e.type for e in history)
    sent, opened, clicked = kinds["email_sent"], kinds["email_open"], kinds["email_click"]
    engaged = [e.timestamp for e in history if e.type in ENGAGEMENT_TYPES]
    hours = Counter(e.timestamp.hour for e in history)
    channels = Counter(
        e.channel for e in history if consented_channels is None or e.channel in consented_channels
    )
    return EngagementMetrics(
        emails_sent=sent,
        emails_opened=opened,
        emails_clicked=clicked,
        open_rate=round(opened / sent, 4) if sent else None,
        click_rate=round(clicked / sent, 4) if sent else None,
        last_engaged_at=max(engaged) if engaged else None,
        most_active_hour=_most_common(hours),
        preferred_channel=_most_common(channels),
    )


def _most_common(counts: Counter[Any]) -> Any:
    """The most frequent value; ties go to the smallest, so the answer is stable."""
    if not counts:
        return None
    top = max(counts.values())
    return min(value for value, count in counts.items() if count == top)
