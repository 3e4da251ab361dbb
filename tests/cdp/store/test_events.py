"""Which stored events are unfinished: those a landing still open lists, unless the
landing is the asking call's own, opened beside the question; persons' histories read
by lists of ids the server answers cheaply."""

from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from cdp.store import Stores
from cdp.store.database import READ_CHUNK, Document
from cdp.store.events import new_landing
from tests.commands import listening

NOW = datetime(2026, 12, 2, 9, tzinfo=UTC)


async def test_only_another_calls_open_landing_makes_a_stored_event_unfinished(
    stores: Stores, db: AsyncDatabase[Document]
) -> None:
    await db["events"].insert_one({"_id": "order-7", "person_id": "P-ada", "timestamp": NOW})
    mine, dead = new_landing(), new_landing()
    await stores.events.open_landing(mine, ["order-7", "order-8"], NOW)
    assert await stores.events.existing(["order-7", "order-8"], mine) == (
        {"order-7": "P-ada"},
        set(),
    )
    await stores.events.open_landing(dead, ["order-7"], NOW)  # a call that died after storing it
    found, unfinished = await stores.events.existing(["order-7", "order-8"], mine)
    assert (found, unfinished) == ({"order-7": "P-ada"}, {"order-7"})


async def test_a_refresh_sized_read_of_histories_goes_in_short_lists_each_event_once(
    db: AsyncDatabase[Document], mongodb_uri: str
) -> None:
    """The embedded Rust server checks each document it fetches against the whole
    ``$in`` list: the refresher's read of 2,000 persons' histories cost it three times
    what reads of a couple of hundred ids each do. Cut, no event may go missing or come
    twice, and each person's history stays oldest first."""
    customers = [f"P-{n:04d}" for n in range(2 * READ_CHUNK + 50)]
    # every customer visited the site, then opened an email; every third then bought
    kinds = ("page_view", "email_open", "purchase")
    events = [
        {"_id": f"{person}-{kind}", "person_id": person, "type": kind, "channel": "WEB"}
        | {"timestamp": NOW.replace(hour=9 + step)}
        for n, person in enumerate(customers)
        for step, kind in enumerate(kinds)
        if kind != "purchase" or n % 3 == 0
    ]
    await db["events"].insert_many(events)
    asked = [*customers, "P-erased-1", "P-erased-2"]  # two without any event left

    async with listening(mongodb_uri, db) as (stores, commands):
        histories = await stores.events.histories(asked)

    assert histories.keys() == set(customers)
    assert [doc["type"] for doc in histories[customers[3]]] == list(kinds)
    assert [doc["type"] for doc in histories[customers[4]]] == list(kinds[:2])
    assert sum(len(history) for history in histories.values()) == len(events)
    lists = [len(sent["filter"]["person_id"]["$in"]) for sent in commands.sent if "find" in sent]
    assert sorted(lists) == [52, READ_CHUNK, READ_CHUNK]
