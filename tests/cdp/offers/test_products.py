"""Skus as catalogues write them: the same rule for products and for purchase events."""

from typing import Any

import pytest

from cdp.errors import BadUserInput
from cdp.offers.products import check_products


def product(sku: Any) -> dict[str, Any]:
    return {"sku": sku, "name": "Whole milk", "category": "dairy", "price": 1.2, "stock": 40}


@pytest.mark.parametrize("sku", ["whole milk 1L", "TENT/2P", "café-crème 250g", "A" * 128])
def test_any_printable_sku_is_accepted(sku: str) -> None:
    [checked] = check_products([product(sku)])
    assert checked.sku == sku


@pytest.mark.parametrize("sku", ["", " ", "milk\n1L", "tab\there", "$where", "A" * 129, 42])
def test_a_sku_with_control_characters_a_leading_dollar_or_too_long_is_refused(sku: Any) -> None:
    with pytest.raises(BadUserInput, match=r"products\[0\]\.sku: .* is not a sku \(printable"):
        check_products([product(sku)])
