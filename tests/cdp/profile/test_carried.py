"""A returning customer's single event carries their stored fold on: only what is new is
read, and the metrics are those a refresh from the whole history writes. An event at or
before the fold's key, by itself or in a batch, makes the next refresh read it all."""

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from cdp.ingest import IngestLimits, track
from cdp.metrics.fold import fold_history
from cdp.privacy.data_rights import erase_person
from cdp.profile.carried import Fold, carried_of, fold_document
from cdp.profile.refresh import refresh_persons
from cdp.segments.manage import create_segment
from cdp.segments.rules import EventCount
from cdp.segments.tally import RuleTally, counted_leaves
from cdp.store import Stores
from cdp.store.database import Document
from tests.commands import Commands, listening
from tests.stories import event

NOW = datetime(2026, 4, 2, 9, tzinfo=UTC)
LEO = [("email", "leo.brandt@example.com"), ("device_id", "ios-7f3a")]
MIA = [("email", "mia.k@example.com")]


def leo(type_: str, at: str, message_id: str, **properties: Any) -> dict[str, Any]:
    return event(type_, "MOBILE_APP", LEO, at=at, message_id=message_id, properties=properties)


async def leo_shops(stores: Stores, limits: IngestLimits) -> str:
    """Leo views a tent, buys it, opens the receipt: one event at a time, as the app
    sends them."""
    sent = [
        leo("product_view", "2026-04-01T09:55:00Z", "v-1", sku="TENT-2", category="tents"),
        leo("purchase", "2026-04-01T10:05:00Z", "o-1", total=249.0, items=[{"sku": "TENT-2"}]),
        leo("email_open", "2026-04-01T11:00:00Z", "r-1"),
    ]
    for one in sent:
        result = await track(stores, [one], limits, NOW)
    person = result.results[0].person_id
    assert person is not None
    return person


def history_reads(commands: Commands) -> list[str]:
    """The reads of events by person apart from the stitching's read (which joins the
    whole history of a person without a fold to carry on): whole histories (``find``) or
    the events after a fold's key (``aggregate``)."""
    return [
        "whole" if sent.get("find") else "after"
        for sent in commands.sent
        if "person_id" in str(sent.get("filter", sent.get("pipeline", "")))
        and (sent.get("find") == "events" or sent.get("aggregate") == "events")
    ]


async def metrics_of(db: AsyncDatabase[Document], person: str) -> dict[str, Any]:
    return dict((await db["persons"].find_one({"_id": person}) or {})["metrics"])


async def as_from_the_whole_history(
    db: AsyncDatabase[Document], stores: Stores, person: str
) -> dict[str, Any]:
    """What a refresh from the whole history writes for the person, now."""
    await db["persons"].update_one({"_id": person}, {"$inc": {"changes": 1}})
    await refresh_persons(stores, [person], NOW)
    return await metrics_of(db, person)


async def test_a_returning_customers_event_reads_only_what_is_new_to_the_same_metrics(
    mongodb_uri: str, db: AsyncDatabase[Document], stores: Stores, limits: IngestLimits
) -> None:
    person = await leo_shops(stores, limits)
    stored = (await db["persons"].find_one({"_id": person}) or {})["fold"]
    assert stored["key"][1] == "r-1"  # the receipt's open, the newest folded

    again = leo("product_view", "2026-04-01T12:00:00Z", "v-2", sku="STOVE-1", category="stoves")
    async with listening(mongodb_uri, db) as (counted, commands):
        await track(counted, [again], limits, NOW)
    assert history_reads(commands) == []  # the fold is current: nothing after its key

    carried = await metrics_of(db, person)
    assert (carried["orders"], carried["revenue"], carried["emails_opened"]) == (1, 249.0, 1)
    assert carried["trail"]["viewed"] == ["STOVE-1", "TENT-2"]
    assert carried == await as_from_the_whole_history(db, stores, person)


