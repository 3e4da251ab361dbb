"""Stitching decisions for a batch of events.

Given the identifier keys each event carries and the persons that already own some of
them, decide for every event which person it belongs to, which unowned identifiers that
person claims, which new persons to create and which persons to merge. The rule of this
first version: identifiers owned by no one make a new person; owned by one person, the
event attaches to it; owned by several, they merge into the oldest (the smallest id,
since ids sort by creation time).

Work happens in event order over a union-find, so a batch gives the same answer as the
same events sent one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Merge:
    """Person ``absorbed`` is folded into ``survivor`` because event ``event_index`` joined them."""

    absorbed: str
    survivor: str
    event_index: int


@dataclass(slots=True)
class StitchPlan:
    """What a batch does to the graph; ids here are final (after all merges of the batch)."""

    new_persons: list[str] = field(default_factory=list)
    claims: dict[str, str] = field(default_factory=dict)
    merges: list[Merge] = field(default_factory=list)
    person_of_event: list[str] = field(default_factory=list)


class _UnionFind:
    """Union-find whose root is always the smallest (oldest) id in the set."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        root = item
        while self._parent.get(root, root) != root:
            root = self._parent[root]
        while item != root:  # path compression
            self._parent[item], item = root, self._parent.get(item, item)
        return root

    def union(self, left: str, right: str) -> str:
        a, b = self.find(left), self.find(right)
        survivor, absorbed = (a, b) if a <= b else (b, a)
        if survivor != absorbed:
            self._parent[absorbed] = survivor
        return survivor


def plan_batch(
    event_keys: Sequence[Sequence[str]],
    owners: Mapping[str, str],
    new_person_id: Callable[[], str],
) -> StitchPlan:
    """Decide the persons for a batch.

    ``owners`` maps identifier keys to the live (already canonical) person that owns them;
    keys missing from it are unowned. Persons that are created and absorbed within the
    same batch are never created, and only persons that existed before the batch appear
    as absorbed in ``merges``.
    """
    groups = _UnionFind()
    owner_of: dict[str, str] = dict(owners)
    created: list[str] = []
    first_merge_event: dict[str, int] = {}
    chosen: list[str] = []

    for index, keys in enumerate(event_keys):
        persons = sorted({groups.find(owner_of[key]) for key in keys if key in owner_of})
        if not persons:
            persons = [new_person_id()]
            created.append(persons[0])
        survivor = persons[0]
        for other in persons[1:]:
            survivor = groups.union(survivor, other)
            first_merge_event.setdefault(other, index)
        for key in keys:
            owner_of.setdefault(key, survivor)
        chosen.append(survivor)

    existing = set(owners.values())
    plan = StitchPlan()
    plan.new_persons = [p for p in created if groups.find(p) == p]
    plan.claims = {key: groups.find(p) for key, p in owner_of.items() if key not in owners}
    plan.merges = [
        Merge(absorbed=p, survivor=groups.find(p), event_index=index)
        for p, index in first_merge_event.items()
        if p in existing
    ]
    plan.person_of_event = [groups.find(p) for p in chosen]
    return plan
