"""A person's computed metrics."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

import strawberry

from cdp.metrics.person import ClvPrediction as DomainClv
from cdp.metrics.person import PersonMetrics as DomainMetrics


@strawberry.type
class PurchaseMetrics:
    orders: int
    revenue: float = strawberry.field(description="Order totals less refunds.")
    average_order_value: float | None
    first_order_at: datetime | None
    last_order_at: datetime | None
    days_since_last_order: int | None
    purchases_30d: int
    purchases_90d: int
    purchases_365d: int
    discount_share: float | None = strawberry.field(description="Share of orders with a code.")


@strawberry.type
class EngagementMetrics:
    emails_sent: int
    emails_opened: int
    emails_clicked: int
    open_rate: float | None
    click_rate: float | None
    last_engaged_at: datetime | None
    most_active_hour: int | None = strawberry.field(description="Hour of day (UTC), 0-23.")
    preferred_channel: str | None


@strawberry.type(description="From the CLV model fitted on the whole base (fitClvModel).")
class ClvPrediction:
    expected_purchases_90d: float
    probability_alive: float
    expected_value_12m: float


@strawberry.type
class PersonMetrics:
    purchases: PurchaseMetrics
    engagement: EngagementMetrics
    clv: ClvPrediction | None = strawberry.field(
        description="Null until a CLV model is fitted, or for a person who never bought."
    )

    @classmethod
    def of(cls, metrics: DomainMetrics) -> PersonMetrics:
        clv: DomainClv | None = metrics.clv
        return cls(
            purchases=PurchaseMetrics(**asdict(metrics.purchases)),
            engagement=EngagementMetrics(**asdict(metrics.engagement)),
            clv=ClvPrediction(**asdict(clv)) if clv else None,
        )