async def test_events_a_batch_brought_since_the_fold_are_read_after_its_key(
    mongodb_uri: str, db: AsyncDatabase[Document], stores: Stores, limits: IngestLimits
) -> None:
    """The shop's till sends Leo's in-store purchase with Mia's newsletter open, both
    after his receipt was opened: the batch's refresh leaves his fold behind, and his
    next app event reads the events after its key, the purchase among them."""
    person = await leo_shops(stores, limits)
    bought = event("purchase", "STORE", LEO[:1], at="2026-04-01T11:30:00Z", message_id="o-2")
    bought["properties"] = {"total": 20.0}
    opened = event("email_open", "EMAIL", MIA, at="2026-04-01T11:40:00Z", message_id="m-1")
    await track(stores, [bought, opened], limits, NOW)

    again = leo("email_open", "2026-04-01T12:00:00Z", "r-2")
    async with listening(mongodb_uri, db) as (counted, commands):
        await track(counted, [again], limits, NOW)
    assert history_reads(commands) == ["after"]
    metrics = await metrics_of(db, person)
    assert (metrics["orders"], metrics["revenue"], metrics["emails_opened"]) == (2, 269.0, 2)
    assert metrics == await as_from_the_whole_history(db, stores, person)


async def test_an_event_older_than_the_fold_is_folded_with_the_whole_history(
    mongodb_uri: str, db: AsyncDatabase[Document], stores: Stores, limits: IngestLimits
) -> None:
    """The app sends yesterday's view late, after the receipt was opened."""
    person = await leo_shops(stores, limits)
    late = leo("product_view", "2026-03-31T18:00:00Z", "v-0", sku="MAT-9", category="tents")
    async with listening(mongodb_uri, db) as (counted, commands):
        await track(counted, [late], limits, NOW)
    assert history_reads(commands) == ["whole"]

    metrics = await metrics_of(db, person)
    assert metrics["trail"]["viewed"] == ["TENT-2", "MAT-9"]
    assert metrics == await as_from_the_whole_history(db, stores, person)


async def test_a_late_event_in_a_batch_makes_the_next_refresh_read_the_whole_history(
    mongodb_uri: str, db: AsyncDatabase[Document], stores: Stores, limits: IngestLimits
) -> None:
    """A nightly import brings Leo's call-centre purchase of the morning with Mia's
    newsletter open; Leo's next app event must not miss the purchase."""
    person = await leo_shops(stores, limits)
    phoned = event("purchase", "PHONE", LEO[:1], at="2026-04-01T08:00:00Z", message_id="o-0")
    phoned["properties"] = {"total": 30.0}
    opened = event("email_open", "EMAIL", MIA, at="2026-04-01T20:00:00Z", message_id="m-1")
    await track(stores, [phoned, opened], limits, NOW)
    floor = (await db["persons"].find_one({"_id": person}) or {})["fold"]["floor"]
    assert floor == datetime(2026, 4, 1, 8, tzinfo=UTC)

    again = leo("email_open", "2026-04-01T21:00:00Z", "r-2")
    async with listening(mongodb_uri, db) as (counted, commands):
        await track(counted, [again], limits, NOW)
    assert history_reads(commands) == []  # joined to the stitching's read, not carried on
    metrics = await metrics_of(db, person)
    assert (metrics["orders"], metrics["revenue"], metrics["emails_opened"]) == (2, 279.0, 2)
    assert metrics == await as_from_the_whole_history(db, stores, person)


