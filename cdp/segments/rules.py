"""Segment rules: a small typed tree, checked when it is saved, read the same way
whether it is evaluated on one person in Python or compiled to MongoDB.

A rule is ``and``/``or``/``not`` over four kinds of condition:

- ``trait``: a trait compared with a value (``{"name": "city", "op": "EQ", "value": "Lyon"}``);
- ``metric``: a computed metric compared with a value of the metric's kind;
- ``identifier``: the person holds an identifier of a type (``twitter``);
- ``events``: how many events of a type, optionally with property values and within the
  last N days, the person has (``page_view`` with ``url = /pricing`` at least twice in 14 days).

Comparisons follow MongoDB's query semantics so the compiled query finds exactly the
members Python finds: values of different kinds never compare (``"5"`` is not ``5``,
``true`` is not ``1``), a list matches when one of its elements does, and ``NE`` is the
exact negation of ``EQ`` (a missing value is "not equal").
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cdp.json_values import unstorable
from cdp.metrics.vocabulary import METRICS, Kind

MAX_DEPTH = 8
MAX_CONDITIONS = 50
MAX_LIST = 100
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}$")
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}(\.[A-Za-z_][A-Za-z0-9_\-]{0,63}){0,7}$")
_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_EVENT_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_.:\-]{0,63}$")  # as ``track`` accepts them


class RuleError(ValueError):
    """A rule that cannot be saved; ``path`` names the bad part (``rule.and[1].metric``)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


class Op(enum.Enum):
    EQ = "EQ"
    NE = "NE"
    GT = "GT"
    GTE = "GTE"
    LT = "LT"
    LTE = "LTE"
    IN = "IN"
    EXISTS = "EXISTS"


ORDERED = frozenset({Op.GT, Op.GTE, Op.LT, Op.LTE})
Scalar = str | int | float | bool


@dataclass(frozen=True, slots=True)
class Compare:
    """``traits.<name>`` or ``metrics.<name>`` compared with ``value``."""

    scope: str  # "trait" or "metric"
    name: str
    op: Op
    value: Any  # a scalar, a list of scalars for IN, a bool for EXISTS


@dataclass(frozen=True, slots=True)
class HasIdentifier:
    type: str


@dataclass(frozen=True, slots=True)
class EventCount:
    type: str
    where: tuple[tuple[str, Scalar], ...]  # property path (below ``properties``), value
    at_least: int | None
    at_most: int | None
    within_days: int | None

    def since(self, now: datetime) -> datetime | None:
        return now - timedelta(days=self.within_days) if self.within_days else None


@dataclass(frozen=True, slots=True)
class All:
    parts: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    parts: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class Not:
    part: Rule


Rule = Compare | HasIdentifier | EventCount | All | AnyOf | Not


# --- parsing -------------------------------------------------------------------------


def parse_rule(data: object, path: str = "rule") -> Rule:
    """Check a rule given as plain data (the GraphQL input or the stored form)."""
    counter = [0]
    return _parse(data, path, 1, counter)


def _parse(data: object, path: str, depth: int, counter: list[int]) -> Rule:
    if depth > MAX_DEPTH:
        raise RuleError(path, f"rules nest at most {MAX_DEPTH} levels deep")
    if not isinstance(data, Mapping):
        raise RuleError(
            path, "must be an object with one of and, or, not, trait, metric, identifier, events"
        )
    given = [key for key, value in data.items() if value is not None]
    if len(given) != 1:
        named = ", ".join(given) or "none"
        raise RuleError(
            path,
            f"give exactly one of and, or, not, trait, metric, identifier, events (got {named})",
        )
    kind = given[0]
    body = data[kind]
    here = f"{path}.{kind}"
    if kind in ("and", "or"):
        if not isinstance(body, Sequence) or isinstance(body, str) or not body:
            raise RuleError(here, "must be a non-empty list of rules")
        parts = tuple(
            _parse(part, f"{here}[{i}]", depth + 1, counter) for i, part in enumerate(body)
        )
        return All(parts) if kind == "and" else AnyOf(parts)
    if kind == "not":
        return Not(_parse(body, here, depth + 1, counter))
    counter[0] += 1
    if counter[0] > MAX_CONDITIONS:
        raise RuleError(here, f"a rule holds at most {MAX_CONDITIONS} conditions")
    if not isinstance(body, Mapping):
        raise RuleError(here, "must be an object")
    if kind == "trait":
        return _compare("trait", body, here)
    if kind == "metric":
        return _compare("metric", body, here)
    if kind == "identifier":
        return HasIdentifier(
            _text(
                body.get("type"),
                f"{here}.type",
                _TYPE,
                "a lower-case identifier type such as twitter",
            )
        )
    if kind == "events":
        return _event_count(body, here)
    raise RuleError(
        path, f"unknown condition {kind!r}; use and, or, not, trait, metric, identifier, events"
    )


