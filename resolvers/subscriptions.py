"""Live updates over WebSocket (``graphql-transport-ws``): a person's new events and
their profile after each change, fed by the instance's one change stream
(:mod:`cdp.live`). The key is checked in ``connection_init`` and every subscription is
checked against its scopes like any query; masking applies to what it sends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import strawberry

from cdp.errors import NotFound, ServiceUnavailable
from cdp.live import LiveFeed
from cdp.profiles import Profile, find_person
from resolvers.context import Info
from resolvers.loaders import Loaders
from resolvers.types.event import Event
from resolvers.types.person import Person

SETTLE_SECONDS = 0.25  # a burst of profile writes (a refresh, a merge) is sent once


async def _subject(info: Info, person_id: str) -> tuple[LiveFeed, Profile]:
    profile = await find_person(info.context.deps.stores, person_id)
    if profile is None:
        raise NotFound(f"no person has the id {person_id}")
    live = info.context.deps.live
    if live is None:
        raise ServiceUnavailable("live updates are not running on this instance")
    return live, profile


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
        live, profile = await _subject(info, str(person_id))
        async with live.follow(profile.family) as follower:
            while True:
                change = await follower.next()
                if change.collection == "events" and change.document is not None:
                    _fresh(info)
                    yield Event.from_document(change.document)

    @strawberry.subscription(
        description="The profile after each change: a merge, an unlink, traits, metrics, "
        "segments or consent. Ends when the person is erased."
    )
    async def person_changed(
        self, info: Info, person_id: strawberry.ID
    ) -> AsyncGenerator[Person, None]:
        live, profile = await _subject(info, str(person_id))
        stores = info.context.deps.stores
        async with live.follow(profile.family) as follower:
            while True:
                change = await follower.next()
                if change.collection != "persons":
                    continue
                await asyncio.sleep(SETTLE_SECONDS)
                current = await find_person(stores, profile.id)
                if current is None:
                    return  # erased
                _fresh(info)
                yield Person(profile=current)
