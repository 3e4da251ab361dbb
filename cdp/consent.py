"""Consent: what a person agreed to, for which purpose and channel, when, and from where.

Every decision is kept; the one in force for a purpose and channel is the latest. A
decision for a specific channel outranks one for all channels, and without any decision
there is no consent (marketing is opt-in).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cdp.errors import BadUserInput, NotFound
from cdp.models import Channel
from cdp.profiles import find_person
from cdp.store import Stores

MARKETING = "marketing"
_PURPOSE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True, slots=True)
class Consent:
    purpose: str
    channel: Channel | None
    granted: bool
    source: str
    at: datetime
    agent: str | None = None  # the API key that recorded it

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Consent:
        channel = Channel(doc["channel"]) if doc.get("channel") else None
        return cls(
            doc["purpose"], channel, doc["granted"], doc["source"], doc["at"], doc.get("agent")
        )


def in_force(decisions: Sequence[Consent]) -> list[Consent]:
    """The latest decision per purpose and channel (decisions given oldest first)."""
    latest: dict[tuple[str, Channel | None], Consent] = {}
    for decision in decisions:
        latest[(decision.purpose, decision.channel)] = decision
    return sorted(latest.values(), key=lambda c: (c.purpose, c.channel.value if c.channel else ""))


def has_consent(decisions: Sequence[Consent], purpose: str, channel: Channel | None) -> bool:
    """Whether the person agreed to ``purpose`` on ``channel`` (opt-in)."""
    return _granted(_latest(decisions), purpose, channel)


def marketing_channels(decisions: Sequence[Consent]) -> frozenset[str]:
    """The channels the person agreed to be marketed on (what offers may use)."""
    if not decisions:  # most persons never decided anything: no consent, nothing to sort
        return frozenset()
    current = _latest(decisions)
    return frozenset(c.value for c in Channel if _granted(current, MARKETING, c))


def _latest(decisions: Sequence[Consent]) -> dict[tuple[str, Channel | None], bool]:
    return {(c.purpose, c.channel): c.granted for c in decisions}  # later ones overwrite


def _granted(
    current: dict[tuple[str, Channel | None], bool], purpose: str, channel: Channel | None
) -> bool:
    """A decision for the channel outranks one for every channel; none means no."""
    if channel is not None and (purpose, channel) in current:
        return current[(purpose, channel)]
    return current.get((purpose, None), False)


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
    # Imported here: the refresh reads consents through this module's pure functions.
    from cdp.segments.refresh import refresh_persons

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
