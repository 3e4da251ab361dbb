import itertools
from collections.abc import Callable

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from identity import Merge, plan_batch


def counter_ids(prefix: str = "n") -> Callable[[], str]:
    numbers = itertools.count()
    return lambda: f"{prefix}{next(numbers):04d}"


def test_identifiers_nobody_owns_make_one_new_person() -> None:
    plan = plan_batch([["email:a", "cookie_id:1"]], {}, counter_ids())
    assert plan.new_persons == ["n0000"]
    assert plan.claims == {"email:a": "n0000", "cookie_id:1": "n0000"}
    assert plan.person_of_event == ["n0000"]
    assert plan.merges == []


def test_an_event_attaches_new_identifiers_to_their_one_owner() -> None:
    plan = plan_batch([["email:a", "phone:+1"]], {"email:a": "p1"}, counter_ids())
    assert plan.new_persons == []
    assert plan.claims == {"phone:+1": "p1"}
    assert plan.person_of_event == ["p1"]


def test_an_event_joining_two_persons_merges_them_into_the_oldest() -> None:
    owners = {"email:a": "p2", "facebook:9": "p1"}
    plan = plan_batch([["email:a", "facebook:9"]], owners, counter_ids())
    assert plan.merges == [Merge(absorbed="p2", survivor="p1", event_index=0)]
    assert plan.person_of_event == ["p1"]


def test_persons_born_and_joined_inside_one_batch_are_never_created_twice() -> None:
    plan = plan_batch(
        [["facebook:9"], ["email:a", "cookie_id:1"], ["email:a", "facebook:9"]],
        {},
        counter_ids(),
    )
    assert plan.new_persons == ["n0000"]
    assert plan.merges == []  # nothing that existed before the batch was absorbed
    assert set(plan.claims.values()) == {"n0000"}
    assert plan.person_of_event == ["n0000", "n0000", "n0000"]


def test_an_existing_person_absorbed_through_a_new_one_goes_to_the_oldest() -> None:
    owners = {"email:a": "p1", "phone:+1": "p3"}
    plan = plan_batch(
        [["email:a", "cookie_id:1"], ["cookie_id:1", "phone:+1"]], owners, counter_ids()
    )
    assert plan.merges == [Merge(absorbed="p3", survivor="p1", event_index=1)]
    assert plan.claims == {"cookie_id:1": "p1"}


identifier_pool = st.sampled_from([f"email:{c}" for c in "abcdefgh"] + ["phone:+1", "phone:+2"])
batches = st.lists(st.lists(identifier_pool, min_size=1, max_size=3, unique=True), max_size=25)


def components(events: list[list[str]]) -> set[frozenset[str]]:
    graph: nx.Graph[str] = nx.Graph()
    for keys in events:
        graph.add_nodes_from(keys)
        nx.add_path(graph, keys)
    return {frozenset(c) for c in nx.connected_components(graph)}


@settings(max_examples=200, deadline=None)
@given(batches, st.integers(min_value=1, max_value=25))
def test_persons_are_the_connected_components_whether_sent_at_once_or_in_chunks(
    events: list[list[str]], chunk: int
) -> None:
    """Applying plans chunk by chunk (as a caller does) equals one plan for everything."""
    owners: dict[str, str] = {}
    new_id = counter_ids()
    for start in range(0, len(events), chunk):
        plan = plan_batch(events[start : start + chunk], owners, new_id)
        absorbed = {m.absorbed: m.survivor for m in plan.merges}
        owners = {key: absorbed.get(person, person) for key, person in owners.items()}
        owners.update(plan.claims)
        for merge in plan.merges:  # survivors are final roots, absorbed never survive
            assert merge.survivor < merge.absorbed
    persons: dict[str, set[str]] = {}
    for key, person in owners.items():
        persons.setdefault(person, set()).add(key)
    assert {frozenset(keys) for keys in persons.values()} == components(events)
