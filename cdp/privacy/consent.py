"""Consent: what a person agreed to, for which purpose and channel, when, and from where.

Every decision is kept; the one in force for a purpose and channel is the latest. A
decision for a specific channel outranks one for all channels, and without any decision
there is no consent (marketing is opt-in). Pure: recording and reading decisions is
:mod:`cdp.privacy.consent_records`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cdp.records import Channel

MARKETING = "marketing"


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
