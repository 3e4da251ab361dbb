"""Segments as served: definition, size, share, significance, members."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from cdp.profile.find import profiles_of
from cdp.profile.timeline import page_size
from cdp.segments.definitions import SegmentDefinition, SegmentKind
from cdp.segments.members import member_page
from cdp.segments.rules import rule_to_data
from cdp.segments.significance import significance
from resolvers.context import Info
from resolvers.types.person import PersonConnection, person_page

strawberry.enum(
    SegmentKind, description="BUILT_IN (documented rules), INTEREST (one per topic), USER."
)


@strawberry.type(description="Whether a segment is big enough to act on, and why.")
class Significance:
    significant: bool
    reason: str
    share: float | None
    confidence_low: float | None = strawberry.field(description="95% Wilson interval.")
    confidence_high: float | None


@strawberry.type
class Segment:
    definition: strawberry.Private[SegmentDefinition]

    @classmethod
    def of(cls, definition: SegmentDefinition) -> Segment:
        return cls(definition=definition)

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.definition.id)

    @strawberry.field
    def name(self) -> str:
        return self.definition.name

    @strawberry.field
    def description(self) -> str:
        return self.definition.description

    @strawberry.field
    def kind(self) -> SegmentKind:
        return self.definition.kind

    @strawberry.field(description="The rule, in the form createSegment takes it.")
    def rule(self) -> JSON:
        return JSON(rule_to_data(self.definition.rule))

    @strawberry.field
    def created_at(self) -> datetime | None:
        return self.definition.created_at

    @strawberry.field
    def updated_at(self) -> datetime | None:
        return self.definition.updated_at

    @strawberry.field(description="Members now.")
    async def size(self, info: Info) -> int:
        counts = await self._counts(info)
        return counts["size"]

    @strawberry.field(description="Members as a share of all live persons.")
    async def share(self, info: Info) -> float | None:
        counts = await self._counts(info)
        return counts["size"] / counts["base"] if counts["base"] else None

    @strawberry.field(description="At least 100 members (see significance for the reason).")
    async def significant(self, info: Info) -> bool:
        counts = await self._counts(info)
        return significance(counts["size"], counts["base"]).significant

    @strawberry.field
    async def significance(self, info: Info) -> Significance:
        counts = await self._counts(info)
        found = significance(counts["size"], counts["base"])
        return Significance(
            significant=found.significant,
            reason=found.reason,
            share=found.share,
            confidence_low=found.low,
            confidence_high=found.high,
        )

    @strawberry.field(description="Members by person id.")
    async def members(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> PersonConnection:
        stores = info.context.deps.stores
        shown, has_next = await member_page(stores, self.definition.id, page_size(first), after)
        return person_page(await profiles_of(stores, shown), has_next)

    async def _counts(self, info: Info) -> dict[str, int]:
        """Members and live persons, from the request's loaders: every segment of a list
        is counted in one read, and the base once."""
        loaders = info.context.loaders
        size = await loaders.sizes.load(self.definition.id)
        base = await loaders.live_persons.load(None)
        return {"size": size, "base": base}


@strawberry.type
class SegmentMembership:
    segment: Segment
    entered_at: datetime
