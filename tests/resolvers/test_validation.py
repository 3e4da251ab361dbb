"""Each parsed document is validated once; what it is refused for, it is refused for
every time."""

from typing import Any

import pytest
from strawberry.schema.schema import validate_document

import resolvers.validation
from cdp.deps import Deps
from cdp.privacy.access import Principal, Scope
from cdp.settings import GraphQLLimits
from resolvers import Context, build_schema

ADMIN = Principal("a", "admin", frozenset({Scope.ADMIN}))


class CountingValidation:
    def __init__(self) -> None:
        self.documents: list[Any] = []

    def __call__(self, schema: Any, document: Any, rules: Any) -> Any:
        self.documents.append(document)
        return validate_document(schema, document, rules)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> CountingValidation:
    counter = CountingValidation()
    monkeypatch.setattr(resolvers.validation, "validate_document", counter)
    return counter


async def test_a_document_sent_again_is_not_validated_again(
    deps: Deps, counting: CountingValidation
) -> None:
    schema = build_schema(GraphQLLimits())
    query = "query Rules { identityRules { type limit strength } }"
    for _ in range(3):
        result = await schema.execute(query, context_value=Context(deps, ADMIN))
        assert result.errors is None
    assert len(counting.documents) == 1


async def test_an_invalid_document_is_refused_each_time_it_is_sent(
    deps: Deps, counting: CountingValidation
) -> None:
    schema = build_schema(GraphQLLimits())
    query = "{ identityRules { type shoeSize } }"
    for _ in range(2):
        result = await schema.execute(query, context_value=Context(deps, ADMIN))
        assert result.errors is not None
        [error] = result.errors
        assert "Cannot query field 'shoeSize'" in error.message
    assert len(counting.documents) == 1


async def test_a_cached_document_is_still_refused_without_the_operation_it_needs(
    deps: Deps,
) -> None:
    """Whether a document of two operations may run depends on the request, not only on
    the document: its validation is cached, its operation name is asked each time."""
    schema = build_schema(GraphQLLimits())
    document = "query Rules { identityRules { type } } query Name { __typename }"
    context = Context(deps, ADMIN)
    named = await schema.execute(document, operation_name="Name", context_value=context)
    assert named.errors is None
    assert named.data == {"__typename": "Query"}
    unnamed = await schema.execute(document, context_value=context)
    assert unnamed.data is None
    assert unnamed.errors is not None
    [error] = unnamed.errors
    assert "2 operations" in error.message
    assert "operationName" in error.message
    again = await schema.execute(document, operation_name="Rules", context_value=context)
    assert again.errors is None
    assert again.data
    assert again.data["identityRules"]
