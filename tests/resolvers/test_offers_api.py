"""Next-best-offer over GraphQL, from catalogue and baskets to a reason read aloud."""

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from cdp.deps import Deps
from cdp.ingest import track
from cdp.offers.policy import OfferPolicy
from cdp.store.database import Document
from tests.resolvers.graphql import execute, operation

NOW = datetime.now(UTC)
CATALOGUE = [
    {
        "sku": "TENT-2P",
        "name": "Two-person tent",
        "category": "camping",
        "price": 180.0,
        "stock": 40,
    },
    {"sku": "MAT-1", "name": "Sleeping mat", "category": "camping", "price": 35.0, "stock": 80},
    {"sku": "STOVE-1", "name": "Camping stove", "category": "camping", "price": 60.0, "stock": 25},
    {"sku": "LAMP-1", "name": "Head lamp", "category": "camping", "price": 25.0, "stock": 2},
    {"sku": "TEA-1", "name": "Green tea", "category": "tea", "price": 6.0},
]


def order(customer: str, skus: list[str], days_ago: int, n: int) -> dict[str, Any]:
    return {
        "messageId": f"{customer}-o{n}",
        "type": "purchase",
        "channel": "WEB",
        "identifiers": [{"type": "email", "value": f"{customer}@example.com"}],
        "timestamp": (NOW - timedelta(days=days_ago)).isoformat(),
        "properties": {
            "orderId": f"{customer}-o{n}",
            "total": 50.0,
            "items": [
                {"sku": s, "category": "camping", "price": 10.0, "quantity": 1} for s in skus
            ],
        },
    }


@pytest.fixture
def quiet(deps: Deps) -> Deps:
    """No exploration, so every answer is the top of the ranking."""
    return dataclasses.replace(deps, offers=OfferPolicy(exploration=0.0, min_support_count=5))


async def lea_after_baskets(deps: Deps) -> str:
    _, errors = await execute(deps, operation("UpsertProducts"), products=CATALOGUE)
    assert errors == []
    baskets = [order(f"c{i}", ["TENT-2P", "MAT-1", "STOVE-1"], 20 + i, 0) for i in range(16)]
    baskets += [order(f"d{i}", ["TENT-2P", "MAT-1"], 30 + i, 0) for i in range(4)]
    baskets += [order(f"t{i}", ["TEA-1"], 5, 0) for i in range(10)]
    baskets.append(order("lea", ["TENT-2P", "MAT-1"], 3, 1))
    results = await track(deps.stores, baskets, deps.limits)
    lea = results.results[-1].person_id
    assert lea is not None
    _, errors = await execute(
        deps,
        operation("SetConsent"),
        personId=lea,
        purpose="marketing",
        channel="EMAIL",
        granted=True,
        source="checkout",
    )
    assert errors == []
    report, errors = await execute(
        deps, operation("RebuildOfferModels"), minSupportCount=5, minConfidence=0.5
    )
    assert errors == []
    assert report["rebuildOfferModels"]["baskets"] == 31
    return lea


async def offers_for(deps: Deps, person: str, **variables: Any) -> list[dict[str, Any]]:
    data, errors = await execute(deps, operation("NextBestOffers"), id=person, **variables)
    assert errors == []
    offers: list[dict[str, Any]] = data["person"]["nextBestOffers"]
    return offers


async def test_people_who_bought_tent_and_mat_are_offered_the_stove_with_the_numbers(
    quiet: Deps,
) -> None:
    lea = await lea_after_baskets(quiet)
    [first, *_] = await offers_for(quiet, lea)
    assert first["offer"] == {"id": "product:STOVE-1", "name": "Camping stove", "kind": "PRODUCT"}
    assert first["product"] == {"sku": "STOVE-1", "name": "Camping stove"}
    assert (
        first["reason"] == "76% of the 21 orders with MAT-1 and TENT-2P also had STOVE-1."
    )  # 16 of 21, hers included
    assert first["evidence"]["count"] == 16
    assert first["channel"] == "EMAIL"  # the only consented channel
    # the rule's 76%, shrunk toward the 5% base rate as if 20 more baskets had it
    assert first["probability"] == pytest.approx((16 + 1) / (21 + 20), abs=1e-4)
    assert first["score"] == pytest.approx(60.0 * first["probability"], abs=0.01)
    assert first["evidence"]["prior"]["basis"] == (
        "76% of 21 baskets with MAT-1 and TENT-2P also had STOVE-1"
    )

    rules, errors = await execute(quiet, operation("CoPurchaseRules"), first=2, minLift=1.0)
    assert errors == []
    assert len(rules["coPurchaseRules"]["edges"]) == 2
    assert rules["coPurchaseRules"]["pageInfo"]["hasNextPage"] is True


