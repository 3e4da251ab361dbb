"""Who may call what, and what they see: one mechanism for every field.

Before a document runs, ``AccessControl`` checks every field it selects
(``resolvers.reach``): a root field (a query or a mutation) needs every scope
``ROOT_FIELD_SCOPES`` lists for it (a field missing from the table is refused: fail
closed, and a test checks the table covers the schema); any other field needs
``profiles:read`` unless its type is in ``PUBLIC_TYPES`` or the field in
``OPEN_FIELDS``. So a key that may write events or define segments gets ids back from
its mutations, never the profiles behind them, whichever root field reached them; and a
new type is personal until someone says it is not. A refused document runs not at all.

While fields resolve, a root field's arguments must hold only storable text
(``resolvers.hygiene``), and without ``pii:read`` the fields in ``PII_FIELDS`` come back
masked, wherever in the response they appear; both are field extensions that
:func:`install` puts on exactly those fields.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any

from cachetools import LRUCache
from graphql import ExecutionResult, GraphQLError
from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.types.base import get_object_definition
from strawberry.types.field import StrawberryField
from strawberry.types.graphql import OperationType
from strawberry.utils.str_converters import to_camel_case

from cdp.errors import Forbidden
from cdp.privacy.access import Principal, Scope
from cdp.privacy.masking import mask_identifier, mask_json, mask_key, mask_text
from resolvers.context import Context, Info
from resolvers.hygiene import check_arguments
from resolvers.reach import Selected, selected_fields

ROOT_TYPES = frozenset({"Query", "Mutation", "Subscription"})

ROOT_FIELD_SCOPES: dict[str, tuple[Scope, ...]] = {
    # writing events and traits
    "track": (Scope.EVENTS_WRITE,),
    "identify": (Scope.EVENTS_WRITE,),
    "setConsent": (Scope.EVENTS_WRITE,),
    # reading profiles
    "person": (Scope.PROFILES_READ,),
    "personByIdentifier": (Scope.PROFILES_READ,),
    "findPersons": (Scope.PROFILES_READ,),
    "viewer": (),  # any key may ask what it may do
    "persons": (Scope.PROFILES_READ,),
    "personEvents": (Scope.PROFILES_READ,),
    "personChanged": (Scope.PROFILES_READ,),
    "identityPath": (Scope.PROFILES_READ,),
    "identityConflicts": (Scope.PROFILES_READ,),
    "identityRules": (Scope.PROFILES_READ,),
    "clvModel": (Scope.PROFILES_READ,),
    "rfmGrid": (Scope.PROFILES_READ,),
    "segments": (Scope.PROFILES_READ,),
    "segment": (Scope.PROFILES_READ,),
    "offers": (Scope.PROFILES_READ,),
    "coPurchaseRules": (Scope.PROFILES_READ,),
    "campaign": (Scope.PROFILES_READ,),
    # catalogue and offers
    "upsertProducts": (Scope.OFFERS_WRITE,),
    "createOffer": (Scope.OFFERS_WRITE,),
    "updateOffer": (Scope.OFFERS_WRITE,),
    "archiveOffer": (Scope.OFFERS_WRITE,),
    "recordOfferResponse": (Scope.EVENTS_WRITE,),
    "exportPerson": (Scope.PROFILES_READ, Scope.PII_READ),
    # defining segments
    "createSegment": (Scope.SEGMENTS_WRITE,),
    "updateSegment": (Scope.SEGMENTS_WRITE,),
    "deleteSegment": (Scope.SEGMENTS_WRITE,),
    # correcting identities, privacy and keys: administrators
    "mergePersons": (Scope.ADMIN,),
    "unlinkIdentifier": (Scope.ADMIN,),
    "dismissIdentityConflict": (Scope.ADMIN,),
    "setIdentityRules": (Scope.ADMIN,),
    "identityRuleChanges": (Scope.ADMIN,),
    "fitClvModel": (Scope.ADMIN,),
    "recomputeSegments": (Scope.ADMIN,),
    "rebuildOfferModels": (Scope.ADMIN,),
    "erasePerson": (Scope.ADMIN,),
    "createApiKey": (Scope.ADMIN,),
    "revokeApiKey": (Scope.ADMIN,),
    "apiKeys": (Scope.ADMIN,),
}


# Types that hold nothing about a person: definitions, catalogue, reports, keys, and the
# connection scaffolding whose nodes are checked on their own. Every other type's fields
# need profiles:read.
PUBLIC_TYPES = frozenset(
    {
        "ApiKey",
        "BlockedIdentifier",
        "NewApiKey",
        "ClvModel",
        "RfmCell",
        "Viewer",
        "CoPurchaseRule",
        "CoPurchaseRuleConnection",
        "CoPurchaseRuleEdge",
        "CampaignEntryConnection",
        "CampaignEntryEdge",
        "Erasure",
        "EventConnection",
        "EventEdge",
        "EventResult",
        "IdentityConflictConnection",
        "IdentityConflictEdge",
        "IdentityRule",
        "IdentityRuleChange",
        "OfferModelReport",
        "OfferRef",
        "OfferType",
        "PageInfo",
        "PersonConnection",
        "PersonEdge",
        "Product",
        "ProductRef",
        "RecomputeReport",
        "Segment",
        "Significance",
        "TrackResult",
        "UnlinkResult",
    }
)
# Fields of personal types that only name the thing: a mutation answers with these.
OPEN_FIELDS: frozenset[Selected] = frozenset({("Person", "id")})


def required_scopes(type_name: str, field: str) -> tuple[Scope, ...] | None:
    """The scopes a field needs; None for a root field no key may call."""
    if type_name in ROOT_TYPES:
        return ROOT_FIELD_SCOPES.get(field)
    if type_name in PUBLIC_TYPES or (type_name, field) in OPEN_FIELDS:
        return ()
    return (Scope.PROFILES_READ,)


def refusal(selected: list[Selected], principal: Principal) -> Forbidden | None:
    """Why this key may not run a document selecting these fields, or None."""
    for type_name, field in selected:
        required = required_scopes(type_name, field)
        if required is None:
            return Forbidden(f"{field} is not open to API keys")
        missing = principal.missing(required)
        if not missing:
            continue
        where = field if type_name in ROOT_TYPES else f"{type_name}.{field}"
        return Forbidden(f"this key lacks the {missing[0].value} scope, needed for {where}")
    return None


_SELECTIONS: LRUCache[tuple[str, str | None], list[Selected]] = LRUCache(maxsize=1024)


def _identifier_value(value: Any, parent: Any) -> Any:
    return mask_identifier(parent.type, value) if isinstance(value, str) else value


def _keys(value: Any, parent: Any) -> Any:
    if isinstance(value, list):
        return [mask_key(item) for item in value]
    return mask_key(value) if isinstance(value, str) else value


def _json(value: Any, parent: Any) -> Any:
    return mask_json(value)


def _text(value: Any, parent: Any) -> Any:
    return mask_text(value) if isinstance(value, str) else value


def _replaced_traits(value: Any, parent: Any) -> Any:
    """``{trait: {value, set_at, person_id}}``: each value masked as its trait would be."""
    if not isinstance(value, dict):
        return mask_json(value)
    return {
        name: {**entry, "value": mask_json(entry.get("value"), name)}
        if isinstance(entry, dict)
        else mask_json(entry, name)
        for name, entry in value.items()
    }


PII_FIELDS: dict[tuple[str, str], Callable[[Any, Any], Any]] = {
    ("Identifier", "value"): _identifier_value,
    ("EventIdentifier", "value"): _identifier_value,
    ("IdentityEdge", "from"): _keys,
    ("IdentityEdge", "to"): _keys,
    ("IdentityConflict", "identifier"): _keys,
    ("MergeRecord", "identifiers"): _keys,
    ("MergeRecord", "replacedTraits"): _replaced_traits,
    ("MergeRecord", "reason"): _text,  # an agent may write "same caller as ana@..."
    ("Person", "traits"): _json,
    ("Event", "properties"): _json,
}


class AccessControl(SchemaExtension):
    """Refuses, before anything runs, a document that selects a field the key may not read.

    It has no per-field ``resolve`` hook on purpose: one would run for every field of
    every response (3,000 for a batch of 500 results) only to act on a dozen. The
    per-field work is done by field extensions on the few fields that need it
    (:func:`install`).
    """

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            key = (context.query, context.operation_name) if context.query else None
            selected = _SELECTIONS.get(key) if key else None
            if selected is None:
                selected = selected_fields(context.schema._schema, document, context.operation_name)
                if key:
                    _SELECTIONS[key] = selected
            refused = refusal(selected, context.context.principal)
            if refused is not None:
                error = GraphQLError(refused.message, original_error=refused)
                if context.operation_type is OperationType.SUBSCRIPTION:
                    raise error  # strawberry answers a subscription with what on_execute raises
                context.result = ExecutionResult(data=None, errors=[error])
        yield


class MaskedWithoutPii(FieldExtension):
    """Masks a field's value for a key without ``pii:read``."""

    def __init__(self, mask: Callable[[Any, Any], Any]) -> None:
        self.mask = mask

    # Positional-only, unlike the base class: a GraphQL argument may be named "source"
    # (setConsent's is), and it arrives in **kwargs.
    def resolve(  # type: ignore[override]
        self, next_: Callable[..., Any], source: Any, info: Info, /, **kwargs: Any
    ) -> Any:
        return self.short_path(next_(source, info, **kwargs), source, info.context)

    async def resolve_async(  # type: ignore[override]
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, /, **kwargs: Any
    ) -> Any:
        return self.short_path(await next_(source, info, **kwargs), source, info.context)

    def short_path(self, value: Any, source: Any, context: Context) -> Any:
        """The masking itself: it needs nothing of the resolve info, so the executor's
        short path for plain fields applies it too (``resolvers/execution.py``)."""
        return value if context.principal.allows(Scope.PII_READ) else self.mask(value, source)


