"""Masking personal data for callers without the ``pii:read`` scope.

Emails, phone numbers and names are masked wherever they appear: identifier values, the
identity graph's keys, traits and event properties. In free-form JSON a value is masked
when its key names a person (``firstName``, ``email``, ...) or when it looks like an email
address or a phone number, whatever its key.
"""

from __future__ import annotations

import re
from typing import Any

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[\d\s().-]{7,20}$")
PHONE_TYPES = frozenset({"phone", "sms", "whatsapp"})
NAME_KEYS = frozenset(
    {
        "name",
        "firstname",
        "lastname",
        "fullname",
        "surname",
        "givenname",
        "familyname",
        "middlename",
        "nickname",
        "first_name",
        "last_name",
        "full_name",
    }
)
EMAIL_KEYS = frozenset({"email", "emailaddress", "email_address"})
PHONE_KEYS = frozenset({"phone", "phonenumber", "phone_number", "mobile", "whatsapp"})


def mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(value: str) -> str:
    if len(value) <= 6:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 6) + value[-3:]


def mask_name(value: str) -> str:
    return " ".join(word[:1] + "*" * (len(word) - 1) for word in value.split(" "))


def mask_identifier(type_: str, value: str) -> str:
    """An identifier value as a caller without ``pii:read`` sees it."""
    if type_ == "email":
        return mask_email(value)
    if type_ in PHONE_TYPES:
        return mask_phone(value)
    return value


def mask_key(key: str) -> str:
    """An identifier key (``type:value``) with its value masked."""
    type_, _, value = key.partition(":")
    return f"{type_}:{mask_identifier(type_, value)}"


def mask_json(value: Any, key: str = "") -> Any:
    """Mask personal data inside any JSON value."""
    if isinstance(value, dict):
        return {k: mask_json(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_json(item, key) for item in value]
    if not isinstance(value, str):
        return value
    named = key.lower()
    if named in EMAIL_KEYS or _EMAIL.match(value):
        return mask_email(value) if "@" in value else mask_name(value)
    if named in PHONE_KEYS or (_PHONE.match(value) and sum(c.isdigit() for c in value) >= 7):
        return mask_phone(value)
    if named in NAME_KEYS:
        return mask_name(value)
    return value
