"""The unified profile of one person."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from cdp.profiles import Profile, identifiers_of, timeline_page
from cdp.timeline import build_query
from resolvers.context import Info
from resolvers.types.enums import Channel
from resolvers.types.event import EventConnection


@strawberry.type(description="An identifier a person owns, with when it was first and last seen.")
class Identifier:
    type: str
    value: str
    first_seen: datetime
    last_seen: datetime


@strawberry.type(description="One real person, stitched from every identifier they used.")
class Person:
    profile: strawberry.Private[Profile]

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

    @strawberry.field(description="Every identifier this person owns, by key.")
    async def identifiers(self, info: Info) -> list[Identifier]:
        docs = await identifiers_of(info.context.deps.stores, self.profile)
        return [
            Identifier(
                type=doc["type"],
                value=doc["value"],
                first_seen=doc["first_seen"],
                last_seen=doc["last_seen"],
            )
            for doc in docs
        ]

    @strawberry.field(description="Every interaction on every channel, newest first.")
    async def timeline(
        self,
        info: Info,
        first: int | None = 50,
        after: str | None = None,
        channels: list[Channel] | None = None,
        types: list[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> EventConnection:
        query = build_query(
            first=50 if first is None else first,
            after=after,
            channels=channels,
            types=types,
            since=since,
            until=until,
        )
        page = await timeline_page(info.context.deps.stores, self.profile, query)
        return EventConnection.of(page, self.profile, query)