async def test_explain_lists_what_was_left_out_and_a_decline_rests_the_offer(quiet: Deps) -> None:
    lea = await lea_after_baskets(quiet)
    explained = await offers_for(quiet, lea, explain=True, limit=5)
    left_out = {o["offer"]["id"]: o["suppressed"] for o in explained if o["suppressed"]}
    assert left_out["product:TENT-2P"] == "already bought TENT-2P"

    _, errors = await execute(
        quiet,
        operation("RecordOfferResponse"),
        personId=lea,
        offerId="product:STOVE-1",
        response="DECLINED",
        channel="EMAIL",
    )
    assert errors == []
    again = await offers_for(quiet, lea, explain=True, limit=5)
    assert "product:STOVE-1" not in [o["offer"]["id"] for o in again if not o["suppressed"]]
    stove = next(o for o in again if o["offer"]["id"] == "product:STOVE-1")
    assert stove["suppressed"].startswith("declined on")


async def test_a_wishlist_item_running_low_triggers_an_alert(quiet: Deps) -> None:
    lea = await lea_after_baskets(quiet)
    wish = {
        "type": "wishlist_add",
        "channel": "WEB",
        "identifiers": [{"type": "email", "value": "lea@example.com"}],
        "properties": {"sku": "LAMP-1", "category": "camping"},
    }
    await track(quiet.stores, [wish], quiet.limits)
    offered = await offers_for(quiet, lea, limit=10)
    # The lamp is offered once: as the co-purchase it also is (53% of baskets beat the
    # 20% a low-stock alert starts from), with the alert's reason carried along.
    lamps = [o for o in offered if o["offer"]["id"].endswith("LAMP-1")]
    assert [o["offer"]["id"] for o in lamps] == ["product:LAMP-1"]
    assert lamps[0]["evidence"]["alsoBecause"] == ["Head lamp on their wishlist has only 2 left."]


async def test_an_explicit_offer_with_a_rule_and_a_cap(quiet: Deps) -> None:
    lea = await lea_after_baskets(quiet)
    made, errors = await execute(
        quiet,
        operation("CreateOffer"),
        input={
            "id": "camp-club",
            "name": "Camping club",
            "kind": "SERVICE",
            "value": 500.0,
            "eligibility": {"rule": {"metric": {"metric": "ORDERS", "op": "GTE", "value": 1}}},
            "channels": ["EMAIL"],
            "capPerPerson": 1,
            "capPeriodDays": 7,
        },
    )
    assert errors == []
    assert made["createOffer"]["rule"] == {"metric": {"metric": "ORDERS", "op": "GTE", "value": 1}}
    [first, *_] = await offers_for(quiet, lea)
    assert first["offer"]["id"] == "camp-club"  # 5% of 500 beats 41% of 60
    assert first["reason"] == "Camping club: orders at least 1."

    await execute(
        quiet, operation("RecordOfferResponse"), personId=lea, offerId="camp-club", response="SHOWN"
    )
    capped = await offers_for(quiet, lea, explain=True, limit=5)
    club = next(o for o in capped if o["offer"]["id"] == "camp-club")
    assert club["suppressed"] == "shown 1 times in 7 days (cap 1)"

    _, errors = await execute(
        quiet,
        operation("UpdateOffer"),
        id="camp-club",
        input={"name": "Camping club", "kind": "SERVICE", "value": 400.0},
    )
    assert errors == []
    listed, _ = await execute(quiet, operation("Offers"))
    assert [o["value"] for o in listed["offers"]] == [400.0]
    await execute(quiet, operation("ArchiveOffer"), id="camp-club")
    listed, _ = await execute(quiet, operation("Offers"))
    assert listed["offers"] == []


async def test_bad_catalogue_and_offer_input_is_refused_with_the_field(quiet: Deps) -> None:
    bad = [*CATALOGUE[:2], {"sku": "X-1", "name": "Broken", "price": -3.0}]
    _, errors = await execute(quiet, operation("UpsertProducts"), products=bad)
    assert errors[0]["message"] == "products[2].price: must be a number of 0 or more"
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    listed, _ = await execute(quiet, operation("CoPurchaseRules"))
    assert listed["coPurchaseRules"]["edges"] == []
    _, errors = await execute(
        quiet,
        operation("CreateOffer"),
        input={
            "name": "Ghost",
            "kind": "DISCOUNT",
            "value": 5.0,
            "eligibility": {"segments": ["no_such_segment"]},
        },
    )
    assert errors[0]["message"] == "segments[0]: no segment has the id no_such_segment"


