"""What a request needs, built once at start-up and handed to every request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from cdp.ingest import IngestLimits
from cdp.store import Stores


@dataclass(frozen=True, slots=True)
class Deps:
    stores: Stores
    limits: IngestLimits
    database_ready: Callable[[], Awaitable[bool]]

    @property
    def default_phone_region(self) -> str:
        return self.limits.rules.default_phone_region
