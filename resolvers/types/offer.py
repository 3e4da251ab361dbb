"""Offers, products and recommendations as served."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from cdp.offers.definitions import Candidate, Offer, OfferKind
from cdp.offers.exploration import Decision
from cdp.offers.ranking import Recommendation, Suppressed
from cdp.offers.responses import OfferResponse
from cdp.segments.rules import rule_to_data
from resolvers.types.fields import pick

strawberry.enum(OfferKind, description="What is offered.")
strawberry.enum(OfferResponse, description="What the person did with an offer.")


@strawberry.type
class OfferRef:
    id: strawberry.ID
    name: str
    kind: OfferKind


@strawberry.type
class ProductRef:
    sku: str
    name: str


@strawberry.type(description="An offer worth making now, with why, where and when.")
class OfferRecommendation:
    offer: OfferRef
    product: ProductRef | None = strawberry.field(description="Set for product offers.")
    score: float = strawberry.field(description="Probability of acceptance times value.")
    probability: float = strawberry.field(
        description="Chance of acceptance: the evidence's prior (evidence.prior) updated by "
        "recorded responses."
    )
    reason: str = strawberry.field(description="A sentence a support agent can read aloud.")
    evidence: JSON = strawberry.field(description="The rule and its numbers, or the condition.")
    channel: str | None = strawberry.field(description="Consented and most engaged.")
    send_at: datetime | None = strawberry.field(description="The person's most active hour.")
    explored: bool = strawberry.field(
        description="Shown by a Thompson draw although it is not the top of the ranking."
    )
    propensity: float | None = strawberry.field(
        description="The probability that the policy showed this offer in this answer."
    )
    decision: str | None = strawberry.field(
        description="Pass to recordOfferResponse(decision:) so the response is tied to this "
        "answer and its propensity (offline evaluation of another policy reads them)."
    )
    suppressed: str | None = strawberry.field(
        description="With explain: true, why this candidate is not offered (else null)."
    )

    @classmethod
    def of(cls, chosen: Recommendation, decision: Decision | None = None) -> OfferRecommendation:
        c = chosen.candidate
        return cls(
            offer=_ref(c.offer),
            product=_product(c),
            score=chosen.score,
            probability=chosen.probability,
            reason=c.reason,
            evidence=JSON({**c.evidence, **_prior(chosen)}),
            channel=chosen.channel,
            send_at=chosen.send_at,
            explored=chosen.explored,
            suppressed=None,
            propensity=chosen.propensity,
            decision=decision.token() if decision else None,
        )

    @classmethod
    def left_out(cls, item: Suppressed) -> OfferRecommendation:
        c = item.candidate
        return cls(
            offer=_ref(c.offer),
            product=_product(c),
            score=0.0,
            probability=0.0,
            reason=c.reason,
            evidence=JSON(dict(c.evidence)),
            channel=None,
            send_at=None,
            explored=False,
            propensity=None,
            decision=None,
            suppressed=item.why,
        )


def _product(candidate: Candidate) -> ProductRef | None:
    offer, name = candidate.offer, candidate.product_name
    return ProductRef(sku=offer.sku, name=name) if offer.sku and name else None


def _ref(offer: Offer) -> OfferRef:
    return OfferRef(id=strawberry.ID(offer.id), name=offer.name, kind=offer.kind)


@strawberry.type
class OfferType:
    id: strawberry.ID
    name: str
    kind: OfferKind
    description: str
    value: float
    channels: list[str]
    segments: list[str]
    rule: JSON | None
    valid_from: datetime | None
    valid_until: datetime | None
    cap_per_person: int | None
    cap_period_days: int
    fallback: bool
    sku: str | None
    archived: bool

    @classmethod
    def of(cls, offer: Offer) -> OfferType:
        return cls(
            id=strawberry.ID(offer.id),
            name=offer.name,
            kind=offer.kind,
            description=offer.description,
            value=offer.value,
            channels=sorted(offer.channels),
            segments=list(offer.segments),
            rule=JSON(rule_to_data(offer.rule)) if offer.rule else None,
            valid_from=offer.valid_from,
            valid_until=offer.valid_until,
            cap_per_person=offer.cap_per_person,
            cap_period_days=offer.cap_period_days,
            fallback=offer.fallback,
            sku=offer.sku,
            archived=offer.archived,
        )


@strawberry.type
class Product:
    sku: str
    name: str
    category: str | None
    price: float
    stock: int | None
    tags: list[str]
    offerable: bool


@strawberry.type(description="People who bought the antecedent also bought the consequent.")
class CoPurchaseRule:
    antecedent: list[str]
    consequent: str
    count: int = strawberry.field(description="Baskets holding both sides.")
    antecedent_count: int = strawberry.field(description="Baskets holding the left side.")
    support: float
    confidence: float
    lift: float

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> CoPurchaseRule:
        return pick(cls, doc)


def _prior(chosen: Recommendation) -> dict[str, object]:
    """Which numbers ranked it: the prior the evidence gave, before responses."""
    if chosen.prior is None:
        return {}
    prior = chosen.prior
    return {"prior": {"acceptance": round(prior.mean, 4), "basis": prior.basis}}
