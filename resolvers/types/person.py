"""The unified profile of one person."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types.nodes import SelectedField

from cdp import cursors
from cdp.errors import BadUserInput, NotFound
from cdp.linking.explain import identity_graph, merge_history
from cdp.offers.decisions import log_answer
from cdp.offers.next_best import next_best_offers
from cdp.privacy.consent import in_force
from cdp.profile.find import Profile, find_person, timeline_count, timeline_page
from cdp.profile.timeline import build_query
from resolvers.context import Info
from resolvers.types.connection import Connection
from resolvers.types.consent import ConsentType
from resolvers.types.enums import Channel
from resolvers.types.event import EventConnection
from resolvers.types.identity import Identifier, IdentityGraph, MergeRecord
from resolvers.types.metrics import PersonMetrics

if TYPE_CHECKING:
    from resolvers.types.offer import OfferRecommendation
    from resolvers.types.segment import SegmentMembership


@strawberry.type(description="One real person, stitched from every identifier they used.")
class Person:
    profile: strawberry.Private[Profile]

    @classmethod
    async def find(cls, info: Info, person_id: str) -> Person | None:
        """The person behind an id (an absorbed id finds the survivor), or None."""
        profile = await find_person(info.context.deps.stores, person_id)
        return cls(profile=profile) if profile else None

    @classmethod
    async def written(cls, info: Info, person_id: str) -> Person:
        """The person a mutation just wrote, or NOT_FOUND if erased in between."""
        person = await cls.find(info, person_id)
        if person is None:
            raise NotFound(f"person {person_id} no longer exists")
        return person

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.profile.id)

    @strawberry.field(description="Traits; for each, the most recently set value.")
    def traits(self) -> JSON:
        return JSON(self.profile.traits)

    @strawberry.field(description="Ids of persons merged into this one; they still find it.")
    def merged_from(self) -> list[strawberry.ID]:
        return [strawberry.ID(person_id) for person_id in self.profile.merged_from]

    @strawberry.field
    def created_at(self) -> datetime:
        return self.profile.created_at

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.profile.updated_at

    @strawberry.field(
        description="Since when events have been waiting to be counted in this person's "
        "metrics and segments; null when they are current. A bulk import is counted "
        "within seconds; a call with a few events before it answers."
    )
    def refresh_pending_since(self) -> datetime | None:
        return self.profile.pending_since

    @strawberry.field(description="Every identifier this person owns, by key.")
    async def identifiers(self, info: Info) -> list[Identifier]:
        docs = await info.context.loaders.identifiers.load(tuple(self.profile.family))
        return [Identifier.from_document(doc) for doc in self.profile.as_seen(docs)]

    @strawberry.field(
        description="Purchases, RFM, CLV, engagement, interests, technographic and "
        "demographic facts, kept current as each event lands (null before the first)."
    )
    def metrics(self) -> PersonMetrics | None:
        doc = self.profile.metrics
        return PersonMetrics.from_document(doc) if doc else None

    @strawberry.field(
        description="The offers worth making now, ranked, each with its reason, channel and "
        "send time. With explain: true the candidates left out follow, each with `suppressed`."
    )
    async def next_best_offers(
        self,
        info: Info,
        limit: int = 3,
        channel: Channel | None = None,
        explain: bool = False,
    ) -> list[Annotated[OfferRecommendation, strawberry.lazy("resolvers.types.offer")]]:
        from resolvers.types.offer import OfferRecommendation

        if not 1 <= limit <= 50:
            raise BadUserInput("limit: 1 to 50 offers")
        now = info.context.deps.clock()
        answer = await next_best_offers(
            info.context.deps.stores,
            self.profile,
            limit=limit,
            channel=channel,
            policy=info.context.deps.offers,
            now=now,
        )
        # logged, so another exploration policy can be evaluated on what this one did
        await log_answer(info.context.deps.stores, self.profile.id, answer, now)
        shown = [OfferRecommendation.of(r, answer.decision(r)) for r in answer.recommendations]
        if explain:
            shown += [OfferRecommendation.left_out(s) for s in answer.suppressed]
        return shown

    @strawberry.field(description="The segments this person is in now, and since when.")
    async def segments(
        self, info: Info
    ) -> list[Annotated[SegmentMembership, strawberry.lazy("resolvers.types.segment")]]:
        from resolvers.types.segment import Segment, SegmentMembership

        loaders = info.context.loaders
        held = await loaders.memberships.load(self.profile.id)
        definitions = await loaders.segments.load_many(sorted(held))
        return [
            SegmentMembership(
                segment=Segment.of(definition), entered_at=held[definition.id].entered_at
            )
            for definition in definitions
            if definition is not None
        ]

    @strawberry.field(description="Consent in force, per purpose and channel (latest decision).")
    async def consents(self, info: Info) -> list[ConsentType]:
        decisions = await info.context.loaders.consents.load(tuple(self.profile.family))
        return [ConsentType.of(c) for c in in_force(decisions)]

    @strawberry.field(description="The person's identifiers and the links that hold them together.")
    async def identity_graph(self, info: Info) -> IdentityGraph:
        graph = await identity_graph(info.context.deps.stores, self.profile)
        return IdentityGraph.of(graph)

    @strawberry.field(description="Every merge and unlink that shaped this person, oldest first.")
    async def merge_history(self, info: Info) -> list[MergeRecord]:
        records = await merge_history(info.context.deps.stores, self.profile)
        return [MergeRecord.from_document(doc) for doc in records]

    @strawberry.field(
        description="Every interaction on every channel, newest first. `types` keeps only "
        "those types and `excludeTypes` leaves those out: the platform's own rows are "
        "segment_entered and segment_left, so a screen of the customer's own interactions "
        "excludes them."
    )
    async def timeline(
        self,
        info: Info,
        first: int | None = 50,
        after: str | None = None,
        channels: list[Channel] | None = None,
        types: list[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        exclude_types: list[str] | None = None,
    ) -> EventConnection:
        query = build_query(
            first=50 if first is None else first,
            after=after,
            channels=channels,
            types=types,
            since=since,
            until=until,
            exclude_types=exclude_types,
        )
        stores = info.context.deps.stores
        if not _asks_for(info, "totalCount"):
            return EventConnection.from_page(
                await timeline_page(stores, self.profile, query), self.profile, query
            )
        # The count beside the page, not after it: two reads at once, one wait.
        page, total = await asyncio.gather(
            timeline_page(stores, self.profile, query),
            timeline_count(stores, self.profile, query),
        )
        return EventConnection.from_page(page, self.profile, query, total)


PersonConnection = Connection[Person]


def _asks_for(info: Info, name: str) -> bool:
    """Whether the document selects ``name`` directly under this field (a fragment
    there counts as not saying: the field then reads it when asked)."""
    return any(
        isinstance(selection, SelectedField) and selection.name == name
        for field in info.selected_fields
        for selection in field.selections
    )


def person_page(profiles: list[Profile], has_next: bool) -> Connection[Person]:
    """A page of persons, each resumable after by its id."""
    rows = [(cursors.encode(p.id), Person(profile=p)) for p in profiles]
    return Connection[Person].of(rows, has_next)
