"""Identity rules: how many identifiers of a type one person may hold, and how much
an identifier of that type proves.

*Strong* identifiers (customer and CRM ids, emails, phones, social ids) belong to one
person; an event carrying two of them proves the two are one person. *Weak* ones
(device and cookie ids) are shared: a family tablet, a shop's Wi-Fi. They never join two
identified persons; they follow whoever used them last. The *rank* decides which
identifier an event belongs to first when its identifiers disagree. The *blocklist*
names the placeholder values of a type (``customer_id "0"``), which link nobody
(:mod:`identity.placeholders`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from identity.placeholders import (
    DEFAULT_BLOCKLIST,
    EMAIL_BLOCKLIST,
    PHONE_BLOCKLIST,
    Blocklist,
)


class Strength(enum.Enum):
    STRONG = "STRONG"
    WEAK = "WEAK"


@dataclass(frozen=True, slots=True)
class TypeRule:
    """The rule for one identifier type."""

    limit: int
    strength: Strength
    rank: int = 50
    blocked: Blocklist = DEFAULT_BLOCKLIST
    trusted: bool = False  # proves a person on its own (a login's customer id): merges at once

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError("limit: must be at least 1")

    @property
    def strong(self) -> bool:
        return self.strength is Strength.STRONG


DEFAULT_TYPE_RULES: Mapping[str, TypeRule] = {
    "customer_id": TypeRule(1, Strength.STRONG, 100, trusted=True),
    "crm_id": TypeRule(1, Strength.STRONG, 95, trusted=True),
    "email": TypeRule(5, Strength.STRONG, 80, EMAIL_BLOCKLIST),
    "phone": TypeRule(5, Strength.STRONG, 75, PHONE_BLOCKLIST),
    "whatsapp": TypeRule(3, Strength.STRONG, 70, PHONE_BLOCKLIST),
    "sms": TypeRule(5, Strength.STRONG, 50, PHONE_BLOCKLIST),
    "facebook": TypeRule(3, Strength.STRONG, 65),
    "instagram": TypeRule(3, Strength.STRONG, 65),
    "twitter": TypeRule(3, Strength.STRONG, 65),
    "device_id": TypeRule(10, Strength.WEAK, 20),
    "cookie_id": TypeRule(50, Strength.WEAK, 10),
}
DEFAULT_RULE = TypeRule(5, Strength.STRONG, 50)


@dataclass(frozen=True, slots=True)
class IdentityRules:
    """Rules per type; types not listed follow ``default`` (strong, at most 5)."""

    types: Mapping[str, TypeRule] = field(default_factory=lambda: dict(DEFAULT_TYPE_RULES))
    default: TypeRule = DEFAULT_RULE
    # Two persons that each have this many events (and a strong identifier) are not
    # merged automatically by an untrusted identifier: the merge waits for an agent.
    review_after_events: int = 3

    def rule(self, type_: str) -> TypeRule:
        return self.types.get(type_, self.default)

    def with_overrides(self, overrides: Mapping[str, TypeRule]) -> IdentityRules:
        return replace(self, types={**self.types, **overrides})

    def placeholder(self, type_: str, value: str) -> bool:
        """Whether a normalised identifier is a placeholder that must link nobody."""
        return self.rule(type_).blocked.blocks(value)

    def merge_refusal(self, held: Mapping[str, int], joining: Mapping[str, int]) -> str | None:
        """Why a person holding ``held`` cannot take ``joining`` more, or None when it can."""
        for type_, more in sorted(joining.items()):
            limit = self.rule(type_).limit
            if more and held.get(type_, 0) + more > limit:
                plural = "" if limit == 1 else "s"
                return f"{type_}: at most {limit} identifier{plural} of this type per person"
        return None

    def without_limits(self) -> IdentityRules:
        """Same strengths and ranks, limits too high to reach and no merge held for
        review: plain stitching, for tests."""
        big = 1_000_000
        return IdentityRules(
            {t: replace(r, limit=big) for t, r in self.types.items()},
            replace(self.default, limit=big),
            review_after_events=0,
        )
