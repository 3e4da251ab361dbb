"""The identity graph as a pure library.

It normalises identifiers and decides how an event's identifiers map onto persons
(create, attach or merge). It imports nothing of the project and does no I/O, so every
stitching decision can be tested without a database and replayed deterministically.
"""

from identity.identifiers import Identifier, InvalidIdentifier, normalise_identifier
from identity.ids import new_person_id
from identity.rules import DEFAULT_RULE, DEFAULT_TYPE_RULES, IdentityRules, Strength, TypeRule
from identity.stitching import (
    Conflict,
    Link,
    Merge,
    Move,
    StitchPlan,
    holders_consulted,
    plan_batch,
)

__all__ = [
    "DEFAULT_RULE",
    "DEFAULT_TYPE_RULES",
    "Conflict",
    "Identifier",
    "IdentityRules",
    "InvalidIdentifier",
    "Link",
    "Merge",
    "Move",
    "StitchPlan",
    "Strength",
    "TypeRule",
    "holders_consulted",
    "new_person_id",
    "normalise_identifier",
    "plan_batch",
]
