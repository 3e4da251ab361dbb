"""Interest segments are recorded the first time a topic is seen, and only then."""

from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from cdp.segments.record import interest_document
from cdp.store.database import Document
from tests.commands import listening

NOW = datetime(2026, 12, 2, 9, tzinfo=UTC)


async def test_a_known_interest_costs_no_write_and_a_new_one_is_written_once(
    mongodb_uri: str, db: AsyncDatabase[Document]
) -> None:
    async with listening(mongodb_uri, db) as (stores, commands):
        await stores.segments.add_interests([interest_document("camping", NOW)])
        commands.targets.clear()
        # camping is known now; coffee is new
        await stores.segments.add_interests(
            [interest_document("camping", NOW), interest_document("coffee", NOW)]
        )
        inserts = [t for t in commands.targets if t.startswith("insert")]
        assert inserts == ["insert segments"]
        commands.targets.clear()
        await stores.segments.add_interests([interest_document("coffee", NOW)])
        assert [t for t in commands.targets if t.startswith("insert")] == []
    ids = [doc["_id"] async for doc in db["segments"].find().sort("_id", 1)]
    assert ids == ["interest:camping", "interest:coffee"]
