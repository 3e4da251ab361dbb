"""Erasure leaves nothing personal behind; export returns everything held."""

import json
from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from cdp.ingest import IngestLimits, track
from cdp.offers.responses import OfferResponse, record_response
from cdp.privacy.consent_records import set_consent
from cdp.privacy.data_rights import HELD_ABOUT_A_PERSON, erase_person, export_person
from cdp.records import Channel
from cdp.segments.manage import create_segment
from cdp.store import Stores
from cdp.store.database import Document
from tests.oracles import owner
from tests.stories import event, seed_story

NOW = datetime(2026, 3, 9, tzinfo=UTC)
ANA_VALUES = ["10158000000001", "ana.silva@example.com", "ck-7f3a", "+442079460958"]
ANA_EVENTS = ["fb-1", "web-1", "call-1", "app-1"]


async def everything(db: AsyncDatabase[Document]) -> str:
    """Every document of every collection, as text."""
    dumped = []
    for name in await db.list_collection_names():
        dumped += [json.dumps(doc, default=str) for doc in await db[name].find().to_list()]
    return "\n".join(dumped)


async def load_ana_and_bo(stores: Stores, limits: IngestLimits) -> str:
    for raw in seed_story():
        await track(stores, [raw], limits)
    # Bo's event carries Ana's cookie (a shared kiosk): it stays Bo's, with Ana's cookie on it.
    await track(
        stores,
        [
            event(
                "page_view",
                "WEB",
                [("email", "bo@example.com"), ("cookie_id", "ck-7f3a")],
                at="2026-03-05T10:00:00Z",
                message_id="bo-visit",
            )
        ],
        limits,
    )
    await track(
        stores,
        [
            event(
                "page_view",
                "WEB",
                [("email", "ana.silva@example.com"), ("cookie_id", "ck-7f3a")],
                at="2026-03-06T10:00:00Z",
                message_id="ana-visit",
            )
        ],
        limits,
    )
    ana = await owner(stores, "email", "ana.silva@example.com")
    assert ana is not None
    await set_consent(stores, ana, "marketing", Channel.EMAIL, True, "web form", NOW)
    return ana


