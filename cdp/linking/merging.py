"""Merging persons so that concurrent writers and crashes cannot leave a mess.

A merge is a sequence of idempotent steps, not one transaction: first the absorbed
person is marked ``merged_into`` the survivor, then its traits, identifiers and events
are moved ("settled"). Readers follow ``merged_into`` and read the whole family, so a
half-finished merge is never visible as two persons, and anyone who meets a tombstone
that still owns things finishes the move by running the same step again.

Why not one transaction: under snapshot isolation the repointing ``update_many`` would
not see an event that a concurrent writer inserts for the absorbed person after the
snapshot, and that event would stay behind. Marking first and moving after the mark is
committed closes that gap: a writer either sees the mark (and settles its own writes) or
wrote before it (and the move sees the write).

Every step is set-based: a batch that merges forty pairs marks them in one bulk write
and moves them in one write per collection, not forty rounds of a dozen calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cdp.profile.traits import replaced_values
from cdp.segments.changes import SEGMENT_EVENT_TYPES
from cdp.store import Stores
from cdp.store.database import Document

MAX_ROUNDS = 50  # rounds lost to concurrent writers before giving up; each makes progress


@dataclass(frozen=True, slots=True)
class MergeRequest:
    """Merge the persons behind ``a`` and ``b`` (any ids they ever had), for this cause."""

    a: str
    b: str
    event_id: str | None
    reason: str
    agent: str | None = None
    keep: str | None = None  # an agent's choice of survivor (any id of it); else the older

    def cause(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "agent": self.agent, "reason": self.reason}


async def merge_persons(
    stores: Stores,
    a: str,
    b: str,
    *,
    event_id: str | None,
    reason: str,
    now: datetime,
    agent: str | None = None,
    keep: str | None = None,
) -> str:
    """Merge the persons behind ``a`` and ``b`` into the one ``keep`` names (the older
    one without it) and return the survivor."""
    roots = await merge_many(stores, [MergeRequest(a, b, event_id, reason, agent, keep)], now)
    return roots[a]


async def merge_many(
    stores: Stores, requests: Sequence[MergeRequest], now: datetime
) -> dict[str, str]:
    """Apply merges in order, as if one by one; map every id named to its live person."""
    await apply_merges(stores, requests, now)
    return await settle_all(stores, {x for r in requests for x in (r.a, r.b)})


async def apply_merges(
    stores: Stores, requests: Sequence[MergeRequest], now: datetime, *, settle: bool = True
) -> set[str]:
    """Apply merges in order, as if one by one, each settled when this returns; return
    the persons absorbed. ``settle=False`` leaves their moves to the caller
    (:func:`settle_all` of what this returns): a merge is decided by its mark, and until
    the move is done the next writer that meets one of them finishes it.

    Each absorbed person is marked into the older of the two (person ids sort by
    creation, so concurrent writers agree on the survivor without a read), or into the
    one an agent chose (``keep``; merges run one at a time under the stitching lock, so
    two cannot point opposite ways). The marks go
    in one bulk write; a mark another writer got to first (it merged that person
    elsewhere) sends its requests round again, from the roots as they are now.
    """
    pending = list(requests)
    absorbed_all: set[str] = set()
    for _ in range(MAX_ROUNDS):
        if not pending:
            break
        named = {x for r in pending for x in (r.a, r.b, r.keep) if x is not None}
        roots = await stores.persons.roots(named)
        parent: dict[str, str] = {}
        marks: dict[str, tuple[str, MergeRequest]] = {}
        for request in pending:
            first = _follow(parent, roots[request.a])
            second = _follow(parent, roots[request.b])
            if first != second:
                chosen = _follow(parent, roots[request.keep]) if request.keep else None
                if chosen in (first, second):
                    survivor, absorbed = chosen, second if chosen == first else first
                else:
                    survivor, absorbed = min(first, second), max(first, second)
                parent[absorbed] = survivor
                marks[absorbed] = (survivor, request)
        if not marks:
            break
        landed = await stores.persons.mark_merged_many(
            {
                absorbed: (survivor, request.cause())
                for absorbed, (survivor, request) in marks.items()
            },
            now,
        )
        absorbed_all |= landed
        if settle:
            await settle_all(stores, landed)
        pending = [request for absorbed, (_, request) in marks.items() if absorbed not in landed]
    return absorbed_all


async def settle(stores: Stores, person_id: str) -> str:
    """Move everything a merged person still owns to its live root; return that root."""
    return (await settle_all(stores, [person_id]))[person_id]


async def settle_all(stores: Stores, person_ids: Iterable[str]) -> dict[str, str]:
    """Finish every move the given persons are part of; map each to its live root.

    Moved are the merged persons among ``person_ids`` and on their way to their roots,
    settled or not (a writer that stored something on a tombstone after it settled
    calls this with that tombstone), and every unsettled person merged into any of
    them (a merge cut short), however deep.
    """
    asked = set(person_ids)
    for _ in range(MAX_ROUNDS):
        # Both reads start from the ids asked, so they go side by side; only the persons
        # above them (met when some are merged) need their unsettled children read after.
        parents, (unsettled, looked) = await asyncio.gather(
            stores.persons.parents(asked), _unsettled_below(stores, asked)
        )
        higher = parents.keys() - asked
        if higher:
            unsettled, _ = await _unsettled_below(stores, higher, unsettled, looked)
        roots = _resolve(parents)
        tombstones = {person for person, above in parents.items() if above != person}
        moving = tombstones | unsettled.keys()
        if not moving:  # nothing to finish: the roots just read are the answer
            return {person: roots[person] for person in asked}
        docs = await stores.persons.get_many(moving)
        root_of = {
            person: roots.get(person) or roots[_resolve_from(unsettled, roots, person)]
            for person in docs
        }
        await _move_many(stores, [docs[p] for p in sorted(docs)], root_of)
        final = await stores.persons.roots(set(roots.values()))
        if all(final[root] == root for root in roots.values()):
            return {person: roots[person] for person in asked}
        # a root was merged away while this ran: go round from the new facts
    raise RuntimeError(f"merges did not settle in {MAX_ROUNDS} rounds")


async def _unsettled_below(
    stores: Stores,
    persons: set[str],
    found: Mapping[str, str] | None = None,
    looked: Set[str] = frozenset(),
) -> tuple[dict[str, str], set[str]]:
    """Unsettled persons merged into ``persons``, however deep: person -> merged into;
    and every person whose children were read. ``found`` and ``looked``: what an
    earlier call answered, whose reads are not made again (the absorbed persons just
    met under their survivors: their own children were read with them)."""
    found = dict(found or {})
    done = set(looked)
    frontier = persons - done
    while frontier:
        children = await stores.persons.unsettled_children_of(frontier)
        done |= frontier
        fresh = {child: above for child, above in children.items() if child not in found}
        found.update(fresh)
        frontier = set(fresh) - done
    return found, done


def _follow(parent: Mapping[str, str], person: str) -> str:
    while person in parent:
        person = parent[person]
    return person


def _resolve(parents: Mapping[str, str]) -> dict[str, str]:
    roots: dict[str, str] = {}
    for start in parents:
        node = start
        while parents.get(node, node) != node:
            node = parents[node]
        roots[start] = node
    return roots


def _resolve_from(unsettled: Mapping[str, str], roots: Mapping[str, str], person: str) -> str:
    """The known person an unsettled child chain leads up to."""
    while person not in roots:
        person = unsettled[person]
    return person


async def _move_many(
    stores: Stores, tombstones: Sequence[Document], root_of: dict[str, str]
) -> None:
    """Move merged persons' traits, events, consents, offer history and identifiers to
    their roots (dropping their segment memberships and the timeline entries that told
    them: the survivor is re-evaluated and writes its own), then flag them settled.

    One write per collection for all of them. The audit record comes first and the
    identifiers last: while any still point at a tombstone, the next writer that meets
    them finishes the move. The writes between touch different documents and each can be
    repeated, so they go side by side (a crash among them leaves the move to finish).
    """
    persons = [doc["_id"] for doc in tombstones]
    await _audit_many(stores, tombstones, root_of)
    moves = {person: root_of[person] for person in persons}
    await asyncio.gather(
        _move_profile_fields(stores, tombstones, root_of),
        _move_events(stores, persons, moves),
        stores.consents.repoint_many(moves),
        stores.memberships.delete_of_persons(persons),  # the survivors' are re-evaluated
    )
    await stores.identifiers.repoint_many(moves)
    await stores.persons.mark_settled(persons)


async def _move_profile_fields(
    stores: Stores, tombstones: Sequence[Document], root_of: Mapping[str, str]
) -> None:
    """Traits and offer history into the survivors' profiles (one after the other: both
    write the survivors)."""
    await stores.persons.take_traits_many([(doc, root_of[doc["_id"]]) for doc in tombstones])
    await stores.persons.remember_offer_responses_many(
        [(root_of[doc["_id"]], doc.get("offer_history") or []) for doc in tombstones]
    )


async def _move_events(stores: Stores, persons: list[str], moves: dict[str, str]) -> None:
    """The tombstones' events to their roots; their segment entries stay (a refresh
    racing this merge may still write some) and are deleted, beside the move: the two
    touch different events."""
    await asyncio.gather(
        stores.events.repoint_many(moves, keep_types=sorted(SEGMENT_EVENT_TYPES)),
        stores.events.delete_of_types(persons, SEGMENT_EVENT_TYPES),
    )


async def _audit_many(
    stores: Stores, tombstones: Sequence[Document], root_of: Mapping[str, str]
) -> None:
    """Write each merge's audit record, before anything moves, unless it is there.

    Built from the tombstone (the mark holds the cause), so a merge cut short anywhere
    still ends with exactly one complete record: which identifiers moved, which trait
    values lost, and the event or agent behind it.
    """
    wanted = {f"merge:{doc['_id']}": doc for doc in tombstones}
    # What a record is built from is read beside the check for records already made (a
    # round trip fewer for a merge just marked; wasted only for a move done before).
    known, held, survivors = await asyncio.gather(
        stores.merges.existing(wanted),
        stores.identifiers.of_persons([doc["_id"] for doc in tombstones]),
        stores.persons.get_many({root_of[doc["_id"]] for doc in tombstones}),
    )
    missing = [doc for record, doc in wanted.items() if record not in known]
    if not missing:
        return
    moved: dict[str, list[str]] = {}
    for identifier in held:
        moved.setdefault(identifier["person_id"], []).append(identifier["_id"])
    await stores.merges.record_many(
        [
            {
                "_id": f"merge:{doc['_id']}",
                "kind": "merge",
                "survivor": doc["merged_into"],
                "absorbed": doc["_id"],
                "event_id": doc.get("merge_cause", {}).get("event_id"),
                "agent": doc.get("merge_cause", {}).get("agent"),
                "reason": doc.get("merge_cause", {}).get("reason", "merged"),
                "at": doc["merged_at"],
                "identifiers": sorted(moved.get(doc["_id"], [])),
                "replaced_traits": replaced_values(survivors.get(root_of[doc["_id"]]) or {}, doc),
            }
            for doc in missing
        ]
    )
