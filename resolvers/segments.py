"""Segments over GraphQL: list and read them, define your own, recompute everything."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON

from cdp.segments.definitions import SegmentKind
from cdp.segments.lookup import all_segments, find_segment
from cdp.segments.manage import create_segment, delete_segment, update_segment
from cdp.segments.recompute import recompute_all
from cdp.segments.rules import Op
from resolvers.context import Info
from resolvers.types.fields import pick
from resolvers.types.metrics import MetricField
from resolvers.types.segment import Segment


@strawberry.input(description="A trait compared with a value (top-level trait names).")
class TraitConditionInput:
    name: str
    op: Op
    value: JSON | None = strawberry.field(
        default=None, description="Text, number or boolean; a list for IN; a boolean for EXISTS."
    )


@strawberry.input(description="A computed metric compared with a value of its kind.")
class MetricConditionInput:
    metric: MetricField  # type: ignore[valid-type]
    op: Op
    value: JSON | None = None


@strawberry.input(description="The person holds an identifier of this type.")
class IdentifierConditionInput:
    type: str


@strawberry.input(description="properties.<path> equals value (items.sku searches the items).")
class PropertyMatchInput:
    path: str
    value: JSON


@strawberry.input(
    description="How many events of a type (matching every `where`, within the last "
    "`withinDays` days if given) the person has; with no bounds, at least one."
)
class EventCountConditionInput:
    type: str
    where: list[PropertyMatchInput] = strawberry.field(default_factory=list)
    at_least: int | None = None
    at_most: int | None = None
    within_days: int | None = None


@strawberry.input(description="Exactly one of: and, or, not, trait, metric, identifier, events.")
class SegmentRuleInput:
    and_: list[SegmentRuleInput] | None = strawberry.field(default=None, name="and")
    or_: list[SegmentRuleInput] | None = strawberry.field(default=None, name="or")
    not_: SegmentRuleInput | None = strawberry.field(default=None, name="not")
    trait: TraitConditionInput | None = None
    metric: MetricConditionInput | None = None
    identifier: IdentifierConditionInput | None = None
    events: EventCountConditionInput | None = None


@strawberry.input
class SegmentInput:
    name: str
    description: str = ""
    rule: SegmentRuleInput


@strawberry.type(description="What a bulk recompute did.")
class RecomputeReport:
    persons: int
    recomputed: int = strawberry.field(
        description="Persons whose metrics were computed; the others were current (nothing "
        "changed since they were computed today)."
    )
    customers: int = strawberry.field(description="Persons with at least one order.")
    segments: int
    entered: int
    left: int
    seconds: float


def rule_data(rule: SegmentRuleInput) -> dict[str, Any]:
    """The input tree as plain data, in the shape ``cdp.segments.rules`` checks."""
    data: dict[str, Any] = {}
    if rule.and_ is not None:
        data["and"] = [rule_data(part) for part in rule.and_]
    if rule.or_ is not None:
        data["or"] = [rule_data(part) for part in rule.or_]
    if rule.not_ is not None:
        data["not"] = rule_data(rule.not_)
    if rule.trait is not None:
        data["trait"] = {
            "name": rule.trait.name,
            "op": rule.trait.op.value,
            "value": rule.trait.value,
        }
    if rule.metric is not None:
        data["metric"] = {
            "metric": rule.metric.metric.value,  # type: ignore[attr-defined]
            "op": rule.metric.op.value,
            "value": rule.metric.value,
        }
    if rule.identifier is not None:
        data["identifier"] = {"type": rule.identifier.type}
    if rule.events is not None:
        data["events"] = {
            "type": rule.events.type,
            "where": [{"path": w.path, "value": w.value} for w in rule.events.where],
            "atLeast": rule.events.at_least,
            "atMost": rule.events.at_most,
            "withinDays": rule.events.within_days,
        }
    return data


@strawberry.type
class SegmentQuery:
    @strawberry.field(description="Every segment: built-in first, then interest and user ones.")
    async def segments(self, info: Info, kind: SegmentKind | None = None) -> list[Segment]:
        found = await all_segments(info.context.deps.stores)
        return [Segment.of(s) for s in found if kind is None or s.kind is kind]

    @strawberry.field
    async def segment(self, info: Info, id: strawberry.ID) -> Segment | None:
        found = await find_segment(info.context.deps.stores, str(id))
        return Segment.of(found) if found else None


@strawberry.type
class SegmentMutation:
    @strawberry.mutation(description="Define a segment; its members are found at once.")
    async def create_segment(self, info: Info, input: SegmentInput) -> Segment:
        made = await create_segment(
            info.context.deps.stores,
            input.name,
            input.description,
            rule_data(input.rule),
            info.context.deps.clock(),
        )
        return Segment.of(made)

    @strawberry.mutation(description="Replace a user segment's name, description and rule.")
    async def update_segment(self, info: Info, id: strawberry.ID, input: SegmentInput) -> Segment:
        changed = await update_segment(
            info.context.deps.stores,
            str(id),
            input.name,
            input.description,
            rule_data(input.rule),
            info.context.deps.clock(),
        )
        return Segment.of(changed)

    @strawberry.mutation(description="Delete a user segment and its memberships; returns its id.")
    async def delete_segment(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        await delete_segment(info.context.deps.stores, str(id))
        return id

    @strawberry.mutation(
        description="Recompute the metrics and memberships of every person whose profile "
        "changed or was computed before today (everyone with full: true), then refit the RFM "
        "and CLV tier boundaries and rescore. Long on a big base: `cdp recompute` shows "
        "progress."
    )
    async def recompute_segments(self, info: Info, full: bool = False) -> RecomputeReport:
        deps = info.context.deps
        report = await recompute_all(
            deps.stores, info.context.deps.clock(), offers=deps.offers, full=full
        )
        return pick(RecomputeReport, report)
