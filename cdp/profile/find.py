"""Reading profiles: a person is found by any id it ever had or any identifier it owns.

A person that absorbed others reads as a *family* (itself plus everyone merged into it),
so a merge still being settled never hides an identifier or an event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cdp import cursors
from cdp.errors import BadUserInput
from cdp.profile.sightings import widened
from cdp.profile.timeline import Page, TimelineQuery, page_size
from cdp.store import Stores
from cdp.store.memberships import Held
from cdp.store.persons import SIGHTINGS_FIELD
from identity import InvalidIdentifier, normalise_identifier
from identity.identifiers import MAX_VALUE_LENGTH, PHONE_TYPES


@dataclass(frozen=True, slots=True)
class Profile:
    id: str
    traits: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    merged_from: tuple[str, ...]
    metrics: dict[str, Any] | None = None  # kept current by each event (cdp.profile.refresh)
    # Segments as of the last evaluation and recent offer responses, kept on the profile
    # so next-best-offer needs no other read (None: not yet written for this person).
    segment_ids: tuple[str, ...] | None = None
    offer_history: tuple[dict[str, Any], ...] | None = None
    # Events have landed that metrics and segments do not include yet (cdp.profile.refresher).
    pending_since: datetime | None = None
    # Each identifier with when the history first and last carried it, as of the last
    # refresh that read the whole history (cdp.profile.sightings).
    sightings: tuple[dict[str, Any], ...] = ()

    @property
    def family(self) -> list[str]:
        return [self.id, *self.merged_from]

    def as_seen(self, identifiers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The family's identifier documents with their first and last seen as its history
        shows them: a bulk batch leaves the stored bounds as they were and its refresh
        keeps the spans on the profile (cdp.profile.sightings)."""
        return widened(identifiers, self.sightings)


async def find_person(stores: Stores, person_id: str) -> Profile | None:
    """The live person behind ``person_id``, following merges; None when it never existed.

    The person and who was merged into them are read at once (one round trip, not two);
    only an absorbed id, which names the survivor, needs a second pair.
    """
    doc, absorbed = await asyncio.gather(
        stores.persons.get(person_id), stores.persons.absorbed_into(person_id)
    )
    if doc is not None and doc.get("merged_into"):  # an absorbed id: find the survivor
        root = (await stores.persons.roots([person_id]))[person_id]
        doc, absorbed = await asyncio.gather(
            stores.persons.get(root), stores.persons.absorbed_into(root)
        )
    if doc is None:
        return None
    return _profile(doc, absorbed)


async def find_persons(stores: Stores, person_ids: Iterable[str]) -> dict[str, Profile]:
    """The live person behind each id (an absorbed id finds its survivor), for many ids
    in a few reads whatever their number; ids that never existed are left out."""
    roots = await stores.persons.roots(set(person_ids))
    docs = await stores.persons.get_many(set(roots.values()))
    live = [doc for doc in docs.values() if not doc.get("merged_into")]
    profiles = {profile.id: profile for profile in await _profiles(stores, live)}
    return {pid: profiles[root] for pid, root in roots.items() if root in profiles}


async def page_of_persons(
    stores: Stores, first: int, after: str | None
) -> tuple[list[Profile], bool]:
    """Live persons newest first after the cursor ``after`` (the previous page's last
    person, :mod:`cdp.cursors`).

    A page costs two queries (or one more per level of merges), whatever its size.
    """
    last = cursors.decode(after, str)[0] if after else None
    found = await stores.persons.page(page_size(first), last)
    docs, has_next = found[:first], len(found) > first
    return await _profiles(stores, docs), has_next


async def profiles_of(stores: Stores, person_ids: list[str]) -> list[Profile]:
    """Live persons by id, in the order asked (ids merged or erased since are skipped);
    a handful of queries whatever the number."""
    found = await stores.persons.get_many(person_ids)
    docs = [found[p] for p in person_ids if p in found and not found[p].get("merged_into")]
    return await _profiles(stores, docs)


