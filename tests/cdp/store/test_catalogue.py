"""The offer catalogue cache: what it keeps, and when another writer's change shows."""

from dataclasses import dataclass
from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.catalogue import CachedCatalogue, CatalogueVersion
from cdp.store.database import Document
from cdp.store.offers import OfferStore
from cdp.store.products import ProductStore

NOW = datetime(2026, 11, 1, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Instance:
    """One process's view: its cache and the stores that write through it."""

    catalogue: CachedCatalogue
    products: ProductStore
    offers: OfferStore


def instance(db: AsyncDatabase[Document], clock: Clock) -> Instance:
    version = CatalogueVersion(db, check_seconds=1.0, clock=clock)
    catalogue = CachedCatalogue(db, version, stats_seconds=30.0, clock=clock)
    return Instance(catalogue, ProductStore(db, version), OfferStore(db, version, catalogue))


def tent(price: float) -> Document:
    return {"_id": "TENT-2P", "name": "Two-person tent", "category": "camping", "price": price}


async def test_a_change_through_this_instance_shows_at_once(db: AsyncDatabase[Document]) -> None:
    here = instance(db, Clock())
    await here.products.upsert([tent(180.0)])
    assert (await here.catalogue.products(["TENT-2P"]))["TENT-2P"]["price"] == 180.0
    await here.products.upsert([tent(150.0)])
    assert (await here.catalogue.products(["TENT-2P"]))["TENT-2P"]["price"] == 150.0


async def test_another_instances_change_shows_once_the_check_interval_has_passed(
    db: AsyncDatabase[Document],
) -> None:
    clock = Clock()
    here, there = instance(db, clock), instance(db, clock)
    await there.products.upsert([tent(180.0)])
    assert (await here.catalogue.products(["TENT-2P", "NOPE"])) == {"TENT-2P": tent(180.0)}

    await there.products.upsert([tent(150.0)])
    assert (await here.catalogue.products(["TENT-2P"]))["TENT-2P"]["price"] == 180.0  # cached
    clock.now += 1.0
    assert (await here.catalogue.products(["TENT-2P"]))["TENT-2P"]["price"] == 150.0


async def test_an_archived_offer_leaves_the_cached_list(db: AsyncDatabase[Document]) -> None:
    clock = Clock()
    here, there = instance(db, clock), instance(db, clock)
    await here.offers.insert({"_id": "spring", "name": "Spring sale"})
    assert [o["_id"] for o in await here.catalogue.active_offers()] == ["spring"]
    await there.offers.archive("spring", NOW)
    clock.now += 1.0
    assert await here.catalogue.active_offers() == []


async def test_rules_are_found_by_any_item_on_their_left_side(db: AsyncDatabase[Document]) -> None:
    here = instance(db, Clock())
    rule = {"_id": "r1", "antecedent": ["MAT-1", "TENT-2P"], "consequent": "STOVE-1"}
    await here.products.replace_rules(
        "purchase", "g1", [{**rule, "source": "purchase", "generation": "g1"}]
    )
    assert [r["_id"] for r in await here.catalogue.rules_from(["TENT-2P", "LAMP-1"])] == ["r1"]
    assert [r["_id"] for r in await here.catalogue.rules_from(["MAT-1", "TENT-2P"])] == ["r1"]
    await here.products.replace_rules("purchase", "g2", [])
    assert await here.catalogue.rules_from(["TENT-2P"]) == []


async def test_a_response_recorded_here_moves_the_counts_at_once_others_within_the_ttl(
    db: AsyncDatabase[Document],
) -> None:
    clock = Clock()
    here, there = instance(db, clock), instance(db, clock)
    keys = ["spring|Champions", "spring|*"]
    assert await here.catalogue.stats(keys) == {}
    response = {"person_id": "p1", "offer_id": "spring", "response": "SHOWN", "at": NOW}
    await here.offers.record_response(response, "Champions")
    assert (await here.catalogue.stats(keys))["spring|*"]["shown"] == 1

    await there.offers.record_response(response, "Champions")
    assert (await here.catalogue.stats(keys))["spring|*"]["shown"] == 1  # still reused
    clock.now += 30.0
    assert (await here.catalogue.stats(keys))["spring|*"]["shown"] == 2


async def test_a_categorys_best_sellers_come_first_and_a_catalogue_update_keeps_the_count(
    db: AsyncDatabase[Document],
) -> None:
    here = instance(db, Clock())
    await here.products.upsert(
        [{"_id": f"C{n:02d}", "name": f"Camping {n}", "category": "camping"} for n in range(5)]
    )
    await here.products.set_sales({"C03": 40, "C01": 7, "GONE": 3})
    await here.products.upsert(
        [{"_id": "C03", "name": "Camping 3, renamed", "category": "camping"}]
    )
    found = await here.catalogue.in_categories(["camping"], per_category=3)
    assert [(p["_id"], p["baskets"]) for p in found] == [("C03", 40), ("C01", 7), ("C00", 0)]
    assert found[0]["name"] == "Camping 3, renamed"
    assert "GONE" not in await here.catalogue.products(["GONE"])  # sales never make a product
