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
