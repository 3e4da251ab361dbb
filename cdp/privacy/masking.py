"""Masking personal data for callers without the ``pii:read`` scope.

Emails, phone numbers and names are masked wherever they appear: identifier values, the
identity graph's keys, traits, event properties and merge records. In free-form JSON:

- emails and phone numbers are found *inside* any text (``"call me on +44 7911
  123456"``, ``"Ana Silva <ana.silva@example.com>"``), whatever the key; a number stored
  under a phone key is masked even when it was sent as a number;
- a name is masked where a name is: under a key that names a person (``firstName``,
  ``displayName``, ``name``, every part of a ``name: {first, last}``) and before an
  address in ``Name <email>``; but ``name`` inside an order's items, a product, a
  campaign or an offer is the thing's name, not a person's, and stays;
- nothing else is touched: dates, amounts, order numbers, skus and product names are not
  personal, and masking them only hides what an analyst needs.
"""

from __future__ import annotations

import re
from typing import Any

from identity.identifiers import PHONE_TYPES

# An address inside text; a phone number inside text: a leading +, ( or 0 (a national
# trunk prefix), then digits with the usual separators, 9 to 15 digits in all. A plain
# run of digits (an order number, an amount) or an ISO date is not a phone number.
_EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_PHONE_IN_TEXT = re.compile(r"(?<![\w+])(?:\+|\(|0)[\d\s().\-]{7,22}\d(?!\w)")
_NAMED_ADDRESS = re.compile(  # "Ana Silva <ana@...>", '"bo jensen" <bo@...>'
    r"(\")?((?(1)[^\"<>]+|[A-ZÀ-Þ][\w'\-]*(?: [A-ZÀ-Þ][\w'\-]*){0,3}))(?(1)\")"
    r"\s*<([^<>@\s]+@[^<>\s]+)>"
)
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
        "displayname",
        "contactname",
        "customername",
        "username",
        "first_name",
        "last_name",
        "full_name",
        "display_name",
        "contact_name",
        "customer_name",
        "user_name",
    }
)
EMAIL_KEYS = frozenset({"email", "emailaddress", "email_address"})
PHONE_KEYS = frozenset(
    {"phone", "phonenumber", "phone_number", "mobile", "cell", "telephone", "tel", "whatsapp"}
)
# Containers whose ``name`` is a thing's, not a person's.
THING_KEYS = frozenset(
    {
        "items",
        "item",
        "products",
        "product",
        "lineitems",
        "line_items",
        "cart",
        "campaign",
        "offer",
        "offers",
        "category",
        "categories",
        "store",
        "shop",
        "brand",
        "plan",
        "coupon",
        "page",
        "segment",
    }
)


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


def mask_text(text: str) -> str:
    """Emails and phone numbers inside a text masked, and the name before ``<address>``."""
    text = _NAMED_ADDRESS.sub(
        lambda found: (
            f"{found.group(1) or ''}{mask_name(found.group(2))}{found.group(1) or ''} "
            f"<{mask_email(found.group(3))}>"
        ),
        text,
    )
    text = _EMAIL_IN_TEXT.sub(
        lambda found: found.group(0) if "***@" in found.group(0) else mask_email(found.group(0)),
        text,
    )
    return _PHONE_IN_TEXT.sub(_masked_phone, text)


def _masked_phone(found: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in found.group(0))
    return mask_phone(found.group(0)) if 9 <= digits <= 15 else found.group(0)


def mask_json(value: Any, key: str = "", *, in_thing: bool = False, naming: bool = False) -> Any:
    """Mask personal data inside any JSON value (see the module's rules)."""
    named = key.lower()
    if isinstance(value, dict):
        inside_thing = in_thing or named in THING_KEYS
        a_name = naming or (named in NAME_KEYS and not inside_thing)
        return {k: mask_json(v, k, in_thing=inside_thing, naming=a_name) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_json(item, key, in_thing=in_thing, naming=naming) for item in value]
    if isinstance(value, int | float) and not isinstance(value, bool) and named in PHONE_KEYS:
        return mask_phone(str(value))
    if not isinstance(value, str):
        return value
    if named in EMAIL_KEYS and "@" in value:
        return mask_text(value) if " " in value.strip() else mask_email(value.strip())
    if named in PHONE_KEYS:
        return mask_phone(value)
    if naming or (named in NAME_KEYS and not in_thing):
        return mask_name(mask_text(value)) if "@" not in value else mask_text(value)
    return mask_text(value)
