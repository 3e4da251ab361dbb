"""Requests per API key (and failed sign-ins per client address): a token bucket per
key, in the memory of this instance.

Each instance limits on its own, so N instances behind a load balancer allow N times the
rate; a shared limit would need a shared counter (MongoDB or Redis) and is left until it
is needed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(
        self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def waiting(self, key_id: str) -> int:
        """Whole seconds until ``key_id`` may make a request, without taking one."""
        bucket = self._buckets.get(key_id)
        if bucket is None:
            return 0
        tokens = min(self.burst, bucket.tokens + (self._clock() - bucket.updated) * self.rate)
        return 0 if tokens >= 1 else max(1, math.ceil((1 - tokens) / self.rate))

    def retry_after(self, key_id: str) -> int:
        """Take one request for ``key_id``: 0 when allowed, else whole seconds to wait."""
        now = self._clock()
        bucket = self._buckets.setdefault(key_id, _Bucket(float(self.burst), now))
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0
        return max(1, math.ceil((1 - bucket.tokens) / self.rate))
