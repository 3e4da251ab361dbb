"""Who is in which segment, read for many persons or segments at once.

What the GraphQL layer's per-request loaders call: each function answers a whole page
(every person of a list, every segment of the catalogue) in one or two reads, so a page
costs the same round trips at five rows as at fifty.
"""

from __future__ import annotations

from collections.abc import Iterable

from cdp import cursors
from cdp.metrics.rfm import GridCell, grid
from cdp.store import Stores
from cdp.store.memberships import Held

__all__ = ["Held", "live_persons", "member_page", "memberships_of", "rfm_grid", "sizes"]


async def memberships_of(stores: Stores, person_ids: Iterable[str]) -> dict[str, dict[str, Held]]:
    """For each person, the segments they are in and since when (absent: none)."""
    return await stores.memberships.of_persons(person_ids)


async def sizes(stores: Stores, segment_ids: Iterable[str]) -> dict[str, int]:
    """Members now of each segment."""
    return await stores.memberships.counts(segment_ids)


async def rfm_grid(stores: Stores) -> list[GridCell]:
    """The RFM map's 25 cells with their persons (the overview's heat map)."""
    return grid(await stores.persons.rfm_cells())


async def live_persons(stores: Stores) -> int:
    """Every live person: what a segment's share is a share of."""
    return await stores.persons.live_count()


async def member_page(
    stores: Stores, segment_id: str, first: int, after: str | None
) -> tuple[list[str], bool]:
    """Members' person ids in id order after the cursor ``after`` (the previous page's
    last member, :mod:`cdp.cursors`), and whether more follow."""
    last = cursors.decode(after, str)[0] if after else None
    docs = await stores.memberships.page(segment_id, first, last)
    return [doc["person_id"] for doc in docs[:first]], len(docs) > first
