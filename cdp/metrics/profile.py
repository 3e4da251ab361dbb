"""A person's computed metrics: pure functions over their events.

Purchases are ``purchase`` events with ``properties.total`` (and ``discountCode``);
``refund`` events with ``properties.total`` take revenue back. Email engagement counts
``email_sent``, ``email_open`` and ``email_click``. Every function here reads one person's
history only, so the same code can run when an event arrives and in a bulk recompute.

Each metric is read from a tally that events are added to one at a time, oldest first
(:mod:`cdp.metrics.fold`): a refresh adds a person's new events to the tally it kept
instead of reading their whole history again, and a history read whole is added to an
empty tally by the same code, so the two cannot disagree.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any

from cdp.metrics.instants import PRUNE_MARGIN, answers, micros, pruned

ENGAGEMENT_TYPES = frozenset({"email_open", "email_click"})
EMAIL_TYPES = ("email_sent", "email_open", "email_click")
PURCHASE_WINDOWS = (30, 90, 365)  # days: purchases_30d, purchases_90d, purchases_365d


@dataclass(frozen=True, slots=True)
class Interaction:
    """What the metrics read of one event."""

    type: str
    channel: str
    timestamp: datetime
    properties: Mapping[str, Any]

    @classmethod
    def of(cls, event: Mapping[str, Any]) -> Interaction:
        """What the metrics read of a stored event (a history's document)."""
        return cls(
            event["type"], event["channel"], event["timestamp"], event.get("properties") or {}
        )

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


def oldest_first(history: Sequence[Interaction]) -> list[Interaction]:
    """A history in the order tallies add it (stable: equal times keep their order)."""
    return sorted(history, key=attrgetter("timestamp"))


@dataclass(slots=True)
class PurchaseTally:
    """What the purchase metrics read of a history: sums in the order events came, the
    first and last order, and the order times of the longest window (sorted)."""

    orders: int = 0
    order_sum: float = 0.0
    refund_sum: float = 0.0
    discounted: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None
    recent: list[int] = field(default_factory=list)  # microseconds (cdp.metrics.instants)
    pruned_at: datetime | None = None  # the clock of the last prune

    def add(self, event: Interaction) -> None:
        if event.type == "refund":
            self.refund_sum += event.total
        if event.type != "purchase":
            return
        self.orders += 1
        self.order_sum += event.total
        self.discounted += bool(event.properties.get("discountCode"))
        at = event.timestamp
        self.first_at = at if self.first_at is None else min(self.first_at, at)
        self.last_at = at if self.last_at is None else max(self.last_at, at)
        insort(self.recent, micros(at))

    def prune(self, now: datetime) -> None:
        """Forget order times no window of a clock from ``now - PRUNE_MARGIN`` on reads."""
        cut = now - timedelta(days=max(PURCHASE_WINDOWS)) - PRUNE_MARGIN
        del self.recent[: bisect_left(self.recent, micros(cut))]
        self.pruned_at = pruned(self.pruned_at, now)

    def answers(self, now: datetime) -> bool:
        """Whether the windows at ``now`` hold every order time they need."""
        return answers(self.pruned_at, now)

    def metrics(self, now: datetime) -> PurchaseMetrics:
        orders, times = self.orders, self.recent
        revenue = round(self.order_sum - self.refund_sum, 2)

        def within(days: int) -> int:  # times are sorted: those from ``now - days`` on
            return len(times) - bisect_left(times, micros(now - timedelta(days=days)))

        return PurchaseMetrics(
            orders=orders,
            revenue=revenue,
            average_order_value=round(revenue / orders, 2) if orders else None,
            first_order_at=self.first_at,
            last_order_at=self.last_at,
            days_since_last_order=(now - self.last_at).days if self.last_at else None,
            purchases_30d=within(30),
            purchases_90d=within(90),
            purchases_365d=within(365),
            discount_share=round(self.discounted / orders, 4) if orders else None,
        )


@dataclass(slots=True)
class EngagementTally:
    """What the engagement metrics read: email counts, the last engagement, events by
    hour of day and by channel (every channel: consent is applied when reading)."""

    emails: Counter[str] = field(default_factory=Counter)
    last_engaged_at: datetime | None = None
    hours: Counter[int] = field(default_factory=Counter)
    channels: Counter[str] = field(default_factory=Counter)

    def add(self, event: Interaction) -> None:
        if event.type in EMAIL_TYPES:
            self.emails[event.type] += 1
        if event.type in ENGAGEMENT_TYPES:
            at = event.timestamp
            self.last_engaged_at = (
                at if self.last_engaged_at is None else max(self.last_engaged_at, at)
            )
        self.hours[event.timestamp.hour] += 1
        self.channels[event.channel] += 1

    def metrics(self, consented_channels: frozenset[str] | None = None) -> EngagementMetrics:
        sent, opened = self.emails["email_sent"], self.emails["email_open"]
        clicked = self.emails["email_click"]
        channels = Counter(
            {
                channel: count
                for channel, count in self.channels.items()
                if consented_channels is None or channel in consented_channels
            }
        )
        return EngagementMetrics(
            emails_sent=sent,
            emails_opened=opened,
            emails_clicked=clicked,
            open_rate=round(opened / sent, 4) if sent else None,
            click_rate=round(clicked / sent, 4) if sent else None,
            last_engaged_at=self.last_engaged_at,
            most_active_hour=_most_common(self.hours),
            preferred_channel=_most_common(channels),
        )


def purchase_metrics(history: Sequence[Interaction], now: datetime) -> PurchaseMetrics:
    tally = PurchaseTally()
    for event in oldest_first(history):
        tally.add(event)
    return tally.metrics(now)


def engagement_metrics(
    history: Sequence[Interaction], consented_channels: frozenset[str] | None = None
) -> EngagementMetrics:
    """Email engagement, the hour of day a person is most active (UTC), and the channel
    they use most, among the consented ones when ``consented_channels`` is given."""
    tally = EngagementTally()
    for event in history:
        tally.add(event)
    return tally.metrics(consented_channels)


def _most_common(counts: Counter[Any]) -> Any:
    """The most frequent value; ties go to the smallest, so the answer is stable."""
    if not counts:
        return None
    top = max(counts.values())
    return min(value for value, count in counts.items() if count == top)
