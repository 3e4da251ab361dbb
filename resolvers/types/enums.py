"""Domain enums exposed to GraphQL under their own names, so there is one definition.

``strawberry.enum`` registers a class in place, so the names exported here are the domain
classes themselves: resolvers and domain code pass the same values back and forth.
"""

from __future__ import annotations

import strawberry

from cdp.records import Channel, EventStatus, RejectionCode

strawberry.enum(Channel, description="Where an interaction happened.")
strawberry.enum(EventStatus, description="What happened to one event of a batch.")
strawberry.enum(
    RejectionCode,
    description="Why an event was rejected; stable, so integrations can branch on it.",
)

__all__ = ["Channel", "EventStatus", "RejectionCode"]
