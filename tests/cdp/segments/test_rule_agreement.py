"""The per-person Python evaluation and the compiled whole-base query find the same
members, for random rules over random profiles stored on the real server.

The values are drawn to hit MongoDB's corners: numbers stored as int or float, text that
looks like a number, booleans beside 1 and 0, lists of values, nulls and missing fields,
purchase items searched through a list of objects.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cdp import bootstrap
from cdp.segments.compile import member_pipeline
from cdp.segments.evaluate import EventFacts, Subject, matches
from cdp.segments.rules import parse_rule

NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)
SCALARS = st.sampled_from([0, 1, 2, 2.0, 2.5, 7, "2", "lyon", "paris", "", True, False])
TRAIT_VALUES = st.one_of(SCALARS, st.none(), st.lists(SCALARS, max_size=3))
TRAIT_NAMES = st.sampled_from(["city", "score", "tags", "vip"])

metric_values: dict[str, st.SearchStrategy[Any]] = {
    "ORDERS": st.sampled_from([0, 1, 3, 3.0, 10]),
    "AVERAGE_ORDER_VALUE": st.sampled_from([None, 15.0, 120, 250.5]),
    "RFM_SEGMENT": st.sampled_from([None, "Champions", "Lost", "At Risk"]),
    "CART_ABANDONED": st.booleans(),
    "INTEREST_TOPICS": st.lists(
        st.sampled_from(["shoes", "tea", "books"]), max_size=3, unique=True
    ),
}
metric_operand: dict[str, st.SearchStrategy[Any]] = {
    "ORDERS": st.sampled_from([0, 1, 3, 2.5]),
    "AVERAGE_ORDER_VALUE": st.sampled_from([15, 100, 250.5]),
    "RFM_SEGMENT": st.sampled_from(["Champions", "Lost", "A", "Z"]),
    "CART_ABANDONED": st.booleans(),
    "INTEREST_TOPICS": st.sampled_from(["shoes", "tea", "cars"]),
}
ORDERED = ["GT", "GTE", "LT", "LTE"]


@st.composite
def trait_condition(draw: st.DrawFn) -> dict[str, Any]:
    op = draw(st.sampled_from(["EQ", "NE", "IN", "EXISTS", *ORDERED]))
    if op == "EXISTS":
        value: Any = draw(st.booleans())
    elif op == "IN":
        value = draw(st.lists(SCALARS, min_size=1, max_size=3))
    else:
        value = draw(
            SCALARS.filter(lambda v: not isinstance(v, bool)) if op in ORDERED else SCALARS
        )
    return {"trait": {"name": draw(TRAIT_NAMES), "op": op, "value": value}}


@st.composite
def metric_condition(draw: st.DrawFn) -> dict[str, Any]:
    metric = draw(st.sampled_from(sorted(metric_values)))
    ops = ["EQ", "NE", "EXISTS"] + ([] if metric == "CART_ABANDONED" else ORDERED)
    op = draw(st.sampled_from(ops))
    value = draw(st.booleans()) if op == "EXISTS" else draw(metric_operand[metric])
    return {"metric": {"metric": metric, "op": op, "value": value}}


@st.composite
def event_condition(draw: st.DrawFn) -> dict[str, Any]:
    where = draw(
        st.lists(
            st.sampled_from(
                [
                    {"path": "url", "value": "/pricing"},
                    {"path": "items.sku", "value": "X"},
                    {"path": "items.sku", "value": "Y"},
                    {"path": "total", "value": 10},
                ]
            ),
            max_size=2,
        )
    )
    body: dict[str, Any] = {
        "type": draw(st.sampled_from(["page_view", "purchase"])),
        "where": where,
    }
    low = draw(st.none() | st.integers(0, 3))
    high = draw(st.none() | st.integers(low or 0, 4))
    body.update(atLeast=low, atMost=high, withinDays=draw(st.none() | st.sampled_from([1, 7, 30])))
    return {"events": body}


leaves = st.one_of(
    trait_condition(),
    metric_condition(),
    event_condition(),
    st.builds(lambda t: {"identifier": {"type": t}}, st.sampled_from(["twitter", "email"])),
)
rules = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(lambda parts: {"and": parts}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda parts: {"or": parts}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda part: {"not": part}, inner),
    ),
    max_leaves=6,
)


@st.composite
def an_event(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["page_view", "purchase"]))
    properties: dict[str, Any] = {}
    if draw(st.booleans()):
        properties["url"] = draw(st.sampled_from(["/pricing", "/home", ["/pricing", "/a"]]))
    if kind == "purchase":
        properties["items"] = draw(
            st.lists(
                st.builds(lambda s: {"sku": s}, st.sampled_from(["X", "Y", ["X", "Z"]])), max_size=2
            )
        )
        properties["total"] = draw(st.sampled_from([10, 10.0, "10", 25]))
    days = draw(st.sampled_from([0, 0.5, 3, 6.9, 7.1, 20, 40]))
    return {"type": kind, "timestamp": NOW - timedelta(days=days), "properties": properties}


@st.composite
def a_person(draw: st.DrawFn) -> dict[str, Any]:
    traits = draw(st.dictionaries(TRAIT_NAMES, TRAIT_VALUES, max_size=3))
    metrics = {
        name.lower(): draw(values) for name, values in metric_values.items() if draw(st.booleans())
    }
    return {
        "traits": traits,
        "metrics": metrics if draw(st.booleans()) else None,
        "types": draw(st.sets(st.sampled_from(["twitter", "email", "phone"]), max_size=2)),
        "events": draw(st.lists(an_event(), max_size=4)),
    }


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rule_data=rules, people=st.lists(a_person(), min_size=1, max_size=5))
@example(  # bought sku X: found through the list of purchased items
    rule_data={"events": {"type": "purchase", "where": [{"path": "items.sku", "value": "X"}]}},
    people=[
        {
            "traits": {},
            "metrics": None,
            "types": set(),
            "events": [
                {
                    "type": "purchase",
                    "timestamp": NOW,
                    "properties": {"items": [{"sku": "Y"}, {"sku": ["X", "Z"]}]},
                }
            ],
        }
    ],
)
async def test_python_and_mongodb_agree_on_members(
    mongodb_uri: str, rule_data: dict[str, Any], people: list[dict[str, Any]]
) -> None:
    rule = parse_rule(rule_data)
    async with bootstrap.database(mongodb_uri, f"cdp_rule_{uuid.uuid4().hex[:12]}") as db:
        try:
            expected = set()
            for n, person in enumerate(people):
                pid = f"p{n}"
                doc: dict[str, Any] = {"_id": pid, "traits": person["traits"]}
                if person["metrics"] is not None:
                    doc["metrics"] = person["metrics"]
                await db["persons"].insert_one(doc)
                for kind in person["types"]:
                    await db["identifiers"].insert_one(
                        {"_id": f"{kind}:{pid}", "type": kind, "person_id": pid}
                    )
                for e, event in enumerate(person["events"]):
                    await db["events"].insert_one({"_id": f"{pid}-{e}", "person_id": pid, **event})
                subject = Subject(
                    traits=person["traits"],
                    metrics=person["metrics"] or {},
                    identifier_types=frozenset(person["types"]),
                    events=[
                        EventFacts(ev["type"], ev["timestamp"], ev["properties"])
                        for ev in person["events"]
                    ],
                )
                if matches(rule, subject, NOW):
                    expected.add(pid)
            await db["persons"].insert_one(
                {"_id": "merged", "traits": person["traits"], "merged_into": "p0"}
            )
            found = await (await db["persons"].aggregate(member_pipeline(rule, NOW))).to_list()
            assert {doc["_id"] for doc in found} == expected, rule_data
        finally:
            await db.client.drop_database(db.name)