def test_a_stored_fold_is_carried_on_only_past_its_key_above_its_floor_with_its_rules() -> None:
    key = (datetime(2026, 4, 1, 11, tzinfo=UTC), "r-1")
    tents = EventCount("product_view", (("category", "tents"),), 2, None, 30)
    leaves = counted_leaves([tents])
    stored = fold_document(Fold(fold_history([], NOW), RuleTally.empty(leaves), key))
    assert stored is not None
    person = {"_id": "p", "fold": stored}
    later = (key[0] + timedelta(hours=1), "v-2")
    assert carried_of(person, NOW, later, leaves) is not None
    assert carried_of(person, NOW, key, leaves) is None  # the key's own: read it all
    assert carried_of(person, NOW, (key[0], "a-0"), leaves) is None  # folded before it
    assert carried_of(person, NOW, (key[0], "s-1"), leaves) is not None  # after it
    floored = {"_id": "p", "fold": {**stored, "floor": key[0] - timedelta(hours=3)}}
    assert carried_of(floored, NOW, later, leaves) is None
    above = {"_id": "p", "fold": {**stored, "floor": later[0]}}
    assert carried_of(above, NOW, later, leaves) is not None
    assert carried_of({"_id": "p", "fold": {"floor": later[0]}}, NOW, later, leaves) is None
    assert carried_of(person, NOW - timedelta(days=3), later, leaves) is None  # clock behind
    stoves = EventCount("product_view", (("category", "stoves"),), 1, None, None)
    newer_rule = counted_leaves([tents, stoves])
    assert carried_of(person, NOW, later, newer_rule) is None  # a segment created since


async def test_an_erasure_that_scrubs_a_customers_events_makes_their_fold_start_again(
    db: AsyncDatabase[Document], stores: Stores, limits: IngestLimits
) -> None:
    """Leo's app logged a wishlist item named after Mia's email (a gift list); Mia is
    erased, and Leo's next event must not bring the name back from his fold."""
    person = await leo_shops(stores, limits)
    gift = leo("wishlist_add", "2026-04-01T11:30:00Z", "w-1", sku="gift for mia.k@example.com")
    await track(stores, [gift], limits, NOW)
    mia = await track(
        stores, [event("email_open", "EMAIL", MIA, at="2026-04-01T11:40:00Z")], limits, NOW
    )
    assert (await metrics_of(db, person))["wishlist"] == ["gift for mia.k@example.com"]

    await erase_person(stores, str(mia.results[0].person_id), "GDPR request #90", NOW)
    assert "fold" not in (await db["persons"].find_one({"_id": person}) or {})
    assert (await metrics_of(db, person))["wishlist"] == ["gift for [erased]"]  # at once

    await track(stores, [leo("email_open", "2026-04-01T12:00:00Z", "r-2")], limits, NOW)
    assert (await metrics_of(db, person))["wishlist"] == ["gift for [erased]"]


async def test_a_rule_counting_events_is_decided_from_the_folds_counts(
    mongodb_uri: str, db: AsyncDatabase[Document], stores: Stores, limits: IngestLimits
) -> None:
    """ "Tent browsers" (two tent views in 30 days): Leo's second tent view, carried on
    from his fold, puts him in, as a refresh from his whole history does."""
    rule = {
        "events": {
            "type": "product_view",
            "where": [{"path": "category", "value": "tents"}],
            "atLeast": 2,
            "withinDays": 30,
        }
    }
    browsers = await create_segment(stores, "Tent browsers", "", rule, NOW)
    person = await leo_shops(stores, limits)  # one tent view
    assert browsers.id not in (await db["persons"].find_one({"_id": person}) or {})["segment_ids"]

    again = leo("product_view", "2026-04-01T12:00:00Z", "v-2", sku="TENT-3", category="tents")
    async with listening(mongodb_uri, db) as (counted, commands):
        await track(counted, [again], limits, NOW)
    assert history_reads(commands) == []  # the fold is current
    carried = (await db["persons"].find_one({"_id": person}) or {})["segment_ids"]
    assert browsers.id in carried
    await as_from_the_whole_history(db, stores, person)
    assert (await db["persons"].find_one({"_id": person}) or {})["segment_ids"] == carried


