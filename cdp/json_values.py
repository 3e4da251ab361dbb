"""Plain JSON values in and out: what the database can hold of them, and stored
documents turned back into them."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def json_ready(value: Any) -> Any:
    """``value`` with datetimes as ISO 8601 strings and tuples as lists, recursively."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


# JSON numbers have no size; BSON's whole numbers are 64-bit, and the driver refuses a
# larger one only when the write is sent (an internal error, the whole batch with it)
INTEGER_RANGE = range(-(2**63), 2**63)
TOO_LARGE = "is a whole number beyond 64 bits, which the database cannot store: send it as text"
NOT_UNICODE = "contains text that is not valid Unicode"


def unstorable(value: object) -> str | None:
    """Why the database cannot store this JSON leaf, or None: text that is not valid
    Unicode (a lone surrogate from a ``\\ud800`` escape), a whole number beyond 64 bits.
    Lists and objects are the caller's to walk (each says where it found the leaf)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return NOT_UNICODE
    elif isinstance(value, int) and not isinstance(value, bool) and value not in INTEGER_RANGE:
        return TOO_LARGE
    return None
