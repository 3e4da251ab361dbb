"""A person's consent for a purpose on a channel."""

from __future__ import annotations

from datetime import datetime

import strawberry

from cdp.privacy.consent import Consent
from resolvers.types.enums import Channel


@strawberry.type(name="Consent", description="A consent decision in force.")
class ConsentType:
    purpose: str = strawberry.field(description="marketing, analytics, ...")
    channel: Channel | None = strawberry.field(description="Null: every channel.")
    granted: bool
    source: str = strawberry.field(description="Where the decision came from.")
    at: datetime
    agent: str | None = strawberry.field(
        description="The API key that recorded it: its name and id."
    )

    @classmethod
    def of(cls, consent: Consent) -> ConsentType:
        return cls(
            purpose=consent.purpose,
            channel=consent.channel,
            granted=consent.granted,
            source=consent.source,
            at=consent.at,
            agent=consent.agent,
        )
