"""Stitching decisions, pure: each rule as a story, then properties over random histories."""

import itertools
from collections import Counter
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from identity import (
    Identifier,
    IdentityRules,
    Merge,
    StitchPlan,
    Strength,
    TypeRule,
    holders_consulted,
    plan_batch,
)
from tests.oracles import components

RULES = IdentityRules()


def ids(*pairs: str) -> list[Identifier]:
    return [Identifier(*pair.split(":", 1)) for pair in pairs]


def counter_ids(prefix: str = "n") -> Callable[[], str]:
    numbers = itertools.count()
    return lambda: f"{prefix}{next(numbers):04d}"


class World:
    """The graph as the store would hold it after applying plans: owners and their counts."""

    def __init__(self, rules: IdentityRules = RULES) -> None:
        self.rules = rules
        self.owners: dict[str, str] = {}
        self.new_id = counter_ids()

    def counts(self) -> dict[str, Counter[str]]:
        held: dict[str, Counter[str]] = {}
        for key, person in self.owners.items():
            held.setdefault(person, Counter())[key.split(":", 1)[0]] += 1
        return held

    def send(self, *events: list[Identifier]) -> StitchPlan:
        plan = plan_batch(list(events), self.owners, self.counts(), self.rules, self.new_id)
        survivor_of = {m.absorbed: m.survivor for m in plan.merges}
        self.owners = {k: survivor_of.get(p, p) for k, p in self.owners.items()}
        self.owners.update(plan.claims)
        self.owners.update({move.key: move.to_person for move in plan.moves})
        return plan

    def persons(self) -> set[frozenset[str]]:
        grouped: dict[str, set[str]] = {}
        for key, person in self.owners.items():
            grouped.setdefault(person, set()).add(key)
        return {frozenset(keys) for keys in grouped.values()}


def test_identifiers_nobody_owns_make_one_new_person() -> None:
    plan = World().send(ids("email:a@x.io", "cookie_id:c1"))
    assert plan.new_persons == ["n0000"]
    assert plan.claims == {"email:a@x.io": "n0000", "cookie_id:c1": "n0000"}
    assert plan.links[0].a == "email:a@x.io"  # the strongest identifier anchors the proof


def test_an_event_joining_two_persons_merges_them_into_the_oldest() -> None:
    world = World()
    world.send(ids("facebook:9"))
    world.send(ids("email:a@x.io"))
    plan = world.send(ids("email:a@x.io", "facebook:9"))
    assert plan.merges == [Merge(absorbed="n0001", survivor="n0000", event_index=0)]
    assert plan.person_of_event == ["n0000"]
    assert world.persons() == {frozenset({"facebook:9", "email:a@x.io"})}


def test_two_persons_with_their_own_history_are_held_for_review_not_merged() -> None:
    world = World()
    world.send(ids("email:ana@x.io"))
    world.send(ids("email:bo@x.io"))
    cc = ids("email:ana@x.io", "email:bo@x.io")  # a reply with the other customer in CC
    plan = plan_batch(
        [cc], world.owners, world.counts(), RULES, world.new_id, frozenset({"n0000", "n0001"})
    )
    assert plan.merges == []
    [held] = plan.conflicts
    assert (held.person, held.other, held.key) == ("n0000", "n0001", "email:bo@x.io")
    assert held.rule.startswith("held for review: both persons have their own history")


def test_a_trusted_identifier_merges_established_persons_at_once() -> None:
    world = World()
    world.send(ids("customer_id:C-1"))
    world.send(ids("email:ana@x.io"))
    login = ids("customer_id:C-1", "email:ana@x.io")
    plan = plan_batch(
        [login], world.owners, world.counts(), RULES, world.new_id, frozenset({"n0000", "n0001"})
    )
    assert plan.merges == [Merge(absorbed="n0001", survivor="n0000", event_index=0)]
    assert plan.conflicts == []


