"""Finding segments by id: from what this instance keeps, and a segment another instance
made a moment ago all the same."""

from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from cdp.segments.lookup import segments_by_id
from cdp.segments.record import interest_document
from cdp.store import Stores
from cdp.store.database import Document

NOW = datetime(2026, 12, 2, tzinfo=UTC)


async def test_a_segment_made_by_another_instance_is_found_before_this_one_looks_again(
    db: AsyncDatabase[Document],
) -> None:
    here = Stores.on(db, remember_seconds=3600.0)  # keeps what it read for an hour
    there = Stores.on(db, remember_seconds=3600.0)
    await there.segments.add_interests([interest_document("camping", NOW)])
    assert [doc["_id"] for doc in await here.segments.all()] == ["interest:camping"]
    await there.segments.add_interests([interest_document("coffee", NOW)])

    found = await segments_by_id(here, ["interest:camping", "interest:coffee", "lapsed_90d"])
    assert {s.id: s.name for s in found.values()} == {
        "interest:camping": "Interested in camping",
        "interest:coffee": "Interested in coffee",
        "lapsed_90d": "Lapsed for 90 days",
    }
    assert await segments_by_id(here, ["interest:gone"]) == {}