def _compare(scope: str, body: Mapping[str, Any], path: str) -> Compare:
    key = "name" if scope == "trait" else "metric"
    raw_name = body.get(key)
    if scope == "trait":
        name = _text(
            raw_name, f"{path}.name", _NAME, "a top-level trait name (letters, digits, _ and -)"
        )
        kind: Kind | None = None
    else:
        name = str(raw_name).lower() if isinstance(raw_name, str) else ""
        if name not in METRICS:
            raise RuleError(f"{path}.metric", f"unknown metric {raw_name!r}")
        kind = METRICS[name]
    try:
        op = Op(body.get("op"))
    except ValueError:
        raise RuleError(
            f"{path}.op",
            f"unknown operator {body.get('op')!r}; use one of {', '.join(o.value for o in Op)}",
        ) from None
    value = body.get("value")
    here = f"{path}.value"
    if op is Op.EXISTS:
        if not isinstance(value, bool):
            raise RuleError(here, "EXISTS takes true or false")
    elif op is Op.IN:
        if not isinstance(value, list) or not value or len(value) > MAX_LIST:
            raise RuleError(here, f"IN takes a list of 1 to {MAX_LIST} values")
        for i, item in enumerate(value):
            _scalar(item, f"{here}[{i}]", kind, name)
    else:
        _scalar(value, here, kind, name)
        if op in ORDERED and isinstance(value, bool):
            raise RuleError(here, f"{op.value} needs a number or text, not true or false")
    return Compare(scope, name, op, value)


def _scalar(value: object, path: str, kind: Kind | None, name: str) -> None:
    if value is None or isinstance(value, list | dict):
        raise RuleError(
            path, "must be a text, number or true/false value (use EXISTS for a missing value)"
        )
    if isinstance(value, str) and len(value) > 256:
        raise RuleError(path, "text values are at most 256 characters")
    if (problem := unstorable(value)) is not None:
        raise RuleError(path, problem)
    if kind is None:
        return
    fits = {
        Kind.NUMBER: isinstance(value, int | float) and not isinstance(value, bool),
        Kind.TEXT: isinstance(value, str),
        Kind.TEXT_LIST: isinstance(value, str),
        Kind.FLAG: isinstance(value, bool),
    }[kind]
    if not fits:
        raise RuleError(path, f"{name.upper()} is a {kind.value}; {value!r} cannot match it")


def _event_count(body: Mapping[str, Any], path: str) -> EventCount:
    event_type = _text(
        body.get("type"), f"{path}.type", _EVENT_TYPE, "an event type such as page_view"
    )
    where: list[tuple[str, Scalar]] = []
    for i, match in enumerate(body.get("where") or []):
        here = f"{path}.where[{i}]"
        if not isinstance(match, Mapping):
            raise RuleError(here, "must be an object with path and value")
        prop = _text(
            match.get("path"), f"{here}.path", _PATH, "a property path such as url or items.sku"
        )
        _scalar(match.get("value"), f"{here}.value", None, prop)
        where.append((prop, match["value"]))
    bounds = {}
    for key in ("atLeast", "atMost", "withinDays"):
        value = body.get(key)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100_000
        ):
            raise RuleError(f"{path}.{key}", "must be a whole number from 0 to 100000")
        bounds[key] = value
    if bounds["withinDays"] == 0:
        raise RuleError(f"{path}.withinDays", "must be at least 1 (leave it out for all time)")
    at_least, at_most = bounds["atLeast"], bounds["atMost"]
    if at_least is None and at_most is None:
        at_least = 1
    if at_least is not None and at_most is not None and at_least > at_most:
        raise RuleError(path, f"atLeast {at_least} is more than atMost {at_most}: nobody can match")
    return EventCount(event_type, tuple(where), at_least, at_most, bounds["withinDays"])


def _text(value: object, path: str, pattern: re.Pattern[str], expected: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise RuleError(path, f"{value!r} is not {expected}"[:300])
    return value


# --- the stored form -----------------------------------------------------------------


def rule_to_data(rule: Rule) -> dict[str, Any]:
    """The plain-data form: what the API shows and what is stored (parses back equal)."""
    match rule:
        case All(parts):
            return {"and": [rule_to_data(p) for p in parts]}
        case AnyOf(parts):
            return {"or": [rule_to_data(p) for p in parts]}
        case Not(part):
            return {"not": rule_to_data(part)}
        case HasIdentifier(kind):
            return {"identifier": {"type": kind}}
        case Compare(scope, name, op, value):
            key = "name" if scope == "trait" else "metric"
            shown = name if scope == "trait" else name.upper()
            return {scope: {key: shown, "op": op.value, "value": value}}
        case EventCount(kind, where, at_least, at_most, within_days):
            data: dict[str, Any] = {
                "type": kind,
                "where": [{"path": p, "value": v} for p, v in where],
            }
            for key, value in (
                ("atLeast", at_least),
                ("atMost", at_most),
                ("withinDays", within_days),
            ):
                if value is not None:
                    data[key] = value
            return {"events": data}
    raise TypeError(f"not a rule: {rule!r}")


def conditions(rule: Rule) -> list[Compare | HasIdentifier | EventCount]:
    """The leaves of a rule, in order (the compiler numbers event counts by this order)."""
    match rule:
        case All(parts) | AnyOf(parts):
            return [leaf for part in parts for leaf in conditions(part)]
        case Not(part):
            return conditions(part)
        case _:
            return [rule]
