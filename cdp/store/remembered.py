"""A small value read from the database and reused for a moment.

Every ``track`` call needs the identity rules, every refresh the segment definitions and
the models fitted on the base; each is one small read that rarely changes, and reading
it on every call was a fifth of a small call's round trips. Each is kept here for
``seconds`` (``CDP_SHARED_CACHE_SECONDS``, 1 s): a change made through this instance
is seen at once (its write calls :meth:`Remembered.forget`), one made through another
instance within ``seconds``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Remembered(Generic[T]):
    def __init__(
        self,
        load: Callable[[], Awaitable[T]],
        seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load, self._seconds, self._clock = load, seconds, clock
        self._value: tuple[T, float] | None = None
        self._generation = 0

    async def get(self) -> T:
        kept = self._value
        if kept is not None and self._clock() < kept[1]:
            return kept[0]
        generation, started = self._generation, self._clock()
        value = await self._load()
        if generation == self._generation:  # not forgotten while it loaded
            self._value = (value, started + self._seconds)
        return value

    def forget(self) -> None:
        self._generation += 1
        self._value = None
