"""A call that dies after storing an event leaves nothing half-done for good: the retry
that finds the event finishes it, and so does the sweep when nobody retries."""

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from cdp.ingest import IngestLimits, repair_unfinished, track
from cdp.linking.explain import identity_path
from cdp.profile.refresh import refresh_persons
from cdp.records import EventStatus
from cdp.segments.manage import create_segment
from cdp.store import Stores
from cdp.store.database import Document
from cdp.store.events import EventStore
from cdp.store.ordered import Applied, OrderedWrites, Write
from tests.faults import failing_writes
from tests.stories import event

SENT_AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
WRITES = ("insert", "update", "delete", "bulkWrite")
# The write commands of the web form's call, by the way its event is stored: one
# command for the landing's opening, the event, traits, mark, link and the landing's
# close (cdp.store.ordered), or each apart (a server without bulkWrite), the last two
# (close, refresh) side by side.
LAST_FAULT_POINT = {
    "in one command": 4,  # person, claims, the event's command, refresh
    "apart": 9,  # landing, person, claims, event, traits, links, marks; close, refresh
}
SWEEP = [(way, n) for way, last in LAST_FAULT_POINT.items() for n in range(last + 1)]


def writing(stores: Stores, db: AsyncDatabase[Document], way: str) -> Stores:
    """The stores, writing the event's way."""
    return stores if way == "in one command" else replace(stores, ordered=OrderedWrites(db, False))


def web_form() -> dict[str, Any]:
    """Ana's first contact: the web form, with her email, phone and name."""
    return event(
        "form_submitted",
        "WEB",
        [("email", "ana.silva@example.com"), ("phone", "020 7946 0958")],
        at="2026-03-01T09:00:00Z",
        message_id="web-1",
        traits={"firstName": "Ana", "city": "Leeds"},
    )


async def cut_short(
    stores: Stores, db: AsyncDatabase[Document], limits: IngestLimits, n: int
) -> bool:
    async with failing_writes(db, n, WRITES):
        try:
            await track(stores, [web_form()], limits, now=SENT_AT)
        except OperationFailure:
            return True
    return False


async def assert_complete(stores: Stores, db: AsyncDatabase[Document]) -> None:
    [person] = await db["persons"].find({"merged_into": None}).to_list()
    assert person["traits"] == {"firstName": "Ana", "city": "Leeds"}
    keys = {doc["_id"] async for doc in db["identifiers"].find({"person_id": person["_id"]})}
    assert keys == {"email:ana.silva@example.com", "phone:+442079460958"}
    path = await identity_path(
        stores, ("email", "ana.silva@example.com"), ("phone", "020 7946 0958"), "GB"
    )
    assert path.linked
    assert [step.event_id for step in path.steps] == ["web-1"]  # the link and its proof
    assert await db["landings"].count_documents({}) == 0  # no batch left half-written
    assert "pending_since" not in person
    assert person["metrics"]["channels"] == ["WEB"]


@pytest.mark.parametrize(("way", "writes_before_the_fault"), SWEEP)
async def test_the_retry_finishes_what_a_dead_call_started(
    stores: Stores,
    db: AsyncDatabase[Document],
    limits: IngestLimits,
    way: str,
    writes_before_the_fault: int,
) -> None:
    died = await cut_short(writing(stores, db, way), db, limits, writes_before_the_fault)
    assert died is (writes_before_the_fault < LAST_FAULT_POINT[way])
    retried = await track(stores, [web_form()], limits, now=SENT_AT + timedelta(seconds=30))
    assert retried.results[0].status in {EventStatus.ACCEPTED, EventStatus.DUPLICATE}
    await sweep(stores, limits)  # a person the dead call created but never used goes
    await assert_complete(stores, db)


@pytest.mark.parametrize(
    ("way", "writes_before_the_fault"), [(way, n) for way, n in SWEEP if n < LAST_FAULT_POINT[way]]
)
async def test_the_sweep_finishes_it_when_nobody_retries(
    stores: Stores,
    db: AsyncDatabase[Document],
    limits: IngestLimits,
    way: str,
    writes_before_the_fault: int,
) -> None:
    assert await cut_short(writing(stores, db, way), db, limits, writes_before_the_fault)
    stored = await db["events"].count_documents({"_id": "web-1"})
    await sweep(stores, limits)
    if stored:
        await assert_complete(stores, db)
    else:  # died before the event was stored: nothing acknowledged, no empty person left
        async for person in db["persons"].find():
            assert await db["identifiers"].count_documents({"person_id": person["_id"]})


async def sweep(stores: Stores, limits: IngestLimits) -> set[str]:
    """What the refresher's sweep does, a minute later: finish unfinished events, then
    refresh every person still pending."""
    later = datetime.now(UTC) + timedelta(minutes=1)
    persons = await repair_unfinished(stores, limits, later, later)
    persons |= set(await stores.persons.pending(later, 1000))
    await refresh_persons(stores, persons, later)
    return persons


class _DiesAfter(OrderedWrites):
    """The database dies in the middle of the first command: the writes before ``n`` are
    applied (each is committed apart), the rest never are, and the call fails."""

    def __init__(self, db: AsyncDatabase[Document], n: int) -> None:
        super().__init__(db)
        self._n, self.sent, self.length = n, 0, 0

    async def apply(self, writes: Sequence[Write], guarded: Collection[int] = ()) -> Applied:
        self.sent += 1
        if self.sent > 1:
            return await super().apply(writes, guarded)
        self.length = len(writes)
        applied = await super().apply(writes[: self._n], guarded)
        assert applied.stopped_at is None
        raise OperationFailure("the database went away", code=91)  # ShutdownInProgress


