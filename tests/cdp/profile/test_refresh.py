"""What a refresh reads: a single event's person comes with their whole history in the
one joined read, and a history too long to join is read apart to the same metrics."""

from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from cdp.ingest import IngestLimits, land, track
from cdp.metrics.summary import BaseModels
from cdp.profile.compute import Evaluation
from cdp.profile.refresh import FamilyFacts, evaluate_in_slices, refresh_persons
from cdp.store import Stores
from cdp.store.database import Document
from tests.commands import listening
from tests.faults import refused_once
from tests.loop import a_call_waiting
from tests.stories import event

NOW = datetime(2026, 4, 2, 9, tzinfo=UTC)
JOINED_OVER_16_MB = 4568  # MongoDB's code when a $lookup's result passes 16 MB
LEO = [("email", "leo.brandt@example.com"), ("device_id", "ios-7f3a")]


def leo_shopping() -> list[dict[str, object]]:
    """Leo viewed a tent in the app, bought it on the web, then opened the receipt."""
    purchase = event("purchase", "WEB", LEO[:1], at="2026-04-01T10:05:00Z", message_id="o-1")
    purchase["properties"] = {"total": 249.0, "orderId": "o-1"}
    return [
        event("product_view", "MOBILE_APP", LEO, at="2026-04-01T09:55:00Z", message_id="v-1"),
        purchase,
        event("email_open", "EMAIL", LEO[:1], at="2026-04-01T11:00:00Z", message_id="r-1"),
    ]


async def test_a_single_persons_refresh_reads_their_history_in_the_joined_read(
    mongodb_uri: str, db: AsyncDatabase[Document], stores: Stores, limits: IngestLimits
) -> None:
    landed = await land(stores, leo_shopping(), limits, NOW)
    [leo] = landed.persons
    async with listening(mongodb_uri, db) as (counted, commands):
        await refresh_persons(counted, [leo], NOW)
    reads = [t for t in commands.targets if t.split()[0] in {"find", "aggregate"}]
    assert "find events" not in reads  # no history read of its own
    assert "aggregate persons" in reads
    metrics = (await db["persons"].find_one({"_id": leo}) or {})["metrics"]
    assert (metrics["orders"], metrics["revenue"], metrics["emails_opened"]) == (1, 249.0, 1)
    assert sorted(metrics["channels"]) == ["EMAIL", "MOBILE_APP", "WEB"]


async def test_a_history_too_long_to_join_is_read_apart_with_the_same_metrics(
    mongodb_uri: str, db: AsyncDatabase[Document], stores: Stores, limits: IngestLimits
) -> None:
    landed = await land(stores, leo_shopping(), limits, NOW)
    [leo] = landed.persons
    async with (
        listening(mongodb_uri, db) as (counted, commands),
        refused_once(db, "aggregate", JOINED_OVER_16_MB),
    ):
        await refresh_persons(counted, [leo], NOW)
    assert commands.targets.count("aggregate persons") == 2  # refused, then without events
    assert "find events" in commands.targets
    metrics = (await db["persons"].find_one({"_id": leo}) or {})["metrics"]
    assert (metrics["orders"], metrics["revenue"], metrics["emails_opened"]) == (1, 249.0, 1)


async def test_a_bulk_refresh_reads_each_collection_in_one_reply(
    mongodb_uri: str, db: AsyncDatabase[Document], stores: Stores, limits: IngestLimits
) -> None:
    """150 shoppers (a reply holds 101 documents unless asked for more): the persons,
    their histories, consents and memberships each come back whole, no getMore after."""
    shoppers = [
        event(
            "product_view",
            "WEB",
            [("email", f"shopper.{n}@example.com")],
            at="2026-04-01T10:00:00Z",
            message_id=f"view-{n}",
        )
        for n in range(150)
    ]
    landed = await land(stores, shoppers, limits, NOW)
    assert len(landed.persons) == 150
    async with listening(mongodb_uri, db) as (counted, commands):
        await refresh_persons(counted, landed.persons, NOW)
    assert "find events" in commands.targets  # read set-based, not joined
    assert not [name for name in commands.names if name == "getMore"]
    on_the_web = await db["persons"].count_documents({"metrics.channels": ["WEB"]})
    assert on_the_web == 150  # every shopper refreshed from the history read


async def test_a_single_event_whose_history_is_too_long_to_join_is_stitched_and_read_apart(
    mongodb_uri: str, db: AsyncDatabase[Document], stores: Stores, limits: IngestLimits
) -> None:
    """Leo's next event reads his holdings with his facts; refused as too large, the
    holdings are read alone, and his refresh reads his history apart."""
    landed = await land(stores, leo_shopping(), limits, NOW)
    [leo] = landed.persons
    await refresh_persons(stores, [leo], NOW)
    again = event("email_open", "EMAIL", LEO[:1], at="2026-04-01T12:00:00Z", message_id="r-2")
    async with (
        listening(mongodb_uri, db) as (counted, commands),
        refused_once(db, "aggregate", JOINED_OVER_16_MB),
    ):
        result = await track(counted, [again], limits, NOW)
    assert result.results[0].person_id == leo
    after = commands.targets[commands.targets.index("aggregate 1") + 1 :]  # refused
    assert "aggregate identifiers" in after  # the holdings alone
    assert "find events" in after  # the duplicate check apart
    assert "aggregate persons" in commands.targets  # the refresh read him after all
    metrics = (await db["persons"].find_one({"_id": leo}) or {})["metrics"]
    assert (metrics["orders"], metrics["emails_opened"]) == (1, 2)


async def test_a_bulk_refresh_lets_waiting_calls_run_while_it_evaluates() -> None:
    """The refresher's gathered refresh evaluates a couple of thousand persons: in one
    go it held the event loop for over 100 ms, and a live event or a profile read
    waiting on the loop waited as long. Slices of a hundred let them in between."""
    ids = [f"p{n}" for n in range(250)]
    persons: list[Document] = [{"_id": person, "traits": {"country": "DE"}} for person in ids]
    views: dict[str, list[Document]] = {
        person: [
            {
                "_id": f"v-{person}",
                "person_id": person,
                "type": "product_view",
                "channel": "WEB",
                "timestamp": NOW,
                "properties": {"sku": "tent-2p", "category": "tents"},
            }
        ]
        for person in ids
    }
    facts = FamilyFacts(
        events=views,
        consents={person: [] for person in ids},
        types={person: set() for person in ids},
    )
    async with a_call_waiting() as turns:
        metrics, wanted = await evaluate_in_slices(
            persons, facts, BaseModels(), Evaluation.of([]), NOW
        )
        ran_meanwhile = turns()
    assert ran_meanwhile >= 2  # between the three slices
    assert metrics.keys() == wanted.keys() == set(views)
    assert metrics["p7"]["channels"] == ["WEB"]
