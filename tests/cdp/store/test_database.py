"""Writes that must survive PyMongo sending them twice across a database restart; reads
by long lists of ids, cut into short ``$in`` lists without losing or repeating anything."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from pymongo import monitoring
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from cdp import bootstrap
from cdp.store.database import READ_CHUNK, Document, find_in, insert_fresh


async def test_a_fresh_document_written_twice_is_written_once(
    db: AsyncDatabase[Document],
) -> None:
    """The server stored the landing, restarted before answering, and PyMongo sent the
    insert again: the second attempt finds its own document, which is success."""
    landing = {"_id": "3af559a7768744ca", "events": ["order-7-3"], "received_at": None}
    await insert_fresh(db["landings"], [landing])
    await insert_fresh(db["landings"], [dict(landing)])  # the retried write
    assert await db["landings"].count_documents({}) == 1


async def test_other_write_errors_still_raise(db: AsyncDatabase[Document]) -> None:
    await db.create_collection("strict", validator={"$jsonSchema": {"required": ["events"]}})
    with pytest.raises(BulkWriteError):  # a refused document must not pass silently
        await insert_fresh(db["strict"], [{"_id": "x"}])
    assert await db["strict"].count_documents({}) == 0


class InLists(monitoring.CommandListener):
    """The length of the ``$in`` list of every find sent."""

    def __init__(self) -> None:
        self.lengths: list[int] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "find":
            for condition in event.command.get("filter", {}).values():
                if isinstance(condition, dict) and "$in" in condition:
                    self.lengths.append(len(condition["$in"]))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
async def watched(
    db: AsyncDatabase[Document], mongodb_uri: str
) -> AsyncIterator[tuple[AsyncDatabase[Document], InLists]]:
    lists = InLists()
    async with bootstrap.database(mongodb_uri, db.name, [lists]) as same:
        yield same, lists


async def test_a_refresh_sized_read_of_histories_goes_in_short_lists_each_event_once(
    watched: tuple[AsyncDatabase[Document], InLists],
) -> None:
    """The embedded Rust server checks each document it fetches against the whole
    ``$in`` list: a refresh's read of 2,000 persons' histories cost it three times what
    reads of a couple of hundred ids each do. Cut, nothing may go missing or come twice."""
    db, lists = watched
    seen = datetime(2026, 3, 1, 9, tzinfo=UTC)
    customers = [f"p-{n:04d}" for n in range(2 * READ_CHUNK + 50)]
    # every customer visited the site and opened an email; every third also bought
    events = [
        {"_id": f"{person}-{kind}", "person_id": person, "type": kind, "timestamp": seen}
        for n, person in enumerate(customers)
        for kind in ("page_view", "email_open", "purchase")
        if kind != "purchase" or n % 3 == 0
    ]
    await db["events"].insert_many(events)
    asked = [*customers, "p-erased-1", "p-erased-2"]  # two without any event left

    found = [doc["_id"] async for doc in find_in(db["events"], "person_id", asked)]

    assert sorted(found) == sorted(doc["_id"] for doc in events)
    assert len(found) == len(set(found))
    assert sorted(lists.lengths) == [52, READ_CHUNK, READ_CHUNK]
