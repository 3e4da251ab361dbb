"""What stitching plans with, read in one command: owners, merged owners, holdings."""

from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from cdp.store import Stores
from cdp.store.database import Document

AT = datetime(2026, 5, 4, 12, tzinfo=UTC)


async def _claim(db: AsyncDatabase[Document], person: str, *keys: str) -> None:
    await db["identifiers"].insert_many(
        [
            {
                "_id": key,
                "person_id": person,
                "type": key.split(":")[0],
                "value": key.split(":", 1)[1],
                "first_seen": AT,
                "last_seen": AT,
            }
            for key in keys
        ]
    )


async def test_holdings_name_each_owner_what_it_holds_and_who_is_merged_away(
    stores: Stores, db: AsyncDatabase[Document]
) -> None:
    """Ana holds an email, a cookie and a phone; Ben's tablet id is still on the person
    merged into Ben's (a merge cut short), so that owner is named as merged."""
    await stores.persons.create(["P-ana", "P-ben", "P-ben-old"], AT)
    await db["persons"].update_one({"_id": "P-ben-old"}, {"$set": {"merged_into": "P-ben"}})
    await _claim(db, "P-ana", "email:ana@example.com", "cookie_id:ck-1", "phone:+447700900123")
    await _claim(db, "P-ben", "email:ben@example.com")
    await _claim(db, "P-ben-old", "device_id:tablet-7")

    asked = ["email:ana@example.com", "cookie_id:ck-1", "device_id:tablet-7", "email:x@y.io"]
    holdings = await stores.identifiers.holdings(asked)

    assert {key: owned.person_id for key, owned in holdings.owned.items()} == {
        "email:ana@example.com": "P-ana",
        "cookie_id:ck-1": "P-ana",
        "device_id:tablet-7": "P-ben-old",
    }
    assert holdings.merged == {"P-ben-old"}
    assert holdings.counts["P-ana"] == {"email": 1, "cookie_id": 1, "phone": 1}
    assert holdings.counts["P-ben-old"] == {"device_id": 1}
    assert await stores.identifiers.holdings([]) == type(holdings)({}, set(), {})