def test_persons_born_and_joined_inside_one_batch_are_never_created_twice() -> None:
    world = World()
    plan = world.send(
        ids("facebook:9"), ids("email:a@x.io", "cookie_id:1"), ids("email:a@x.io", "facebook:9")
    )
    assert plan.new_persons == ["n0000"]
    assert plan.merges == []
    assert plan.person_of_event == ["n0000"] * 3


def test_two_customer_ids_are_never_merged_and_the_refusal_is_a_conflict() -> None:
    world = World()
    world.send(ids("customer_id:C-1", "email:ana@x.io"))
    world.send(ids("customer_id:C-2", "email:bo@x.io"))
    plan = world.send(ids("email:ana@x.io", "customer_id:C-2"))  # a support agent's typo
    assert plan.merges == []
    assert plan.person_of_event == ["n0001"]  # the strongest identifier decides: customer id
    [conflict] = plan.conflicts
    assert (conflict.person, conflict.other, conflict.key) == ("n0001", "n0000", "email:ana@x.io")
    assert conflict.rule == "customer_id: at most 1 identifier of this type per person"
    assert len(world.persons()) == 2


def test_an_unowned_identifier_over_the_limit_gets_its_own_person() -> None:
    world = World()
    world.send(ids("customer_id:C-1"))
    plan = world.send(ids("customer_id:C-1", "customer_id:C-9"))
    assert plan.person_of_event == ["n0000"]
    assert plan.new_persons == ["n0001"]
    assert plan.claims == {"customer_id:C-9": "n0001"}
    assert [c.key for c in plan.conflicts] == ["customer_id:C-9"]


def test_a_shared_tablet_does_not_fuse_the_family_and_follows_its_last_user() -> None:
    world = World()
    world.send(ids("email:mum@x.io", "device_id:tablet"))
    plan = world.send(ids("email:kid@x.io", "device_id:tablet"))
    assert plan.merges == []
    assert plan.moves[0].key == "device_id:tablet"
    assert plan.moves[0].to_person == "n0001"
    assert world.persons() == {
        frozenset({"email:mum@x.io"}),
        frozenset({"email:kid@x.io", "device_id:tablet"}),
    }
    assert world.send(ids("device_id:tablet")).person_of_event == ["n0001"]  # weak only: its owner


def test_a_weak_identifier_never_pulls_a_new_strong_identifier_into_an_identified_person() -> None:
    world = World()
    world.send(ids("email:mum@x.io", "device_id:tablet"))
    plan = world.send(ids("device_id:tablet", "email:new@x.io"))
    assert plan.person_of_event == ["n0001"]
    assert world.persons() == {
        frozenset({"email:mum@x.io"}),
        frozenset({"email:new@x.io", "device_id:tablet"}),
    }


def test_anonymous_browsing_joins_the_profile_when_the_visitor_logs_in() -> None:
    world = World()
    world.send(ids("email:ana@x.io"))
    world.send(ids("cookie_id:c1"), ids("cookie_id:c1", "device_id:laptop"))  # anonymous visits
    plan = world.send(ids("email:ana@x.io", "cookie_id:c1"))
    assert plan.merges == [Merge(absorbed="n0001", survivor="n0000", event_index=0)]
    assert world.persons() == {frozenset({"email:ana@x.io", "cookie_id:c1", "device_id:laptop"})}


def test_an_event_with_only_weak_identifiers_prefers_an_identified_owner() -> None:
    world = World()
    world.send(ids("cookie_id:anon"))
    world.send(ids("email:ana@x.io", "device_id:phone"))
    plan = world.send(ids("cookie_id:anon", "device_id:phone"))
    # Ana's device decides the event is hers; her anonymous cookie history joins her, and
    # as in every merge the older id (here the anonymous one's) is the one kept.
    assert plan.merges == [Merge(absorbed="n0001", survivor="n0000", event_index=0)]
    assert plan.person_of_event == ["n0000"]
    assert world.persons() == {frozenset({"email:ana@x.io", "device_id:phone", "cookie_id:anon"})}


