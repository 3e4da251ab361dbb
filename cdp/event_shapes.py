"""The event shapes the README documents, checked where a property is present.

The metrics read ``properties.total`` of a purchase as a number; a purchase sent with
``total: "not-a-number"`` used to be stored and counted as 0, silently wrong forever.
For the documented event types, a property the metrics read that is present with the
wrong kind rejects its event (``INVALID_EVENT`` naming the field); a missing property or
a ``null`` is fine (clients send null for "not known"), and properties nobody documents
are the sender's own business.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cdp.skus import SKU_RULE, is_sku

Check = Callable[[Any], str | None]  # the problem with a value, or None


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) else "must be text"


def _number(value: Any) -> str | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return None if ok else "must be a number"


def _text_or_number(value: Any) -> str | None:
    return None if isinstance(value, str) or _number(value) is None else "must be text or a number"


def _sku(value: Any) -> str | None:
    return None if is_sku(value) else f"is not a sku ({SKU_RULE})"


ANY_EVENT: Mapping[str, Check] = {"device": _text, "os": _text}
PRODUCT: Mapping[str, Check] = {"sku": _sku, "category": _text}
ITEM: Mapping[str, Check] = {
    "sku": _sku,
    "name": _text,
    "category": _text,
    "price": _number,
    "quantity": _number,
}
ORDER: Mapping[str, Check] = {"orderId": _text_or_number, "total": _number}
SHAPES: Mapping[str, Mapping[str, Check]] = {
    "purchase": {**ORDER, "currency": _text, "discountCode": _text},
    "refund": ORDER,
    "product_view": PRODUCT,
    "add_to_cart": PRODUCT,
    "wishlist_add": PRODUCT,
    "wishlist_remove": PRODUCT,
    "page_view": {"url": _text},
    "content_view": {"topic": _text},
    "email_sent": {"campaign": _text},
    "email_open": {"campaign": _text},
    "email_click": {"campaign": _text},
    "survey_answer": {"question": _text},
}


def shape_problem(type_: str, properties: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(field, problem)`` for the first documented property of the wrong kind."""
    found = _first_problem({**ANY_EVENT, **SHAPES.get(type_, {})}, properties, "properties")
    if found or type_ != "purchase" or properties.get("items") is None:
        return found
    items = properties["items"]
    if not isinstance(items, list):
        return "properties.items", "must be a list of items"
    for index, item in enumerate(items):
        where = f"properties.items[{index}]"
        if not isinstance(item, Mapping):
            return where, "must be an object (sku, name, category, price, quantity)"
        if problem := _first_problem(ITEM, item, where):
            return problem
    return None


def _first_problem(
    shape: Mapping[str, Check], values: Mapping[str, Any], where: str
) -> tuple[str, str] | None:
    for name, check in shape.items():
        value = values.get(name)
        if value is not None and (problem := check(value)) is not None:
            return f"{where}.{name}", f"{problem}, not {value!r}"[:200]
    return None
