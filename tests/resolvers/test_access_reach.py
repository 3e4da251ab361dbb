"""Scopes hold on every path: what a mutation returns is no way around profiles:read.

Generated from the schema, so a new field is covered by default: for every root field a
key may call without ``profiles:read``, every field reachable under it is asked for with
exactly that root's scopes. The answer is either FORBIDDEN, with nothing written, or it
holds nothing of the person the call reaches (Ana, from the seed story): her email,
phone, name, what she wrote, the trait names and event types that describe her.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

import pytest
from graphql import (
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)
from pymongo.asynchronous.database import AsyncDatabase

from cdp.deps import Deps
from cdp.privacy.access import Principal, Scope
from cdp.store.database import Document
from resolvers import schema
from resolvers.access import ROOT_FIELD_SCOPES
from tests.resolvers.graphql import execute, operation
from tests.stories import seed_story

ANA_EMAIL = "ana.silva@example.com"
# What a key without profiles:read must never read about Ana, in any form it is stored.
ANA = [ANA_EMAIL, "a***@example.com", "+442079460958", "10158000000001", "ck-7f3a"]
ANA += ["firstName", "Is my order on its way?", "Order 1042", "contact_form_submitted"]
ANA += ["call_received", "durationSeconds", "marketing"]

_names = itertools.count()

# Arguments that make each root field reach Ana (or her segment); ``{ana}`` is her id.
ROOT_CALLS: dict[str, str] = {
    "track": '(events: [{{type: "page_view", channel: WEB, identifiers: [{{type: "email", '
    'value: "{email}"}}]}}])',
    "identify": '(identifiers: [{{type: "email", value: "{email}"}}])',
    "setConsent": '(personId: "{ana}", purpose: "marketing", granted: true, source: "call")',
    "createSegment": '(input: {{name: "s{n}", rule: {{identifier: {{type: "email"}}}}}})',
    "updateSegment": '(id: "{segment}", input: {{name: "u{n}", rule: {{identifier: {{type: "email"}}}}}})',
    "deleteSegment": '(id: "{segment}")',
    "upsertProducts": '(products: [{{sku: "S{n}", name: "Mug", price: 9.5}}])',
    "createOffer": '(input: {{name: "Tea club {n}", kind: SERVICE, value: 5}})',
    "updateOffer": '(id: "{offer}", input: {{name: "Tea {n}", kind: SERVICE, value: 1}})',
    "archiveOffer": '(id: "{offer}")',
    "recordOfferResponse": '(personId: "{ana}", offerId: "{offer}", response: SHOWN)',
    "viewer": "",  # a query: the calling key, never a person
}
WITHOUT_PROFILES_READ = sorted(
    field
    for field, scopes in ROOT_FIELD_SCOPES.items()
    if Scope.PROFILES_READ not in scopes and Scope.ADMIN not in scopes
)


def test_every_root_field_callable_without_profiles_read_is_walked() -> None:
    assert set(WITHOUT_PROFILES_READ) == set(ROOT_CALLS)


def _dummy(kind: GraphQLInputType) -> str:
    """A value of an input type, for a nested field's required arguments."""
    if isinstance(kind, GraphQLNonNull):
        return _dummy(kind.of_type)
    if isinstance(kind, GraphQLList):
        return f"[{_dummy(kind.of_type)}]"
    if isinstance(kind, GraphQLInputObjectType):
        inner = ", ".join(
            f"{name}: {_dummy(f.type)}"
            for name, f in kind.fields.items()
            if isinstance(f.type, GraphQLNonNull) and f.default_value is None
        )
        return "{" + inner + "}"
    if isinstance(kind, GraphQLScalarType):
        return {"Int": "1", "Float": "1.0", "Boolean": "true"}.get(kind.name, '"x"')
    return str(next(iter(kind.values)))


def _arguments(field: GraphQLField) -> str:
    required = [
        f"{name}: {_dummy(arg.type)}"
        for name, arg in field.args.items()
        if isinstance(arg.type, GraphQLNonNull) and arg.default_value is None
    ]
    return f"({', '.join(required)})" if required else ""


def operation_of(root: str) -> str:
    query = schema._schema.query_type
    assert query is not None
    return "query" if root in query.fields else "mutation"