strong_pool = st.sampled_from([f"email:{c}@x.io" for c in "abcdefgh"] + ["phone:+1", "phone:+2"])
strong_events = st.lists(st.lists(strong_pool, min_size=1, max_size=3, unique=True), max_size=25)


@settings(max_examples=300, deadline=None)
@given(strong_events, st.integers(min_value=1, max_value=25))
def test_without_limits_persons_are_the_connected_components_however_the_batch_is_cut(
    events: list[list[str]], chunk: int
) -> None:
    world = World(RULES.without_limits())
    for start in range(0, len(events), chunk):
        world.send(*[ids(*keys) for keys in events[start : start + chunk]])
    assert world.persons() == components(events)


mixed_pool = st.sampled_from(
    [
        *["customer_id:C1", "customer_id:C2", "email:a@x.io", "email:b@x.io", "email:c@x.io"],
        *["phone:+1", "device_id:d1", "device_id:d2", "cookie_id:k1", "cookie_id:k2"],
    ]
)
mixed_events = st.lists(st.lists(mixed_pool, min_size=1, max_size=4, unique=True), max_size=30)
tight = RULES.with_overrides(
    {"email": TypeRule(2, Strength.STRONG, 80), "device_id": TypeRule(1, Strength.WEAK, 20)}
)


@settings(max_examples=300, deadline=None)
@given(mixed_events, st.integers(min_value=1, max_value=30))
def test_with_rules_in_play_every_identifier_has_one_owner_and_no_limit_breaks(
    events: list[list[str]], chunk: int
) -> None:
    world = World(tight)
    for start in range(0, len(events), chunk):
        plan = world.send(*[ids(*keys) for keys in events[start : start + chunk]])
        assert len(plan.person_of_event) == len(events[start : start + chunk])
    assert set(world.owners) == {key for keys in events for key in keys}
    for person, held in world.counts().items():
        for type_, count in held.items():
            assert count <= tight.rule(type_).limit, (person, type_, count)
    replay = World(tight)
    for start in range(0, len(events), chunk):
        replay.send(*[ids(*keys) for keys in events[start : start + chunk]])
    assert replay.persons() == world.persons()


@settings(max_examples=400, deadline=None)
@given(mixed_events, mixed_events, st.data())
def test_a_batch_planned_with_only_the_counts_it_consults_is_planned_the_same(
    before: list[list[str]], batch: list[list[str]], data: st.DataObject
) -> None:
    """What the store reads for a bulk batch (``holders_consulted``) is enough: the plan
    made with those persons' counts alone is the plan made with everyone's, merges held
    for review included."""
    world = World(tight)
    for keys in before:
        world.send(ids(*keys))
    events = [ids(*keys) for keys in batch]
    everyone = world.counts()
    persons = sorted(everyone)
    established = frozenset(data.draw(st.sets(st.sampled_from(persons))) if persons else ())
    consulted = holders_consulted(events, world.owners)
    assert consulted <= set(world.owners.values())
    full = plan_batch(events, world.owners, everyone, tight, counter_ids("x"), established)
    only = {person: held for person, held in everyone.items() if person in consulted}
    restricted = plan_batch(events, world.owners, only, tight, counter_ids("x"), established)
    assert restricted == full


def test_a_returning_customers_event_consults_nobodys_counts() -> None:
    world = World(tight)
    world.send(ids("email:a@x.io", "device_id:d1"))
    world.send(ids("email:b@x.io"))
    events = [ids("device_id:d1", "email:a@x.io"), ids("email:b@x.io"), ids("email:c@x.io")]
    assert holders_consulted(events, world.owners) == set()  # c is new: nobody gains
    joining = [ids("email:a@x.io", "email:b@x.io")]
    assert holders_consulted(joining, world.owners) == {"n0000", "n0001"}
