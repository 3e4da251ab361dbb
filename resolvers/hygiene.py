"""Refuse what no database can store in an operation's arguments before its resolver runs.

A JSON string may carry a lone surrogate (``"\\ud800"``), and a JSON number may be a whole
number beyond BSON's 64 bits; neither can be stored. Caught when writing, they could
stop an operation half-way (or fail it as an internal error); caught here, on the
arguments of every query and mutation (a field extension on every root field), the
operation never starts and the caller is told which argument.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from cdp.errors import BadUserInput
from cdp.json_values import unstorable

# track rejects such values per event (cdp.events), so one bad event never sinks its batch.
VALIDATES_ITS_OWN_TEXT = frozenset({"track"})


def check_arguments(field: str, arguments: Mapping[str, Any]) -> None:
    if field in VALIDATES_ITS_OWN_TEXT:
        return
    for name, value in arguments.items():
        _check(value, name)


def _check(value: Any, path: str) -> None:
    if (problem := unstorable(value)) is not None:
        raise BadUserInput(f"{path}: {problem}")
    if isinstance(value, dict):
        for key, child in value.items():
            _check(key, path)
            _check(child, f"{path}.{key}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            _check(child, f"{path}[{index}]")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):  # an input object, as strawberry builds it
            _check(getattr(value, field.name), f"{path}.{field.name}")
