"""Refuse unstorable text in an operation's arguments before its resolver runs.

A JSON string may carry a lone surrogate (``"\\ud800"``) that no database can store. Caught
when writing, it could stop an operation half-way; caught here, on the arguments of every
query and mutation (a field extension on every root field), the operation never
starts and the caller is told which argument.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from cdp.errors import BadUserInput

# track rejects such text per event (cdp.events), so one bad event never sinks its batch.
VALIDATES_ITS_OWN_TEXT = frozenset({"track"})


def check_arguments(field: str, arguments: Mapping[str, Any]) -> None:
    if field in VALIDATES_ITS_OWN_TEXT:
        return
    for name, value in arguments.items():
        _check(value, name)


def _check(value: Any, path: str) -> None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadUserInput(f"{path}: contains text that is not valid Unicode") from None
    elif isinstance(value, dict):
        for key, child in value.items():
            _check(key, path)
            _check(child, f"{path}.{key}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            _check(child, f"{path}[{index}]")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):  # an input object, as strawberry builds it
            _check(getattr(value, field.name), f"{path}.{field.name}")
