"""Validation results kept per parsed document, looked up by the document's identity.

strawberry's ``ValidationCache`` keeps them in an ``lru_cache`` keyed by the document,
and graphql-core 3.3's nodes are dataclasses whose hash walks the whole tree, so every
request hashed its document node by node: 41 us a request for the support screen's
profile read against under 1 us by identity (measured in a loop; the profiler put the
hash at 2% of that request's CPU in the service). The parser cache
(``ParserCache``) hands the same document object back for the same text, so its
identity is a key that costs nothing; each entry keeps its document, so an id is never
reused while cached, as the execution plans do (``resolvers.execution``).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from typing import Any

from graphql import GraphQLError, GraphQLSchema
from graphql.language import DocumentNode
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

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


class ValidatedDocuments(SchemaExtension):
    """Replaces strawberry's ``ValidationCache``: same results, no hashing of the
    document."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None  # parsed before validation
        context.pre_execution_errors = validated(
            context.schema._schema, context.graphql_document, context.validation_rules
        )
        yield