class StorableArguments(FieldExtension):
    """Refuses a root field whose arguments hold text no database can store."""

    # Positional-only, unlike the base class: a GraphQL argument may be named "source"
    # (setConsent's is), and it arrives in **kwargs.
    def resolve(  # type: ignore[override]
        self, next_: Callable[..., Any], source: Any, info: Info, /, **kwargs: Any
    ) -> Any:
        check_arguments(info.field_name, kwargs)
        return next_(source, info, **kwargs)

    async def resolve_async(  # type: ignore[override]
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, /, **kwargs: Any
    ) -> Any:
        check_arguments(info.field_name, kwargs)
        return await next_(source, info, **kwargs)


def install(roots: Iterable[type], types: Iterable[type]) -> None:
    """Put the field extensions on the fields that need them (once; idempotent): argument
    hygiene on every root field, masking on every field in ``PII_FIELDS``."""
    for root in roots:
        for field in get_object_definition(root, strict=True).fields:
            _add(field, StorableArguments())
    for kind in types:
        definition = get_object_definition(kind, strict=True)
        for field in definition.fields:
            mask = PII_FIELDS.get(
                (definition.name, field.graphql_name or to_camel_case(field.name))
            )
            if mask is not None:
                _add(field, MaskedWithoutPii(mask))


def _add(field: StrawberryField, extension: FieldExtension) -> None:
    if not any(type(existing) is type(extension) for existing in field.extensions):
        field.extensions.append(extension)
