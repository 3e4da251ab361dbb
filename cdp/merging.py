"""Merging persons so that concurrent writers and crashes cannot leave a mess.

A merge is a sequence of idempotent steps, not one transaction: first the absorbed
person is marked ``merged_into`` the survivor, then its traits, identifiers and events
are moved ("settled"). Readers follow ``merged_into`` and read the whole family, so a
half-finished merge is never visible as two persons, and anyone who meets a tombstone
that still owns things finishes the move by running the same step again.

Why not a transaction: under snapshot isolation the repointing ``update_many`` would not
see an event that a concurrent writer inserts for the absorbed person after the snapshot,
and that event would stay behind. Marking first and moving after the mark is committed
closes that gap: a writer either sees the mark (and settles its own writes) or wrote
before it (and the move sees the write).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from cdp.store import Stores
from cdp.traits import replaced_values


async def merge_persons(
    stores: Stores,
    a: str,
    b: str,
    *,
    event_id: str | None,
    reason: str,
    now: datetime,
    agent: str | None = None,
) -> str:
    """Merge the persons behind ``a`` and ``b`` into the older one and return the survivor.

    The merge record keeps what is needed to explain and undo it: the event (or agent)
    behind it, the identifiers that moved and the trait values the merge replaced.
    """
    while True:
        roots = await stores.persons.roots([a, b])
        first, second = roots[a], roots[b]
        if first == second:
            return first
        survivor, absorbed = min(first, second), max(first, second)
        if await stores.persons.mark_merged(absorbed, survivor, now):
            moved = await stores.identifiers.of_persons([absorbed])
            survivor_doc, absorbed_doc = (
                await stores.persons.get(survivor),
                await stores.persons.get(absorbed),
            )
            await stores.merges.record(
                {
                    "kind": "merge",
                    "survivor": survivor,
                    "absorbed": absorbed,
                    "event_id": event_id,
                    "agent": agent,
                    "reason": reason,
                    "at": now,
                    "identifiers": [doc["_id"] for doc in moved],
                    "replaced_traits": replaced_values(survivor_doc or {}, absorbed_doc or {}),
                }
            )
            return await settle(stores, absorbed)
        # Someone merged ``absorbed`` elsewhere in the meantime: start again from the roots.


async def settle(stores: Stores, person_id: str) -> str:
    """Move everything a merged person still owns to its live root; return that root."""
    while True:
        root = (await stores.persons.roots([person_id]))[person_id]
        for tombstone in await _chain(stores, person_id, root):
            await _move(stores, tombstone, root)
        if (await stores.persons.roots([root]))[root] == root:
            return root


async def settle_all(stores: Stores, person_ids: Iterable[str]) -> dict[str, str]:
    """Settle every merged person among ``person_ids``; map each id to its live root."""
    ids = set(person_ids)
    roots = await stores.persons.roots(ids)
    for person_id in sorted(ids):
        if roots[person_id] != person_id:
            roots[person_id] = await settle(stores, person_id)
    return roots


async def _chain(stores: Stores, start: str, root: str) -> list[str]:
    """The merged persons from ``start`` up to (not including) ``root``."""
    chain: list[str] = []
    node = start
    while node != root:
        chain.append(node)
        doc = await stores.persons.get(node)
        if doc is None or not doc.get("merged_into"):
            break
        node = doc["merged_into"]
    return chain


async def _move(stores: Stores, tombstone: str, root: str) -> None:
    doc = await stores.persons.get(tombstone)
    if doc is not None:
        await stores.persons.take_traits(doc, root)
    await stores.identifiers.repoint(tombstone, root)
    await stores.events.repoint(tombstone, root)
