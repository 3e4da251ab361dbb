"""Placeholder values: identifiers that name nobody and would join strangers.

Forms, apps and exports fill an empty id with something: ``customer_id "0"``, the
string ``"null"`` or ``"undefined"`` from JavaScript, ``"[object Object]"``, an all-zero
advertising id, an unrendered template (``{{customer.id}}``), ``noreply@`` on a shared
mailbox. Every stranger who sends the same placeholder would become one person, so such
a value never links anyone: the event keeps its other identifiers, or is refused when it
has none.

A blocklist is per identifier type (values and patterns), changeable with the identity
rules. Values compare after the identifier's normalisation and without case; patterns
must match the whole normalised value, without case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_PATTERN_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Blocklist:
    """The placeholder values of one identifier type."""

    values: frozenset[str] = frozenset()
    patterns: tuple[str, ...] = ()
    _compiled: tuple[re.Pattern[str], ...] = field(
        init=False, repr=False, compare=False, default=()
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", frozenset(v.strip().casefold() for v in self.values))
        object.__setattr__(self, "_compiled", tuple(compile_pattern(p) for p in self.patterns))

    @classmethod
    def of(cls, values: Iterable[str], patterns: Iterable[str]) -> Blocklist:
        return cls(frozenset(values), tuple(patterns))

    def blocks(self, value: str) -> bool:
        folded = value.casefold()
        return folded in self.values or any(p.fullmatch(folded) for p in self._compiled)


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A blocklist pattern, or ``ValueError`` saying what is wrong with it."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ValueError(f"a pattern is at most {MAX_PATTERN_LENGTH} characters")
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as error:
        raise ValueError(f"{pattern!r} is not a valid regular expression: {error}") from None


# What any type's empty field turns into on the way from a form, an app or an export.
# Short digit runs ("123", "111111") are left out: sequential customer numbers use them.
COMMON_VALUES = frozenset(
    {
        "0", "-1", "-", "--", "?", ".", "x", "xx", "xxx", "na", "n/a", "n.a.", "none", "null",
        "nil", "nan", "undefined", "[object object]", "{}", "[]", "''", '""', "true", "false",
        "unknown", "anonymous", "anon", "guest", "default", "empty", "not set", "(not set)",
        "not_set", "notset", "not provided", "not available", "test", "user", "customer",
        "string",
    }
)  # fmt: skip
COMMON_PATTERNS = (
    r"[0\-:.]+",  # all zeros: "000", an all-zero UUID, IDFA or MAC address
    r"[f\-:]{8,}",  # all ones: "ffffffff-ffff-ffff-ffff-ffffffffffff"
    r"(.)\1{7,}",  # one character eight times or more: "xxxxxxxx", "99999999"
    r"\{\{.*\}\}|\$\{.*\}|%%.*%%|\[\[.*\]\]",  # an unrendered template: {{id}}, ${id}, %%ID%%
)
EMAIL_PATTERNS = (
    # a shared or made-up mailbox: many strangers' forms carry it
    r"(no-?reply|do-?not-?reply|no-?email|none|null|nobody|unknown|anonymous|test)@.*",
)
EMAIL_VALUES = frozenset(
    {"a@a.com", "abc@abc.com", "asdf@asdf.com", "email@email.com", "user@user.com", "x@x.com"}
)
PHONE_PATTERNS = (
    r"\+\d{0,4}(\d)\1{6,}",  # +12125555555, +447777777777, +33600000000
    r"\+\d*12345678\d*",  # +33612345678, +12345678901
)
DEFAULT_BLOCKLIST = Blocklist(COMMON_VALUES, COMMON_PATTERNS)
EMAIL_BLOCKLIST = Blocklist(COMMON_VALUES | EMAIL_VALUES, COMMON_PATTERNS + EMAIL_PATTERNS)
PHONE_BLOCKLIST = Blocklist(COMMON_VALUES, COMMON_PATTERNS + PHONE_PATTERNS)