async def test_a_profile_read_for_showing_leaves_the_fold_out(
    db: AsyncDatabase[Document], stores: Stores, limits: IngestLimits
) -> None:
    """The fold is kilobytes of tallies for the refresh: a profile screen never reads it."""
    person = await leo_shops(stores, limits)
    assert "fold" in (await db["persons"].find_one({"_id": person}) or {})
    key = (await db["identifiers"].find_one({"person_id": person}) or {})["_id"]

    shown = await stores.profile_reads.by_identifier([key])
    assert shown is not None
    assert shown.person is not None
    assert shown.person["_id"] == person
    assert "metrics" in shown.person
    assert "fold" not in shown.person
    assert "fold" not in (await stores.persons.get(person) or {})
    assert "fold" not in (await stores.persons.get_many([person]))[person]


async def test_an_erasure_cut_short_before_scrubbing_leaves_no_fold_holding_the_text(
    db: AsyncDatabase[Document],
    stores: Stores,
    limits: IngestLimits,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The service dies between finding the mentions of Mia's email and replacing them:
    Leo's fold is already gone, and the erasure asked again finishes the job."""
    person = await leo_shops(stores, limits)
    gift = leo("wishlist_add", "2026-04-01T11:30:00Z", "w-1", sku="gift for mia.k@example.com")
    await track(stores, [gift], limits, NOW)
    opened = event("email_open", "EMAIL", MIA, at="2026-04-01T11:40:00Z")
    mia = str((await track(stores, [opened], limits, NOW)).results[0].person_id)

    async def dies(*_: object) -> None:
        raise RuntimeError("the service was killed here")

    monkeypatch.setattr(stores.events, "rewrite", dies)
    with pytest.raises(RuntimeError):
        await erase_person(stores, mia, "GDPR request #91", NOW)
    assert "fold" not in (await db["persons"].find_one({"_id": person}) or {})

    monkeypatch.undo()
    await erase_person(stores, mia, "GDPR request #91", NOW)
    await track(stores, [leo("email_open", "2026-04-01T12:00:00Z", "r-2")], limits, NOW)
    assert (await metrics_of(db, person))["wishlist"] == ["gift for [erased]"]


async def test_customers_writing_at_once_out_of_order_end_with_their_whole_historys_metrics(
    db: AsyncDatabase[Document], stores: Stores, limits: IngestLimits
) -> None:
    """Four app users send views, carts, purchases and opens, eight calls at a time (so a
    few arrive after a later one), with now and then a two-event batch from the shop's
    till that is three hours older: each profile ends as a refresh from the whole history
    makes it, fold or no fold."""
    rng = random.Random(12)
    kinds = ["product_view"] * 4 + ["purchase", "email_open", "add_to_cart", "wishlist_add"]

    def sent(n: int, who: int, at: datetime) -> dict[str, Any]:
        kind = rng.choice(kinds)
        properties: dict[str, Any] = {
            "sku": f"SKU-{n % 6}",
            "category": rng.choice(["tents", "tea"]),
        }
        if kind == "purchase":
            properties = {
                "total": round(rng.uniform(5, 300), 2),
                "items": [{"sku": f"SKU-{n % 4}"}],
            }
        email = [("email", f"app.user.{who}@example.com")]
        return event(
            kind,
            rng.choice(["WEB", "MOBILE_APP"]),
            email,
            at=at.isoformat(),
            message_id=f"m-{n}",
            properties=properties,
        )

    calls = []
    for n in range(160):
        at = NOW - timedelta(days=1) + timedelta(minutes=n)  # in order, as the apps send
        one = [sent(n, rng.randrange(4), at)]
        if rng.random() < 0.15:
            one.append(sent(10_000 + n, rng.randrange(4), at - timedelta(hours=3)))
        calls.append(one)
    gate = asyncio.Semaphore(8)

    async def call(events: list[dict[str, Any]]) -> None:
        async with gate:
            await track(stores, events, limits, NOW)

    await asyncio.gather(*(call(events) for events in calls))
    persons = [doc["_id"] async for doc in db["persons"].find({"merged_into": None}, {"_id": 1})]
    assert len(persons) == 4
    carried = {p: await metrics_of(db, p) for p in persons}
    folded = [p async for p in db["persons"].find({"fold.key": {"$exists": True}}, {"_id": 1})]
    assert folded  # the fold was carried somewhere
    for person in persons:
        assert carried[person] == await as_from_the_whole_history(db, stores, person)


TENT_BROWSERS = {
    "events": {"type": "product_view", "where": [{"path": "category", "value": "tents"}]}
}


async def test_a_returning_customer_in_a_segment_costs_two_commands(
    mongodb_uri: str, db: AsyncDatabase[Document], stores: Stores, limits: IngestLimits
) -> None:
    """Leo, a tent browser with a current fold, opens another email: one read (whether it
    was sent before, his identifiers' holdings, his profile, fold and membership's
    timeline entry) and one command of writes. Nothing else is read."""
    await create_segment(stores, "Tent browsers", "", TENT_BROWSERS, NOW)
    await leo_shops(stores, limits)
    async with listening(mongodb_uri, db) as (counted, commands):
        await track(counted, [leo("email_open", "2026-04-01T12:00:00Z", "r-2")], limits, NOW)
        del commands.targets[:]  # what the first call read once for all (rules, segments)
        await track(counted, [leo("email_open", "2026-04-01T12:05:00Z", "r-3")], limits, NOW)
        assert commands.targets == ["aggregate 1", "bulkWrite 1"]
    (written,) = [sent for sent in commands.sent if "bulkWrite" in sent][-1:]
    inserted = [op["document"] for op in written["ops"] if "insert" in op]
    assert [doc["_id"] for doc in inserted if "type" in doc] == ["r-3"]  # no entry again


async def test_a_membership_whose_entry_was_cut_short_gets_it_from_a_carried_event(
    db: AsyncDatabase[Document], stores: Stores, limits: IngestLimits
) -> None:
    """The service died between storing Leo's membership of "Tent browsers" and its
    entry on his timeline: his next event, carried on from a current fold, writes it."""
    browsers = await create_segment(stores, "Tent browsers", "", TENT_BROWSERS, NOW)
    person = await leo_shops(stores, limits)
    entry = {"type": "segment_entered", "person_id": person, "properties.segmentId": browsers.id}
    assert await db["events"].count_documents(entry) == 1
    await db["events"].delete_many(entry)  # as if cut short

    await track(stores, [leo("email_open", "2026-04-01T12:00:00Z", "r-2")], limits, NOW)
    assert await db["events"].count_documents(entry) == 1


async def test_a_customer_leaving_a_segment_is_written_in_the_events_command(
    mongodb_uri: str, db: AsyncDatabase[Document], stores: Stores, limits: IngestLimits
) -> None:
    """Leo opens his second email and is no longer a "Rare opener": the exit on his
    timeline and the membership's end go with the event, in its one command."""
    rule = {"metric": {"metric": "EMAILS_OPENED", "op": "LT", "value": 2}}
    rare = await create_segment(stores, "Rare openers", "", rule, NOW)
    person = await leo_shops(stores, limits)
    assert rare.id in (await db["persons"].find_one({"_id": person}) or {})["segment_ids"]
    async with listening(mongodb_uri, db) as (counted, commands):
        await track(counted, [leo("product_view", "2026-04-01T11:55:00Z", "v-9")], limits, NOW)
        del commands.targets[:]  # what the first call read once for all (rules, segments)
        await track(counted, [leo("email_open", "2026-04-01T12:00:00Z", "r-2")], limits, NOW)
        assert commands.targets == ["aggregate 1", "bulkWrite 1"]
    assert await db["memberships"].count_documents({"segment_id": rare.id}) == 0
    left = {"type": "segment_left", "person_id": person, "properties.segmentId": rare.id}
    assert await db["events"].count_documents(left) == 1
