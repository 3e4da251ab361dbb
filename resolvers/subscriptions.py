"""Live updates over WebSocket (``graphql-transport-ws``): a person's new events, and
their profile as it is and after each change, until they are erased; fed by the
instance's one change stream
(:mod:`cdp.live`). The key is checked in ``connection_init`` and every subscription is
checked against its scopes like any query; masking applies to what it sends."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing, asynccontextmanager
from typing import TypeVar

import strawberry

from cdp.availability import as_unavailable
from cdp.errors import CdpError, InternalError, NotFound, ServiceUnavailable
from cdp.live import Change, Follower
from cdp.profile.find import Profile, find_person
from resolvers.context import Info
from resolvers.loaders import Loaders
from resolvers.types.event import Event
from resolvers.types.person import Person

SETTLE_SECONDS = 0.25  # a burst of profile writes (a refresh, a merge) is sent once
T = TypeVar("T")
log = logging.getLogger("cdp.graphql")


@asynccontextmanager
async def _following(info: Info, person_id: str) -> AsyncIterator[tuple[Profile, Follower]]:
    """The person as first found, and a follower of their family, open: every change
    written from now on reaches it."""
    profile = await find_person(info.context.deps.stores, person_id)
    if profile is None:
        raise NotFound(f"no person has the id {person_id}")
    live = info.context.deps.live
    if live is None:
        raise ServiceUnavailable("live updates are not running on this instance")
    async with live.follow(profile.family) as follower:
        yield profile, follower


async def _next_change(
    info: Info, follower: Follower, collection: str, person_id: str
) -> Change | None:
    """The next change of ``collection`` about the family, or None once ``person_id``
    is erased (their profile deleted: nothing more of theirs will come); the message it
    leads to is read with fresh loaders (a subscription lives as long as its
    connection)."""
    while True:
        change = await follower.next()
        if change.collection == "persons" and change.id == person_id and change.document is None:
            return None
        if change.collection == collection:
            _fresh(info)
            return change


async def _said(stream: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
    """``stream``'s items, and its errors as a query's are said: a bug raised from a
    subscription's stream reaches strawberry without a field's path, which reads as a
    request refused before it ran (``BAD_USER_INPUT``, the exception's text as the
    message: a missing key's name). It becomes ``INTERNAL_SERVER_ERROR`` with the
    generic sentence, logged with its stack; the errors the service means to say
    (:class:`cdp.errors.CdpError`, a database away) pass as they are."""
    async with aclosing(stream):
        try:
            async for item in stream:
                yield item
        except CdpError:
            raise
        except Exception as error:
            if as_unavailable(error) is not None:
                raise
            log.error("unexpected error in a subscription", exc_info=error)
            raise InternalError() from error


def _fresh(info: Info) -> None:
    """A subscription lives as long as its connection: each message is read anew."""
    info.context.loaders = Loaders(info.context.deps)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Every new event of this person (and of anyone merged into them while "
        "subscribed) as it lands, written by any instance. Ends when the person is erased."
    )
    async def person_events(
        self, info: Info, person_id: strawberry.ID
    ) -> AsyncGenerator[Event, None]:
        async for event in _said(_events(info, str(person_id))):
            yield event

    @strawberry.subscription(
        description="The profile as it is once the subscription is following (the sign "
        "that nothing written from then on is missed), then after each change: a merge, an "
        "unlink, traits, metrics, segments or consent; a burst of writes is sent once. Ends "
        "when the person is erased."
    )
    async def person_changed(
        self, info: Info, person_id: strawberry.ID
    ) -> AsyncGenerator[Person, None]:
        async for person in _said(_profiles(info, str(person_id))):
            yield person


async def _events(info: Info, person_id: str) -> AsyncGenerator[Event, None]:
    async with _following(info, person_id) as (profile, follower):
        while (change := await _next_change(info, follower, "events", profile.id)) is not None:
            if change.document is not None:
                yield Event.from_document(change.document)


async def _profiles(info: Info, person_id: str) -> AsyncGenerator[Person, None]:
    """The profile as it is once followed, then after each change, until it is erased.
    The first message is the only sign a client gets that the subscription is following
    (``graphql-transport-ws`` answers a subscribe with nothing until there is news):
    what the client reads after it and what the subscription sends leave no gap."""
    stores = info.context.deps.stores
    async with _following(info, person_id) as (profile, follower):
        current = await find_person(stores, profile.id)  # read once changes are followed
        while current is not None:
            yield Person(profile=current)
            if await _next_change(info, follower, "persons", profile.id) is None:
                return  # erased
            await asyncio.sleep(SETTLE_SECONDS)
            follower.skip_waiting()  # a burst of writes: the read below holds them all
            current = await find_person(stores, profile.id)
