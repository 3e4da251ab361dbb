"""Live updates over WebSocket (``graphql-transport-ws``): a person's new events and
their profile after each change, fed by the instance's one change stream
(:mod:`cdp.live`). The key is checked in ``connection_init`` and every subscription is
checked against its scopes like any query; masking applies to what it sends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import strawberry

from cdp.errors import NotFound, ServiceUnavailable
from cdp.live import Change
from cdp.profile.find import Profile, find_person
from resolvers.context import Info
from resolvers.loaders import Loaders
from resolvers.types.event import Event
from resolvers.types.person import Person

SETTLE_SECONDS = 0.25  # a burst of profile writes (a refresh, a merge) is sent once


async def _changes(
    info: Info, person_id: str, collection: str
) -> AsyncGenerator[tuple[Profile, Change], None]:
    """The person as first found, and each change of ``collection`` about their family,
    until the subscriber goes; each message is then read with fresh loaders."""
    profile = await find_person(info.context.deps.stores, person_id)
    if profile is None:
        raise NotFound(f"no person has the id {person_id}")
    live = info.context.deps.live
    if live is None:
        raise ServiceUnavailable("live updates are not running on this instance")
    async with live.follow(profile.family) as follower:
        while True:
            change = await follower.next()
            if change.collection == collection:
                _fresh(info)
                yield profile, change


def _fresh(info: Info) -> None:
    """A subscription lives as long as its connection: each message is read anew."""
    info.context.loaders = Loaders(info.context.deps)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Every new event of this person (and of anyone merged into them while "
        "subscribed) as it lands, written by any instance."
    )
    async def person_events(
        self, info: Info, person_id: strawberry.ID
    ) -> AsyncGenerator[Event, None]:
        async for _, change in _changes(info, str(person_id), "events"):
            if change.document is not None:
                yield Event.from_document(change.document)

    @strawberry.subscription(
        description="The profile after each change: a merge, an unlink, traits, metrics, "
        "segments or consent. Ends when the person is erased."
    )
    async def person_changed(
        self, info: Info, person_id: strawberry.ID
    ) -> AsyncGenerator[Person, None]:
        stores = info.context.deps.stores
        async for profile, _ in _changes(info, str(person_id), "persons"):
            await asyncio.sleep(SETTLE_SECONDS)  # a burst of writes is sent once
            current = await find_person(stores, profile.id)
            if current is None:
                return  # erased
            yield Person(profile=current)