async def test_erasing_a_person_removes_their_offer_responses(quiet: Deps) -> None:
    lea = await lea_after_baskets(quiet)
    await execute(
        quiet,
        operation("RecordOfferResponse"),
        personId=lea,
        offerId="product:STOVE-1",
        response="SHOWN",
    )
    assert await quiet.stores.offers.responses_of([lea], NOW - timedelta(days=1)) != []
    _, errors = await execute(quiet, operation("ErasePerson"), id=lea, reason="GDPR request")
    assert errors == []
    assert await quiet.stores.offers.responses_of([lea], NOW - timedelta(days=1)) == []


async def test_someone_who_only_browsed_gets_what_similar_viewers_also_viewed(quiet: Deps) -> None:
    await execute(quiet, operation("UpsertProducts"), products=CATALOGUE)

    def view(person: str, sku: str) -> dict[str, Any]:
        return {
            "type": "product_view",
            "channel": "MOBILE_APP",
            "identifiers": [{"type": "cookie_id", "value": person}],
            "properties": {"sku": sku, "category": "camping"},
        }

    views = [view(f"v{i}", sku) for i in range(8) for sku in ("TENT-2P", "LAMP-1")]
    views += [view(f"w{i}", "TENT-2P") for i in range(2)]
    views.append(view("newcomer", "TENT-2P"))
    result = await track(quiet.stores, views, quiet.limits)
    newcomer = result.results[-1].person_id
    assert newcomer is not None
    await execute(
        quiet,
        operation("SetConsent"),
        personId=newcomer,
        purpose="marketing",
        granted=True,
        source="app",
    )
    report, errors = await execute(
        quiet, operation("RebuildOfferModels"), minSupportCount=5, minConfidence=0.5
    )
    assert errors == []
    assert (report["rebuildOfferModels"]["viewers"], report["rebuildOfferModels"]["viewRules"]) == (
        11,
        2,
    )
    offered = await offers_for(quiet, newcomer, limit=10)
    lamp = next(o for o in offered if o["offer"]["id"] == "product:LAMP-1")
    assert (
        lamp["reason"] == "73% of the 11 people who viewed TENT-2P also viewed LAMP-1."
    )  # 8 of 10
    assert lamp["evidence"]["source"] == "view-similarity"


async def test_a_product_marked_not_offerable_is_never_offered(quiet: Deps) -> None:
    lea = await lea_after_baskets(quiet)
    gift = {
        "sku": "GIFT-50",
        "name": "Gift card",
        "category": "camping",
        "price": 50.0,
        "offerable": False,
    }
    stored, errors = await execute(quiet, operation("UpsertProducts"), products=[gift])
    assert errors == []
    assert stored["upsertProducts"][0]["offerable"] is False
    offered = await offers_for(quiet, lea, limit=20, explain=True)
    assert "product:GIFT-50" not in {o["offer"]["id"] for o in offered}
    assert "product:LAMP-1" in {o["offer"]["id"] for o in offered}  # same category, offerable


async def test_rebuilding_the_models_counts_each_products_baskets(quiet: Deps) -> None:
    await lea_after_baskets(quiet)
    found = await quiet.stores.catalogue.products(["TENT-2P", "TEA-1", "LAMP-1"])
    assert {sku: p["baskets"] for sku, p in found.items()} == {
        "TENT-2P": 21,  # 16 + 4 + Lea's
        "TEA-1": 10,
        "LAMP-1": 0,  # never bought
    }


async def test_a_base_with_a_single_basket_rebuilds_and_recomputes_to_empty_results(
    deps: Deps,
) -> None:
    await track(deps.stores, [order("ana", ["TENT-2P", "MAT-1"], 3, 1)], deps.limits)
    data, errors = await execute(
        deps,
        "mutation { rebuildOfferModels { baskets rules } recomputeSegments { persons customers } }",
    )
    assert errors == []
    assert data["rebuildOfferModels"] == {"baskets": 1, "rules": 0}
    assert data["recomputeSegments"] == {"persons": 1, "customers": 1}


