"""One command answers what a profile screen and a refresh read first: the joins find
the same facts as the separate reads did."""

from datetime import UTC, datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase

from cdp.ingest import IngestLimits, track
from cdp.privacy.consent_records import set_consent
from cdp.records import Channel
from cdp.store import Stores
from cdp.store.database import Document
from cdp.store.profile_reads import PersonRead
from tests.stories import event

AT = "2026-03-01T10:00:00Z"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def _ana_with_her_old_cookie(stores: Stores, limits: IngestLimits) -> tuple[str, str]:
    """Ana browsed anonymously (a cookie), then wrote from her email; an order with
    both merged the cookie's person into hers. She agreed to email, then to SMS."""
    cookie = await track(
        stores, [event("page_view", "WEB", [("cookie_id", "ck-ana")], at=AT)], limits
    )
    email = await track(
        stores, [event("email_open", "EMAIL", [("email", "Ana@Example.com")], at=AT)], limits
    )
    both = event("purchase", "WEB", [("email", "ana@example.com"), ("cookie_id", "ck-ana")], at=AT)
    both["properties"] = {"total": 80}
    await track(stores, [both], limits)
    first, second = cookie.results[0].person_id, email.results[0].person_id
    assert first is not None
    assert second is not None
    merged = await stores.persons.get(first)
    assert merged is not None
    survivor, absorbed = (second, first) if merged.get("merged_into") else (first, second)
    await set_consent(stores, survivor, "marketing", Channel.EMAIL, True, "web form", NOW)
    later = NOW + timedelta(hours=1)
    await set_consent(stores, survivor, "marketing", Channel.SMS, True, "phone call", later)
    return survivor, absorbed


async def test_an_identifier_read_brings_the_owner_its_identifiers_and_segments(
    stores: Stores, limits: IngestLimits
) -> None:
    survivor, absorbed = await _ana_with_her_old_cookie(stores, limits)
    read = await stores.profile_reads.by_identifier(["email:nobody@x.io", "email:ana@example.com"])
    assert read is not None
    assert read.key == "email:ana@example.com"  # the first key anyone owns
    assert read.person is not None
    assert read.person["_id"] == survivor
    assert read.absorbed == [absorbed]
    keys = [doc["_id"] for doc in read.identifiers]
    assert keys == ["cookie_id:ck-ana", "email:ana@example.com"]  # the merge moved the cookie
    held = await stores.memberships.of_persons([survivor])
    assert read.memberships == held[survivor]
    assert await stores.profile_reads.by_identifier(["email:nobody@x.io"]) is None


async def test_a_refresh_read_brings_each_person_with_family_consents_and_segments(
    stores: Stores, limits: IngestLimits
) -> None:
    survivor, absorbed = await _ana_with_her_old_cookie(stores, limits)
    read = await stores.profile_reads.persons_with_facts(
        [survivor, absorbed, "P-never-stored"], ["traits", "merged_into"]
    )
    assert set(read) == {survivor, absorbed}
    ana = read[survivor]
    assert set(ana.person) <= {"_id", "traits", "merged_into"}  # the fields asked for
    assert ana.absorbed == [absorbed]
    assert [c["channel"] for c in ana.consents] == ["EMAIL", "SMS"]  # oldest first
    held = await stores.memberships.of_persons([survivor])
    assert ana.memberships == held.get(survivor, {})
    assert ana.memberships  # a buyer is in segments
    assert read[absorbed].person["merged_into"] == survivor
    assert read[absorbed].absorbed == []
    histories = await stores.events.histories([survivor, absorbed], with_identifiers=True)
    assert ana.events == histories[survivor]  # the same fields as a refresh's, oldest first
    assert read[absorbed].events == histories.get(absorbed, [])


async def test_a_single_events_read_joins_the_history_only_without_a_fold_to_carry_on(
    db: AsyncDatabase[Document], stores: Stores, limits: IngestLimits
) -> None:
    """Ana's read beside her next event's stitching: none of her history while her old
    cookie's person is merged into her (the family's events are read apart); without
    that merge, her whole history while she has no fold, none once a fold may be
    carried on, all of it again when an event at or before the fold's key lowered its
    floor; her segments' timeline entries every time."""
    survivor, absorbed = await _ana_with_her_old_cookie(stores, limits)
    persons = stores.profile_reads

    async def read_ana() -> PersonRead:
        read = await persons.holdings_with_facts(["email:ana@example.com"], ["fold"])
        return read.owners[survivor]

    assert (await read_ana()).events is None  # a family
    await db["persons"].delete_one({"_id": absorbed})  # as if she had come on her own
    ana = await read_ana()
    assert ana.events is not None
    assert {doc["_id"] for doc in ana.events} >= {doc["_id"] for doc in ana.entries or []}
    held = await stores.memberships.of_persons([survivor])
    assert held[survivor]
    assert {doc["_id"] for doc in ana.entries or []} == {h.entry for h in held[survivor].values()}

    key = [datetime(2026, 3, 1, 10, tzinfo=UTC), "m-9"]
    await db["persons"].update_one({"_id": survivor}, {"$set": {"fold": {"key": key}}})
    assert (await read_ana()).events is None  # the events after the key are read apart
    floor = datetime(2026, 3, 1, 11, tzinfo=UTC)
    await db["persons"].update_one({"_id": survivor}, {"$set": {"fold.floor": floor}})
    assert (await read_ana()).events is None  # announced after the key: still carried on
    await db["persons"].update_one({"_id": survivor}, {"$set": {"fold.floor": key[0]}})
    history = await stores.events.histories([survivor], with_identifiers=True)
    assert (await read_ana()).events == history[survivor]


async def test_a_single_events_read_finds_its_message_id_stored_whoever_holds_its_keys(
    stores: Stores, limits: IngestLimits
) -> None:
    """The app sends Ana's order again, once with her email, once with a cookie nobody
    holds (a reinstall): either way the read says the order is stored, and on whom; an
    id never sent is not."""
    survivor, _ = await _ana_with_her_old_cookie(stores, limits)
    [purchase] = [
        doc
        for doc in (await stores.events.histories([survivor]))[survivor]
        if doc["type"] == "purchase"
    ]
    asked = [purchase["_id"], "never-sent"]
    for keys in (["email:ana@example.com"], ["cookie_id:ck-reinstalled"]):
        read = await stores.profile_reads.holdings_with_facts(keys, ["fold"], asked)
        assert read.stored == {purchase["_id"]: survivor}
    unheld = await stores.profile_reads.holdings_with_facts(["cookie_id:ck-new"], ["fold"])
    assert (unheld.holdings.owned, unheld.owners, unheld.stored) == ({}, {}, {})
