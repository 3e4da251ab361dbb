"""A document that may cost too much is refused before it runs, by the numbers."""

from pathlib import Path

import pytest
from graphql import parse

from cdp.deps import Deps
from cdp.privacy.access import Principal, Scope
from resolvers import schema
from resolvers.cost import document_cost
from tests.resolvers.graphql import OPERATIONS, execute

READER = Principal("k-read", "dashboard", frozenset({Scope.PROFILES_READ}))
GREEDY = """
query Greedy($n: Int!) {
  a: persons(first: $n) { edges { node { id traits timeline(first: $n) { edges { node { id type properties } } } } } }
  b: persons(first: $n) { edges { node { id traits timeline(first: $n) { edges { node { id type properties } } } } } }
  c: persons(first: $n) { edges { node { id traits timeline(first: $n) { edges { node { id type properties } } } } } }
  d: persons(first: $n) { edges { node { id traits timeline(first: $n) { edges { node { id type properties } } } } } }
}
"""


def cost(document: str, **variables: object) -> int:
    return document_cost(schema._schema, parse(document), None, variables)


def test_each_field_counts_once_per_object_of_every_page_above_it() -> None:
    assert cost("{ persons(first: 10) { edges { node { id } } } }") == 40
    nested = "{ persons(first: 10) { edges { node { timeline(first: 5) { edges { cursor } } } } } }"
    assert cost(nested) == 10 + 10 + 10 + 50 + 50 + 50
    fragment = """
      query { persons(first: 10) { edges { node { ...Card } } } }
      fragment Card on Person { id traits }
    """
    assert cost(fragment) == 10 + 10 + 10 + 10 + 10
    assert cost("query Q($n: Int!) { persons(first: $n) { edges { cursor } } }", n=7) == 21


async def test_four_aliased_pages_of_pages_are_refused_before_running(deps: Deps) -> None:
    data, errors = await execute(deps, GREEDY, READER, n=500)
    assert data is None
    [error] = errors
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "may resolve 6,010,000 fields" in error["message"]
    assert "at most 100,000" in error["message"]


async def test_the_same_document_with_small_pages_runs(deps: Deps) -> None:
    data, errors = await execute(deps, GREEDY, READER, n=10)
    assert errors == []
    assert data["a"]["edges"] == []


@pytest.mark.parametrize("path", sorted(OPERATIONS.glob("*.graphql")), ids=lambda p: p.stem)
def test_every_documented_operation_fits_with_its_default_pages(path: Path) -> None:
    assert cost(path.read_text()) <= 100_000