def reachable(root: str) -> Iterator[tuple[str, str, str]]:
    """(type, field, selection under the root) for every field reachable from ``root``,
    each by its shortest path."""
    kind_of_root = getattr(schema._schema, f"{operation_of(root)}_type")
    assert kind_of_root is not None
    start = get_named_type(kind_of_root.fields[root].type)
    if not isinstance(start, GraphQLObjectType):
        return
    paths: dict[str, list[str]] = {start.name: []}
    queue = [start]
    while queue:
        kind = queue.pop(0)
        for name, field in kind.fields.items():
            step = f"{name}{_arguments(field)}"
            target = get_named_type(field.type)
            tail = " { __typename }" if isinstance(target, GraphQLObjectType) else ""
            opened = "".join(f"{s} {{ " for s in paths[kind.name])
            closed = " }" * len(paths[kind.name])
            yield kind.name, name, f"{{ {opened}{step}{tail}{closed} }}"
            if isinstance(target, GraphQLObjectType) and target.name not in paths:
                paths[target.name] = [*paths[kind.name], step]
                queue.append(target)


async def counts(db: AsyncDatabase[Document]) -> dict[str, int]:
    return {name: await db[name].count_documents({}) for name in await db.list_collection_names()}


async def seeded(deps: Deps) -> dict[str, str]:
    """Ana's story, a segment she is in, an offer; their ids for the calls."""
    data, errors = await execute(deps, operation("Track"), events=seed_story())
    assert errors == []
    ana = data["track"]["results"][0]["personId"]
    made, errors = await execute(
        deps,
        'mutation { createSegment(input: {name: "Everyone", rule: {identifier: {type: "email"}}}) { id } '
        'createOffer(input: {name: "Tea", kind: SERVICE, value: 5}) { id } }',
    )
    assert errors == []
    return {"ana": ana, "segment": made["createSegment"]["id"], "offer": made["createOffer"]["id"]}


@pytest.mark.parametrize("root", WITHOUT_PROFILES_READ)
async def test_a_key_reads_nothing_personal_through_what_a_mutation_returns(
    deps: Deps, db: AsyncDatabase[Document], root: str
) -> None:
    ids = await seeded(deps)
    key = Principal("k", root, frozenset(ROOT_FIELD_SCOPES[root]))
    refused = 0
    for _, _, selection in reachable(root):
        arguments = ROOT_CALLS[root].format(n=next(_names), email=ANA_EMAIL, **ids)
        document = f"{operation_of(root)} {{ {root}{arguments} {selection} }}"
        before = await counts(db)
        data, errors = await execute(deps, document, key)
        codes = {error["extensions"]["code"] for error in errors}
        if "FORBIDDEN" in codes:
            refused += 1
            assert data is None, document
            # The first personal field on the way is named (the field itself or above it).
            prefix = "this key lacks the profiles:read scope, needed for "
            named = errors[0]["message"].removeprefix(prefix)
            assert errors[0]["message"].startswith(prefix), errors
            assert named.split(".")[1] in selection.split(), (named, selection)
            assert await counts(db) == before, f"{document} wrote before it was refused"
            continue
        answer = json.dumps(data)
        for personal in ANA:
            assert personal not in answer, f"{document} answered {answer}"
    reaches_a_person = any(t == "Person" for t, _, _ in reachable(root))
    assert refused > 0 or not reaches_a_person


async def test_with_profiles_read_the_same_paths_answer(deps: Deps) -> None:
    ids = await seeded(deps)
    key = Principal("k", "writer", frozenset({Scope.EVENTS_WRITE, Scope.PROFILES_READ}))
    for _, _, selection in reachable("identify"):
        call = ROOT_CALLS["identify"].format(email=ANA_EMAIL)
        document = f"mutation {{ identify{call} {selection} }}"
        _, errors = await execute(deps, document, key)
        assert "FORBIDDEN" not in {e["extensions"]["code"] for e in errors}, (document, errors)
    data, errors = await execute(
        deps,
        f'mutation {{ setConsent(personId: "{ids["ana"]}", purpose: "marketing", '
        'granted: true, source: "call") { id traits } }',
        key,
    )
    assert errors == []
    assert data["setConsent"]["traits"] == {"firstName": "A**"}  # no pii:read: masked


async def test_a_write_only_key_gets_ids_back(deps: Deps) -> None:
    ids = await seeded(deps)
    writer = Principal("w", "writer", frozenset({Scope.EVENTS_WRITE}))
    call = ROOT_CALLS["identify"].format(email=ANA_EMAIL)
    data, errors = await execute(deps, f"mutation {{ identify{call} {{ id }} }}", writer)
    assert errors == []
    assert data == {"identify": {"id": ids["ana"]}}
    marketer = Principal("m", "marketer", frozenset({Scope.SEGMENTS_WRITE}))
    data, errors = await execute(
        deps,
        'mutation { createSegment(input: {name: "Emails", rule: {identifier: {type: "email"}}}) '
        "{ size members { edges { node { id } } } } }",
        marketer,
    )
    assert errors == []
    assert data["createSegment"]["members"]["edges"] == [{"node": {"id": ids["ana"]}}]
