"""Answers to "why is this one person?": the identity graph, a path of proofs, the history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cdp.errors import BadUserInput
from cdp.profile.find import Profile, find_person
from cdp.profile.timeline import Page, decode_cursor, page_size
from cdp.store import Stores
from cdp.store.database import Document
from identity import Identifier, InvalidIdentifier, normalise_identifier
from identity.graph import explain


@dataclass(frozen=True, slots=True)
class IdentityGraph:
    nodes: list[Document]
    edges: list[Document]


@dataclass(frozen=True, slots=True)
class PathStep:
    """One proven link on the way from one identifier to another."""

    from_key: str
    to_key: str
    event_id: str | None
    source: str
    at: datetime


@dataclass(frozen=True, slots=True)
class IdentityPath:
    linked: bool
    person_id: str | None
    steps: list[PathStep]
    reason: str


async def identity_graph(stores: Stores, profile: Profile) -> IdentityGraph:
    """The person's identifiers and the links between them that hold them together."""
    nodes = profile.as_seen(await stores.identifiers.of_persons(profile.family))
    edges = await stores.links.between(doc["_id"] for doc in nodes)
    return IdentityGraph(nodes, edges)


async def identity_path(
    stores: Stores, source: tuple[str, str], target: tuple[str, str], region: str
) -> IdentityPath:
    """The shortest chain of links between two identifiers, with the event behind each."""
    start, end = _normalise(source, region, "from"), _normalise(target, region, "to")
    owners = await stores.identifiers.owners([start.key, end.key])
    missing = [i.key for i in (start, end) if i.key not in owners]
    if missing:
        return IdentityPath(False, None, [], f"no person holds {' or '.join(missing)}")
    roots = await stores.persons.roots({owned.person_id for owned in owners.values()})
    person, other = roots[owners[start.key].person_id], roots[owners[end.key].person_id]
    if person != other:
        return IdentityPath(
            False, None, [], f"{start.key} and {end.key} belong to different persons"
        )
    profile = await find_person(stores, person)
    assert profile is not None
    graph = await identity_graph(stores, profile)
    chain = explain([(e["a"], e["b"], e) for e in graph.edges], start.key, end.key)
    if chain is None:  # joined only by a merge whose links were unlinked since
        return IdentityPath(True, person, [], "one person, but no recorded link joins them")
    steps = [
        PathStep(a, b, proof.get("event_id"), proof["source"], proof["at"]) for a, b, proof in chain
    ]
    return IdentityPath(True, person, steps, f"linked in {len(steps)} step(s)")


async def merge_history(stores: Stores, profile: Profile) -> list[Document]:
    """Every merge and unlink that shaped this person, oldest first."""
    return await stores.merges.involving(profile.family)


async def conflicts_page(stores: Stores, first: int, after: str | None) -> Page:
    """Refused links, newest first, for review."""
    found = await stores.conflicts.page(page_size(first), decode_cursor(after) if after else None)
    return Page.cut(found, first, "at")


async def conflicts_count(stores: Stores) -> int:
    """Refused links recorded, on every page."""
    return await stores.conflicts.count()


def _normalise(sent: tuple[str, str], region: str, field: str) -> Identifier:
    try:
        return normalise_identifier(sent[0], sent[1], region)
    except InvalidIdentifier as error:
        raise BadUserInput(f"{field}.{error.field}: {error.message}") from None
