"""Every segment in force: the built-in ones from code, the stored user and interest ones."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cdp.segments.definitions import BUILT_IN, BUILT_IN_BY_ID, SegmentDefinition, SegmentKind
from cdp.segments.rules import parse_rule
from cdp.store import Stores


def from_document(doc: Mapping[str, Any]) -> SegmentDefinition:
    return SegmentDefinition(
        id=doc["_id"],
        name=doc["name"],
        description=doc.get("description", ""),
        kind=SegmentKind(doc["kind"]),
        rule=parse_rule(doc["rule"]),
        created_at=doc.get("created_at"),
        updated_at=doc.get("updated_at"),
    )


async def all_segments(stores: Stores) -> list[SegmentDefinition]:
    """Built-in ones first (in their documented order), then stored ones by id."""
    docs = await stores.segments.all()
    return [*BUILT_IN, *(stores.segments.derived(doc, from_document) for doc in docs)]


async def segments_by_id(
    stores: Stores, segment_ids: Iterable[str]
) -> dict[str, SegmentDefinition]:
    """These segments (those that still exist): built-in ones from code, the others from
    the stored segments this instance keeps for a moment (``CDP_SHARED_CACHE_SECONDS``;
    its own changes are seen at once), and only those it does not know yet (a segment
    another instance made a moment ago) in one read of just their documents."""
    wanted = set(segment_ids)
    found = {s: BUILT_IN_BY_ID[s] for s in wanted if s in BUILT_IN_BY_ID}
    if len(found) == len(wanted):
        return found
    kept = {doc["_id"]: doc for doc in await stores.segments.all()}
    unknown = wanted - found.keys() - kept.keys()
    stored = [kept[s] for s in wanted if s in kept]
    stored += await stores.segments.get_many(unknown) if unknown else []
    found.update({doc["_id"]: stores.segments.derived(doc, from_document) for doc in stored})
    return found


async def find_segment(stores: Stores, segment_id: str) -> SegmentDefinition | None:
    if segment_id in BUILT_IN_BY_ID:
        return BUILT_IN_BY_ID[segment_id]
    doc = await stores.segments.get(segment_id)
    return from_document(doc) if doc else None
