"""The product catalogue: checked as a whole before anything is written."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cdp.errors import BadUserInput
from cdp.offers.definitions import is_amount
from cdp.skus import SKU_RULE, is_sku
from cdp.store import Stores

MAX_PRODUCTS = 1000


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    name: str
    category: str | None
    price: float
    stock: int | None  # None: not tracked
    tags: tuple[str, ...]
    offerable: bool = True  # False: never an implicit product offer (gift cards, samples)

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Product:
        return cls(
            doc["_id"],
            doc["name"],
            doc.get("category"),
            doc["price"],
            doc.get("stock"),
            tuple(doc.get("tags", [])),
            doc.get("offerable", True),
        )


def check_products(raw: Sequence[Mapping[str, Any]]) -> list[Product]:
    """Every product valid, or BAD_USER_INPUT naming the first bad field."""
    if not 1 <= len(raw) <= MAX_PRODUCTS:
        raise BadUserInput(f"products: send 1 to {MAX_PRODUCTS} products per call")
    seen: set[str] = set()
    products = []
    for i, item in enumerate(raw):
        where = f"products[{i}]"
        sku = item.get("sku")
        if not is_sku(sku):
            raise BadUserInput(f"{where}.sku: {sku!r} is not a sku ({SKU_RULE})")
        if sku in seen:
            raise BadUserInput(f"{where}.sku: {sku} appears twice in this call")
        seen.add(sku)
        name = " ".join(str(item.get("name") or "").split())
        if not 1 <= len(name) <= 200:
            raise BadUserInput(f"{where}.name: give a name of 1 to 200 characters")
        price = item.get("price")
        if not is_amount(price):
            raise BadUserInput(f"{where}.price: must be a number of 0 or more")
        stock = item.get("stock")
        if stock is not None and (
            not isinstance(stock, int) or isinstance(stock, bool) or stock < 0
        ):
            raise BadUserInput(f"{where}.stock: must be a whole number of 0 or more, or null")
        category = item.get("category")
        if category is not None and (
            not isinstance(category, str) or not 1 <= len(category.strip()) <= 64
        ):
            raise BadUserInput(f"{where}.category: 1 to 64 characters, or null")
        tags = item.get("tags") or []
        if len(tags) > 20 or any(not isinstance(t, str) or not 1 <= len(t) <= 50 for t in tags):
            raise BadUserInput(f"{where}.tags: at most 20 tags of 1 to 50 characters")
        products.append(
            Product(
                sku,
                name,
                category.strip().lower() if category else None,
                float(price),
                stock,
                tuple(tags),
                item.get("offerable") is not False,
            )
        )
    return products


async def upsert_products(
    stores: Stores, raw: Sequence[Mapping[str, Any]], now: datetime
) -> list[Product]:
    products = check_products(raw)
    await stores.products.upsert(
        [
            {
                "_id": p.sku,
                "name": p.name,
                "category": p.category,
                "price": p.price,
                "stock": p.stock,
                "tags": list(p.tags),
                "offerable": p.offerable,
                "updated_at": now,
            }
            for p in products
        ]
    )
    return products


async def co_purchase_rules_page(
    stores: Stores, min_lift: float, start: int, first: int
) -> list[dict[str, Any]]:
    """Mined purchase rules from position ``start``, strongest lift first, ``first + 1``
    of them (the last says whether another page follows)."""
    return await stores.products.rules_page(min_lift, start, first)
