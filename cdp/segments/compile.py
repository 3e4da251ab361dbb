"""Compiling a rule to one MongoDB aggregation over ``persons`` for the whole base.

Traits and metrics are fields of the profile document, so they become an ordinary query.
Identifier types and event counts live in other collections: each event condition is a
``$unionWith`` branch that counts matching events per person next to the data (a plain
``$match`` on ``events``, so property paths keep MongoDB's own semantics), identifier types
are one more branch, and a ``$group`` puts each person's pieces back together before the
final ``$match``. Only standard stages are used (MongoDB 4.4 and later).

``$lookup`` with a sub-pipeline would read more naturally, but the embedded server
ignores its sub-pipeline (measured: every count came back 0), and a plain ``$lookup``
that pulls each person's whole history is 15 times slower than the union.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cdp.segments.rules import (
    All,
    AnyOf,
    Compare,
    EventCount,
    HasIdentifier,
    Not,
    Op,
    Rule,
    conditions,
)

Document = dict[str, Any]
_OPERATORS = {
    Op.EQ: "$eq",
    Op.NE: "$ne",
    Op.GT: "$gt",
    Op.GTE: "$gte",
    Op.LT: "$lt",
    Op.LTE: "$lte",
    Op.IN: "$in",
    Op.EXISTS: "$exists",
}
LIVE = {"merged_into": None}


def member_pipeline(rule: Rule, now: datetime) -> list[Document]:
    """An aggregation on ``persons`` yielding ``{_id}`` of every live member."""
    leaves = conditions(rule)
    counts = [leaf for leaf in leaves if isinstance(leaf, EventCount)]
    needs_types = any(isinstance(leaf, HasIdentifier) for leaf in leaves)
    match = _query(rule, iter(range(len(counts))))
    if not counts and not needs_types:
        return [{"$match": {"$and": [LIVE, match]}}, {"$project": {"_id": 1}}]
    pipeline: list[Document] = [
        {"$match": LIVE},
        {"$project": {"traits": 1, "metrics": 1, "_live": {"$literal": 1}}},
    ]
    for number, leaf in enumerate(counts):
        pipeline.append(
            {
                "$unionWith": {
                    "coll": "events",
                    "pipeline": [
                        {"$match": events_query(leaf, now)},
                        {"$group": {"_id": "$person_id", f"_e{number}": {"$sum": 1}}},
                    ],
                }
            }
        )
    if needs_types:
        pipeline.append(
            {
                "$unionWith": {
                    "coll": "identifiers",
                    "pipeline": [
                        {"$group": {"_id": "$person_id", "_types": {"$addToSet": "$type"}}}
                    ],
                }
            }
        )
    together: Document = {
        "_id": "$_id",
        "_live": {"$max": "$_live"},
        "traits": {"$max": "$traits"},
        "metrics": {"$max": "$metrics"},
    }
    together.update({f"_e{n}": {"$sum": f"$_e{n}"} for n in range(len(counts))})
    if needs_types:
        together["_types"] = {"$max": "$_types"}
    pipeline += [
        {"$group": together},
        {"$match": {"$and": [{"_live": 1}, match]}},
        {"$project": {"_id": 1}},
    ]
    return pipeline


def events_query(leaf: EventCount, now: datetime) -> Document:
    """The events an event condition counts (without the person)."""
    parts: list[Document] = [{"type": leaf.type}]
    parts += [{f"properties.{path}": {"$eq": value}} for path, value in leaf.where]
    since = leaf.since(now)
    if since is not None:
        parts.append({"timestamp": {"$gte": since}})
    return {"$and": parts}


def _query(rule: Rule, numbers: Any) -> Document:
    match rule:
        case All(parts):
            return {"$and": [_query(part, numbers) for part in parts]}
        case AnyOf(parts):
            return {"$or": [_query(part, numbers) for part in parts]}
        case Not(part):
            return {"$nor": [_query(part, numbers)]}
        case HasIdentifier(kind):
            return {"_types": {"$eq": kind}}
        case Compare(scope, name, op, value):
            field = f"{'traits' if scope == 'trait' else 'metrics'}.{name}"
            return {field: {_OPERATORS[op]: value}}
        case EventCount(at_least=at_least, at_most=at_most):
            field = f"_e{next(numbers)}"
            bounds: Document = {}
            if at_least is not None:
                bounds["$gte"] = at_least
            if at_most is not None:
                bounds["$lte"] = at_most
            return {field: bounds}
    raise TypeError(f"not a rule: {rule!r}")
