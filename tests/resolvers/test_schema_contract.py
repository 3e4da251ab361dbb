"""The SDL file and the documented operations are a contract: they must match the code."""

from pathlib import Path

import pytest
from graphql import parse, validate

import identity
from resolvers import schema, sdl
from tests.resolvers.graphql import OPERATIONS

ROOT = Path(__file__).resolve().parents[2]


def test_the_exported_sdl_matches_the_code() -> None:
    exported = (ROOT / "schema" / "schema.graphql").read_text()
    assert exported == sdl(), (
        "schema/schema.graphql is out of date: run `make schema` and commit it"
    )


@pytest.mark.parametrize("path", sorted(OPERATIONS.glob("*.graphql")), ids=lambda p: p.stem)
def test_every_documented_operation_is_valid_against_the_schema(path: Path) -> None:
    errors = validate(schema._schema, parse(path.read_text()))
    assert errors == []


def test_the_identity_package_is_ours_not_the_unrelated_one_on_the_registry() -> None:
    assert Path(identity.__file__).resolve().parent == ROOT / "identity"


@pytest.mark.parametrize("path", sorted(OPERATIONS.glob("*.graphql")), ids=lambda p: p.stem)
def test_every_documented_operation_is_run_by_a_test(path: Path) -> None:
    tests = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    assert f'"{path.stem}"' in tests, f"no test runs schema/operations/{path.name}"
