"""Turning stored documents into plain JSON values."""

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
