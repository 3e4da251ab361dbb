"""Every list costs the same few round trips at any size: each relation a row can ask
for is read once per page by a per-request loader (resolvers/loaders.py)."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from cdp.deps import Deps
from cdp.ingest import IngestLimits, track
from cdp.privacy.consent_records import set_consent
from cdp.records import Channel
from cdp.segments.manage import create_segment
from cdp.store import Stores
from cdp.store.database import Document, connect, ping
from tests.commands import Commands
from tests.resolvers.graphql import execute
from tests.stories import event

AT = "2026-03-01T10:00:00Z"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PERSONS = """{ persons(first: 100) { edges { node {
  id mergedFrom identifiers { type value }
  segments { enteredAt segment { id name size } }
  consents { purpose channel granted }
} } } }"""
SEGMENTS = "{ segments { id name size share significant significance { reason } } }"
CONFLICTS = """{ identityConflicts(first: 50) { totalCount edges { node {
  identifier person { id identifiers { value } } other { id segments { segment { id } } }
} } } }"""


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


async def add_customers(stores: Stores, limits: IngestLimits, numbers: range) -> None:
    """Web visitors who bought in the shop; every third agreed to marketing by email."""
    for i in numbers:
        visit = event("page_view", "WEB", [("email", f"p{i}@x.io"), ("cookie_id", f"c{i}")], at=AT)
        sale = event("purchase", "STORE", [("email", f"p{i}@x.io")], at=AT)
        sale["properties"] = {"total": 20 + i}
        result = await track(stores, [visit, sale], limits)
        person = result.results[0].person_id
        assert person is not None
        if i % 3 == 0:
            await set_consent(stores, person, "marketing", Channel.EMAIL, True, "web form", NOW)


async def round_trips(deps: Deps, commands: Commands, query: str) -> tuple[int, object]:
    commands.names.clear()
    data, errors = await execute(deps, query)
    assert errors == []
    return len(commands.names), data


async def test_a_page_of_persons_with_identifiers_segments_and_consents_costs_the_same_at_5_and_50(
    counted: tuple[Deps, Commands], stores: Stores, limits: IngestLimits
) -> None:
    deps, commands = counted
    await add_customers(stores, limits, range(5))
    small, data = await round_trips(deps, commands, PERSONS)
    assert len(data["persons"]["edges"]) == 5  # type: ignore[index]
    await add_customers(stores, limits, range(5, 50))
    large, data = await round_trips(deps, commands, PERSONS)
    nodes = [edge["node"] for edge in data["persons"]["edges"]]  # type: ignore[index]
    assert len(nodes) == 50
    assert all(len(node["identifiers"]) == 2 for node in nodes)
    assert all(node["segments"] for node in nodes)  # buyers are in segments
    assert sum(1 for node in nodes if node["consents"]) == 17  # every third of 50
    # persons, merges, identifiers, memberships, segment sizes, consents (and the base)
    assert small == large <= 8, commands.targets


async def test_the_segment_catalogue_with_sizes_costs_the_same_for_2_and_12_user_segments(
    counted: tuple[Deps, Commands], stores: Stores, limits: IngestLimits
) -> None:
    deps, commands = counted
    await add_customers(stores, limits, range(6))

    async def define(numbers: range) -> None:
        for n in numbers:
            rule = {"trait": {"name": "tier", "op": "EQ", "value": f"t{n}"}}
            await create_segment(deps.stores, f"Tier {n}", "by loyalty tier", rule, NOW)

    await define(range(2))
    few, data = await round_trips(deps, commands, SEGMENTS)
    await define(range(2, 12))
    many, data = await round_trips(deps, commands, SEGMENTS)
    segments = data["segments"]  # type: ignore[index]
    assert sum(1 for s in segments if s["name"].startswith("Tier ")) == 12
    assert few == many <= 4, commands.targets  # stored segments, sizes, live persons


async def test_conflicts_with_both_persons_cost_the_same_for_2_and_8(
    counted: tuple[Deps, Commands], stores: Stores, limits: IngestLimits
) -> None:
    deps, commands = counted

    async def refused(numbers: range) -> None:
        """Each shop till swipes two loyalty cards in one sale: a customer number is
        one person's alone, so the rules refuse the link and record a conflict."""
        for n in numbers:
            first = event("purchase", "STORE", [("customer_id", f"A{n}")], at=AT)
            both = event(
                "purchase", "STORE", [("customer_id", f"A{n}"), ("customer_id", f"B{n}")], at=AT
            )
            await track(stores, [first], limits)
            await track(
                stores, [event("visit", "STORE", [("customer_id", f"B{n}")], at=AT)], limits
            )
            await track(stores, [both], limits)

    await refused(range(2))
    few, data = await round_trips(deps, commands, CONFLICTS)
    assert data["identityConflicts"]["totalCount"] == 2  # type: ignore[index]
    await refused(range(2, 8))
    many, data = await round_trips(deps, commands, CONFLICTS)
    edges = data["identityConflicts"]["edges"]  # type: ignore[index]
    assert len(edges) == 8
    assert all(e["node"]["person"]["id"] != e["node"]["other"]["id"] for e in edges)
    assert few == many, commands.targets


PROFILE = """query Read($value: String!) { personByIdentifier(type: "email", value: $value) {
  id mergedFrom identifiers { type value } segments { segment { id } }
  timeline(first: 10) { totalCount edges { node { id } } }
} }"""


async def test_a_profile_screen_costs_three_reads_its_identifiers_and_segments_come_with_it(
    counted: tuple[Deps, Commands], stores: Stores, limits: IngestLimits
) -> None:
    """The person, their identifiers and segments in one read; the timeline page and
    its count are the other two, as the raw driver needs for the same screen."""
    deps, commands = counted
    await add_customers(stores, limits, range(3))
    commands.names.clear()
    data, errors = await execute(deps, PROFILE, value="P1@x.io")
    assert errors == []
    person = data["personByIdentifier"]
    assert sorted(i["type"] for i in person["identifiers"]) == ["cookie_id", "email"]
    assert person["segments"]  # a buyer
    assert person["timeline"]["totalCount"] >= 2  # the visit, the sale, segment entries
    assert len(commands.names) == 3, commands.targets


async def test_a_family_read_by_an_identifier_of_the_absorbed_person_has_everyones_facts(
    counted: tuple[Deps, Commands], stores: Stores, limits: IngestLimits
) -> None:
    """A cookie seen first on its own, then with an email: the email's person absorbed
    the cookie's; read through either identifier it is one family with both."""
    deps, _ = counted
    await track(stores, [event("page_view", "WEB", [("cookie_id", "ck-9")], at=AT)], limits)
    await track(stores, [event("page_view", "WEB", [("email", "jo@x.io")], at=AT)], limits)
    both = event("purchase", "WEB", [("email", "jo@x.io"), ("cookie_id", "ck-9")], at=AT)
    await track(stores, [both], limits)
    data, errors = await execute(deps, PROFILE, value="jo@x.io")
    assert errors == []
    person = data["personByIdentifier"]
    assert len(person["mergedFrom"]) == 1
    assert sorted(i["value"] for i in person["identifiers"]) == ["ck-9", "jo@x.io"]
