"""The ``persons`` collection: profile documents, and tombstones of persons merged away.

A merged person keeps its document with ``merged_into`` set, so an old id still leads to
the survivor and a merge interrupted half-way can be finished by anyone who finds it.
Traits carry the time each value was set (``trait_times``); every write keeps the most
recent value, so late events and merges cannot overwrite newer facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.database import (
    EACH_CHUNK,
    Document,
    chunked,
    find_in,
    insert_fresh,
    per_document,
    per_document_switch,
)
from cdp.store.ordered import refused_unless

FOLD_FLOOR = "fold.floor"  # the oldest event announced since the fold was stored
# each identifier with when the person's history first and last carried it, as the last
# refresh that read the whole history found it (cdp.profile.sightings)
SIGHTINGS_FIELD = "identifiers_seen"
# A profile as read for showing or deciding: without the fold kept for its refresh
# (cdp.profile.carried), kilobytes of tallies only the single event's refresh reads.
WITHOUT_FOLD: Document = {"fold": 0}
OFFER_HISTORY = 200  # offer responses kept on a profile for caps and the decline rule
# "This person is live", inside an update pipeline (a filter on merged_into beside _id
# makes the embedded server scan the collection).
_LIVE = {"$eq": [{"$ifNull": ["$merged_into", None]}, None]}


def _pending_mark(now: datetime, *, updated: bool, oldest: datetime | None) -> Document:
    """The pending mark of one person (``updated``: it got new events; ``oldest``: the
    oldest event announced, to which a stored fold's ``floor`` goes down,
    cdp.profile.carried)."""
    mark: Document = {
        "$min": {"pending_since": now, **({FOLD_FLOOR: oldest} if oldest else {})},
        "$inc": {"changes": 1},
        "$unset": {"unclaimed": ""},
    }
    if updated:
        mark["$max"] = {"updated_at": now}
    return mark


def _latest_wins(
    traits: Mapping[str, Any], at: datetime, *, replace_on_tie: bool = True
) -> list[Document]:
    """An update pipeline setting each trait unless a newer value is already stored.

    On a tie an event's value replaces the stored one (it arrived later), while a merged
    person's value does not (the survivor keeps its own, as ``cdp.profile.traits`` records).
    Values go through ``$literal`` so that user data such as ``"$where"`` is never read as
    an expression.
    """
    compare = "$gte" if replace_on_tie else "$gt"
    fields: Document = {}
    for name, value in traits.items():
        newer = {compare: [at, f"$trait_times.{name}"]}
        fields[f"traits.{name}"] = {"$cond": [newer, {"$literal": value}, f"$traits.{name}"]}
        fields[f"trait_times.{name}"] = {"$max": [at, f"$trait_times.{name}"]}
    return [{"$set": fields}]


def _refreshed(found: Document, *, with_sightings: bool = False) -> list[Document]:
    """The update pipeline of :meth:`PersonStore.set_refreshed`: ``found`` is this
    document's new ``{metrics, segment_ids, changes}`` (and ``sightings`` when
    ``with_sightings``), applied when the person is live and the values count at least
    the changes a stored refresh counted."""
    newer = {"$lte": [{"$ifNull": ["$refreshed_changes", -1]}, "$_refresh.changes"]}
    done = {"$and": ["$_apply", {"$eq": [{"$ifNull": ["$changes", 0]}, "$_refresh.changes"]}]}
    applied: Document = {
        "metrics": {"$cond": ["$_apply", "$_refresh.metrics", "$metrics"]},
        "segment_ids": {"$cond": ["$_apply", "$_refresh.segment_ids", "$segment_ids"]},
        "refreshed_changes": {"$cond": ["$_apply", "$_refresh.changes", "$refreshed_changes"]},
        "pending_since": {"$cond": [done, "$$REMOVE", "$pending_since"]},
    }
    if with_sightings:
        applied[SIGHTINGS_FIELD] = {
            "$cond": ["$_apply", "$_refresh.sightings", f"${SIGHTINGS_FIELD}"]
        }
    return [
        {"$set": {"_refresh": found}},
        {"$set": {"_apply": {"$and": [_LIVE, newer]}}},
        {"$set": applied},
        {"$unset": ["_refresh", "_apply"]},
    ]


class PersonStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db["persons"]

    async def create(self, person_ids: Iterable[str], now: datetime) -> None:
        """Insert new persons; their ids are fresh, so a plain insert cannot collide.

        ``offer_history`` starts empty: a profile without it predates the copy, and its
        readers go to ``offer_responses`` instead. ``unclaimed`` stays until the call
        marks the person pending (:meth:`mark_pending`): a call that dies between creating
        a person and claiming its identifiers leaves an empty person the sweep removes.
        """
        documents = [
            {
                "_id": pid,
                "created_at": now,
                "updated_at": now,
                "traits": {},
                "trait_times": {},
                "offer_history": [],
                "unclaimed": True,
            }
            for pid in person_ids
        ]
        await insert_fresh(self._collection, documents)

    async def get(self, person_id: str) -> Document | None:
        return await self._collection.find_one({"_id": person_id}, WITHOUT_FOLD)

    async def roots(self, person_ids: Iterable[str]) -> dict[str, str]:
        """Follow ``merged_into`` from each id to the live person it ended in."""
        parent = await self.parents(person_ids)
        resolved: dict[str, str] = {}
        for start in parent:
            node = start
            while parent[node] != node:
                node = parent[node]
            resolved[start] = node
        return resolved

    async def parents(self, person_ids: Iterable[str]) -> dict[str, str]:
        """Each id and every person on its way up ``merged_into``, mapped to the person it
        was merged into (itself when live or unknown); one read per level of merges."""
        parent: dict[str, str] = {}
        frontier = set(person_ids)
        while frontier:
            async for doc in find_in(self._collection, "_id", frontier, {"merged_into": 1}):
                parent[doc["_id"]] = doc.get("merged_into") or doc["_id"]
            for unknown in frontier - parent.keys():
                parent[unknown] = unknown
            frontier = {target for target in parent.values() if target not in parent}
        return parent

    async def page(self, first: int, before_id: str | None) -> list[Document]:
        """Live persons, newest first (ids sort by creation), ``first + 1`` of them.

        The query names only ``_id`` (an index range) and tombstones are skipped here: a
        filter on ``merged_into`` beside it makes the embedded server scan everything.
        """
        match: Document = {"_id": {"$lt": before_id}} if before_id is not None else {}
        cursor = self._collection.find(match, WITHOUT_FOLD).sort("_id", -1).batch_size(first + 50)
        found: list[Document] = []
        async for doc in cursor:
            if not doc.get("merged_into"):
                found.append(doc)
                if len(found) > first:
                    break
        await cursor.close()
        return found

    async def absorbed_into_each(self, roots: list[str]) -> dict[str, list[str]]:
        """For many roots at once, everyone merged into each (one query per level)."""
        root_of = {root: root for root in roots}
        frontier = list(roots)
        while frontier:
            projection = {"merged_into": 1}
            found = [
                doc async for doc in find_in(self._collection, "merged_into", frontier, projection)
            ]
            for doc in found:
                root_of[doc["_id"]] = root_of[doc["merged_into"]]
            frontier = [doc["_id"] for doc in found]
        absorbed: dict[str, list[str]] = {root: [] for root in roots}
        for person, root in root_of.items():
            if person != root:
                absorbed[root].append(person)
        return {root: sorted(ids) for root, ids in absorbed.items()}

    async def absorbed_into(self, root: str) -> list[str]:
        """Every person merged, directly or through others, into ``root``, oldest first."""
        found: list[str] = []
        frontier = [root]
        while frontier:
            below = find_in(self._collection, "merged_into", frontier, {"_id": 1})
            frontier = [doc["_id"] async for doc in below]
            found.extend(frontier)
        return sorted(found)

    async def mark_merged_many(
        self, marks: Mapping[str, tuple[str, Mapping[str, Any]]], now: datetime
    ) -> set[str]:
        """Point each absorbed person at its survivor; return those now pointing there.

        Each single-document update is the moment that merge happens (it applies only to
        a person not merged yet, so two merges cannot both absorb it); the cause (event,
        agent, reason) is stored with it so the audit record can always be rebuilt. A
        person that another writer merged elsewhere first is left out of the answer.
        """
        if not marks:
            return set()
        # One command for every mark, each person given its own survivor and cause (the
        # embedded server commits a bulk write's statements one by one, each synced).
        # Only a live person is marked: decided in the pipeline, as a filter on
        # merged_into beside an _id list makes the embedded server scan the collection.
        for chunk in chunked(sorted(marks)):
            mark = per_document(
                {a: {"merged_into": marks[a][0], "merge_cause": dict(marks[a][1])} for a in chunk}
            )
            await self._collection.update_many(
                {"_id": {"$in": chunk}},
                [
                    {"$set": {"_mark": {"$cond": [_LIVE, mark, None]}}},
                    {
                        "$set": {
                            "merged_into": {"$ifNull": ["$_mark.merged_into", "$merged_into"]},
                            "merge_cause": {"$ifNull": ["$_mark.merge_cause", "$merge_cause"]},
                            "merged_at": {"$cond": ["$_mark", now, "$merged_at"]},
                            "updated_at": {"$cond": ["$_mark", now, "$updated_at"]},
                            # Nothing waits on a tombstone: its events are refreshed with
                            # the survivor's (and the sweep must not keep finding it).
                            "pending_since": {"$cond": ["$_mark", "$$REMOVE", "$pending_since"]},
                        }
                    },
                    {"$unset": "_mark"},
                ],
            )
        found = await self.get_many(marks)
        return {
            absorbed
            for absorbed, (survivor, _) in marks.items()
            if found.get(absorbed, {}).get("merged_into") == survivor
        }

    async def unsettled_children_of(self, person_ids: Iterable[str]) -> dict[str, str]:
        """Persons merged into one of ``person_ids`` whose move has not finished, each
        with the person it was merged into."""
        found: dict[str, str] = {}
        # ``settled`` is read, not matched: with it in the filter the embedded server scans
        # the whole collection instead of using the merged_into index.
        projection = {"settled": 1, "merged_into": 1}
        async for doc in find_in(self._collection, "merged_into", person_ids, projection):
            if not doc.get("settled"):
                found[doc["_id"]] = doc["merged_into"]
        return found

    async def mark_settled(self, person_ids: Iterable[str]) -> None:
        for chunk in chunked(person_ids):
            await self._collection.update_many({"_id": {"$in": chunk}}, {"$set": {"settled": True}})

    async def set_traits(self, updates: Iterable[tuple[str, Mapping[str, Any], datetime]]) -> None:
        """Apply ``(person, traits, set_at)`` updates, the newest value of each trait winning."""
        operations = self.set_traits_writes(updates)
        if operations:
            await self._collection.bulk_write(operations, ordered=True)

    def set_traits_writes(
        self, updates: Iterable[tuple[str, Mapping[str, Any], datetime]]
    ) -> list[UpdateOne]:
        """:meth:`set_traits` as writes, to run alone or with others (:mod:`cdp.store.ordered`)."""
        return [
            UpdateOne(
                {"_id": person_id},
                _latest_wins(traits, at),
                namespace=self._collection.full_name,
            )
            for person_id, traits, at in updates
            if traits
        ]

    async def replace_traits(
        self, traits: Mapping[str, tuple[Mapping[str, Any], Mapping[str, datetime]]]
    ) -> None:
        """Set each person's traits and their times whole (rebuilt from their events)."""
        operations = [
            UpdateOne({"_id": pid}, {"$set": {"traits": dict(values), "trait_times": dict(times)}})
            for pid, (values, times) in traits.items()
        ]
        if operations:
            await self._collection.bulk_write(operations, ordered=False)

    async def take_traits_many(self, moves: Sequence[tuple[Document, str]]) -> None:
        """Fold each source's traits into its target, trait by trait by recency."""
        operations = [
            UpdateOne(
                {"_id": target}, _latest_wins({name: value}, times[name], replace_on_tie=False)
            )
            for source, target in moves
            for times in [source.get("trait_times", {})]
            for name, value in source.get("traits", {}).items()
            if name in times
        ]
        if operations:
            await self._collection.bulk_write(operations, ordered=True)

    async def delete_empty(self, person_ids: Iterable[str]) -> None:
        """Delete live persons that were just created and never received anything."""
        for chunk in chunked(person_ids):
            await self._collection.delete_many({"_id": {"$in": chunk}, "merged_into": None})

    async def delete(self, person_ids: Iterable[str]) -> None:
        for chunk in chunked(person_ids):
            await self._collection.delete_many({"_id": {"$in": chunk}})

    async def forget_sightings(self, keys: Iterable[str]) -> set[str]:
        """Take these identifier keys off every profile's ``identifiers_seen``; return the
        persons whose profile listed one. For an erasure: a key that moved to the erased
        person from someone else (a weak identifier, an unlink) stays on the profile it
        left until that person's next refresh. Reads every profile's list, as one pass
        over the collection (no index holds it, and a filter on it would scan the
        collection once for every list of keys; an erasure is rare), then writes only the
        profiles that list a key."""
        unwanted = set(keys)
        listed: set[str] = set()
        async for doc in self._collection.find({}, {f"{SIGHTINGS_FIELD}.key": 1}):
            if any(seen.get("key") in unwanted for seen in doc.get(SIGHTINGS_FIELD) or ()):
                listed.add(doc["_id"])
        pulled = {SIGHTINGS_FIELD: {"key": {"$in": sorted(unwanted)}}}
        for chunk in chunked(sorted(listed)):
            await self._collection.update_many({"_id": {"$in": chunk}}, {"$pull": pulled})
        return listed

    async def get_many(
        self, person_ids: Iterable[str], fields: Iterable[str] | None = None
    ) -> dict[str, Document]:
        """Persons by id; only ``fields`` of them when given (a profile carries its
        metrics, trail and recent offers: kilobytes a caller may not need)."""
        projection = dict.fromkeys(fields, 1) if fields is not None else WITHOUT_FOLD
        found: dict[str, Document] = {}
        async for doc in find_in(self._collection, "_id", person_ids, projection):
            found[doc["_id"]] = doc
        return found

    async def live_ids(self) -> list[str]:
        """Every live person's id, in id order, in one pass over the collection.

        The bulk recompute takes the ids once and loads profiles by id a page at a time:
        paging with ``_id > last`` and a sort costs a scan of the whole collection per
        page on the embedded server (measured: 1 s per page at 50,000 persons).
        """
        cursor = self._collection.find({}, {"merged_into": 1})  # tombstones skipped here
        return sorted([doc["_id"] async for doc in cursor if not doc.get("merged_into")])

    async def live_count(self) -> int:
        """Live persons: all of them less the merged ones, counted on the merge index (a
        count of ``merged_into: null`` would read every profile)."""
        total = await self._collection.estimated_document_count()
        merged = await self._collection.count_documents({"merged_into": {"$gt": ""}})
        return total - merged

    async def mark_pending(
        self,
        person_ids: Iterable[str],
        now: datetime,
        *,
        updated: Iterable[str] = (),
        oldest: datetime | None = None,
    ) -> None:
        """Say these persons' metrics and segments do not include their latest events yet.

        ``pending_since`` keeps the oldest such moment (what a reader is told) and
        ``changes`` counts the marks, so a refresh clears the mark only when nothing new
        arrived while it ran. Written before a refresh is attempted, so a crash or a lost
        queue never leaves a person stale unseen: the sweep finds the mark. The persons in
        ``updated`` (they got new events) have ``updated_at`` moved on in the same command.
        ``oldest``: the oldest of the call's events, to which the floor of every marked
        person's stored fold goes down (one time for them all, those whose events an
        earlier call stored included: a fold is then folded again from the whole history
        at worst, never wrong; cdp.profile.carried).
        """
        ids, changed = set(person_ids), set(updated)
        # One plain update for the usual call (every person got events); a pipeline
        # choosing per document would cost the embedded server twice the time.
        for chunk in chunked(sorted(ids & changed)):
            await self._collection.update_many(
                {"_id": {"$in": chunk}}, _pending_mark(now, updated=True, oldest=oldest)
            )
        for chunk in chunked(sorted(ids - changed)):
            await self._collection.update_many(
                {"_id": {"$in": chunk}}, _pending_mark(now, updated=False, oldest=oldest)
            )

    async def mark_pending_if_live(
        self,
        person_ids: Iterable[str],
        now: datetime,
        *,
        updated: Iterable[str] = (),
        oldest: datetime | None = None,
    ) -> bool:
        """:meth:`mark_pending` for the persons still live, in one command; whether every
        one of them was (a merged or unknown one is left as it is, for the caller to
        settle and mark its root).

        For a few persons (a single event's): one update per person on the index that
        starts with ``_id`` and ``merged_into`` (a filter on ``merged_into`` beside an
        ``$in`` makes the embedded server scan the collection: 70 ms at 100,000 persons).
        """
        marks = self.mark_if_live_writes(person_ids, now, updated=updated, oldest=oldest)
        if not marks:
            return True
        result = await self._collection.bulk_write(marks, ordered=False)
        return result.matched_count == len(marks)

    def mark_if_live_writes(
        self,
        person_ids: Iterable[str],
        now: datetime,
        *,
        updated: Iterable[str] = (),
        oldest: datetime | None = None,
    ) -> list[UpdateOne]:
        """The updates of :meth:`mark_pending_if_live`, one a person (each matches one
        document when that person is live), to run alone or with others
        (:mod:`cdp.store.ordered`)."""
        changed = set(updated)
        return [
            UpdateOne(
                {"_id": person, "merged_into": None},
                _pending_mark(now, updated=person in changed, oldest=oldest),
                namespace=self._collection.full_name,
            )
            for person in sorted(set(person_ids))
        ]

    def mark_guarded_write(
        self, person: str, now: datetime, *, updated: bool, oldest: datetime | None = None
    ) -> UpdateOne:
        """:meth:`mark_pending_if_live` of one person as a guarded write
        (:mod:`cdp.store.ordered`): refused, rather than matching nothing, when the
        person is merged away, so that the writes after it in the same command (the
        close of its event's landing) are not applied either. A person not stored
        matches nothing, as in :meth:`mark_pending_if_live`. The same mark, as a
        pipeline (``$min`` and ``$max`` of an expression pass over a missing field)."""
        fields: Document = {
            "pending_since": {"$min": ["$pending_since", now]},
            "changes": {"$add": [{"$ifNull": ["$changes", 0]}, 1]},
            "unclaimed": "$$REMOVE",
        }
        if updated:
            fields["updated_at"] = {"$max": ["$updated_at", now]}
        if oldest:
            fields[FOLD_FLOOR] = {"$min": [f"${FOLD_FLOOR}", oldest]}
        return UpdateOne(
            {"_id": person},
            [{"$set": {"_guard": refused_unless(_LIVE)}}, {"$set": fields}],
            namespace=self._collection.full_name,
        )

    def merged_away_writes(self, person_ids: Iterable[str]) -> list[UpdateOne]:
        """Updates that change nothing and match a person only if it was merged away: asked
        for their matched counts, they put the check for a merge in the same command as
        the writes it must follow (:mod:`cdp.store.ordered`), a round trip sooner than a
        read after them. A person unknown here counts as live, as in :meth:`parents`.

        ``merged_into`` is a person id (a string) once merged: ``$gt: ""`` is on the
        index; ``$ne: null`` (or ``$type``) makes the embedded server scan the collection
        whatever the ``_id`` (checked with ``explain``: 82 against 0.4 ms at 100,000)."""
        return [
            UpdateOne(
                {"_id": person, "merged_into": {"$gt": ""}},
                {"$setOnInsert": {"_id": person}},  # never upserted: a no-op that matches
                namespace=self._collection.full_name,
            )
            for person in sorted(set(person_ids))
        ]

    async def unclaimed(self, created_before: datetime, limit: int) -> list[str]:
        """Persons created before ``created_before`` whose call never marked them."""
        cursor = self._collection.find({"unclaimed": True}, {"created_at": 1})
        found = [doc["_id"] async for doc in cursor if doc["created_at"] < created_before]
        return sorted(found)[:limit]

    async def settle_unclaimed(self, held: Iterable[str], empty: Iterable[str]) -> None:
        """Keep the persons that hold something (take the mark off), delete the empty."""
        for chunk in chunked(sorted(held)):
            await self._collection.update_many(
                {"_id": {"$in": chunk}}, {"$unset": {"unclaimed": ""}}
            )
        for chunk in chunked(sorted(empty)):
            await self._collection.delete_many({"_id": {"$in": chunk}, "unclaimed": True})

    async def pending(self, before: datetime, limit: int) -> list[str]:
        """Live persons marked pending since before ``before``, oldest mark first."""
        cursor = (
            self._collection.find({"pending_since": {"$lt": before}}, {"merged_into": 1})
            .sort("pending_since", 1)
            .limit(limit)
        )
        return [doc["_id"] async for doc in cursor if not doc.get("merged_into")]

    async def set_refreshed(
        self,
        metrics: Mapping[str, Mapping[str, Any]],
        segments: Mapping[str, Iterable[str]],
        changes_seen: Mapping[str, int],
        sightings: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    ) -> set[str]:
        """Store each live person's metrics and segment list, one command per ``EACH_CHUNK``
        persons, unless a refresh that saw more changes wrote first; clear the pending mark
        unless another change arrived since ``changes_seen``. Returns the persons whose
        profile now holds what was given (the others were merged away or refreshed by a
        newer reader). ``sightings``: each person's identifiers as its history saw them
        (:mod:`cdp.profile.sightings`), stored with the metrics when given.

        ``refreshed_changes`` is the number of change marks the stored metrics include: a
        refresh that read the person before an event landed (an inline refresh and the
        refresher's, or two calls about one customer, overlapping) must not overwrite the
        metrics of one that read after it, whichever writes last.
        """
        won: set[str] = set()
        items = list(metrics)
        for start in range(0, len(items), EACH_CHUNK):
            chunk = items[start : start + EACH_CHUNK]
            seen = {p: changes_seen.get(p, 0) for p in chunk}
            # One $switch finds the person's new values (three lookups cost three times
            # as much on the embedded server); the next stages apply them.
            values: dict[str, Document] = {
                p: {
                    "metrics": dict(metrics[p]),
                    "segment_ids": sorted(segments[p]),
                    "changes": seen[p],
                }
                for p in chunk
            }
            if sightings is not None:
                for p in chunk:
                    values[p]["sightings"] = [dict(each) for each in sightings.get(p, ())]
            found = per_document_switch(values, None)
            pipeline = _refreshed(found, with_sightings=sightings is not None)
            result = await self._collection.update_many({"_id": {"$in": chunk}}, pipeline)
            if result.modified_count == len(chunk):  # every one written (metrics are dated)
                won.update(chunk)
                continue
            cursor = self._collection.find(
                {"_id": {"$in": chunk}}, {"merged_into": 1, "refreshed_changes": 1}
            )
            won.update(
                [
                    doc["_id"]
                    async for doc in cursor
                    if not doc.get("merged_into")
                    and doc.get("refreshed_changes") == seen[doc["_id"]]
                ]
            )
        return won

    def marked_refresh_write(
        self,
        person: str,
        metrics: Mapping[str, Any],
        segments: Iterable[str],
        changes_seen: int,
        now: datetime,
        fold: Mapping[str, Any] | None = None,
        sightings: Sequence[Mapping[str, Any]] | None = None,
    ) -> UpdateOne:
        """:meth:`mark_guarded_write` and :meth:`set_refreshed` of one person as one
        write, for a single event whose refresh was computed before its writes: the
        event's change counted and the metrics that include it stored together, so the
        mark is never seen without its refresh. Guarded (:mod:`cdp.store.ordered`):
        refused when the person is merged away, gone, or changed since it was read (its
        count is not ``changes_seen`` less the event's own change). An upsert only so
        that a person gone refuses it too: the guard asks for a stored profile (a
        document of the filter's ``_id`` alone has no ``created_at``).

        ``fold``: the person's fold with the event in it, stored in place of the one read
        (its floor gone with it: the guard says no other event was announced since that
        read) with the change count this write leaves (``changes``: while the person's
        is the same, the fold is current), or removed when None (cdp.profile.carried).
        ``sightings``: the profile's identifier spans as read, with those of every event
        since the fold and of the event added, stored in place of what is there (which
        holds no event those do not), or left as they are when None
        (cdp.profile.sightings)."""
        counted = {"$add": [{"$ifNull": ["$changes", 0]}, 1]}
        stored = {"$eq": [{"$type": "$created_at"}, "date"]}
        unchanged = {"$eq": [counted, changes_seen]}
        return UpdateOne(
            {"_id": person},
            [
                {"$set": {"_guard": refused_unless({"$and": [stored, _LIVE, unchanged]})}},
                {
                    "$set": {
                        "metrics": {"$literal": dict(metrics)},
                        "segment_ids": {"$literal": sorted(segments)},
                        "changes": changes_seen,
                        "refreshed_changes": changes_seen,
                        "updated_at": {"$max": ["$updated_at", now]},
                        "pending_since": "$$REMOVE",
                        "unclaimed": "$$REMOVE",
                        "fold": {"$literal": {**fold, "changes": changes_seen}}
                        if fold is not None
                        else "$$REMOVE",
                        **(
                            {SIGHTINGS_FIELD: {"$literal": [dict(each) for each in sightings]}}
                            if sightings is not None
                            else {}
                        ),
                    }
                },
            ],
            upsert=True,
            namespace=self._collection.full_name,
        )

    async def drop_folds(self, person_ids: Iterable[str]) -> None:
        """Remove the stored folds of these persons: their events changed otherwise than
        by new ones (cdp.profile.carried)."""
        for chunk in chunked(sorted(set(person_ids))):
            await self._collection.update_many({"_id": {"$in": chunk}}, {"$unset": {"fold": ""}})

    async def set_computed_at(self, person_ids: Iterable[str], now: datetime) -> None:
        """Say these persons' metrics, unchanged, are true as of ``now``."""
        for chunk in chunked(sorted(person_ids)):
            await self._collection.update_many(
                {"_id": {"$in": chunk}}, {"$set": {"metrics.computed_at": now}}
            )

    async def set_metric_fields(self, fields: Mapping[str, Mapping[str, Any]]) -> None:
        """Set some metrics of each live person, leaving the others as they are; one
        command per ``EACH_CHUNK`` persons (a bulk write would commit each separately)."""
        wanted = {pid: dict(values) for pid, values in fields.items() if values}
        items = sorted(wanted)
        for start in range(0, len(items), EACH_CHUNK):
            chunk = items[start : start + EACH_CHUNK]
            found = per_document_switch({p: wanted[p] for p in chunk}, {})
            await self._collection.update_many(
                {"_id": {"$in": chunk}},
                [
                    {
                        "$set": {
                            "metrics": {
                                "$cond": [_LIVE, {"$mergeObjects": ["$metrics", found]}, "$metrics"]
                            }
                        }
                    }
                ],
            )

    async def set_segment_ids(self, segments: Mapping[str, Sequence[str]]) -> None:
        """Replace each live person's list of segments, one command per ``EACH_CHUNK`` persons."""
        items = sorted(segments)
        for start in range(0, len(items), EACH_CHUNK):
            chunk = items[start : start + EACH_CHUNK]
            found = per_document_switch({p: sorted(segments[p]) for p in chunk}, None)
            await self._collection.update_many(
                {"_id": {"$in": chunk}},
                [{"$set": {"segment_ids": {"$cond": [_LIVE, found, "$segment_ids"]}}}],
            )

    async def drop_segment(self, segment_id: str) -> None:
        """Take a deleted segment off every profile's list."""
        await self._collection.update_many(
            {"segment_ids": segment_id}, {"$pull": {"segment_ids": segment_id}}
        )

    async def remember_offer_responses(self, person_id: str, entries: Sequence[Document]) -> None:
        """Append to the person's recent offer responses (the last :data:`OFFER_HISTORY`
        are kept; the whole log is the ``offer_responses`` collection)."""
        await self.remember_offer_responses_many([(person_id, entries)])

    async def remember_offer_responses_many(
        self, entries: Sequence[tuple[str, Sequence[Document]]]
    ) -> None:
        """Append responses to each person's copy (the newest 200 kept), in one command:
        the embedded server commits a bulk write's statements one by one. A response the
        copy holds already is not added again: a merge's move repeated (after a crash,
        or by a writer that met the absorbed person while its own move ran) must not
        count one twice."""
        items: dict[str, list[Document]] = {}
        for person, found in entries:  # two absorbed persons may feed one survivor
            if found:
                items.setdefault(person, []).extend(found)
        for chunk in chunked(sorted(items)):
            added = per_document({p: items[p] for p in chunk})
            held = {"$ifNull": ["$offer_history", []]}
            fresh = {"$filter": {"input": added, "cond": {"$not": [{"$in": ["$$this", held]}]}}}
            kept = {"$concatArrays": [held, fresh]}
            await self._collection.update_many(
                {"_id": {"$in": chunk}},
                [{"$set": {"offer_history": {"$slice": [kept, -OFFER_HISTORY]}}}],
            )

    async def matching(self, pipeline: list[Document]) -> set[str]:
        """The ids an aggregation over ``persons`` yields (a compiled segment rule)."""
        cursor = await self._collection.aggregate(pipeline)
        return {doc["_id"] async for doc in cursor}

    async def rfm_cells(self) -> dict[tuple[int, int], int]:
        """Live persons per (recency, frequency) score, counted where they are stored."""
        pipeline: list[Document] = [
            {"$match": {"merged_into": None, "metrics.rfm_recency": {"$gte": 1}}},
            {
                "$group": {
                    "_id": {"r": "$metrics.rfm_recency", "f": "$metrics.rfm_frequency"},
                    "n": {"$sum": 1},
                }
            },
        ]
        cursor = await self._collection.aggregate(pipeline)
        return {(int(doc["_id"]["r"]), int(doc["_id"]["f"])): doc["n"] async for doc in cursor}

    async def distinct_metric(self, name: str) -> list[Any]:
        """Every value a metric takes across live persons (elements of list metrics)."""
        return list(await self._collection.distinct(f"metrics.{name}", {"merged_into": None}))
