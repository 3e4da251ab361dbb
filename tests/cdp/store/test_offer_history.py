"""A profile's copy of its offer responses, when several merged persons bring theirs."""

from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from cdp.store import Stores
from cdp.store.database import Document

AT = datetime(2026, 4, 2, 9, tzinfo=UTC)


async def test_two_absorbed_persons_feeding_one_survivor_keep_both_histories(
    stores: Stores, db: AsyncDatabase[Document]
) -> None:
    await stores.persons.create(["P-survivor"], AT)
    shown = {"offer_id": "product:STOVE-1", "response": "SHOWN", "at": AT}
    declined = {"offer_id": "lifecycle:win_back", "response": "DECLINED", "at": AT}
    await stores.persons.remember_offer_responses_many(
        [("P-survivor", [shown]), ("P-survivor", [declined])]  # from two tombstones
    )
    profile = await db["persons"].find_one({"_id": "P-survivor"})
    assert profile is not None
    assert profile["offer_history"] == [shown, declined]
