"""Building a GraphQL type from a domain record or a stored document whose fields carry
the same names, so a type that mirrors one does not spell every field out twice."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")


def pick(cls: type[T], source: Mapping[str, Any] | object) -> T:
    """``cls`` with each of its fields taken from ``source`` (a mapping, or a dataclass
    instance), missing ones as None."""
    values = source if isinstance(source, Mapping) else dataclasses.asdict(source)  # type: ignore[call-overload]
    return cls(**{f.name: values.get(f.name) for f in dataclasses.fields(cls)})  # type: ignore[arg-type]
