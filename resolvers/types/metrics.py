"""A person's computed metrics, read from the profile where each event keeps them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, cast

import strawberry

from cdp.metrics import interests, profile, technographic
from cdp.metrics.vocabulary import METRICS
from cdp.segments.rules import Op
from resolvers.types.fields import pick

MetricField = strawberry.enum(
    cast(type[enum.Enum], enum.Enum("MetricField", {n.upper(): n.upper() for n in METRICS})),
    description="A metric segment rules can compare (its stored name, upper-cased).",
)
strawberry.enum(
    Op,
    name="ComparisonOp",
    description="How a rule compares: MongoDB semantics (a list matches when one element "
    "does; values of different kinds never compare; NE also matches a missing value).",
)


# The fields of each are those of the metrics the domain computes (cdp/metrics): typed
# once there; here only descriptions and what the profile adds.
@strawberry.type
class PurchaseMetrics(profile.PurchaseMetrics):
    revenue: float = strawberry.field(description="Order totals less refunds.")
    discount_share: float | None = strawberry.field(description="Share of orders with a code.")


@strawberry.type
class EngagementMetrics(profile.EngagementMetrics):
    days_since_last_engagement: int | None
    most_active_hour: int | None = strawberry.field(description="Hour of day (UTC), 0-23.")
    preferred_channel: str | None = strawberry.field(
        description="The channel with most interactions among those consented for marketing."
    )


@strawberry.type(description="Scores 1-5 against the stored quintile boundaries of the base.")
class RfmScore:
    recency: int
    frequency: int
    monetary: int
    code: str = strawberry.field(description='Recency, frequency, monetary, e.g. "545".')
    segment: str = strawberry.field(description="The named RFM segment (see the README map).")


@strawberry.type(description="From the CLV model fitted on the whole base (fitClvModel).")
class ClvPrediction:
    expected_purchases_90d: float
    probability_alive: float
    expected_value_12m: float
    tier: str | None = strawberry.field(
        description="high (top 20% of customers), medium (next 30%), low; null before a "
        "recompute has cut the tiers."
    )


@strawberry.type
class Interest(interests.Interest):
    weight: float = strawberry.field(description="Recency-weighted signal strength.")


@strawberry.type
class Technographic(technographic.Technographic):
    pass


@strawberry.type
class ShoppingState(technographic.Shopping):
    wishlist: list[str] = strawberry.field(description="Skus wished for, not removed or bought.")


@strawberry.type(description="From traits: birthday (age), gender, city, country, incomeBand.")
class Demographic(technographic.Demographic):
    pass


@strawberry.type(description="Kept on the profile as each event lands; true as of computedAt.")
class PersonMetrics:
    computed_at: datetime
    purchases: PurchaseMetrics
    engagement: EngagementMetrics
    rfm: RfmScore | None = strawberry.field(
        description="Null for a person who never bought, or before the first recompute."
    )
    clv: ClvPrediction | None = strawberry.field(
        description="Null until a CLV model is fitted, or for a person who never bought."
    )
    interests: list[Interest]
    technographic: Technographic
    shopping: ShoppingState
    demographic: Demographic

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> PersonMetrics:
        rfm = None
        if doc.get("rfm_code"):
            rfm = RfmScore(
                recency=doc["rfm_recency"],
                frequency=doc["rfm_frequency"],
                monetary=doc["rfm_monetary"],
                code=doc["rfm_code"],
                segment=doc["rfm_segment"],
            )
        clv = None
        if doc.get("expected_value_12m") is not None:
            clv = ClvPrediction(
                expected_purchases_90d=doc["expected_purchases_90d"],
                probability_alive=doc["probability_alive"],
                expected_value_12m=doc["expected_value_12m"],
                tier=doc.get("clv_tier"),
            )
        return cls(
            computed_at=doc["computed_at"],
            purchases=pick(PurchaseMetrics, doc),
            engagement=pick(EngagementMetrics, doc),
            rfm=rfm,
            clv=clv,
            interests=[pick(Interest, interest) for interest in doc["interests"]],
            technographic=pick(Technographic, doc),
            shopping=pick(ShoppingState, doc),
            demographic=pick(Demographic, doc),
        )
