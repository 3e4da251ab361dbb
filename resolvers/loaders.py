"""Per-request DataLoaders: every relation a list can ask for, read once per page.

A field of one row (a person's segments, a segment's size) asks its loader for its key;
the loader gathers the keys of every row resolved in the same tick and reads them all
at once through ``cdp``. So ``persons(first: 50) { segments consents }`` costs the same
round trips as ``first: 5``. Built fresh for each request (:class:`resolvers.context.
Context`), so nothing cached outlives it or leaks between callers with different scopes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from cdp.deps import Deps
from cdp.privacy.consent import Consent
from cdp.privacy.consent_records import consents_of_families
from cdp.profile.find import Profile, events_by_id, find_persons
from cdp.profile.identifiers import identifiers_of
from cdp.segments.definitions import SegmentDefinition
from cdp.segments.lookup import segments_by_id
from cdp.segments.members import Held, live_persons, memberships_of, sizes

Family = tuple[str, ...]  # a live person's id and every id merged into it
K = TypeVar("K")
V = TypeVar("V")


class Loaders:
    """Each loader is made when a resolver first asks for it: most requests (a ``track``,
    a single profile) ask for none or few, and making all eight for every request was
    about 1% of a single event's service time."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    @cached_property
    def identifiers(self) -> DataLoader[Family, list[dict[str, Any]]]:
        return DataLoader(self._identifiers)

    @cached_property
    def memberships(self) -> DataLoader[str, dict[str, Held]]:
        return DataLoader(self._memberships)

    @cached_property
    def segments(self) -> DataLoader[str, SegmentDefinition | None]:
        return DataLoader(self._segments)

    @cached_property
    def consents(self) -> DataLoader[Family, list[Consent]]:
        return DataLoader(self._consents)

    @cached_property
    def sizes(self) -> DataLoader[str, int]:
        return DataLoader(self._sizes)

    @cached_property
    def live_persons(self) -> DataLoader[None, int]:
        return DataLoader(self._live_persons)

    @cached_property
    def persons(self) -> DataLoader[str, Profile | None]:
        return DataLoader(self._persons)

    @cached_property
    def events(self) -> DataLoader[str, dict[str, Any] | None]:
        return DataLoader(self._events)

    async def _identifiers(self, families: Sequence[Family]) -> list[list[dict[str, Any]]]:
        return await identifiers_of(self._deps.stores, families)

    async def _memberships(self, person_ids: Sequence[str]) -> list[dict[str, Held]]:
        held = await memberships_of(self._deps.stores, person_ids)
        return [held.get(person, {}) for person in person_ids]

    async def _segments(self, segment_ids: Sequence[str]) -> list[SegmentDefinition | None]:
        return _in_order(await segments_by_id(self._deps.stores, segment_ids), segment_ids)

    async def _consents(self, families: Sequence[Family]) -> list[list[Consent]]:
        return await consents_of_families(self._deps.stores, families)

    async def _sizes(self, segment_ids: Sequence[str]) -> list[int]:
        counted = await sizes(self._deps.stores, segment_ids)
        return [counted[segment] for segment in segment_ids]

    async def _live_persons(self, keys: Sequence[None]) -> list[int]:
        count = await live_persons(self._deps.stores)
        return [count for _ in keys]

    async def _events(self, event_ids: Sequence[str]) -> list[dict[str, Any] | None]:
        return _in_order(await events_by_id(self._deps.stores, event_ids), event_ids)

    async def _persons(self, person_ids: Sequence[str]) -> list[Profile | None]:
        return _in_order(await find_persons(self._deps.stores, person_ids), person_ids)


def _in_order(found: Mapping[K, V], keys: Sequence[K]) -> list[V | None]:
    """What a batch read found, one per key asked for (None where nothing was found), as
    a DataLoader must answer."""
    return [found.get(key) for key in keys]