async def _profiles(stores: Stores, docs: list[dict[str, Any]]) -> list[Profile]:
    absorbed = await stores.persons.absorbed_into_each([doc["_id"] for doc in docs])
    return [_profile(doc, absorbed[doc["_id"]]) for doc in docs]


def _profile(doc: dict[str, Any], absorbed: list[str]) -> Profile:
    segments, history = doc.get("segment_ids"), doc.get("offer_history")
    return Profile(
        id=doc["_id"],
        traits=doc.get("traits", {}),
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        merged_from=tuple(absorbed),
        metrics=doc.get("metrics"),
        segment_ids=tuple(segments) if segments is not None else None,
        offer_history=tuple(history) if history is not None else None,
        pending_since=doc.get("pending_since"),
        sightings=tuple(doc.get(SIGHTINGS_FIELD) or ()),
    )


@dataclass(frozen=True, slots=True)
class Found:
    """A person found by an identifier, with the facts read along with them: the
    family's identifiers and the person's segments (None when not read at once)."""

    profile: Profile
    identifiers: list[dict[str, Any]] | None = None
    memberships: dict[str, Held] | None = None


async def find_by_identifier(
    stores: Stores, type_: str, value: str, default_region: str
) -> Profile | None:
    """The person owning an identifier, normalised as on the way in."""
    found = await read_by_identifier(stores, type_, value, default_region)
    return found.profile if found else None


async def read_by_identifier(
    stores: Stores, type_: str, value: str, default_region: str
) -> Found | None:
    """The person owning an identifier, with their identifiers and segments: one read
    for a person nobody was merged into (:mod:`cdp.store.profile_reads`); a merged id or
    a family is followed as :func:`find_person` does, and their facts read later."""
    try:
        identifier = normalise_identifier(type_, value, default_region)
    except InvalidIdentifier as error:
        raise BadUserInput(error.message if error.field == "value" else str(error)) from None
    keys = [identifier.key]
    if identifier.type in PHONE_TYPES:  # a number kept as phone is found as whatsapp or sms
        keys += [f"{kind}:{identifier.value}" for kind in PHONE_TYPES if kind != identifier.type]
    read = await stores.profile_reads.by_identifier(keys)
    if read is None or read.person is None:
        return None
    if read.person.get("merged_into") or read.absorbed:
        profile = await find_person(stores, read.person["_id"])
        return Found(profile) if profile else None
    return Found(_profile(read.person, []), read.identifiers, read.memberships)


SEARCH_LIMIT = 20


async def events_by_id(stores: Stores, event_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Stored events by message id, in one read (the events behind identity links)."""
    return await stores.events.by_ids(event_ids)


async def search_by_identifier(
    stores: Stores, text: str, types: Iterable[str], default_region: str
) -> list[Profile]:
    """The persons owning ``text`` read as any identifier type (an email, a phone in any
    format, a handle, a device or customer number), most recently updated first; what
    cannot be an identifier of a type is not looked for as one. One read of the
    identifiers, one of the persons."""
    if not text.strip():
        raise BadUserInput("query: type an identifier (an email, a phone, a handle, an id)")
    if len(text) > MAX_VALUE_LENGTH:
        raise BadUserInput(
            f"query: {len(text)} characters; an identifier is at most {MAX_VALUE_LENGTH}"
        )
    keys: list[str] = []
    for type_ in sorted(set(types)):
        try:
            keys.append(normalise_identifier(type_, text, default_region).key)
        except InvalidIdentifier:
            continue
    owners = await stores.identifiers.owners(keys)
    found = await find_persons(stores, {owned.person_id for owned in owners.values()})
    distinct = {profile.id: profile for profile in found.values()}
    ranked = sorted(distinct.values(), key=lambda p: (p.updated_at, p.id), reverse=True)
    return ranked[:SEARCH_LIMIT]


async def timeline_page(stores: Stores, profile: Profile, query: TimelineQuery) -> Page:
    found = await stores.events.page(profile.family, query)
    return Page.cut(found, query.first, "timestamp")


async def timeline_count(stores: Stores, profile: Profile, query: TimelineQuery) -> int:
    return await stores.events.count(profile.family, query)