async def test_a_product_offer_for_a_sku_nobody_sells_is_refused(deps: Deps) -> None:
    data, errors = await execute(
        deps,
        operation("CreateOffer"),
        input={"name": "Stove deal", "kind": "PRODUCT", "value": 12.0, "sku": "STOVE-404"},
    )
    assert data is None
    [error] = errors
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "STOVE-404" in error["message"]
    offers, _ = await execute(deps, operation("Offers"))
    assert offers["offers"] == []  # nothing half-written


async def test_an_explicit_product_offer_names_its_product_and_stops_when_it_is_withdrawn(
    quiet: Deps,
) -> None:
    lea = await lea_after_baskets(quiet)
    _, errors = await execute(
        quiet,
        operation("CreateOffer"),
        input={
            "id": "lamp-deal",
            "name": "Head lamp for members",
            "kind": "PRODUCT",
            "sku": "LAMP-1",
            "value": 900.0,
            "eligibility": {"segments": ["purchased_last_30d"]},
        },
    )
    assert errors == [], errors
    [first, *_] = await offers_for(quiet, lea)
    assert first["offer"]["id"] == "lamp-deal"
    assert first["product"] == {"sku": "LAMP-1", "name": "Head lamp"}
    assert first["reason"] == "Head lamp for members: in Purchased in the last 30 days."
    # the shop stops offering the lamp: no source may offer it, the explicit one included
    withdrawn = [{**p, "offerable": False} for p in CATALOGUE if p["sku"] == "LAMP-1"]
    _, errors = await execute(quiet, operation("UpsertProducts"), products=withdrawn)
    assert errors == [], errors
    offered = await offers_for(quiet, lea, limit=10)
    assert not [o for o in offered if (o["product"] or {}).get("sku") == "LAMP-1"]


async def test_a_response_is_tied_to_the_answer_and_the_chance_it_had(
    quiet: Deps, db: AsyncDatabase[Document]
) -> None:
    lea = await lea_after_baskets(quiet)
    [first, *_] = await offers_for(quiet, lea)
    assert first["propensity"] == 1.0  # no exploration in this story: the top is certain
    _, errors = await execute(
        quiet,
        operation("RecordOfferResponse"),
        personId=lea,
        offerId=first["offer"]["id"],
        response="SHOWN",
        decision=first["decision"],
    )
    assert errors == []
    [logged] = await db["offer_responses"].find({"response": "SHOWN"}).to_list()
    assert logged["propensity"] == 1.0
    assert len(logged["decision"]) == 32  # the answer it belonged to

    _, errors = await execute(
        quiet,
        operation("RecordOfferResponse"),
        personId=lea,
        offerId="product:TENT-2P",
        response="ACCEPTED",
        decision=first["decision"],  # made for another offer
    )
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "not product:TENT-2P" in errors[0]["message"]


async def test_a_campaign_lists_each_eligible_member_with_their_offer_page_by_page(
    quiet: Deps,
) -> None:
    lea = await lea_after_baskets(quiet)
    data, errors = await execute(
        quiet, operation("Campaign"), segmentId="purchased_last_30d", channel="EMAIL", first=10
    )
    assert errors == []
    first_page = data["campaign"]
    assert first_page["pageInfo"]["hasNextPage"] is True  # more than 10 recent buyers
    sized, errors = await execute(quiet, '{ segment(id: "purchased_last_30d") { size } }')
    assert errors == []
    members = sized["segment"]["size"]
    seen, after, pages = [], None, 0
    while True:
        data, errors = await execute(
            quiet,
            operation("Campaign"),
            segmentId="purchased_last_30d",
            channel="EMAIL",
            first=10,
            after=after,
        )
        assert errors == []
        seen += [e["node"] for e in data["campaign"]["edges"]]
        pages += 1
        if not data["campaign"]["pageInfo"]["hasNextPage"]:
            break
        after = data["campaign"]["pageInfo"]["endCursor"]
    assert pages == -(-members // 10)  # every member read once, ten a page
    [only] = seen  # only Lea agreed to email marketing
    assert only["person"]["id"] == lea
    assert only["recommendation"]["offer"]["id"] == "product:STOVE-1"
    assert only["recommendation"]["channel"] == "EMAIL"


async def test_a_campaign_to_an_unknown_segment_is_not_found(quiet: Deps) -> None:
    _, errors = await execute(quiet, operation("Campaign"), segmentId="seg_gone")
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"
