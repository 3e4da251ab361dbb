"""Rows of an import file turned into ``track`` events, or rejected with a reason. Pure.

JSON Lines: one ``EventInput`` object per line (the same shape ``track`` takes). CSV:
a header row, and a mapping that says which column is what (a JSON file, documented in
the README): ``{"type": "event", "channel": "source", "timestamp": "when",
"messageId": "id", "identifiers": {"email": "mail", "phone": "tel"}, "properties":
{"total": "amount"}, "traits": {"firstName": "first_name"}}``, each value a column name
(or ``{"value": ...}`` for a constant). A row without a message id gets a stable one
derived from its content, so importing the same file twice stores nothing twice.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

NUMBER_PROPERTIES = frozenset({"total", "value", "price", "quantity", "amount"})


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the file: its number (1-based, the header counts in CSV) and either
    the event to send or why it cannot be sent."""

    line: int
    event: dict[str, Any] | None
    rejected: str | None = None


def stable_id(event: Mapping[str, Any]) -> str:
    """A message id from the event's content: the same row always gets the same one."""
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), default=str)
    return "import-" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _with_id(event: dict[str, Any]) -> dict[str, Any]:
    if not event.get("messageId"):
        event = {**event, "messageId": stable_id(event)}
    return event


def json_lines(lines: Iterable[str], first_line: int = 1) -> Iterator[Row]:
    for number, text in enumerate(lines, start=first_line):
        if not text.strip():
            continue
        try:
            found = json.loads(text)
        except json.JSONDecodeError as error:
            yield Row(number, None, f"not JSON: {error.msg} at column {error.colno}")
            continue
        if not isinstance(found, dict):
            yield Row(number, None, "not a JSON object (one event per line)")
            continue
        yield Row(number, _with_id(found))


class MappingError(ValueError):
    """The mapping file does not say how to read the CSV."""


def check_mapping(mapping: object, header: list[str]) -> dict[str, Any]:
    """The mapping, checked against the file's header (every column it names exists)."""
    if not isinstance(mapping, dict):
        raise MappingError("the mapping must be a JSON object")
    for required in ("type", "identifiers"):
        if required not in mapping:
            raise MappingError(f"the mapping has no {required!r}")
    if not isinstance(mapping["identifiers"], dict) or not mapping["identifiers"]:
        raise MappingError(
            '\'identifiers\' maps identifier types to columns, e.g. {"email": "mail"}'
        )
    for source in _sources(mapping):
        if isinstance(source, str) and source not in header:
            raise MappingError(
                f"column {source!r} is not in the file's header ({', '.join(header)})"
            )
    return mapping


def _sources(mapping: Mapping[str, Any]) -> Iterator[object]:
    for source in mapping.values():
        if isinstance(source, dict) and "value" not in source:
            yield from source.values()
        else:
            yield source


def csv_rows(
    lines: Iterable[str], header: list[str], mapping: Mapping[str, Any], first_line: int = 2
) -> Iterator[Row]:
    """Events from CSV lines after the header (``mapping`` checked against it)."""
    reader = csv.reader(lines)
    for number, values in enumerate(reader, start=first_line):
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(header):
            yield Row(number, None, f"{len(values)} columns where the header has {len(header)}")
            continue
        cells = dict(zip(header, values, strict=True))
        yield Row(number, _with_id(_event(cells, mapping)))


def _event(cells: Mapping[str, str], mapping: Mapping[str, Any]) -> dict[str, Any]:
    def read(source: object) -> Any:
        if isinstance(source, dict):
            return source.get("value")
        return cells.get(str(source), "").strip() or None

    event: dict[str, Any] = {"type": read(mapping["type"])}
    for key in ("channel", "timestamp", "messageId"):
        if key in mapping and (value := read(mapping[key])) is not None:
            event[key] = value.upper() if key == "channel" and isinstance(value, str) else value
    event["identifiers"] = [
        {"type": kind, "value": value}
        for kind, source in mapping["identifiers"].items()
        if (value := read(source)) is not None
    ]
    for part in ("properties", "traits"):
        found = {name: read(source) for name, source in (mapping.get(part) or {}).items()}
        found = {name: _number(name, value) for name, value in found.items() if value is not None}
        if found:
            event[part] = found
    return event


def _number(name: str, value: Any) -> Any:
    """Amounts arrive as text in a CSV; the metrics want numbers."""
    if name in NUMBER_PROPERTIES and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value
