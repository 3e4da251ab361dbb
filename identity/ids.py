"""Person ids that sort by creation time.

Merges always keep the oldest person. Making the id itself time-ordered (12 hex digits of
milliseconds, then a per-millisecond counter, then randomness) lets every concurrent
writer agree on "oldest" by comparing ids alone, with no extra read, and the 24 hex
digits look like the ObjectIds that MongoDB users already know.
"""

from __future__ import annotations

import secrets
import threading
import time

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def new_person_id(now_ms: int | None = None) -> str:
    """Return a new id greater than every id this process returned before."""
    global _last_ms, _counter
    with _lock:
        ms = now_ms if now_ms is not None else time.time_ns() // 1_000_000
        if ms <= _last_ms:
            ms = _last_ms
            _counter += 1
            if _counter > 0xFFFF:
                ms, _counter = ms + 1, 0
        else:
            _counter = 0
        _last_ms = ms
        return f"{ms:012x}{_counter:04x}{secrets.randbits(32):08x}"