async def test_after_erasure_no_collection_holds_the_persons_identifiers_or_events(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    ana = await load_ana_and_bo(stores, limits)
    await create_segment(stores, "Facebook fans", "", {"identifier": {"type": "facebook"}}, NOW)
    before = await everything(db)
    assert all(value in before for value in ANA_VALUES)
    assert await db["memberships"].count_documents({"person_id": ana}) == 1

    tombstone = await erase_person(stores, ana, "GDPR request #881", NOW)
    assert await db["memberships"].count_documents({}) == 0
    assert await db["events"].count_documents({"person_id": ana}) == 0  # segment changes too

    after = await everything(db)
    for value in [*ANA_VALUES, *ANA_EVENTS, "ana-visit", "Ana", "web form"]:
        assert value not in after, value
    assert (tombstone["_id"], tombstone["reason"], tombstone["status"]) == (
        ana,
        "GDPR request #881",
        "erased",
    )
    assert await owner(stores, "email", "bo@example.com") is not None  # Bo is untouched
    assert await db["events"].count_documents({"_id": "bo-visit"}) == 1


async def test_an_erasure_asked_again_returns_the_proof_and_an_identifier_seen_again_is_a_new_person(
    stores: Stores, limits: IngestLimits
) -> None:
    ana = await load_ana_and_bo(stores, limits)
    await erase_person(stores, ana, "GDPR request", NOW)
    again = await erase_person(stores, ana, "GDPR request", NOW)
    assert again["_id"] == ana
    await track(
        stores,
        [event("login", "WEB", [("email", "ana.silva@example.com")], at="2026-03-10T10:00:00Z")],
        limits,
    )
    new = await owner(stores, "email", "ana.silva@example.com")
    assert new is not None
    assert new != ana


async def test_an_export_holds_everything_about_the_person_as_json(
    stores: Stores, limits: IngestLimits
) -> None:
    ana = await load_ana_and_bo(stores, limits)
    exported = await export_person(stores, ana)
    json.dumps(exported)  # plain JSON, no datetimes or ids left as objects
    assert exported["person"]["id"] == ana
    assert exported["metrics"]["channels"] == ["FACEBOOK", "MOBILE_APP", "PHONE", "WEB"]
    assert isinstance(exported["segments"], list)
    assert exported["person"]["traits"] == {"firstName": "Ana"}
    assert sorted(i["value"] for i in exported["identifiers"]) == sorted(ANA_VALUES)
    assert sorted(e["_id"] for e in exported["events"]) == sorted([*ANA_EVENTS, "ana-visit"])
    assert exported["consents"][0]["source"] == "web form"
    assert len(exported["mergeHistory"]) == 1


def mentions(value: object, wanted: set[str]) -> bool:
    if isinstance(value, str):
        return value in wanted
    if isinstance(value, dict):
        return any(mentions(v, wanted) for v in value.values())
    if isinstance(value, list):
        return any(mentions(v, wanted) for v in value)
    return False


async def collections_about(db: AsyncDatabase[Document], wanted: set[str]) -> set[str]:
    """The collections with a document naming one of ``wanted`` (ids, identifier values)."""
    found = set()
    for name in await db.list_collection_names():
        if any(mentions(doc, wanted) for doc in await db[name].find().to_list()):
            found.add(name)
    return found - {"erasures"}  # the tombstone: the proof, with the id only


async def test_every_collection_that_holds_the_person_is_exported_and_erased(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    ana = await load_ana_and_bo(stores, limits)
    await create_segment(stores, "Facebook fans", "", {"identifier": {"type": "facebook"}}, NOW)
    await record_response(stores, ana, "lifecycle:birthday", OfferResponse.SHOWN, None, NOW)
    family = {ana, *(await export_person(stores, ana))["person"]["mergedFrom"]}
    wanted = family | set(ANA_VALUES)

    holding = await collections_about(db, wanted)
    assert holding <= HELD_ABOUT_A_PERSON.keys(), holding - HELD_ABOUT_A_PERSON.keys()
    exported = await export_person(stores, ana)
    for collection in holding:
        assert exported[HELD_ABOUT_A_PERSON[collection]], collection  # shown, not empty
    assert exported["offerResponses"][0]["offer_id"] == "lifecycle:birthday"
    assert [c["granted"] for c in exported["consents"]] == [True]

    await erase_person(stores, ana, "GDPR request #882", NOW)
    assert await collections_about(db, wanted) == set()


async def test_an_erased_email_is_scrubbed_from_what_others_wrote(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    ana = await load_ana_and_bo(stores, limits)
    chat = event(
        "message_received",
        "CHAT",
        [("email", "bo@example.com")],
        at="2026-03-07T10:00:00Z",
        message_id="bo-chat",
        properties={"text": "please add my friend ANA.SILVA@example.com, +44 20 7946 0958",
                    "thread": [{"quote": "ana.silva@example.com wrote: hi"}]},
    )  # fmt: skip
    await track(stores, [chat], limits)

    await erase_person(stores, ana, "GDPR request #883", NOW)

    kept = await db["events"].find_one({"_id": "bo-chat"})
    assert kept is not None  # Bo's message stays, without Ana in it
    assert kept["properties"] == {
        "text": "please add my friend [erased], +44 20 7946 0958",
        "thread": [{"quote": "[erased] wrote: hi"}],
    }


async def test_an_identifier_that_moved_to_the_erased_person_leaves_the_profile_it_left(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    """Bo's two visits at a shared kiosk carried its cookie: his refresh keeps each
    identifier's span as his history saw it on his profile (cdp.profile.sightings). The
    cookie then follows Ana, its last user, and Ana is erased: Bo's profile must not
    keep her cookie, nor anything else of hers."""
    kiosk = ("cookie_id", "ck-7f3a")
    bo_visits = [
        event("page_view", "WEB", [("email", "bo@example.com"), kiosk], at=at, message_id=m)
        for m, at in (("bo-1", "2026-03-05T10:00:00Z"), ("bo-2", "2026-03-05T10:05:00Z"))
    ]
    await track(stores, bo_visits, limits)
    bo = await owner(stores, "email", "bo@example.com")
    assert bo is not None
    profile = await db["persons"].find_one({"_id": bo})
    assert profile is not None
    assert "cookie_id:ck-7f3a" in [seen["key"] for seen in profile["identifiers_seen"]]
    ana_visit = event(
        "page_view", "WEB", [("email", "ana.silva@example.com"), kiosk], at="2026-03-06T10:00:00Z"
    )
    await track(stores, [ana_visit], limits)
    ana = await owner(stores, "email", "ana.silva@example.com")
    assert ana is not None
    assert await owner(stores, *kiosk) == ana  # the cookie followed its last user

    await erase_person(stores, ana, "GDPR request #882", NOW)

    after = await everything(db)
    assert "ck-7f3a" not in after
    assert "ana.silva" not in after
    assert await owner(stores, "email", "bo@example.com") == bo  # Bo is untouched otherwise
