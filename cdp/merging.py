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

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from cdp.store import Stores
from cdp.store.database import Document
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

    The merge record (written while settling, see ``_audit``) keeps what is needed to
    explain and undo it: the event or agent behind it, the identifiers that moved and
    the trait values the merge replaced.
    """
    while True:
        roots = await stores.persons.roots([a, b])
        first, second = roots[a], roots[b]
        if first == second:
            return first
        survivor, absorbed = min(first, second), max(first, second)
        cause = {"event_id": event_id, "agent": agent, "reason": reason}
        if await stores.persons.mark_merged(absorbed, survivor, now, cause):
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
    """Settle every merged person among ``person_ids``, and any merge into them that was
    cut short; map each id to its live root."""
    ids = set(person_ids)
    roots = await stores.persons.roots(ids)
    for person_id in sorted(ids):
        if roots[person_id] != person_id:
            roots[person_id] = await settle(stores, person_id)
    for child in await stores.persons.unsettled_children(set(roots.values())):
        await settle(stores, child)
    return roots


async def _chain(stores: Stores, start: str, root: str) -> list[Document]:
    """The merged persons' documents from ``start`` up to (not including) ``root``."""
    chain: list[Document] = []
    node = start
    while node != root:
        doc = await stores.persons.get(node)
        if doc is None:
            break
        chain.append(doc)
        if not doc.get("merged_into"):
            break
        node = doc["merged_into"]
    return chain


async def _move(stores: Stores, tombstone: Document, root: str) -> None:
    """Move a merged person's traits, events and identifiers to ``root`` (dropping its
    segment memberships), then flag it.

    Identifiers move last: while any still point at the tombstone, the next writer that
    meets them finishes the move. Unsettled persons merged into this one (a chain cut
    short) are moved too, and only then is the tombstone flagged settled.
    """
    person = tombstone["_id"]
    await _audit(stores, tombstone, root)
    await stores.persons.take_traits(tombstone, root)
    await stores.events.repoint(person, root)
    await stores.consents.repoint(person, root)
    await stores.persons.remember_offer_responses(root, tombstone.get("offer_history") or [])
    await stores.memberships.delete_of_persons([person])  # the survivor's are re-evaluated
    await stores.identifiers.repoint(person, root)
    for child in await stores.persons.unsettled_children([person]):
        doc = await stores.persons.get(child)
        if doc is not None:
            await _move(stores, doc, root)
    await stores.persons.mark_settled(person)


async def _audit(stores: Stores, tombstone: Mapping[str, Any], root: str) -> None:
    """Write the merge's audit record, before anything moves, unless it is already there.

    Built from the tombstone (the mark holds the cause), so a merge cut short anywhere
    still ends with exactly one complete record: which identifiers moved, which trait
    values lost, and the event or agent behind it.
    """
    record_id = f"merge:{tombstone['_id']}"
    if await stores.merges.exists(record_id):
        return
    moved = await stores.identifiers.of_persons([tombstone["_id"]])
    survivor = await stores.persons.get(root)
    cause = tombstone.get("merge_cause", {})
    await stores.merges.record_once(
        {
            "_id": record_id,
            "kind": "merge",
            "survivor": tombstone["merged_into"],
            "absorbed": tombstone["_id"],
            "event_id": cause.get("event_id"),
            "agent": cause.get("agent"),
            "reason": cause.get("reason", "merged"),
            "at": tombstone["merged_at"],
            "identifiers": [doc["_id"] for doc in moved],
            "replaced_traits": replaced_values(survivor or {}, tombstone),
        }
    )
