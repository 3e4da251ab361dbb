"""Resolvers read and write through ``cdp``, never through a store.

The import contract (pyproject.toml) stops ``resolvers`` importing ``cdp.store``, but a
resolver holds ``deps.stores`` and could still call ``stores.persons.get(...)`` on it;
this test reads the source for that attribute access, which imports cannot show.
"""

import ast
from pathlib import Path

RESOLVERS = Path(__file__).resolve().parents[2] / "resolvers"


def store_calls(path: Path) -> list[str]:
    """``<anything>.stores.<store>.<method>`` expressions in one module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Attribute)
            and isinstance(node.value.value, ast.Attribute | ast.Name)
            and (getattr(node.value.value, "attr", None) or getattr(node.value.value, "id", ""))
            == "stores"
        ):
            found.append(f"{path.name}:{node.lineno} stores.{node.value.attr}.{node.attr}")
    return found


def test_no_resolver_calls_a_store_directly() -> None:
    modules = sorted(RESOLVERS.rglob("*.py"))
    assert len(modules) > 10  # the walk found the package
    assert [call for path in modules for call in store_calls(path)] == []


def test_the_check_sees_a_store_call() -> None:
    sample = Path(__file__).with_name("_store_call_sample.txt")
    sample.write_text(
        "async def f(info):\n    return await info.context.deps.stores.persons.get(1)\n"
    )
    try:
        assert store_calls(sample) == ["_store_call_sample.txt:2 stores.persons.get"]
    finally:
        sample.unlink()
