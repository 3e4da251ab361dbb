"""Next-best-offer over GraphQL: catalogue, offers, mined rules, responses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from cdp import cursors
from cdp.offers.campaign import campaign
from cdp.offers.definitions import OfferKind
from cdp.offers.exploration import Decision
from cdp.offers.manage import active_offers, archive_offer, create_offer, update_offer
from cdp.offers.mining import rebuild_offer_models
from cdp.offers.products import co_purchase_rules_page, upsert_products
from cdp.offers.responses import OfferResponse, record_response
from cdp.profile.timeline import page_size
from resolvers.context import Info
from resolvers.segments import SegmentRuleInput, rule_data
from resolvers.types.connection import Connection
from resolvers.types.enums import Channel
from resolvers.types.fields import pick
from resolvers.types.offer import CoPurchaseRule, OfferRecommendation, OfferType, Product
from resolvers.types.person import Person


@strawberry.input
class ProductInput:
    sku: str
    name: str
    price: float
    category: str | None = None
    stock: int | None = strawberry.field(default=None, description="Null: not tracked.")
    tags: list[str] = strawberry.field(default_factory=list)
    offerable: bool = strawberry.field(
        default=True, description="False: never offered on its own (gift cards, samples)."
    )


@strawberry.input(description="Who may get an offer: in any of `segments`, and matching `rule`.")
class EligibilityInput:
    segments: list[strawberry.ID] = strawberry.field(default_factory=list)
    rule: SegmentRuleInput | None = None


@strawberry.input
class OfferInput:
    id: strawberry.ID | None = strawberry.field(
        default=None, description="Lower-case id; generated when left out."
    )
    name: str
    kind: OfferKind
    value: float = strawberry.field(description="Value to the business per acceptance.")
    description: str = ""
    eligibility: EligibilityInput | None = None
    channels: list[Channel] = strawberry.field(
        default_factory=list, description="Channels it may go out on (empty: any)."
    )
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    cap_per_person: int | None = strawberry.field(
        default=None, description="Showings per person per capPeriodDays."
    )
    cap_period_days: int = 30
    fallback: bool = strawberry.field(
        default=False, description="Shown only when nothing else is eligible."
    )
    sku: str | None = strawberry.field(default=None, description="For PRODUCT offers.")


CoPurchaseRuleConnection = Connection[CoPurchaseRule]


@strawberry.type(description="What a rebuild of the co-purchase rules did.")
class OfferModelReport:
    baskets: int
    rules: int
    viewers: int = strawberry.field(description="Persons who viewed a product.")
    view_rules: int = strawberry.field(description="View-similarity rules mined from them.")
    min_support_count: int
    min_confidence: float
    seconds: float


def offer_data(input: OfferInput) -> dict[str, Any]:
    eligibility = input.eligibility or EligibilityInput()
    return {
        "id": str(input.id) if input.id else None,
        "name": input.name,
        "kind": input.kind,
        "value": input.value,
        "description": input.description,
        "segments": [str(s) for s in eligibility.segments],
        "rule": rule_data(eligibility.rule) if eligibility.rule else None,
        "channels": input.channels,
        "valid_from": input.valid_from,
        "valid_until": input.valid_until,
        "cap_per_person": input.cap_per_person,
        "cap_period_days": input.cap_period_days,
        "fallback": input.fallback,
        "sku": input.sku,
    }


@strawberry.type(description="A member of a campaign's segment and the offer for them.")
class CampaignEntry:
    person: Person
    recommendation: OfferRecommendation


@strawberry.type
class OfferQuery:
    @strawberry.field(description="Offers not archived.")
    async def offers(self, info: Info) -> list[OfferType]:
        return [OfferType.of(offer) for offer in await active_offers(info.context.deps.stores)]

    @strawberry.field(
        description="One campaign to a segment: each member with their best offer now (the "
        "nextBestOffers ranking, consent on the channel, caps and declines), members in id "
        "order; those with no eligible offer are skipped. cdp offers campaign writes the "
        "same as a file and can record the showings."
    )
    async def campaign(
        self,
        info: Info,
        segment_id: strawberry.ID,
        channel: Channel | None = None,
        first: int = 100,
        after: str | None = None,
    ) -> Connection[CampaignEntry]:
        deps = info.context.deps
        pages = campaign(
            deps.stores,
            str(segment_id),
            channel=channel,
            policy=deps.offers,
            now=deps.clock(),
            after=after,
            page=max(page_size(first), 1),
        )
        page = await anext(pages)
        await pages.aclose()
        rows = [
            (
                cursors.encode(row.profile.id),
                CampaignEntry(
                    person=Person(profile=row.profile),
                    recommendation=OfferRecommendation.of(
                        row.offer, row.answer.decision(row.offer)
                    ),
                ),
            )
            for row in page.rows
        ]
        return Connection[CampaignEntry].of(rows, page.has_next, end=page.end)

    @strawberry.field(
        description="The mined rules, strongest lift first, with their counts; the cursor is "
        "the position."
    )
    async def co_purchase_rules(
        self, info: Info, first: int = 50, after: str | None = None, min_lift: float = 0.0
    ) -> CoPurchaseRuleConnection:
        size = page_size(first)
        start = cursors.decode(after, int)[0] if after else 0  # a rank in the list
        docs = await co_purchase_rules_page(info.context.deps.stores, min_lift, start, size)
        rows = [
            (cursors.encode(start + i + 1), CoPurchaseRule.from_document(d))
            for i, d in enumerate(docs[:size])
        ]
        return CoPurchaseRuleConnection.of(rows, len(docs) > size)


@strawberry.type
class OfferMutation:
    @strawberry.mutation(description="Add or replace products by sku (all checked first).")
    async def upsert_products(self, info: Info, products: list[ProductInput]) -> list[Product]:
        raw = [
            {
                "sku": p.sku,
                "name": p.name,
                "price": p.price,
                "category": p.category,
                "stock": p.stock,
                "tags": p.tags,
                "offerable": p.offerable,
            }
            for p in products
        ]
        stored = await upsert_products(info.context.deps.stores, raw, info.context.deps.clock())
        return [pick(Product, p) for p in stored]

    @strawberry.mutation
    async def create_offer(self, info: Info, input: OfferInput) -> OfferType:
        made = await create_offer(
            info.context.deps.stores, offer_data(input), info.context.deps.clock()
        )
        return OfferType.of(made)

    @strawberry.mutation
    async def update_offer(self, info: Info, id: strawberry.ID, input: OfferInput) -> OfferType:
        changed = await update_offer(
            info.context.deps.stores, str(id), offer_data(input), info.context.deps.clock()
        )
        return OfferType.of(changed)

    @strawberry.mutation(description="Stop offering it; its responses are kept.")
    async def archive_offer(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        await archive_offer(info.context.deps.stores, str(id), info.context.deps.clock())
        return id

    @strawberry.mutation(description="What the person did with an offer; returns the person id.")
    async def record_offer_response(
        self,
        info: Info,
        person_id: strawberry.ID,
        offer_id: strawberry.ID,
        response: OfferResponse,
        channel: Channel | None = None,
        decision: str | None = None,
    ) -> strawberry.ID:
        person = await record_response(
            info.context.deps.stores,
            str(person_id),
            str(offer_id),
            response,
            channel,
            info.context.deps.clock(),
            decision=Decision.read(decision, str(offer_id)) if decision else None,
        )
        return strawberry.ID(person)

    @strawberry.mutation(
        description="Mine the co-purchase rules from every basket (defaults from settings)."
    )
    async def rebuild_offer_models(
        self,
        info: Info,
        min_support_count: int | None = None,
        min_confidence: float | None = None,
    ) -> OfferModelReport:
        policy = info.context.deps.offers
        report = await rebuild_offer_models(
            info.context.deps.stores,
            policy.min_support_count if min_support_count is None else min_support_count,
            policy.min_confidence if min_confidence is None else min_confidence,
            info.context.deps.clock(),
        )
        return pick(OfferModelReport, report)
