"""Recording consent decisions and reading them back, for one person or a page of them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from cdp.errors import BadUserInput, NotFound
from cdp.privacy.consent import Consent
from cdp.profile.find import find_person
from cdp.profile.refresh import refresh_persons
from cdp.records import Channel
from cdp.store import Stores

_PURPOSE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


async def set_consent(
    stores: Stores,
    person_id: str,
    purpose: str,
    channel: Channel | None,
    granted: bool,
    source: str,
    now: datetime,
    agent: str | None = None,
) -> str:
    if not _PURPOSE.match(purpose):
        raise BadUserInput(
            f"purpose: {purpose[:80]!r} must be a lower-case name such as marketing or analytics"
        )
    if not source.strip() or len(source) > 200:
        raise BadUserInput("source: say where the decision came from, in 1 to 200 characters")
    profile = await find_person(stores, person_id)
    if profile is None:
        raise NotFound(f"no person has the id {person_id}")
    await stores.consents.record(
        {
            "person_id": profile.id,
            "purpose": purpose,
            "channel": channel.value if channel else None,
            "granted": granted,
            "source": source.strip(),
            "at": now,
            "agent": agent,
        }
    )
    await refresh_persons(stores, [profile.id], now)  # preferred channel follows consent
    return profile.id


async def consents_of(stores: Stores, family: Sequence[str]) -> list[Consent]:
    return [Consent.from_document(doc) for doc in await stores.consents.of_persons(family)]


async def consents_of_families(
    stores: Stores, families: Sequence[Sequence[str]]
) -> list[list[Consent]]:
    """Each family's decisions, oldest first, for many persons in one read."""
    family_of = {member: n for n, family in enumerate(families) for member in family}
    found: list[list[Consent]] = [[] for _ in families]
    for doc in await stores.consents.of_persons(family_of):
        found[family_of[doc["person_id"]]].append(Consent.from_document(doc))
    return found
