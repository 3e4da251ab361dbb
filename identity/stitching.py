"""Stitching decisions for a batch of events, under the identity rules.

Given the identifiers each event carries, the persons that already own some of them and
how many identifiers of each type those persons hold, decide for every event which
person it belongs to and what that does to the graph: new persons, identifiers claimed,
weak identifiers moved, persons merged, links proven, and links refused (conflicts).

For one event:

1. Its identifiers are taken strongest first (by rank). With strong identifiers, the
   event belongs to the person of the strongest one (a new person if nobody owns it);
   each further strong identifier joins that person (claimed if unowned, its person
   merged in if owned), unless a limit forbids it: then the refused link is a conflict,
   and an unowned identifier gets a person of its own so that it still has one owner.
2. With only weak identifiers, the event belongs to the first identified person (one
   holding a strong identifier) among their owners, else to their anonymous owner, else
   to a new person.
3. Each weak identifier then joins the event's person: claimed if unowned, its owner
   merged in if that owner is anonymous (pre-login history joins the profile), moved if
   the owner is another identified person (the device now means "whoever used it
   last"; the old owner keeps its history). Weak identifiers never join two identified
   persons.

Merges keep the oldest person (the smallest id, since ids sort by creation time). Work
runs in event order, so a batch decides exactly what the same events sent one by one
would.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from identity.identifiers import Identifier
from identity.rules import IdentityRules


@dataclass(frozen=True, slots=True)
class Merge:
    """Person ``absorbed`` is folded into ``survivor`` because event ``event_index`` joined them."""

    absorbed: str
    survivor: str
    event_index: int


@dataclass(frozen=True, slots=True)
class Move:
    """Weak identifier ``key`` leaves ``from_person`` for ``to_person``."""

    key: str
    from_person: str
    to_person: str
    event_index: int


@dataclass(frozen=True, slots=True)
class Conflict:
    """Event ``event_index`` tied ``key`` to ``person`` but ``rule`` kept it with ``other``."""

    person: str
    other: str
    key: str
    event_index: int
    rule: str


@dataclass(frozen=True, slots=True)
class Link:
    """Event ``event_index`` proved that identifiers ``a`` and ``b`` are one person's."""

    a: str
    b: str
    event_index: int


@dataclass(slots=True)
class StitchPlan:
    """What a batch does to the graph; person ids are final (after all merges of the batch)."""

    new_persons: list[str] = field(default_factory=list)
    claims: dict[str, str] = field(default_factory=dict)
    moves: list[Move] = field(default_factory=list)
    merges: list[Merge] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    person_of_event: list[str] = field(default_factory=list)


class _Graph:
    """The batch's working state: owners, identifier counts and a union-find of persons."""

    def __init__(
        self,
        owners: Mapping[str, str],
        counts: Mapping[str, Mapping[str, int]],
        rules: IdentityRules,
        new_person_id: Callable[[], str],
    ) -> None:
        self.rules = rules
        self.owner_of: dict[str, str] = dict(owners)
        # A person missing from ``counts`` holds nothing (a concurrent merge may have
        # moved its identifiers between the two reads).
        self.counts: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.counts.update({p: Counter(c) for p, c in counts.items()})
        self.parent: dict[str, str] = {}
        self.created: list[str] = []
        self.first_merge: dict[str, int] = {}
        self._new_person_id = new_person_id

    def find(self, person: str) -> str:
        root = person
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while person != root:
            self.parent[person], person = root, self.parent.get(person, person)
        return root

    def owner(self, identifier: Identifier) -> str | None:
        owner = self.owner_of.get(identifier.key)
        return self.find(owner) if owner is not None else None

    def identified(self, person: str) -> bool:
        return any(n > 0 and self.rules.rule(t).strong for t, n in self.counts[person].items())

    def refusal(self, person: str, extra: Mapping[str, int]) -> str | None:
        """Why ``person`` cannot take ``extra`` more identifiers, or None when it can."""
        return self.rules.merge_refusal(self.counts[person], extra)

    def new_person(self, identifier: Identifier) -> str:
        person = self._new_person_id()
        self.created.append(person)
        self.counts[person] = Counter({identifier.type: 1})
        self.owner_of[identifier.key] = person
        return person

    def claim(self, identifier: Identifier, person: str) -> None:
        self.owner_of[identifier.key] = person
        self.counts[person][identifier.type] += 1

    def move(self, identifier: Identifier, from_person: str, to_person: str) -> None:
        self.counts[from_person][identifier.type] -= 1
        self.claim(identifier, to_person)

    def union(self, a: str, b: str, event_index: int) -> str:
        survivor, absorbed = (a, b) if a <= b else (b, a)
        self.parent[absorbed] = survivor
        self.counts[survivor] += self.counts.pop(absorbed, Counter())
        self.first_merge.setdefault(absorbed, event_index)
        return survivor


