"""A person's rights over their data: erasure and portability.

Erasure removes the person, every person merged into them, their identifiers, the links
and conflicts that name those identifiers, their events (segment changes included),
consents, segment memberships, offer responses and merge records, and
scrubs their identifiers from other persons' events that carried them too (a refused link,
a shared device). What remains is a tombstone with no personal data (the id, the reason,
when), so the erasure can be proven. It is written first and finished last, so an erasure
cut short is completed by asking again; an identifier seen again later starts a new person.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cdp.errors import NotFound
from cdp.json_values import json_ready
from cdp.linking.merging import settle_all
from cdp.privacy.consent_records import consents_of
from cdp.profile.find import find_person
from cdp.profile.refresh import refresh_persons
from cdp.reasons import reason_text
from cdp.store import Stores
from cdp.store.database import Document
from identity.identifiers import PHONE_TYPES

ERASED = "[erased]"


def _mentions(identifiers: list[Document]) -> list[str]:
    """How an erased person's emails and phone numbers may be written in others' text."""
    found: list[str] = []
    for doc in identifiers:
        if doc["type"] == "email":
            found.append(doc["value"])
        elif doc["type"] in PHONE_TYPES:
            found += [doc["value"], doc["value"].lstrip("+")]
    return found


# Every collection that holds something of a person, and the part of the export that
# shows it: erasure clears each of them, and the test of both walks this one list (a
# collection erased but not exported, or holding a person and in neither, fails it).
HELD_ABOUT_A_PERSON: Mapping[str, str] = {
    "persons": "person",
    "identifiers": "identifiers",
    "events": "events",
    "links": "links",
    "conflicts": "conflicts",
    "merges": "mergeHistory",
    "consents": "consents",
    "memberships": "segments",
    "offer_responses": "offerResponses",
    "offer_decisions": "offerDecisions",
}


async def erase_person(
    stores: Stores, person_id: str, reason: str, now: datetime, agent: str | None = None
) -> Document:
    """Erase a person; returns the tombstone (also for a person erased before)."""
    text = reason_text(reason)
    profile = await find_person(stores, person_id)
    if profile is None:
        earlier = await stores.erasures.get(person_id)
        if earlier is not None:
            return earlier
        raise NotFound(f"no person has the id {person_id}")
    await stores.erasures.begin(profile.id, text, now, agent)
    await settle_all(stores, profile.family)
    family = profile.family
    docs = await stores.identifiers.of_persons(family)
    keys = [doc["_id"] for doc in docs]
    await stores.events.scrub_identifiers([{"type": d["type"], "value": d["value"]} for d in docs])
    scrubbed = await stores.events.mentioning(_mentions(docs), ERASED)
    # Folds are derived from those events: dropped before the text goes (an erasure cut
    # short here and asked again finds the mentions again) and after (a fold stored by
    # an event meanwhile holds the text).
    mentioned_in = {each.person_id for each in scrubbed}
    await stores.persons.drop_folds(mentioned_in)
    await stores.events.rewrite(scrubbed)
    await stores.persons.drop_folds(mentioned_in)
    await stores.events.delete_of(family)
    await stores.links.remove_touching_any(keys)
    await stores.conflicts.delete_involving(family, keys)
    await stores.merges.delete_involving(family, keys)
    await stores.consents.delete_of(family)
    await stores.memberships.delete_of_persons(family)
    await stores.offers.delete_responses_of(family)
    await stores.identifiers.delete_of(family)
    await stores.persons.delete(family)
    # Others' profiles that list one of the person's identifiers as their history saw it
    # (cdp.profile.sightings): a key that was theirs before it moved to this person.
    listed = await stores.persons.forget_sightings(keys)
    # Others whose events mentioned the person: their metrics were computed from the
    # text just scrubbed (a wishlist sku naming the email), recomputed now rather than at
    # their next event; those that listed a key, from their scrubbed histories (a refresh
    # that read them before the scrub and wrote after the line above is overwritten).
    await refresh_persons(stores, (mentioned_in | listed) - set(family), now)
    return await stores.erasures.finish(profile.id, now)


async def export_person(stores: Stores, person_id: str) -> dict[str, Any]:
    """Everything held about a person, as one JSON-ready document."""
    profile = await find_person(stores, person_id)
    if profile is None:
        raise NotFound(f"no person has the id {person_id}")
    family = profile.family
    identifiers = await stores.identifiers.of_persons(family)
    keys = [doc["_id"] for doc in identifiers]
    consents = await consents_of(stores, family)
    exported: dict[str, Any] = json_ready(
        {
            "person": {
                "id": profile.id,
                "mergedFrom": list(profile.merged_from),
                "traits": profile.traits,
                "createdAt": profile.created_at,
                "updatedAt": profile.updated_at,
            },
            "identifiers": [
                {k: d[k] for k in ("type", "value", "first_seen", "last_seen")}
                for d in profile.as_seen(identifiers)
            ],
            "events": [
                {k: v for k, v in doc.items() if k != "person_id"}
                for doc in await stores.events.of_persons(family)
            ],
            "consents": [
                {
                    "purpose": c.purpose,
                    "channel": c.channel.value if c.channel else None,
                    "granted": c.granted,
                    "source": c.source,
                    "at": c.at,
                    "agent": c.agent,
                }
                for c in consents
            ],
            "metrics": profile.metrics,
            "segments": [
                {"segment": segment, "enteredAt": held.entered_at}
                for segment, held in sorted(
                    (await stores.memberships.of_persons([profile.id])).get(profile.id, {}).items()
                )
            ],
            "links": await stores.links.between(keys),
            "mergeHistory": await stores.merges.involving(family),
            "conflicts": await stores.conflicts.involving(family, keys),
            "offerResponses": [
                {k: v for k, v in doc.items() if k not in ("_id", "person_id")}
                for doc in sorted(
                    await stores.offers.responses_of(family, datetime.min.replace(tzinfo=UTC)),
                    key=lambda doc: doc["at"],
                )
            ],
            "offerDecisions": [
                {k: v for k, v in doc.items() if k != "person_id"}
                for doc in sorted(await stores.offers.decisions_of(family), key=lambda d: d["at"])
            ],
        }
    )
    return exported