def page_view() -> dict[str, Any]:
    """Ana back a day later, browsing: her refresh goes in her event's command."""
    return event(
        "page_view",
        "MOBILE_APP",
        [("email", "ana.silva@example.com")],
        at="2026-03-02T09:00:00Z",
        message_id="app-1",
    )


# landing opened, event, profile marked and refreshed (the email's last seen with it),
# membership, its entry, the check for a merge, landing closed
COMMAND = 7


@pytest.mark.parametrize("applied", range(COMMAND))
@pytest.mark.parametrize("then", ["retried", "swept"])
async def test_a_returning_customers_command_cut_anywhere_is_finished(
    stores: Stores, db: AsyncDatabase[Document], limits: IngestLimits, applied: int, then: str
) -> None:
    """Ana's page view writes her profile, marked and refreshed, and the membership it
    begins in its one command. Cut after any of its writes, the retry or the sweep
    leaves her event stored once and counted, her membership with its one entry,
    nothing pending and no landing open."""
    browsers = await create_segment(
        stores, "Browsers", "", {"events": {"type": "page_view"}}, SENT_AT
    )
    await track(stores, [web_form()], limits, now=SENT_AT)
    view = page_view()
    dying = _DiesAfter(db, applied)
    with pytest.raises(OperationFailure):
        await track(replace(stores, ordered=dying), [view], limits, now=SENT_AT)
    assert dying.length == COMMAND

    if then == "retried":
        await track(stores, [view], limits, now=SENT_AT + timedelta(seconds=30))
    await sweep(stores, limits)

    [ana] = await db["persons"].find({"merged_into": None}).to_list()
    stored = await db["events"].count_documents({"_id": "app-1"})
    if then == "swept" and applied < 2:  # died before the event: nothing acknowledged
        assert (stored, ana["metrics"]["channels"]) == (0, ["WEB"])
    else:
        assert (stored, ana["metrics"]["channels"]) == (1, ["MOBILE_APP", "WEB"])
        assert ana["segment_ids"] == [browsers.id]
        assert await db["memberships"].count_documents({"person_id": ana["_id"]}) == 1
        assert await db["events"].count_documents({"type": "segment_entered"}) == 1
    assert "pending_since" not in ana
    assert ana["refreshed_changes"] == ana["changes"]
    assert await db["landings"].count_documents({}) == 0


class _AppliedInPartThenSentAgain(OrderedWrites):
    """The database applies the first ``n`` writes of the event's command and restarts
    before answering, forgetting the attempt; PyMongo sends the command again (a
    retryable write), and the second run meets the landing the first one opened."""

    def __init__(self, db: AsyncDatabase[Document], n: int) -> None:
        super().__init__(db)
        self._n, self.length = n, 0

    async def apply(self, writes: Sequence[Write], guarded: Collection[int] = ()) -> Applied:
        if not self.length:
            self.length = len(writes)
            applied = await super().apply(writes[: self._n], guarded)
            assert applied.stopped_at is None
        return await super().apply(writes, guarded)


# landing opened, event, traits, mark, link, landing closed
FIRST_CONTACT = 6


@pytest.mark.parametrize("applied", range(1, FIRST_CONTACT))
async def test_a_first_contact_whose_command_was_applied_in_part_and_sent_again_is_whole(
    stores: Stores, db: AsyncDatabase[Document], limits: IngestLimits, applied: int
) -> None:
    """The second run of Ana's first contact stops at once (its landing is there) and
    the call stores the event the separate way, which finds the event the first run
    stored: that is this call's own event, not another call's, so its traits and link
    are still to write. The call answers; nothing needs a retry or the sweep."""
    again = _AppliedInPartThenSentAgain(db, applied)

    result = await track(replace(stores, ordered=again), [web_form()], limits, now=SENT_AT)

    assert again.length == FIRST_CONTACT
    assert result.results[0].person_id is not None
    assert await db["events"].count_documents({"_id": "web-1"}) == 1
    await assert_complete(stores, db)


class _InsertedInPartThenSentAgain(EventStore):
    """The database stores the first half of a batch's events and restarts before
    answering; PyMongo sends the insert again, which finds that half stored."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        super().__init__(db)
        self.cut = False

    async def insert(self, documents: Sequence[Document]) -> set[str]:
        if not self.cut and len(documents) > 1:
            self.cut = True
            await super().insert(documents[: len(documents) // 2])
        return await super().insert(documents)


async def test_a_batch_whose_insert_was_applied_in_part_and_sent_again_is_whole(
    stores: Stores, db: AsyncDatabase[Document], limits: IngestLimits
) -> None:
    """Ana's web form and Ben's call centre record arrive in one batch. The events the
    first insert stored are this call's own: their traits and links are written."""
    ben = event(
        "call",
        "PHONE",
        [("phone", "020 7946 0000"), ("customer_id", "CRM-88")],
        at="2026-03-01T09:05:00Z",
        message_id="call-1",
        traits={"firstName": "Ben"},
    )
    again = _InsertedInPartThenSentAgain(db)

    await track(replace(stores, events=again), [web_form(), ben], limits, now=SENT_AT)

    assert again.cut
    assert await db["events"].count_documents({}) == 2
    traits = {doc["traits"].get("firstName") async for doc in db["persons"].find()}
    assert traits == {"Ana", "Ben"}
    assert await db["links"].count_documents({}) == 2
    assert await db["landings"].count_documents({}) == 0
