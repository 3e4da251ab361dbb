"""Inserts PyMongo sends again: the database stored the document, restarted before
answering and forgot it (the embedded server does not remember a retried write), so the
second attempt finds the document there. That is the insert's own document, and success;
another writer's document with the same name or id is still a refusal."""

from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from cdp.store import Stores
from cdp.store.database import Document

NOW = datetime(2026, 12, 3, 9, tzinfo=UTC)


def _segment(segment_id: str, name: str) -> Document:
    return {
        "_id": segment_id,
        "name": name,
        "name_key": name.casefold(),
        "description": "",
        "kind": "USER",
        "rule": {"trait": {"name": "country", "op": "EQ", "value": "FR"}},
        "created_at": NOW,
        "updated_at": NOW,
    }


async def test_a_segment_stored_by_its_own_first_attempt_is_created(
    stores: Stores, db: AsyncDatabase[Document]
) -> None:
    french = _segment("seg_5e1f0a9b2c3d4e5f", "French")
    await db["segments"].insert_one(dict(french))  # the attempt the database forgot

    assert await stores.segments.insert(french)
    assert not await stores.segments.insert(_segment("seg_00aa11bb22cc33dd", "french"))
    assert await db["segments"].count_documents({"name_key": "french"}) == 1


async def test_an_offer_stored_by_its_own_first_attempt_is_created(
    stores: Stores, db: AsyncDatabase[Document]
) -> None:
    tent = {"_id": "offer_tent_bundle", "title": "Tent and stove", "created_at": NOW}
    await db["offers"].insert_one(dict(tent))  # the attempt the database forgot

    assert await stores.offers.insert(tent)
    other = {"_id": "offer_tent_bundle", "title": "Tents at half price", "created_at": NOW}
    assert not await stores.offers.insert(other)  # another offer already has the id
    assert (await db["offers"].find_one({"_id": "offer_tent_bundle"}) or {})["title"] == (
        "Tent and stove"
    )


async def test_an_api_key_stored_by_its_own_first_attempt_is_created_once(
    stores: Stores, db: AsyncDatabase[Document]
) -> None:
    key = {"_id": "5b0e1c2d3e4f5a6b", "name": "shop", "hash": "h-5b0e", "scopes": ["events:write"]}
    await db["api_keys"].insert_one({**key, "created_at": NOW})  # the forgotten attempt

    await stores.keys.create("5b0e1c2d3e4f5a6b", "shop", "h-5b0e", ["events:write"], NOW)

    assert await db["api_keys"].count_documents({}) == 1


async def test_mined_rules_stored_by_their_own_first_attempt_are_all_there_once(
    stores: Stores, db: AsyncDatabase[Document]
) -> None:
    generation = "20261203090000000000-5b0e1c2d"
    rules = [
        {"_id": f"copurchase:{generation}:{rank}", "source": "copurchase", "rank": rank}
        | {"generation": generation, "antecedent": f"sku-{rank}"}
        for rank in range(4)
    ]
    await db["offer_rules"].insert_many([dict(rule) for rule in rules[:2]])  # half, forgotten

    await stores.products.replace_rules("copurchase", generation, rules)

    assert await db["offer_rules"].count_documents({"generation": generation}) == 4
