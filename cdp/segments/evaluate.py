"""Evaluating a rule on one person, in Python, with MongoDB's query semantics.

This is the per-event path: the refresh already holds the person's traits, fresh
metrics, identifier types and events, so membership costs no query. The property test
in ``tests/cdp/segments`` checks it against the compiled query on the same data.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cdp.segments.rules import All, AnyOf, Compare, EventCount, HasIdentifier, Not, Op, Rule


@dataclass(frozen=True, slots=True)
class EventFacts:
    type: str
    timestamp: datetime
    properties: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Subject:
    """What a rule can see of one person: their events, or (``counts``) the counts a
    fold kept of them (:mod:`cdp.segments.tally`)."""

    traits: Mapping[str, Any]
    metrics: Mapping[str, Any]
    identifier_types: frozenset[str]
    events: Sequence[EventFacts]
    counts: Callable[[EventCount, datetime], int] | None = None


Predicate = Callable[[Subject, datetime], bool]


def matches(rule: Rule, subject: Subject, now: datetime) -> bool:
    return predicate(rule)(subject, now)


def predicate(rule: Rule) -> Predicate:
    """The rule as a function of a person: built once per evaluation of many persons
    (the refresh of a batch), so the tree is walked once, not once per person."""
    match rule:
        case All(parts):
            each = [predicate(part) for part in parts]
            return lambda subject, now: all(p(subject, now) for p in each)
        case AnyOf(parts):
            each = [predicate(part) for part in parts]
            return lambda subject, now: any(p(subject, now) for p in each)
        case Not(part):
            inner = predicate(part)
            return lambda subject, now: not inner(subject, now)
        case HasIdentifier(kind):
            return lambda subject, now: kind in subject.identifier_types
        case Compare("trait", name, op, value):
            test = comparison(op, value)
            return lambda subject, now: _test_field(subject.traits, name, test)
        case Compare(_, name, op, value):
            test = comparison(op, value)
            return lambda subject, now: _test_field(subject.metrics, name, test)
        case EventCount():
            return lambda subject, now: _count_fits(
                rule,
                subject.counts(rule, now)
                if subject.counts is not None
                else _count(rule, subject.events, now),
            )
    raise TypeError(f"not a rule: {rule!r}")


def _test_field(source: Mapping[str, Any], name: str, test: Comparison) -> bool:
    stored = source.get(name, _MISSING)
    return test(stored is not _MISSING, None if stored is _MISSING else stored)


_MISSING = object()
Comparison = Callable[[bool, Any], bool]  # (present, stored) -> matches
_OPERATOR = {Op.EQ: operator.eq, Op.GT: operator.gt, Op.GTE: operator.ge}
_OPERATOR.update({Op.LT: operator.lt, Op.LTE: operator.le})


def comparison(op: Op, value: Any) -> Comparison:
    """:func:`compare` for one operator and value, decided once: a segment's rule is
    tested on every person of a refresh or a recompute, and working out the operator and
    the value's type bracket each time was most of the cost."""
    if op is Op.EXISTS:
        return lambda present, stored: present is value
    if op is Op.NE:
        equal = comparison(Op.EQ, value)
        return lambda present, stored: not equal(present, stored)
    one = (
        _any_of([_scalar_test(Op.EQ, item) for item in value])
        if op is Op.IN
        else _scalar_test(op, value)
    )

    def test(present: bool, stored: Any) -> bool:
        if not present:
            return False
        if isinstance(stored, list):
            return one(stored) or any(one(item) for item in stored)
        return one(stored)

    return test


def _any_of(tests: list[Callable[[Any], bool]]) -> Callable[[Any], bool]:
    return lambda stored: any(test(stored) for test in tests)


def _scalar_test(op: Op, value: Any) -> Callable[[Any], bool]:
    """``stored <op> value`` within MongoDB's type brackets (see :func:`_same_kind`)."""
    compare_with = _OPERATOR[op]
    if isinstance(value, bool):
        return lambda stored: isinstance(stored, bool) and bool(compare_with(stored, value))
    if isinstance(value, int | float):
        return lambda stored: (
            isinstance(stored, int | float)
            and not isinstance(stored, bool)
            and bool(compare_with(stored, value))
        )
    if isinstance(value, str):
        return lambda stored: isinstance(stored, str) and bool(compare_with(stored, value))
    return lambda stored: _scalar_fits(stored, op, value)


def compare(present: bool, stored: Any, op: Op, value: Any) -> bool:
    """One comparison as MongoDB's ``find`` would make it on ``{field: stored}``."""
    if op is Op.EXISTS:
        return present is value
    if op is Op.NE:
        return not compare(present, stored, Op.EQ, value)
    if not present:
        return False
    if op is Op.IN:
        return any(compare(present, stored, Op.EQ, item) for item in value)
    if not isinstance(stored, list):
        return _scalar_fits(stored, op, value)
    return _scalar_fits(stored, op, value) or any(_scalar_fits(s, op, value) for s in stored)


def _scalar_fits(stored: Any, op: Op, value: Any) -> bool:
    if not _same_kind(stored, value):
        return False
    if op is Op.EQ:
        return bool(stored == value)
    if op is Op.GT:
        return bool(stored > value)
    if op is Op.GTE:
        return bool(stored >= value)
    if op is Op.LT:
        return bool(stored < value)
    return bool(stored <= value)  # LTE


def _same_kind(a: Any, b: Any) -> bool:
    """MongoDB compares values of one type bracket only: numbers with numbers (int and
    float alike), text with text, booleans with booleans."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return True
    return isinstance(a, str) and isinstance(b, str)


def _count(rule: EventCount, events: Sequence[EventFacts], now: datetime) -> int:
    since = rule.since(now)
    return sum(
        1
        for event in events
        if (since is None or event.timestamp >= since)
        and counts_event(rule, event.type, event.properties)
    )


def counts_event(rule: EventCount, kind: str, properties: Mapping[str, Any]) -> bool:
    """Whether the leaf counts an event of this type and these properties (its window
    aside): the history's count and a fold's tally (cdp.segments.tally) ask the same."""
    return kind == rule.type and all(
        path_equals(properties, path.split("."), value) for path, value in rule.where
    )


def _count_fits(rule: EventCount, count: int) -> bool:
    return (rule.at_least is None or count >= rule.at_least) and (
        rule.at_most is None or count <= rule.at_most
    )


def path_equals(value: Any, path: list[str], target: Any) -> bool:
    """``{"a.b": target}`` in a MongoDB query: a list on the way is searched element by
    element, and a list at the end matches when it holds the target."""
    if not path:
        return compare(True, value, Op.EQ, target)
    if isinstance(value, Mapping):
        return path[0] in value and path_equals(value[path[0]], path[1:], target)
    if isinstance(value, list):
        return any(isinstance(item, Mapping) and path_equals(item, path, target) for item in value)
    return False
