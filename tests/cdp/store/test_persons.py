"""The person store's pending marks, written only where a person still lives."""

from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from cdp.store import Stores
from cdp.store.database import Document

CREATED = datetime(2026, 3, 1, 9, tzinfo=UTC)
LANDED = datetime(2026, 3, 1, 12, tzinfo=UTC)


async def test_live_persons_are_marked_in_one_go_and_a_merged_one_is_left_to_the_caller(
    stores: Stores, db: AsyncDatabase[Document]
) -> None:
    await db["persons"].insert_many(
        [
            {"_id": "p-ana", "created_at": CREATED, "updated_at": CREATED, "changes": 4},
            {"_id": "p-leo", "created_at": CREATED, "updated_at": CREATED, "unclaimed": True},
            {"_id": "p-ana-form", "created_at": CREATED, "merged_into": "p-ana"},
        ]
    )

    assert await stores.persons.mark_pending_if_live(["p-ana", "p-leo"], LANDED, updated=["p-leo"])
    ana, leo = [await db["persons"].find_one({"_id": p}) for p in ("p-ana", "p-leo")]
    assert ana is not None
    assert leo is not None
    assert (ana["changes"], ana["pending_since"], ana["updated_at"]) == (5, LANDED, CREATED)
    assert (leo["changes"], leo["pending_since"], leo["updated_at"]) == (1, LANDED, LANDED)
    assert "unclaimed" not in leo  # its call got as far as the mark

    told = await stores.persons.mark_pending_if_live(["p-ana", "p-ana-form"], LANDED)
    assert told is False  # the caller settles the tombstone and marks its survivor
    form = await db["persons"].find_one({"_id": "p-ana-form"})
    assert form is not None
    assert "pending_since" not in form
    assert "changes" not in form
    assert (await db["persons"].find_one({"_id": "p-ana"}) or {})["changes"] == 6


async def test_an_unknown_person_is_not_counted_as_live(stores: Stores) -> None:
    assert await stores.persons.mark_pending_if_live(["p-gone"], LANDED) is False
    assert await stores.persons.mark_pending_if_live([], LANDED) is True
