"""Shared values (identity rules, segment definitions, base models) are reused for a
moment: at once after a change through the same instance, within the moment after a
change through another."""

from __future__ import annotations

import asyncio

from pymongo.asynchronous.database import AsyncDatabase

from cdp.store import Stores
from cdp.store.database import Document
from cdp.store.remembered import Remembered


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_value_is_read_once_per_moment_and_again_after_forget() -> None:
    reads: list[int] = []

    async def load() -> int:
        reads.append(len(reads))
        return len(reads)

    clock = Clock()
    kept = Remembered(load, 1.0, clock)
    assert [await kept.get(), await kept.get()] == [1, 1]
    clock.now = 1.5
    assert await kept.get() == 2
    kept.forget()
    assert await kept.get() == 3
    assert len(reads) == 3


async def test_a_read_that_started_before_a_forget_is_not_kept() -> None:
    gate = asyncio.Event()
    values = iter(["old", "new"])

    async def load() -> str:
        value = next(values)
        if value == "old":
            await gate.wait()
        return value

    kept = Remembered(load, 60.0)
    slow = asyncio.create_task(kept.get())
    await asyncio.sleep(0)
    kept.forget()  # a change landed while the old value was on its way
    gate.set()
    assert await slow == "old"  # that caller gets what it read...
    assert await kept.get() == "new"  # ...but nobody after it


async def test_rules_changed_through_another_instance_are_seen_within_the_moment(
    db: AsyncDatabase[Document],
) -> None:
    here, there = Stores.on(db, remember_seconds=0.3), Stores.on(db, remember_seconds=0.3)
    assert await here.config.identity_rules() == {}
    await there.config.set_identity_rules({"email": {"limit": 1, "strength": "STRONG"}})
    assert await there.config.identity_rules() != {}  # at once where it was changed
    assert await here.config.identity_rules() == {}  # not yet here...
    await asyncio.sleep(0.35)
    assert await here.config.identity_rules() == {"email": {"limit": 1, "strength": "STRONG"}}
