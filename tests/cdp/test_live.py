"""One change stream, fanned out: each follower gets what lands on its family."""

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import AutoReconnect

from cdp.live import Follower, LiveFeed, Missed
from cdp.store.changes import Change, HistoryLost, changes
from cdp.store.database import Document, connect
from cdp.store.embedded import EmbeddedServer

OPLOG_ENTRIES = 50  # the small server's oplog: writes past this prune the oldest


async def test_followers_get_their_family_only_and_a_merge_widens_it(
    db: AsyncDatabase[Document],
) -> None:
    feed = LiveFeed(lambda resume_after: changes(db, resume_after))
    await db["persons"].insert_many([{"_id": p} for p in ("P-ana", "P-ben", "P-cookie")])
    try:
        async with feed.follow(["P-ana"]) as ana, feed.follow(["P-ben"]) as ben:
            await db["events"].insert_one({"_id": "e1", "person_id": "P-ana", "type": "call"})
            await db["events"].insert_one({"_id": "e2", "person_id": "P-cookie"})  # nobody's yet
            first = await asyncio.wait_for(ana.next(), 10)
            assert (first.collection, first.id) == ("events", "e1")
            # the cookie's person is merged into Ana: what lands on it is hers from now on
            await db["persons"].update_one({"_id": "P-cookie"}, {"$set": {"merged_into": "P-ana"}})
            merged = await asyncio.wait_for(ana.next(), 10)
            assert (merged.collection, merged.id) == ("persons", "P-cookie")
            await db["events"].insert_one({"_id": "e3", "person_id": "P-cookie"})
            late = await asyncio.wait_for(ana.next(), 10)
            assert late.id == "e3"
            assert ben.inbox.empty()  # Ben heard nothing of Ana
            assert "P-cookie" in ana.family
    finally:
        await feed.stop()


async def test_moving_old_events_in_a_merge_is_not_news(db: AsyncDatabase[Document]) -> None:
    feed = LiveFeed(lambda resume_after: changes(db, resume_after))
    await db["events"].insert_one({"_id": "old", "person_id": "P-b"})
    try:
        async with feed.follow(["P-a"]) as follower:
            await db["events"].update_one({"_id": "old"}, {"$set": {"person_id": "P-a"}})
            await db["events"].insert_one({"_id": "new", "person_id": "P-a"})
            change = await asyncio.wait_for(follower.next(), 10)
            assert change.id == "new"  # the repointed event was not sent
    finally:
        await feed.stop()


async def test_a_profile_change_comes_without_the_fold_kept_for_its_refresh(
    db: AsyncDatabase[Document],
) -> None:
    """Ana's event refreshed her profile and its fold: a follower gets the profile as it
    is now, without kilobytes of tallies it never reads."""
    feed = LiveFeed(lambda resume_after: changes(db, resume_after))
    await db["persons"].insert_one({"_id": "P-ana", "traits": {"city": "Porto"}})
    try:
        async with feed.follow(["P-ana"]) as ana:
            refreshed = {"metrics": {"orders": 1}, "fold": {"version": 2, "key": ["t", "e1"]}}
            await db["persons"].update_one({"_id": "P-ana"}, {"$set": refreshed})
            change = await asyncio.wait_for(ana.next(), 10)
            assert change.document is not None
            assert change.document["metrics"] == {"orders": 1}
            assert change.document["traits"] == {"city": "Porto"}
            assert "fold" not in change.document
    finally:
        await feed.stop()


async def test_skipping_what_waits_still_says_an_end_among_it() -> None:
    """A profile subscription reads the profile once for a burst of writes and skips
    the rest of the burst; an end queued behind them (the feed lost its place) is not
    skipped with them: the subscriber is told."""
    follower = Follower({"P-ana"})
    for n in range(3):
        follower.offer(Change("persons", "P-ana", {"_id": "P-ana", "n": n}, token=n))
    follower.skip_waiting()
    assert follower.inbox.empty()
    follower.offer(Change("persons", "P-ana", {"_id": "P-ana", "n": 3}, token=3))
    follower.end(Missed("read the person again and subscribe again"))
    with pytest.raises(Missed):
        follower.skip_waiting()


@pytest.fixture
def short_history(tmp_path: Path) -> Iterator[str]:
    """An embedded server of its own whose oplog keeps only ``OPLOG_ENTRIES`` writes, so
    that a resume point falls out of it within a test (the service's keeps 100,000)."""
    server = EmbeddedServer(tmp_path, extra_flags=["--oplog-max-entries", str(OPLOG_ENTRIES)])
    try:
        yield server.start()
    finally:
        server.stop()


async def _pruned_past(db: AsyncDatabase[Document], writes: int) -> None:
    """Write more than the oplog keeps and wait until the server has pruned it."""
    await db["noise"].insert_many([{"n": n} for n in range(writes)])
    oplog = db.client["local"]["oplog.rs"]
    for _ in range(300):  # it prunes in the background, within a second or two
        if await oplog.estimated_document_count() <= OPLOG_ENTRIES:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the server kept more oplog entries than it was told to")


async def test_a_stream_asked_to_resume_from_pruned_history_says_so(short_history: str) -> None:
    client = connect(short_history)
    db = client["cdp"]
    try:
        async with asyncio.timeout(30):
            stream = await changes(db)
            await db["events"].insert_one({"_id": "e1", "person_id": "P-ana"})
            seen = await anext(stream)
        await stream.aclose()
        await _pruned_past(db, 5 * OPLOG_ENTRIES)
        with pytest.raises(HistoryLost):
            await changes(db, seen.token)
    finally:
        await client.close()


async def test_a_feed_that_lost_its_place_ends_its_subscriptions_and_follows_from_now(
    short_history: str,
) -> None:
    """The feed's connection drops after Ana's first event; while it is away the server
    prunes the writes since. Resuming there is refused: Ana's subscriber is told it
    missed changes (not left waiting for ones that never come), and the feed goes on
    from now rather than retrying the lost place forever. The database is real; only
    the dropped connection is played, at the stream's edge."""
    client = connect(short_history)
    db = client["cdp"]
    pruned = asyncio.Event()
    opened: list[Any] = []

    async def dropped_after_one(stream: AsyncGenerator[Change, None]) -> AsyncIterator[Change]:
        yield await anext(stream)
        await stream.aclose()
        raise AutoReconnect("connection to the database lost")

    async def stream(resume_after: Any) -> AsyncIterator[Change]:
        opened.append(resume_after)
        if len(opened) == 1:
            return dropped_after_one(await changes(db, resume_after))
        await pruned.wait()  # away until the history it would resume from is gone
        return await changes(db, resume_after)

    feed = LiveFeed(stream)
    try:
        async with asyncio.timeout(60):
            async with feed.follow(["P-ana"]) as ana:
                await db["events"].insert_one({"_id": "e1", "person_id": "P-ana"})
                assert (await ana.next()).id == "e1"
                await _pruned_past(db, 5 * OPLOG_ENTRIES)
                pruned.set()
                with pytest.raises(Missed, match="read the person again"):
                    await ana.next()
            async with feed.follow(["P-ana"]) as again:
                await db["events"].insert_one({"_id": "e2", "person_id": "P-ana"})
                assert (await again.next()).id == "e2"
        assert opened[1] is not None  # it tried to resume where it was,
        assert opened[-1] is None  # then followed from now
    finally:
        await feed.stop()
        await client.close()