def plan_batch(
    events: Sequence[Sequence[Identifier]],
    owners: Mapping[str, str],
    counts: Mapping[str, Mapping[str, int]],
    rules: IdentityRules,
    new_person_id: Callable[[], str],
    established: frozenset[str] = frozenset(),
) -> StitchPlan:
    """Decide the persons for a batch.

    ``owners`` maps identifier keys to the live person owning them (keys missing are
    unowned); ``counts`` gives, for each of those persons, how many identifiers of each
    type it holds. Persons created and absorbed within the batch are never created.
    Two ``established`` persons (each with its own history) are not merged by an event
    unless a trusted identifier (a login's customer id) proves it: the link is held as a
    conflict for an agent to review (a CC'd email, a family form).
    """
    graph = _Graph(owners, counts, rules, new_person_id)
    chosen: list[str] = []
    conflicts: list[Conflict] = []
    links: list[Link] = []
    moved_at: dict[str, int] = {}

    for index, identifiers in enumerate(events):
        ranked = sorted(identifiers, key=lambda i: -rules.rule(i.type).rank)
        strong = [i for i in ranked if rules.rule(i.type).strong]
        weak = [i for i in ranked if not rules.rule(i.type).strong]
        target, anchor = _anchor(graph, strong, weak)
        proof = [anchor]
        for identifier in [i for i in (*strong, *weak) if i != anchor]:
            owner = graph.owner(identifier)
            target = graph.find(target)
            if owner == target:
                proof.append(identifier)
            elif owner is None:
                refusal = graph.refusal(target, {identifier.type: 1})
                if refusal is None:
                    graph.claim(identifier, target)
                    proof.append(identifier)
                else:
                    other = graph.new_person(identifier)
                    conflicts.append(Conflict(target, other, identifier.key, index, refusal))
            elif rules.rule(identifier.type).strong or not graph.identified(owner):
                refusal = graph.refusal(target, graph.counts[owner]) or _held_for_review(
                    graph, target, owner, (anchor, identifier), established
                )
                if refusal is None:
                    target = graph.union(target, owner, index)
                    proof.append(identifier)
                else:
                    conflicts.append(Conflict(target, owner, identifier.key, index, refusal))
            else:  # a weak identifier of another identified person: it follows its last user
                refusal = graph.refusal(target, {identifier.type: 1})
                if refusal is None:
                    graph.move(identifier, owner, target)
                    moved_at[identifier.key] = index
                    proof.append(identifier)
                else:
                    conflicts.append(Conflict(target, owner, identifier.key, index, refusal))
        chosen.append(target)
        links.extend(Link(proof[0].key, other.key, index) for other in proof[1:])

    return _finish(graph, owners, chosen, conflicts, links, moved_at)


def holders_consulted(
    events: Sequence[Sequence[Identifier]], owners: Mapping[str, str]
) -> set[str]:
    """The persons whose counts :func:`plan_batch` may read for these events (``owners``
    as it takes them): the owners of the identifiers of every event whose identifiers
    are not all held alike (two persons, or a person and nobody). An event whose
    identifiers all belong to one person claims, moves and merges nothing: planned, it
    is that person's (or their survivor's) without a limit being asked; one whose
    identifiers nobody holds makes a new person. So a bulk batch of returning customers
    needs the counts of few of them.

    Why that is the whole set: counts are read only for the persons an event adds to,
    merges or moves from, and for the owners of its weak identifiers when they belong
    to several persons; each of them owns an identifier of such an event before the
    batch, or is created by it (with its counts), or survives a merge of two of them.
    """
    consulted: set[str] = set()
    for identifiers in events:
        holders = {owners.get(identifier.key) for identifier in identifiers}
        if len(holders) > 1:
            consulted.update(holder for holder in holders if holder is not None)
    return consulted


HELD_FOR_REVIEW = "held for review: both persons have their own history"


def _held_for_review(
    graph: _Graph,
    target: str,
    owner: str,
    proof: tuple[Identifier, Identifier],
    established: frozenset[str],
) -> str | None:
    """Why a merge of two established persons waits for an agent, or None."""
    if any(graph.rules.rule(i.type).trusted for i in proof):
        return None
    both = all(any(graph.find(p) == person for p in established) for person in (target, owner))
    if not both:
        return None
    return f"{HELD_FOR_REVIEW} ({graph.rules.review_after_events} events or more each)"


def _anchor(
    graph: _Graph, strong: list[Identifier], weak: list[Identifier]
) -> tuple[str, Identifier]:
    """The person an event belongs to, and the identifier that decides it."""
    if strong:
        return graph.owner(strong[0]) or graph.new_person(strong[0]), strong[0]
    owned = [(i, o) for i in weak if (o := graph.owner(i)) is not None]
    identified = [(i, o) for i, o in owned if graph.identified(o)]
    if identified or owned:
        identifier, owner = (identified or owned)[0]
        return owner, identifier
    return graph.new_person(weak[0]), weak[0]


def _finish(
    graph: _Graph,
    owners: Mapping[str, str],
    chosen: list[str],
    conflicts: list[Conflict],
    links: list[Link],
    moved_at: Mapping[str, int],
) -> StitchPlan:
    find = graph.find
    existing = set(owners.values())
    plan = StitchPlan()
    plan.new_persons = [p for p in graph.created if find(p) == p]
    plan.claims = {k: find(p) for k, p in graph.owner_of.items() if k not in owners}
    plan.moves = [
        Move(key, owners[key], find(graph.owner_of[key]), moved_at[key])
        for key in moved_at
        if key in owners and find(graph.owner_of[key]) != find(owners[key])
    ]
    plan.merges = [
        Merge(absorbed=p, survivor=find(p), event_index=i)
        for p, i in graph.first_merge.items()
        if p in existing
    ]
    plan.conflicts = [
        Conflict(find(c.person), find(c.other), c.key, c.event_index, c.rule)
        for c in conflicts
        if find(c.person) != find(c.other)
    ]
    plan.links = links
    plan.person_of_event = [find(p) for p in chosen]
    return plan
