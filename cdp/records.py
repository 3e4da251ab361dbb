"""Domain models shared by the ingest flow, the stores and the GraphQL layer."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from identity import Identifier


class Channel(enum.Enum):
    """Where an interaction happened."""

    WEB = "WEB"
    MOBILE_APP = "MOBILE_APP"
    EMAIL = "EMAIL"
    SMS = "SMS"
    PHONE = "PHONE"
    CHAT = "CHAT"
    FACEBOOK = "FACEBOOK"
    INSTAGRAM = "INSTAGRAM"
    TWITTER = "TWITTER"
    WHATSAPP = "WHATSAPP"
    STORE = "STORE"
    CRM = "CRM"
    OTHER = "OTHER"


class EventStatus(enum.Enum):
    """What happened to one event of a batch."""

    ACCEPTED = "ACCEPTED"
    DUPLICATE = "DUPLICATE"
    REJECTED = "REJECTED"


class RejectionCode(enum.Enum):
    """Why an event was rejected; stable, so integrations can branch on it."""

    INVALID_EVENT = "INVALID_EVENT"
    NO_IDENTIFIERS = "NO_IDENTIFIERS"
    INVALID_IDENTIFIER = "INVALID_IDENTIFIER"
    INVALID_TIMESTAMP = "INVALID_TIMESTAMP"
    PROPERTIES_TOO_LARGE = "PROPERTIES_TOO_LARGE"
    BLOCKED_IDENTIFIER = "BLOCKED_IDENTIFIER"


@dataclass(frozen=True, slots=True)
class Event:
    """A validated event, identifiers normalised and timestamp in UTC to the millisecond."""

    message_id: str
    type: str
    channel: Channel
    identifiers: tuple[Identifier, ...]
    timestamp: datetime
    properties: dict[str, Any] = field(default_factory=dict)
    traits: dict[str, Any] = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        return [identifier.key for identifier in self.identifiers]


@dataclass(frozen=True, slots=True)
class EventResult:
    """The answer for one event of a batch."""

    message_id: str
    status: EventStatus
    person_id: str | None = None
    error: str | None = None
    code: RejectionCode | None = None
    field: str | None = None
    blocked: tuple[Identifier, ...] = ()  # placeholders dropped from the event


@dataclass(frozen=True, slots=True)
class TrackResult:
    """The answer for a whole batch, in the order the events were sent."""

    results: list[EventResult]
    persons_created: int = 0  # new persons the batch made (kept after stitching)
    merges: int = 0  # merges of two persons its events proved

    def count(self, status: EventStatus) -> int:
        return sum(1 for result in self.results if result.status is status)

    @property
    def blocked(self) -> int:
        return sum(len(result.blocked) for result in self.results)
