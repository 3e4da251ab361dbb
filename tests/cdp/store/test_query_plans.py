"""Every query the flows send to a big collection is answered from an index.

The embedded Rust server scans the whole collection for any filter beyond an index's
fields, so a query that reads fine can cost a scan per call once the base grows. This
test runs the flows a support team and an integration use (tracking with merges, reading
a profile and paging its timeline, the identity graph, segments, a bulk recompute, an
unlink, an erasure), records the filter of every read, update and delete they send, and
asks the server how it would answer each: no plan may scan a big collection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import monitoring
from pymongo.asynchronous.database import AsyncDatabase

from cdp import bootstrap
from cdp.deps import Deps
from cdp.store import Stores
from cdp.store.database import Document, ping
from tests.resolvers.graphql import execute, operation
from tests.stories import event, seed_story

BIG = {"persons", "events", "identifiers", "memberships", "links", "consents", "merges"}


class Filters(monitoring.CommandListener):
    """The (collection, filter) of every find, count, update and delete sent, and of
    every aggregation's opening ``$match``."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, Document]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        command, name = event.command, event.command_name
        if name == "find":
            self.seen.append((command["find"], "find", command.get("filter", {})))
        elif name == "count":
            self.seen.append((command["count"], "count", command.get("query", {})))
        elif name == "aggregate" and isinstance(command["aggregate"], str):
            first = (command.get("pipeline") or [{}])[0]
            if "$match" in first:  # a count_documents, or a pipeline's first selection
                self.seen.append((command["aggregate"], "aggregate", first["$match"]))
        elif name in ("update", "delete"):
            for statement in command.get("updates" if name == "update" else "deletes", []):
                self.seen.append((command[name], name, statement["q"]))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
async def watched(
    deps: Deps, db: AsyncDatabase[Document], mongodb_uri: str
) -> AsyncIterator[tuple[Deps, Filters]]:
    filters = Filters()
    async with bootstrap.database(mongodb_uri, db.name, [filters]) as same:
        yield Deps(Stores.on(same), deps.limits, lambda: ping(same)), filters


def _stages(plan: Document) -> list[str]:
    stages: list[str] = []
    while plan:
        stages.append(plan.get("stage", "?"))
        inputs = plan.get("inputStages") or []
        plan = plan.get("inputStage") or (inputs[0] if inputs else {})
    return stages


async def test_no_flow_scans_a_big_collection(
    watched: tuple[Deps, Filters], db: AsyncDatabase[Document]
) -> None:
    deps, filters = watched

    async def run(query: str, **variables: Any) -> Any:
        data, errors = await execute(deps, query, **variables)
        assert errors == [], errors
        return data

    for raw in seed_story():  # one call each: merges happen between existing persons
        await run(operation("Track"), events=[raw])
    late = event("page_view", "WEB", [("cookie_id", "ck-7f3a")], at="2026-03-04T10:00:00Z")
    await run(operation("Track"), events=[late])
    page = await run(
        operation("PersonByIdentifier"), type="email", value="ana.silva@example.com", first=2
    )
    person = page["personByIdentifier"]
    await run(
        operation("PersonByIdentifier"),
        type="email",
        value="ana.silva@example.com",
        first=2,
        after=person["timeline"]["pageInfo"]["endCursor"],
        channels=["WEB", "PHONE"],
    )
    await run(operation("IdentityGraph"), type="email", value="ana.silva@example.com")
    await run(operation("PersonSegments"), id=person["id"])
    await run(operation("Persons"), first=1)
    await run(operation("Segments"))
    await run("mutation { recomputeSegments(full: true) { persons } }")
    await run(
        operation("UnlinkIdentifier"),
        personId=person["id"],
        identifier={"type": "cookie_id", "value": "ck-7f3a"},
        reason="shared kiosk",
    )
    await run(operation("ErasePerson"), id=person["id"], reason="asked to be forgotten")

    scans = []
    for collection, command, query in filters.seen:
        if collection not in BIG or not query:
            continue  # a whole-collection read is meant as one (the recompute's id list)
        explained = await db.command(
            {"explain": {"find": collection, "filter": query}, "verbosity": "queryPlanner"}
        )
        stages = _stages(explained["queryPlanner"]["winningPlan"])
        if "COLLSCAN" in stages:
            scans.append(f"{command} {collection} {query}")
    assert scans == [], "\n".join(scans)
