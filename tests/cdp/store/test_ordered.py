"""Several collections' writes in one command, applied in order, stopped by a duplicate."""

from datetime import UTC, datetime

import pytest
from pymongo import InsertOne, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from cdp.store.database import Document
from cdp.store.ordered import OrderedWrites

LANDED = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _event(db: AsyncDatabase[Document], message_id: str) -> InsertOne[Document]:
    document = {"_id": message_id, "person_id": "p-ana", "type": "page_view"}
    return InsertOne(document, namespace=f"{db.name}.events")


def _mark(db: AsyncDatabase[Document]) -> UpdateOne:
    return UpdateOne(
        {"_id": "p-ana", "merged_into": None},
        {"$inc": {"changes": 1}, "$min": {"pending_since": LANDED}},
        namespace=f"{db.name}.persons",
    )


async def test_an_event_and_its_mark_go_in_one_command_in_order(
    db: AsyncDatabase[Document],
) -> None:
    await db["persons"].insert_one({"_id": "p-ana", "changes": 0})
    ordered = OrderedWrites(db)
    assert await ordered.available()  # the embedded server speaks MongoDB 8.2

    applied = await ordered.apply([_event(db, "pv-1"), _mark(db)])

    assert (applied.stopped_at, applied.matched) == (None, {1: 1})
    assert await db["events"].count_documents({"_id": "pv-1"}) == 1
    assert (await db["persons"].find_one({"_id": "p-ana"}) or {})["changes"] == 1


async def test_a_duplicate_stops_the_writes_after_it_and_keeps_those_before(
    db: AsyncDatabase[Document],
) -> None:
    await db["persons"].insert_one({"_id": "p-ana", "changes": 0})
    await db["events"].insert_one({"_id": "pv-1", "person_id": "p-ana"})  # another call's

    applied = await OrderedWrites(db).apply([_event(db, "pv-2"), _event(db, "pv-1"), _mark(db)])

    assert applied.stopped_at == 1
    assert await db["events"].count_documents({}) == 2
    assert (await db["persons"].find_one({"_id": "p-ana"}) or {})["changes"] == 0  # not marked


async def test_any_other_failure_is_raised(db: AsyncDatabase[Document]) -> None:
    broken = UpdateOne(
        {"_id": "p-ana"}, {"$inc": {"changes": "one"}}, namespace=f"{db.name}.persons"
    )
    await db["persons"].insert_one({"_id": "p-ana", "changes": 0})
    with pytest.raises(PyMongoError):
        await OrderedWrites(db).apply([broken])
