"""Creating, changing and deleting user-defined segments.

A new or changed segment is evaluated on the whole base at once with its compiled query,
so its members are right before the call returns; from then on each event keeps them
current. Deleting a segment removes its memberships without timeline entries (nobody
left it; it stopped existing). Built-in and interest segments cannot be changed.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cdp.errors import BadUserInput, Conflict, Forbidden, NotFound
from cdp.segments.compile import member_pipeline
from cdp.segments.definitions import SegmentDefinition, SegmentKind
from cdp.segments.lookup import find_segment, from_document
from cdp.segments.record import record_changes
from cdp.segments.rules import Rule, RuleError, parse_rule, rule_to_data
from cdp.store import Stores

MAX_NAME = 100
MAX_DESCRIPTION = 1000
SYNC_PAGE = 500


async def create_segment(
    stores: Stores, name: str, description: str, rule: object, now: datetime
) -> SegmentDefinition:
    clean_name, clean_description, parsed = _checked(name, description, rule)
    doc = _document(f"seg_{secrets.token_hex(8)}", clean_name, clean_description, parsed, now, now)
    if not await stores.segments.insert(doc):
        raise Conflict(f"name: a segment named {clean_name!r} already exists")
    segment = from_document(doc)
    change = await evaluate_on_base(stores, segment, now)
    await sync_profile_segments(stores, change.moved)
    return segment


async def update_segment(
    stores: Stores, segment_id: str, name: str, description: str, rule: object, now: datetime
) -> SegmentDefinition:
    current = await _user_segment(stores, segment_id)
    clean_name, clean_description, parsed = _checked(name, description, rule)
    doc = _document(current.id, clean_name, clean_description, parsed, current.created_at, now)
    replaced = await stores.segments.replace(doc)
    if replaced is None:
        raise NotFound(f"no segment has the id {segment_id}")
    if not replaced:
        raise Conflict(f"name: a segment named {clean_name!r} already exists")
    segment = from_document(doc)
    change = await evaluate_on_base(stores, segment, now)
    await sync_profile_segments(stores, change.moved)
    return segment


async def delete_segment(stores: Stores, segment_id: str) -> None:
    await _user_segment(stores, segment_id)
    await stores.segments.delete(segment_id)
    await stores.memberships.delete_segment(segment_id)
    await stores.persons.drop_segment(segment_id)


@dataclass(frozen=True, slots=True)
class BaseChange:
    entered: int
    left: int
    moved: set[str]  # persons who entered or left


async def evaluate_on_base(stores: Stores, segment: SegmentDefinition, now: datetime) -> BaseChange:
    """Bring one segment's memberships in line with its compiled query. The lists on the
    moved persons' profiles are the caller's to rewrite (:func:`sync_profile_segments`),
    so a caller evaluating many segments writes each person once, not once per segment."""
    members = await stores.persons.matching(member_pipeline(segment.rule, now))
    before = await stores.memberships.of_segment(segment.id)
    people = members | before.keys()
    entered, left, _ = await record_changes(
        stores,
        {p: {segment.id: before[p]} for p in people if p in before},
        {p: ({segment.id} if p in members else set()) for p in people},
        [segment],
        now,
    )
    return BaseChange(entered, left, members ^ before.keys())


async def sync_profile_segments(
    stores: Stores, person_ids: Iterable[str], page: int = SYNC_PAGE
) -> None:
    """Rewrite these persons' lists of segments (what next-best-offer reads) from their
    memberships, a page at a time."""
    wanted = sorted(person_ids)
    for start in range(0, len(wanted), page):
        chunk = wanted[start : start + page]
        held = await stores.memberships.of_persons(chunk)
        await stores.persons.set_segment_ids({p: sorted(held.get(p, {})) for p in chunk})


async def _user_segment(stores: Stores, segment_id: str) -> SegmentDefinition:
    segment = await find_segment(stores, segment_id)
    if segment is None:
        raise NotFound(f"no segment has the id {segment_id}")
    if segment.kind is not SegmentKind.USER:
        raise Forbidden(
            f"{segment_id} is a {segment.kind.value.lower().replace('_', '-')} segment; "
            "only user-defined segments can be changed"
        )
    return segment


def _checked(name: str, description: str, rule: object) -> tuple[str, str, Rule]:
    clean_name = " ".join(name.split())
    if not 1 <= len(clean_name) <= MAX_NAME:
        raise BadUserInput(f"name: give a name of 1 to {MAX_NAME} characters")
    if len(description) > MAX_DESCRIPTION:
        raise BadUserInput(f"description: at most {MAX_DESCRIPTION} characters")
    try:
        parsed = parse_rule(rule)
    except RuleError as error:
        raise BadUserInput(str(error)) from None
    return clean_name, description.strip(), parsed


def _document(
    segment_id: str,
    name: str,
    description: str,
    rule: Rule,
    created: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "_id": segment_id,
        "name": name,
        "name_key": name.casefold(),
        "description": description,
        "kind": SegmentKind.USER.value,
        "rule": rule_to_data(rule),
        "created_at": created or now,
        "updated_at": now,
    }
