"""A page of persons with their identifiers costs the same few round trips at any size."""

from collections.abc import AsyncIterator

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from cdp.deps import Deps
from cdp.ingest import IngestLimits, track
from cdp.store import Stores
from cdp.store.database import Document, connect, ping
from tests.commands import Commands
from tests.resolvers.graphql import execute
from tests.stories import event

PAGE = "{ persons(first: 100) { edges { node { id mergedFrom identifiers { type value } } } } }"


@pytest.fixture
async def counted(
    mongodb_uri: str, db: AsyncDatabase[Document], limits: IngestLimits
) -> AsyncIterator[tuple[Deps, Commands]]:
    """Stores on the test database through a client that records every command."""
    listener = Commands()
    client = connect(mongodb_uri, event_listeners=[listener])
    watched = client[db.name]
    yield Deps(Stores.on(watched), limits, lambda: ping(watched)), listener
    await client.close()


async def add_persons(stores: Stores, limits: IngestLimits, numbers: range) -> None:
    for i in numbers:
        raw = event(
            "x", "WEB", [("email", f"p{i}@x.io"), ("cookie_id", f"c{i}")], at="2026-03-01T10:00:00Z"
        )
        await track(stores, [raw], limits)


async def round_trips(deps: Deps, commands: Commands, persons: int) -> int:
    commands.names.clear()
    data, errors = await execute(deps, PAGE)
    assert errors == []
    edges = data["persons"]["edges"]
    assert len(edges) == persons
    assert all(len(edge["node"]["identifiers"]) == 2 for edge in edges)
    return len(commands.names)


async def test_a_page_of_persons_with_identifiers_costs_the_same_at_5_and_at_50(
    counted: tuple[Deps, Commands], stores: Stores, limits: IngestLimits
) -> None:
    deps, commands = counted
    await add_persons(stores, limits, range(5))
    small = await round_trips(deps, commands, 5)
    await add_persons(stores, limits, range(5, 50))
    large = await round_trips(deps, commands, 50)
    assert small == large <= 4, commands.names  # persons, merges, identifiers
