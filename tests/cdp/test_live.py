"""One change stream, fanned out: each follower gets what lands on its family."""

import asyncio

from pymongo.asynchronous.database import AsyncDatabase

from cdp.live import LiveFeed
from cdp.store.changes import changes
from cdp.store.database import Document


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
