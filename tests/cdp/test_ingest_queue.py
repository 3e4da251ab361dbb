"""Calls that arrive together are stored together, and each gets exactly its answer."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from cdp.errors import BadUserInput
from cdp.ingest import Alongside, IngestLimits, Landed, land
from cdp.ingest_queue import IngestQueue, LandFn
from cdp.profile.find import find_by_identifier
from cdp.profile.refresher import Refresher, RefreshPolicy
from cdp.records import EventStatus
from cdp.store import Stores
from cdp.store.database import Document
from tests.faults import failing_writes
from tests.stories import event

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def call(writer: int, size: int = 3) -> list[dict[str, Any]]:
    return [
        event(
            "purchase",
            "WEB",
            [("email", f"w{writer}-{k}@example.com")],
            at="2026-03-01T10:00:00Z",
            message_id=f"w{writer}-{k}",
            properties={"total": 10.0},
        )
        for k in range(size)
    ]


class Batches(list[int]):
    """The real landing of a batch, noting the size of every batch the queue lands."""

    async def __call__(
        self,
        stores: Stores,
        raw_events: Sequence[Any],
        limits: IngestLimits,
        now: datetime,
        alongside: Alongside | None = None,
        *,
        refresh_alone: bool = False,
    ) -> Landed:
        self.append(len(raw_events))
        return await land(stores, raw_events, limits, now, alongside, refresh_alone=refresh_alone)


def queue_for(stores: Stores, limits: IngestLimits, batches: Batches | None = None) -> IngestQueue:
    refresher = Refresher(
        lambda p, n: asyncio.sleep(0), stores.persons.pending, lambda: NOW, RefreshPolicy()
    )
    landing: LandFn = land if batches is None else batches
    return IngestQueue(stores, limits, refresher, lambda: NOW, land_batch=landing)


@pytest.fixture
def batches() -> Batches:
    return Batches()


async def test_concurrent_calls_are_landed_together_and_answered_each_their_own(
    stores: Stores, limits: IngestLimits, batches: Batches
) -> None:
    queue = queue_for(stores, limits, batches)
    answers = await asyncio.gather(*(queue.track(call(w)) for w in range(20)))
    assert sum(batches) == 60
    assert len(batches) < 20  # calls that waited went together
    for writer, answer in enumerate(answers):
        assert [r.message_id for r in answer.results] == [f"w{writer}-{k}" for k in range(3)]
        assert {r.status for r in answer.results} == {EventStatus.ACCEPTED}
    profile = await find_by_identifier(stores, "email", "w7-1@example.com", "GB")
    assert profile is not None
    assert profile.metrics is not None  # a small call is refreshed before it answers
    assert profile.metrics["orders"] == 1


async def test_a_lone_call_waits_for_nobody(
    stores: Stores, limits: IngestLimits, batches: Batches
) -> None:
    queue = queue_for(stores, limits, batches)
    await queue.track(call(1))
    await queue.track(call(2))
    assert batches == [3, 3]


async def test_a_message_id_two_calls_send_together_is_stored_once(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    queue = queue_for(stores, limits)
    first, second = await asyncio.gather(queue.track(call(1)), queue.track(call(1)))
    statuses = [r.status for r in first.results + second.results]
    assert statuses.count(EventStatus.ACCEPTED) == 3
    assert statuses.count(EventStatus.DUPLICATE) == 3
    assert await db["events"].count_documents({"_id": {"$regex": "^w1-"}}) == 3


async def test_a_batch_is_never_more_than_the_batch_limit(
    stores: Stores, limits: IngestLimits, batches: Batches
) -> None:
    small = IngestLimits(limits.rules, 7, limits.identity)
    queue = queue_for(stores, small, batches)
    with pytest.raises(BadUserInput, match="8 events in one call; at most 7"):
        await queue.track(call(0, size=8))
    await asyncio.gather(*(queue.track(call(w, size=3)) for w in range(6)))
    assert max(batches) <= 7
    assert sum(batches) == 18


async def test_a_failure_reaches_every_call_of_its_batch(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    queue = queue_for(stores, limits)
    async with failing_writes(db, skip=0, commands=("insert",)):
        outcomes = await asyncio.gather(
            *(queue.track(call(w)) for w in range(5)), return_exceptions=True
        )
    assert all(isinstance(o, Exception) for o in outcomes)
    retried = await asyncio.gather(*(queue.track(call(w)) for w in range(5)))
    assert all(r.results[0].status is EventStatus.ACCEPTED for r in retried)


async def test_calls_landed_together_each_count_the_persons_they_made_and_merged(
    stores: Stores, limits: IngestLimits, batches: Batches
) -> None:
    """Ana's web form and her phone call made two profiles; two calls of three new
    shoppers each and the order that carries both Ana's email and phone arrive together
    and are stored as one batch: each answer counts its own new persons and merges."""
    queue = queue_for(stores, limits, batches)
    form = event("form_submit", "WEB", [("email", "ana@example.com")], at="2026-03-01T09:00:00Z")
    phone = event("call", "PHONE", [("phone", "+447911123456")], at="2026-03-01T09:30:00Z")
    await queue.track([form])
    await queue.track([phone])
    both = [("email", "ana@example.com"), ("phone", "+447911123456")]
    order = [event("purchase", "WEB", both, at="2026-03-01T11:00:00Z", message_id="ana-1")]

    shoppers, others, ana = await asyncio.gather(
        queue.track(call(0)), queue.track(call(1)), queue.track(order)
    )

    assert batches[2:] == [7]  # the three calls went together
    assert (shoppers.persons_created, shoppers.merges) == (3, 0)
    assert (others.persons_created, others.merges) == (3, 0)
    assert (ana.persons_created, ana.merges) == (0, 1)


async def test_a_lone_call_counts_the_persons_it_made(stores: Stores, limits: IngestLimits) -> None:
    answer = await queue_for(stores, limits).track(call(1))
    assert (answer.persons_created, answer.merges) == (3, 0)
