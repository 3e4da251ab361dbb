"""Identifier normalisation: the same person must produce the same key however they type it.

Two spellings of one email (``Ana@Example.com `` and ``ana@example.com``) or one phone
number (``020 7946 0958`` and ``+44 20 7946 0958``) must land on one identifier, or the
graph leaves a customer in pieces. Types are open-ended, so only the ones with a known
shape get a shape check; every other value is kept as sent (trimmed), because cookie and
device ids are case-sensitive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email

MAX_VALUE_LENGTH = 256
_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
PHONE_TYPES = ("phone", "whatsapp", "sms")  # one number, three ways to reach it
_PHONE_TYPES = frozenset(PHONE_TYPES)
# Social networks whose handles are case-insensitive and often written with an "@".
_HANDLE_TYPES = frozenset({"instagram", "twitter", "tiktok", "threads"})


class InvalidIdentifier(ValueError):
    """An identifier that cannot be normalised; ``field`` says which part is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Identifier:
    """A normalised identifier; ``key`` is its unique name in the graph."""

    type: str
    value: str
    key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Computed once: stitching looks keys up tens of times per event.
        object.__setattr__(self, "key", f"{self.type}:{self.value}")


@lru_cache(maxsize=65_536)
def normalise_identifier(type_: str, value: str, default_region: str) -> Identifier:
    """Return the canonical form of one identifier or raise :class:`InvalidIdentifier`.

    Remembered for the last 65,536 distinct inputs: the same customers' identifiers
    arrive again and again, and checking an email or parsing a phone number costs tens
    of microseconds each time.
    """
    kind = type_.strip().lower()
    if not _TYPE_PATTERN.match(kind):
        raise InvalidIdentifier(
            "type",
            f"{type_!r} is not a valid identifier type "
            "(a letter, then up to 31 letters, digits or underscores)",
        )
    raw = value.strip()
    if not raw:
        raise InvalidIdentifier("value", f"the {kind} value is empty")
    if len(raw) > MAX_VALUE_LENGTH:
        raise InvalidIdentifier(
            "value", f"the {kind} value is {len(raw)} characters long; at most {MAX_VALUE_LENGTH}"
        )
    if kind == "email":
        return Identifier(kind, _normalise_email(raw))
    if kind in _PHONE_TYPES:
        return Identifier(kind, _normalise_phone(raw, kind, default_region))
    if kind in _HANDLE_TYPES:
        handle = raw.removeprefix("@").strip().casefold()
        if not handle:
            raise InvalidIdentifier("value", f"the {kind} handle {raw!r} is empty")
        return Identifier(kind, handle)
    return Identifier(kind, raw)


def _normalise_email(raw: str) -> str:
    """The address checked for shape only: a domain that is reserved (``.test``,
    ``.local``, ``.invalid``) or does not resolve still names one mailbox, and a test
    load or an intranet uses them."""
    try:
        checked = validate_email(raw, check_deliverability=False, test_environment=True)
    except EmailNotValidError as error:
        if _RESERVED_DOMAIN not in str(error) or "." not in raw.rpartition("@")[2]:
            message = f"{raw!r} is not a valid email address: {error}"
            raise InvalidIdentifier("value", message) from None
        local, _, domain = raw.rpartition("@")
        stand_in = f"{local}@{domain.rpartition('.')[0]}.test"
        shape = _normalise_email(stand_in)  # the same checks, on an unreserved domain
        return f"{shape.rpartition('@')[0]}@{domain.lower()}"
    return checked.normalized.lower()


_RESERVED_DOMAIN = "special-use or reserved name"


def _normalise_phone(raw: str, kind: str, default_region: str) -> str:
    # WhatsApp ids are international numbers written without the leading "+".
    candidate = f"+{raw}" if kind == "whatsapp" and raw.isdigit() else raw
    try:
        number = phonenumbers.parse(candidate, default_region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidIdentifier(
            "value",
            f"{raw!r} is not a valid phone number "
            f"(write it with its country code, or as a {default_region} number)",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
