"""Limits on what one GraphQL document may ask for, each refused with a clear error."""

from typing import Any

from cdp.deps import Deps
from cdp.privacy.access import Principal, Scope
from cdp.settings import GraphQLLimits
from resolvers import Context, build_schema

ADMIN = Principal("a", "admin", frozenset({Scope.ADMIN}))


async def run(deps: Deps, limits: GraphQLLimits, query: str) -> list[dict[str, Any]]:
    result = await build_schema(limits).execute(query, context_value=Context(deps, ADMIN))
    return [dict(error.formatted) for error in result.errors or []]


async def test_a_query_nested_too_deep_is_refused(deps: Deps) -> None:
    query = "{ persons { edges { node { identityGraph { nodes { type } } } } } }"
    assert await run(deps, GraphQLLimits(max_depth=6), query) == []
    [error] = await run(deps, GraphQLLimits(max_depth=4), query)
    assert "exceeds maximum operation depth of 4" in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_too_many_aliases_are_refused(deps: Deps) -> None:
    query = "{ " + " ".join(f"r{i}: identityRules {{ type }}" for i in range(31)) + " }"
    [error] = await run(deps, GraphQLLimits(max_aliases=30), query)
    assert "aliases found" in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_too_many_tokens_are_refused(deps: Deps) -> None:
    query = "{ identityRules { " + " ".join(["type"] * 200) + " } }"
    [error] = await run(deps, GraphQLLimits(max_tokens=100), query)
    assert "more than 100 tokens" in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_introspection_can_be_turned_off(deps: Deps) -> None:
    query = "{ __schema { queryType { name } } }"
    assert await run(deps, GraphQLLimits(introspection=True), query) == []
    errors = await run(deps, GraphQLLimits(introspection=False), query)
    assert errors[0]["message"].startswith("GraphQL introspection has been disabled")
    assert {error["extensions"]["code"] for error in errors} == {"BAD_USER_INPUT"}
