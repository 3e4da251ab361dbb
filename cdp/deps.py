"""What a request needs, built once at start-up (:mod:`cdp.bootstrap`) and handed to
every request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from cdp.clock import Clock, utc_now
from cdp.ingest import IngestLimits
from cdp.ingest_queue import IngestQueue
from cdp.live import LiveFeed
from cdp.offers.policy import OfferPolicy
from cdp.privacy.keys import KeyCache
from cdp.profile.refresher import Refresher
from cdp.store import Stores


@dataclass(frozen=True, slots=True)
class Deps:
    stores: Stores
    limits: IngestLimits
    database_ready: Callable[[], Awaitable[bool]]
    offers: OfferPolicy = field(default_factory=OfferPolicy)
    refresher: Refresher | None = None  # None: every call refreshes before it answers
    keys: KeyCache | None = None  # the HTTP edge's key look-ups, cleared by a revoke
    ingest: IngestQueue | None = None  # None: each track call is stored on its own
    clock: Clock = utc_now  # what every write is stamped with
    live: LiveFeed | None = None  # None: no subscriptions (tests of one flow)

    @property
    def default_phone_region(self) -> str:
        return self.limits.rules.default_phone_region
