"""The demo: the same people for the same seed, and something in every built-in segment
and behind every lifecycle offer once it is loaded."""

from datetime import UTC, datetime

from cdp.demo.customers import demo_people
from cdp.demo.load import load_demo
from cdp.demo.shop import CATALOGUE
from cdp.ingest import IngestLimits
from cdp.offers.lifecycle import BY_NAME as LIFECYCLE
from cdp.offers.next_best import next_best_offers
from cdp.offers.policy import OfferPolicy
from cdp.segments.definitions import BUILT_IN
from cdp.store import Stores

AS_OF = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
POLICY = OfferPolicy(exploration=0.0, min_support_count=5)


def test_a_seed_gives_the_same_people_and_a_small_demo_is_the_start_of_a_big_one() -> None:
    small = list(demo_people(30, 7, AS_OF))
    again = list(demo_people(30, 7, AS_OF))
    bigger = list(demo_people(60, 7, AS_OF))
    other = list(demo_people(30, 8, AS_OF))
    assert small == again
    assert small == bigger[:30]
    assert [p.events for p in small] != [p.events for p in other]


def test_every_event_happened_before_the_demo_date_and_has_its_own_message_id() -> None:
    events = [event for person in demo_people(300, 1, AS_OF) for event in person.events]
    assert all(event["timestamp"] < AS_OF.strftime("%Y-%m-%dT%H:%M:%SZ") for event in events)
    assert len({event["messageId"] for event in events}) == len(events)
    channels = {event["channel"] for event in events}
    assert {"FACEBOOK", "WEB", "PHONE", "MOBILE_APP", "EMAIL", "STORE", "WHATSAPP"} <= channels


async def test_loaded_demo_fills_every_built_in_segment_and_fires_every_lifecycle_offer(
    stores: Stores, limits: IngestLimits
) -> None:
    report = await load_demo(stores, limits, POLICY, persons=150, seed=3, now=AS_OF)
    assert report.rejected == 0
    assert report.accepted == report.events > 1_000

    members = await (
        await stores.database["memberships"].aggregate([{"$group": {"_id": "$segment_id"}}])
    ).to_list()
    filled = {doc["_id"] for doc in members}
    assert sorted(s.id for s in BUILT_IN if s.id not in filled) == []
    assert await stores.database["offer_rules"].count_documents({}) > 0
    waiting = {"pending_since": {"$ne": None}}
    assert await stores.database["persons"].count_documents(waiting) == 0  # all refreshed
    assert await stores.database["products"].count_documents({}) == len(CATALOGUE)

    fired: set[str] = set()  # lifecycle offers shown to someone, alone or with a product
    for person_id in await stores.persons.live_ids():
        answer = await next_best_offers(
            stores, person_id, limit=10, channel=None, policy=POLICY, now=AS_OF
        )
        for shown in answer.recommendations:  # a lifecycle offer for a product shown anyway
            offers = [shown.candidate.offer.id, *shown.candidate.evidence.get("alsoOffers", [])]
            fired |= {offer.split(":")[1] for offer in offers if offer.startswith("lifecycle:")}
    assert sorted(set(LIFECYCLE) - fired) == []


async def test_loading_again_stores_nothing_twice(stores: Stores, limits: IngestLimits) -> None:
    first = await load_demo(stores, limits, POLICY, persons=20, seed=5, now=AS_OF)
    second = await load_demo(stores, limits, POLICY, persons=20, seed=5, now=AS_OF)
    assert second.duplicates == first.accepted
    assert second.accepted == 0
    theirs = {"type": {"$nin": ["segment_entered", "segment_left"]}}  # not the platform's
    assert await stores.database["events"].count_documents(theirs) == first.accepted
    assert (await stores.config.demo_state() or {}).get("state") == "loaded"
