"""A document parsed and validated once per text: the one extension that prepares it.

Every request goes through strawberry's extension hooks, and each extension costs every
request a few wrapped context managers per stage whether it does anything there or not,
and four did one small thing each: strawberry's ``MaxTokensLimiter``,
``AddValidationRules`` and ``ParserCache``, and the validation cache below.
:class:`PreparedDocuments` does the four in two hooks (docs/DECISIONS.md, "A request's
fixed cost"). Same results: the token limit on the parse, the same parsed object for
the same text, the limits' rules beside strawberry's, each document's validation
errors once. It also refuses a document of several operations that the request does
not choose among (:func:`unnamed_choice`), which depends on the request, not the
document, so it is never cached.

Validation results are kept per parsed document, looked up by the document's identity:
strawberry's ``ValidationCache`` keeps them in an ``lru_cache`` keyed by the document,
and graphql-core 3.3's nodes are dataclasses whose hash walks the whole tree, so every
request hashed its document node by node: 41 us a request for the support screen's
profile read against under 1 us by identity (measured in a loop; the profiler put the
hash at 2% of that request's CPU in the service). The parse cache hands the same
document object back for the same text, so its identity is a key that costs nothing;
each entry keeps its document, so an id is never reused while cached, as the execution
plans do (``resolvers.execution``).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

from graphql import ASTValidationRule, GraphQLError, GraphQLSchema, parse
from graphql.language import DocumentNode, OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

PARSED_DOCUMENTS = 512  # distinct document texts kept parsed (a miss parses again)
VALIDATED_KEPT = 2_048  # per schema; emptied when it holds more (a miss validates again)

_Entry = tuple[DocumentNode, tuple[Any, ...], list[GraphQLError]]
# per schema, weakly: a schema built for a test (or a setting) takes its entries with it
_VALIDATED: weakref.WeakKeyDictionary[GraphQLSchema, dict[int, _Entry]] = (
    weakref.WeakKeyDictionary()
)


def validated(
    schema: GraphQLSchema, document: DocumentNode, rules: Sequence[Any]
) -> list[GraphQLError]:
    """The document's validation errors under these rules, validated once per document
    object (and schema and rules)."""
    kept = _VALIDATED.setdefault(schema, {})
    rules = tuple(rules)
    known = kept.get(id(document))
    if known is None or known[0] is not document or known[1] != rules:
        if len(kept) >= VALIDATED_KEPT:
            kept.clear()
        errors = validate_document(schema, document, rules)
        known = kept[id(document)] = (document, rules, errors)
    return known[2]


def unnamed_choice(document: DocumentNode, operation_name: str | None) -> list[GraphQLError]:
    """The request error of a document holding several operations when the request
    names none of them (the GraphQL specification's *GetOperation*): strawberry runs the
    first one instead, so a client that forgot ``operationName`` got another operation's
    answer and no word of it."""
    if operation_name is not None:
        return []
    operations = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
    if operations < 2:
        return []
    return [
        GraphQLError(
            f"The document holds {operations} operations: name the one to run in operationName."
        )
    ]


# one parse per text (and token limit), for every request and schema
_parsed = lru_cache(maxsize=PARSED_DOCUMENTS)(parse)


class PreparedDocuments(SchemaExtension):
    """Parses a request's document under a token limit and validates it under the
    schema's rules and ``rules`` (depth, aliases, introspection), each once per
    document: strawberry's ``MaxTokensLimiter``, ``ParserCache``, ``AddValidationRules``
    and ``ValidationCache`` in one extension. ``rules``: one tuple shared by every
    request, which the kept results are checked against."""

    def __init__(self, max_tokens: int, rules: tuple[type[ASTValidationRule], ...]) -> None:
        self.max_tokens = max_tokens
        self.rules = rules

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        options = {**context.parse_options, "max_tokens": self.max_tokens}
        context.graphql_document = _parsed(context.query, **options)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None  # parsed before validation
        context.validation_rules = (*context.validation_rules, *self.rules)
        errors = validated(
            context.schema._schema, context.graphql_document, context.validation_rules
        )
        # strawberry keeps the name the request gave only here (its ``operation_name``
        # falls back to the first operation's); were it gone, nothing is refused for it
        if hasattr(context, "_provided_operation_name"):
            given: str | None = context._provided_operation_name
            errors = [*errors, *unnamed_choice(context.graphql_document, given)]
        context.pre_execution_errors = errors
        yield
