"""The Schema object: every query and mutation type merged into one root each."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions import DisableIntrospection, MaxAliasesLimiter, QueryDepthLimiter
from strawberry.printer import print_schema
from strawberry.tools import merge_types

from cdp.settings import GraphQLLimits
from resolvers.access import AccessControl, install
from resolvers.admin import AdminMutation, AdminQuery
from resolvers.cost import cost_limit
from resolvers.errors import CdpSchema
from resolvers.execution import FastLeafExecutionContext
from resolvers.identity import IdentityConflict, IdentityMutation, IdentityQuery
from resolvers.ingest import IngestMutation
from resolvers.metrics import MetricsMutation, MetricsQuery
from resolvers.offers import OfferMutation, OfferQuery
from resolvers.queries import ProfileQuery
from resolvers.segments import SegmentMutation, SegmentQuery
from resolvers.subscriptions import Subscription
from resolvers.types.event import Event, EventIdentifier
from resolvers.types.identity import Identifier, IdentityEdge, MergeRecord
from resolvers.types.person import Person
from resolvers.validation import PreparedDocuments

Query = merge_types(
    "Query", (ProfileQuery, IdentityQuery, AdminQuery, MetricsQuery, SegmentQuery, OfferQuery)
)
Mutation = merge_types(
    "Mutation",
    (
        IngestMutation,
        IdentityMutation,
        AdminMutation,
        MetricsMutation,
        SegmentMutation,
        OfferMutation,
    ),
)


install(
    roots=(Query, Mutation),
    types=(Identifier, EventIdentifier, IdentityEdge, IdentityConflict, MergeRecord, Person, Event),
)


def build_schema(limits: GraphQLLimits | None = None) -> strawberry.Schema:
    """The schema, guarded: access control first, then limits on what a document may ask.

    A document is parsed and validated once and then reused (the same Track document
    arrives thousands of times). For the validation cache to hit, the limits' rules
    are built once here and shared by every request, rather than made anew each time.
    """
    limits = limits or GraphQLLimits()
    rules = [
        *QueryDepthLimiter(max_depth=limits.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules,
    ]
    if not limits.introspection:
        rules += DisableIntrospection().validation_rules
    shared = tuple(rules)
    extensions: list[Any] = [
        AccessControl,
        cost_limit(limits.max_cost),
        lambda: PreparedDocuments(limits.max_tokens, shared),
    ]
    return CdpSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        execution_context_class=FastLeafExecutionContext,
    )


schema = build_schema()


def sdl() -> str:
    """The schema as SDL: what ``schema/schema.graphql`` must hold."""
    return print_schema(schema) + "\n"
