"""The demo shop's catalogue and the bundles its customers buy together.

Kept as data, not drawn at random, so the co-purchase rules mined from the demo are
ones a person can check by eye (a tent sells with a mat and a stove; a grinder with
beans), and a few items run low so the wishlist alert has something to say.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Item:
    sku: str
    name: str
    category: str
    price: float
    stock: int | None  # None: not tracked


CATALOGUE: tuple[Item, ...] = (
    Item("TENT-2P", "Two-person tent", "outdoor", 189.0, 14),
    Item("MAT-1", "Sleeping mat", "outdoor", 45.0, 60),
    Item("STOVE-1", "Camping stove", "outdoor", 39.0, 3),
    Item("LAMP-1", "Head lamp", "outdoor", 24.0, 80),
    Item("BAG-3S", "Three-season sleeping bag", "outdoor", 129.0, 4),
    Item("BOTTLE-1", "Steel water bottle", "outdoor", 19.0, 200),
    Item("GRINDER-1", "Hand coffee grinder", "kitchen", 69.0, 25),
    Item("BEANS-1", "Single-origin coffee beans", "kitchen", 14.0, None),
    Item("KETTLE-1", "Pour-over kettle", "kitchen", 49.0, 2),
    Item("FILTER-1", "Paper filters", "kitchen", 6.0, None),
    Item("MUG-1", "Stoneware mug", "kitchen", 12.0, 150),
    Item("EREADER-1", "E-reader", "electronics", 139.0, 30),
    Item("COVER-1", "E-reader cover", "electronics", 25.0, 90),
    Item("PHONES-1", "Noise-cancelling headphones", "electronics", 249.0, 4),
    Item("CHARGER-1", "Fast charger", "electronics", 29.0, 300),
    Item("BOOTS-1", "Hiking boots", "fashion", 159.0, 12),
    Item("SOCKS-1", "Wool socks", "fashion", 15.0, 400),
    Item("JACKET-1", "Rain jacket", "fashion", 199.0, 1),
    Item("SCARF-1", "Merino scarf", "fashion", 35.0, 70),
    Item("NOVEL-1", "Novel of the month", "books", 18.0, None),
    Item("COOKBOOK-1", "Camp cooking cookbook", "books", 27.0, 40),
    Item("GUIDE-1", "Trail guide", "books", 22.0, 35),
    Item("SERUM-1", "Face serum", "beauty", 38.0, 60),
    Item("BALM-1", "Lip balm", "beauty", 5.0, None),
)
BY_SKU = {item.sku: item for item in CATALOGUE}

# What sells together: a basket starts from one of these and usually takes most of it.
BUNDLES: tuple[tuple[str, ...], ...] = (
    ("TENT-2P", "MAT-1", "STOVE-1"),
    ("BAG-3S", "MAT-1", "LAMP-1"),
    ("GRINDER-1", "BEANS-1", "FILTER-1"),
    ("KETTLE-1", "FILTER-1", "BEANS-1"),
    ("EREADER-1", "COVER-1"),
    ("PHONES-1", "CHARGER-1"),
    ("BOOTS-1", "SOCKS-1"),
    ("JACKET-1", "SCARF-1"),
    ("COOKBOOK-1", "STOVE-1"),
    ("GUIDE-1", "BOTTLE-1", "LAMP-1"),
    ("SERUM-1", "BALM-1"),
)
CHEAP = ("BEANS-1", "FILTER-1", "MUG-1", "SOCKS-1", "BALM-1", "NOVEL-1", "BOTTLE-1")
DEAR = ("TENT-2P", "PHONES-1", "JACKET-1", "BOOTS-1", "EREADER-1")
LOW_STOCK = tuple(item.sku for item in CATALOGUE if item.stock is not None and item.stock < 5)
CATEGORIES = tuple(sorted({item.category for item in CATALOGUE}))
TOPICS = ("camping", "coffee brewing", "reading", "trail running", "skin care")
CAMPAIGNS = ("spring-outdoor", "coffee-club", "summer-sale", "back-to-books", "winter-warmers")


def product_inputs() -> list[dict[str, object]]:
    """The catalogue as ``upsertProducts`` takes it."""
    return [
        {
            "sku": item.sku,
            "name": item.name,
            "category": item.category,
            "price": item.price,
            "stock": item.stock,
            "tags": ["demo"],
        }
        for item in CATALOGUE
    ]
