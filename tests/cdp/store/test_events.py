"""Which stored events are unfinished: those a landing still open lists, unless the
landing is the asking call's own, opened beside the question."""

from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from cdp.store import Stores
from cdp.store.database import Document
from cdp.store.events import new_landing

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
