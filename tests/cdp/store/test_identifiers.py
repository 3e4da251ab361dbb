"""What stitching plans with: owners, merged owners, holdings, however many keys."""

from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from cdp.store import Stores
from cdp.store.database import READ_CHUNK, Document

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


async def test_holdings_of_a_bulk_batchs_keys_count_an_owners_identifiers_whichever_list_read_them(
    stores: Stores, db: AsyncDatabase[Document]
) -> None:
    """A bulk batch asks about more keys than one read's ``$in`` list holds: a family
    tablet's customer, whose cookies fall in the first and last lists, is counted with
    all of them each time, and a merged owner is named whichever list found it."""
    customers = [f"P-{n:04d}" for n in range(2 * READ_CHUNK + 50)]
    await stores.persons.create([*customers, "P-old"], AT)
    await db["persons"].update_one({"_id": "P-old"}, {"$set": {"merged_into": customers[9]}})
    for n, person in enumerate(customers):
        await _claim(db, person, f"email:c{n}@example.com", f"cookie_id:ck-{n}")
    await _claim(db, customers[7], "cookie_id:tablet-a", "cookie_id:tablet-b")
    await _claim(db, "P-old", "email:old@example.com")
    asked = [
        "cookie_id:tablet-a",
        *(f"email:c{n}@example.com" for n in range(len(customers))),
        "email:old@example.com",
        "cookie_id:tablet-b",
    ]

    holdings = await stores.identifiers.holdings(asked)

    assert holdings.owned.keys() == set(asked)
    assert holdings.owned["cookie_id:tablet-b"].person_id == customers[7]
    assert holdings.counts[customers[7]] == {"email": 1, "cookie_id": 3}
    assert holdings.counts[customers[8]] == {"email": 1, "cookie_id": 1}
    assert holdings.merged == {"P-old"}
    counts = await stores.identifiers.counts(customers)
    assert len(counts) == len(customers)
    assert counts[customers[7]] == {"email": 1, "cookie_id": 3}
