"""An agent's corrections to the identity graph: merge two persons, unlink an identifier.

Both obey the identity rules, are recorded in the ``merges`` audit collection with the
agent's reason, and leave every event on exactly one person.
"""

from __future__ import annotations

from datetime import datetime

from cdp.errors import BadUserInput, Conflict, NotFound
from cdp.linking.merging import merge_persons, settle_all
from cdp.profile.find import Profile, find_person
from cdp.profile.refresh import refresh_persons
from cdp.profile.traits import traits_from
from cdp.reasons import reason_text
from cdp.store import LinkProof, Stores
from identity import IdentityRules, InvalidIdentifier, new_person_id, normalise_identifier
from identity.graph import split


async def merge_manually(
    stores: Stores,
    into: str,
    other: str,
    *,
    reason: str,
    agent: str | None,
    rules: IdentityRules,
    now: datetime,
) -> str:
    """Merge ``other`` into ``into`` at an agent's request: ``into``'s id is kept, and
    both ids keep finding the person."""
    reason = reason_text(reason)
    first, second = await _person(stores, into), await _person(stores, other)
    if first.id == second.id:
        raise BadUserInput(f"{into} and {other} are already one person ({first.id})")
    async with stores.stitching.held():  # the counts hold until the merge is made
        counts = await stores.identifiers.counts([first.id, second.id])
        refusal = rules.merge_refusal(counts.get(first.id, {}), counts.get(second.id, {}))
        if refusal is not None:
            raise Conflict(f"merge refused by the identity rules: {refusal}")
        anchors = [await _strongest_key(stores, p, rules) for p in (first, second)]
        survivor = await merge_persons(
            stores,
            first.id,
            second.id,
            event_id=None,
            reason=reason,
            now=now,
            agent=agent,
            keep=first.id,
        )
    if anchors[0] and anchors[1]:
        source = f"manual:{agent}" if agent else "manual"
        await stores.links.record([LinkProof(anchors[0], anchors[1], None, source, now)])
    await refresh_persons(stores, [first.id, second.id], now)
    return survivor


async def unlink_identifier(
    stores: Stores,
    person_id: str,
    identifier: tuple[str, str],
    *,
    reason: str,
    agent: str | None,
    region: str,
    now: datetime,
) -> list[str]:
    """Detach an identifier: it becomes a person of its own, and the rest splits if
    that disconnects it.

    The detached identifier takes the events that carried no other identifier of the
    person (a wrong email's newsletter opens leave the customer's timeline) and its
    links are removed. Each remaining part keeps the identifiers still linked together
    and the events that carried them; the part holding the oldest identifier keeps the
    id and the merge history. Every person's traits are rebuilt from its own events, so
    values a detached event set leave with it. Returns the persons that now exist, the
    main part first and the detached identifier's person last.
    """
    reason = reason_text(reason)
    profile = await _person(stores, person_id)
    try:
        removed = normalise_identifier(identifier[0], identifier[1], region).key
    except InvalidIdentifier as error:
        raise BadUserInput(f"identifier.{error.field}: {error.message}") from None
    await settle_all(stores, profile.family)  # everything on the live person first
    held = {
        doc["_id"]: doc["first_seen"]
        for doc in profile.as_seen(await stores.identifiers.of_persons([profile.id]))
    }
    if removed not in held:
        raise NotFound(f"person {profile.id} does not hold {removed}")
    if set(held) == {removed}:
        raise BadUserInput(
            f"person {profile.id} holds only {removed}: there is nothing to detach it from"
        )

    events = await stores.events.identifier_groups(profile.id)
    manual = [
        [link["a"], link["b"]]
        for link in await stores.links.between(held)
        if not link.get("event_id")
    ]
    parts = split(held, removed, [keys for _, keys in events] + manual)
    new_ids = [new_person_id() for _ in parts[1:]]
    detached = new_person_id()
    part_of = {
        key: pid for part, pid in zip(parts, [profile.id, *new_ids], strict=True) for key in part
    }
    carried_alone = [  # by the detached identifier and no other of this person's
        eid for eid, keys in events if removed in keys and not any(k in part_of for k in keys)
    ]

    # The person's fold holds the events about to move: dropped before they move (a
    # correction cut short leaves none behind) and after (one stored meanwhile).
    await stores.persons.drop_folds([profile.id])
    await stores.persons.create([*new_ids, detached], now)
    await stores.links.remove_touching(removed)
    await stores.identifiers.assign([removed], detached)
    await stores.events.assign(carried_alone, detached)
    for part, pid in zip(parts[1:], new_ids, strict=True):
        await stores.identifiers.assign(part, pid)
        moving = [eid for eid, keys in events if any(part_of.get(k) == pid for k in keys)]
        await stores.events.assign(moving, pid)
    everyone = [profile.id, *new_ids, detached]
    await stores.persons.drop_folds(everyone)  # events moved: folds no longer theirs
    sets = await stores.events.trait_sets(everyone)
    await stores.persons.replace_traits({p: traits_from(sets.get(p, [])) for p in everyone})
    await stores.merges.record(
        {
            "kind": "unlink",
            "survivor": profile.id,
            "created": [*new_ids, detached],
            "identifiers": [removed],
            "agent": agent,
            "reason": reason,
            "at": now,
        }
    )
    await refresh_persons(stores, everyone, now)
    return everyone


async def _person(stores: Stores, person_id: str) -> Profile:
    profile = await find_person(stores, person_id)
    if profile is None:
        raise NotFound(f"no person has the id {person_id}")
    return profile


async def _strongest_key(stores: Stores, profile: Profile, rules: IdentityRules) -> str | None:
    keys = [doc["_id"] for doc in await stores.identifiers.of_persons(profile.family)]
    return max(keys, key=lambda k: (rules.rule(k.split(":", 1)[0]).rank, k), default=None)


async def dismiss_conflict(stores: Stores, conflict_id: str) -> None:
    """An agent decided a refused or held link is right as it is: forget the conflict."""
    if not await stores.conflicts.delete(conflict_id):
        raise NotFound(f"no identity conflict has the id {conflict_id}")
