"""Bulk batches are refreshed just after the call, coalesced, and never lost."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from datetime import UTC, datetime, timedelta

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from cdp.ingest import IngestLimits, repair_unfinished, track
from cdp.profile.find import find_by_identifier
from cdp.profile.refresh import compute_refresh, refresh_persons, write_refresh
from cdp.profile.refresher import Refresher, RefreshPolicy
from cdp.records import EventStatus
from cdp.store import Stores
from cdp.store.database import Document
from tests.faults import failing_writes
from tests.stories import event

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
POLICY = RefreshPolicy(inline_persons=2, linger_seconds=0.01, stale_after_seconds=30)


def purchases(customers: range, n: int) -> list[dict[str, object]]:
    return [
        event(
            "purchase",
            "STORE",
            [("email", f"c{c}@example.com")],
            at=(NOW - timedelta(hours=n)).isoformat(),
            message_id=f"o{c}-{n}",
            properties={"total": 20.0},
        )
        for c in customers
    ]


class Counting:
    """The real refresh, counting the persons each call was given."""

    def __init__(self, stores: Stores) -> None:
        self.stores = stores
        self.calls: list[set[str]] = []

    async def __call__(self, persons: set[str], now: datetime) -> None:
        self.calls.append(set(persons))
        await refresh_persons(self.stores, persons, now)


def refresher_for(stores: Stores, counting: Counting, clock: datetime = NOW) -> Refresher:
    return Refresher(counting, stores.persons.pending, lambda: clock, POLICY)


async def orders_of(stores: Stores, customer: int) -> tuple[int | None, datetime | None]:
    profile = await find_by_identifier(stores, "email", f"c{customer}@example.com", "GB")
    assert profile is not None
    orders = profile.metrics["orders"] if profile.metrics else None
    return orders, profile.pending_since


async def test_a_bulk_batch_answers_first_and_its_persons_catch_up_just_after(
    stores: Stores, limits: IngestLimits
) -> None:
    counting = Counting(stores)
    refresher = refresher_for(stores, counting)
    result = await track(stores, purchases(range(5), 1), limits, NOW, refresher)
    assert result.count(EventStatus.ACCEPTED) == 5
    assert await orders_of(stores, 3) == (None, NOW)  # stored, visibly pending
    refresher.start()
    await refresher.drained()
    await refresher.stop()
    assert await orders_of(stores, 3) == (1, None)
    assert counting.calls == [{r.person_id for r in result.results}]


async def test_a_few_persons_are_refreshed_before_the_call_answers(
    stores: Stores, limits: IngestLimits
) -> None:
    counting = Counting(stores)
    refresher = refresher_for(stores, counting)
    await track(stores, purchases(range(2), 1), limits, NOW, refresher)  # inline: 2 persons
    assert await orders_of(stores, 1) == (1, None)
    assert counting.calls == []  # the call did it itself


async def test_bursts_for_the_same_persons_are_refreshed_once(
    stores: Stores, limits: IngestLimits
) -> None:
    counting = Counting(stores)
    refresher = refresher_for(stores, counting)
    for n in range(1, 5):  # four batches for the same five customers
        await track(stores, purchases(range(5), n), limits, NOW, refresher)
    refresher.start()
    await refresher.drained()
    await refresher.stop()
    assert len(counting.calls) == 1
    assert await orders_of(stores, 0) == (4, None)


async def _nobody_pending(before: datetime, limit: int) -> list[str]:
    return []


async def _stream(refresher: Refresher, seconds: float) -> set[str]:
    """Persons submitted one at a time, every 10 ms, for ``seconds``: batches of a bulk load."""
    sent: set[str] = set()
    loop = asyncio.get_running_loop()
    ends = loop.time() + seconds
    while loop.time() < ends:
        person = f"p{len(sent)}"
        sent.add(person)
        refresher.submit({person})
        await asyncio.sleep(0.01)
    return sent


async def _refreshed_while(
    policy: RefreshPolicy, seconds: float
) -> tuple[set[str], list[set[str]]]:
    """What a stream of ``seconds`` submitted, and the refreshes it got, until drained."""
    calls: list[set[str]] = []

    async def refresh(persons: set[str], now: datetime) -> None:
        calls.append(persons)

    refresher = Refresher(refresh, _nobody_pending, lambda: NOW, policy)
    refresher.start()
    sent = await _stream(refresher, seconds)
    await refresher.drained()
    await refresher.stop()
    return sent, calls


async def test_batches_closer_together_than_the_linger_are_refreshed_once_they_stop() -> None:
    """A bulk load sends a batch every few hundred milliseconds: its persons are refreshed
    once the batches stop, not a linger after the first (then each person was refreshed
    once or twice for every batch it was in)."""
    policy = RefreshPolicy(linger_seconds=0.2, lag_at_most_seconds=30, stale_after_seconds=60)
    sent, calls = await _refreshed_while(policy, 0.6)  # three lingers long, never quiet
    assert calls == [sent]


async def test_a_load_that_never_pauses_is_refreshed_every_lag() -> None:
    policy = RefreshPolicy(linger_seconds=0.2, lag_at_most_seconds=0.3, stale_after_seconds=60)
    sent, calls = await _refreshed_while(policy, 1.2)  # four lags long, never quiet
    assert len(calls) >= 2  # refreshed while it kept coming
    assert set().union(*calls) == sent


async def test_work_landing_during_a_round_waits_for_its_own_lag() -> None:
    """A round takes a while (here 0.2 s) and the load goes on meanwhile: what landed
    during the round is gathered for the lag like any burst, not refreshed as soon as
    the round ends. Refreshed at once, a two-second load was refreshed a round's length
    apart, seven or eight times instead of three, each person of a bulk load that many
    times more."""
    calls: list[set[str]] = []

    async def slow_refresh(persons: set[str], now: datetime) -> None:
        calls.append(persons)
        await asyncio.sleep(0.2)

    policy = RefreshPolicy(linger_seconds=0.5, lag_at_most_seconds=0.8, stale_after_seconds=60)
    refresher = Refresher(slow_refresh, _nobody_pending, lambda: NOW, policy)
    refresher.start()
    sent = await _stream(refresher, 2.0)
    await refresher.drained()
    await refresher.stop()
    assert set().union(*calls) == sent
    assert len(calls) <= 4  # about one round a lag, and the last after the load


async def test_a_stopping_service_refreshes_what_is_queued_without_waiting_for_more() -> None:
    """A burst waits for more batches; a service told to stop (a deploy) refreshes what
    it holds at once, rather than after the linger or the lag."""
    calls: list[set[str]] = []

    async def refresh(persons: set[str], now: datetime) -> None:
        calls.append(persons)

    policy = RefreshPolicy(linger_seconds=20, lag_at_most_seconds=30, stale_after_seconds=60)
    refresher = Refresher(refresh, _nobody_pending, lambda: NOW, policy)
    refresher.start()
    refresher.submit({"ana", "li"})
    await asyncio.sleep(0.05)  # gathering now
    await asyncio.wait_for(refresher.stop(), 5)
    assert calls == [{"ana", "li"}]


async def test_stopping_while_more_work_just_arrived_stops() -> None:
    """A bulk batch lands while the refresher drains the one before (so its wake is set
    when the queue empties) and the service is stopped just then: the stop must end.
    Python 3.11's ``wait_for`` swallowed the cancel in that moment and the refresher
    ran on, so a service stopped after an import never exited."""
    calls: list[set[str]] = []

    async def refresh(persons: set[str], now: datetime) -> None:
        calls.append(persons)
        if len(calls) == 1:
            refresher.submit({"arrived-meanwhile"})
        await asyncio.sleep(0)

    async def nobody_pending(before: datetime, limit: int) -> list[str]:
        return []

    refresher = Refresher(refresh, nobody_pending, lambda: NOW, POLICY)
    refresher.start()
    refresher.submit({"first"})
    stopping = asyncio.ensure_future(refresher.stop())
    # a drain takes milliseconds; with the cancel lost, the stop never ends
    done, _ = await asyncio.wait({stopping}, timeout=2)
    stopping.cancel()  # (when it hung: cancelling the stop cancels the refresher again)
    with suppress(asyncio.CancelledError):
        await stopping
    assert done == {stopping}
    assert calls == [{"first"}, {"arrived-meanwhile"}]


async def pending_customers(
    stores: Stores, limits: IngestLimits, count: int
) -> tuple[set[str], dict[str, Document]]:
    """``count`` customers with a purchase each, left pending (nobody refreshes them),
    and their profiles as a refresh starting now reads them."""
    never = refresher_for(stores, Counting(stores))
    result = await track(stores, purchases(range(count), 1), limits, NOW, never)
    persons = {r.person_id for r in result.results if r.person_id}
    return persons, await stores.persons.get_many(persons)


async def test_persons_left_pending_by_a_stopped_instance_are_found_by_the_sweep(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    lost = refresher_for(stores, Counting(stores))  # never started: its queue is lost
    await track(stores, purchases(range(4), 1), limits, NOW, lost)
    assert await db["persons"].count_documents({"pending_since": {"$ne": None}}) == 4

    counting = Counting(stores)
    too_soon = refresher_for(stores, counting, NOW + timedelta(seconds=5))
    assert await too_soon.sweep() == 0  # another instance may still be on it
    later = refresher_for(stores, counting, NOW + timedelta(seconds=31))
    assert await later.sweep() == 4
    later.start()
    await later.drained()
    await later.stop()
    assert await db["persons"].count_documents({"pending_since": {"$ne": None}}) == 0
    assert await orders_of(stores, 2) == (1, None)


async def test_an_event_landing_during_a_refresh_keeps_its_person_pending(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    persons, read = await pending_customers(stores, limits, 3)  # a refresh reads them...
    await stores.persons.mark_pending(persons, NOW + timedelta(seconds=1))  # ...events land...
    await stores.persons.set_refreshed(  # ...and it writes what it computed before them
        {p: {"orders": 1} for p in persons},
        {p: set() for p in persons},
        {p: read[p]["changes"] for p in persons},
    )
    still = await db["persons"].find({"_id": {"$in": list(persons)}}).to_list()
    assert {doc["pending_since"] for doc in still} == {NOW}  # pending since the first
    await refresh_persons(stores, persons, NOW)
    assert await db["persons"].count_documents({"pending_since": {"$ne": None}}) == 0


async def test_a_pending_mark_sent_twice_is_cleared_by_the_next_refresh(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    """PyMongo sends an update again when the connection failed after the database (the
    embedded one, which forgets a retried write) applied it: the mark's change counter
    moves twice for one batch. The refresh reads the count it writes, so the extra one
    leaves nothing pending and nothing to refresh again."""
    persons, _ = await pending_customers(stores, limits, 3)
    await stores.persons.mark_pending(persons, NOW, updated=persons)  # the batch's mark, again
    await refresh_persons(stores, persons, NOW)
    assert await db["persons"].count_documents({"pending_since": {"$ne": None}}) == 0
    assert await stores.persons.pending(NOW + timedelta(hours=1), 10) == []
    assert await orders_of(stores, 1) == (1, None)


async def test_a_refresh_that_read_before_a_newer_one_does_not_undo_it_by_writing_last(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    """Two refreshes of one customer overlap (the call's own and the refresher's): the
    one that read before the purchase landed finishes last. Its metrics and segment
    changes are older than what is stored, so it writes neither."""
    never = refresher_for(stores, Counting(stores))
    visit = event("page_view", "WEB", [("email", "c0@example.com")], at=NOW.isoformat())
    person = (await track(stores, [visit], limits, NOW, never)).results[0].person_id
    assert person is not None
    late = await compute_refresh(stores, {person}, NOW)  # read before the purchase
    assert late is not None
    assert late.metrics[person]["orders"] == 0

    await track(stores, purchases(range(1), 1), limits, NOW, never)
    await refresh_persons(stores, {person}, NOW)  # the newer refresh writes first
    await write_refresh(stores, late, NOW)  # and the older one lands after it

    assert await orders_of(stores, 0) == (1, None)
    segments = await db["memberships"].distinct("segment_id", {"person_id": person})
    assert "purchased_last_30d" in segments
    left = await db["events"].count_documents({"person_id": person, "type": "segment_left"})
    assert left == 0


async def test_a_stale_profile_write_is_refused_and_says_so(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    persons, read = await pending_customers(stores, limits, 2)
    await stores.persons.mark_pending(persons, NOW + timedelta(seconds=1))
    await refresh_persons(stores, persons, NOW)  # saw both marks
    stale = {p: read[p]["changes"] for p in persons}  # saw only the first
    written = await stores.persons.set_refreshed(
        {p: {"orders": 99} for p in persons}, {p: set() for p in persons}, stale
    )
    assert written == set()
    assert await orders_of(stores, 1) == (1, None)
    again = await stores.persons.set_refreshed(  # a reader as recent as the stored one
        {p: {"orders": 1} for p in persons},
        {p: set() for p in persons},
        {p: read[p]["changes"] + 1 for p in persons},
    )
    assert again == persons


async def test_a_person_merged_away_while_pending_is_no_longer_pending(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    never = refresher_for(stores, Counting(stores))
    await track(stores, purchases(range(3), 1), limits, NOW, never)  # three pending persons
    joining = event(
        "login",
        "WEB",
        [("email", "c0@example.com"), ("email", "c1@example.com")],
        at=NOW.isoformat(),
    )
    await track(stores, [joining], limits, NOW)  # merges c1 into c0 and refreshes c0 inline
    pending = await db["persons"].find({"pending_since": {"$ne": None}}).to_list()
    assert [doc.get("merged_into") for doc in pending] == [None]  # only c2 still waits
    assert await stores.persons.pending(NOW + timedelta(days=1), 10) == [pending[0]["_id"]]


async def test_the_sweep_finishes_events_whose_call_died_and_refreshes_their_persons(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    batch = purchases(range(3), 1)
    async with failing_writes(db, 4, ("insert", "update", "delete")):  # stored, then died
        with pytest.raises(OperationFailure):  # the call dies; nobody retries
            await track(stores, batch, limits, NOW)
    [landing] = await db["landings"].find().to_list()  # the batch, noted as half-written
    assert len(landing["events"]) == 3

    counting = Counting(stores)
    sweeper = Refresher(
        counting,
        stores.persons.pending,
        lambda: NOW + timedelta(seconds=31),
        POLICY,
        repair=lambda before: repair_unfinished(stores, limits, before, before),
    )
    assert await sweeper.sweep() == 3
    sweeper.start()
    await sweeper.drained()
    await sweeper.stop()
    assert await db["landings"].count_documents({}) == 0
    assert [await orders_of(stores, c) for c in range(3)] == [(1, None)] * 3
