"""Why are these one person? The graph, the path of proofs and the merge history."""

from datetime import UTC, datetime

from cdp.ingest import IngestLimits, track
from cdp.linking.explain import identity_graph, identity_path, merge_history
from cdp.profile.find import find_by_identifier
from cdp.store import Stores
from tests.stories import seed_story


async def test_the_seed_storys_facebook_id_and_phone_are_explained_link_by_link(
    stores: Stores, limits: IngestLimits
) -> None:
    for raw in seed_story():
        await track(stores, [raw], limits)
    path = await identity_path(
        stores, ("facebook", "10158000000001"), ("phone", "020 7946 0958"), "GB"
    )
    assert path.linked
    assert [(s.from_key, s.to_key, s.event_id, s.source) for s in path.steps] == [
        ("facebook:10158000000001", "email:ana.silva@example.com", "app-1", "MOBILE_APP"),
        ("email:ana.silva@example.com", "phone:+442079460958", "call-1", "PHONE"),
    ]


async def test_the_identity_graph_holds_every_identifier_and_the_links_between_them(
    stores: Stores, limits: IngestLimits
) -> None:
    for raw in seed_story():
        await track(stores, [raw], limits)
    profile = await find_by_identifier(stores, "cookie_id", "ck-7f3a", "GB")
    assert profile is not None
    graph = await identity_graph(stores, profile)
    assert len(graph.nodes) == 4
    assert {(e["a"], e["b"], e["event_id"]) for e in graph.edges} == {
        ("cookie_id:ck-7f3a", "email:ana.silva@example.com", "web-1"),
        ("email:ana.silva@example.com", "phone:+442079460958", "call-1"),
        ("email:ana.silva@example.com", "facebook:10158000000001", "app-1"),
    }


async def test_identifiers_of_different_persons_are_not_linked_and_it_says_so(
    stores: Stores, limits: IngestLimits
) -> None:
    await track(stores, seed_story()[:2], limits)
    path = await identity_path(
        stores, ("facebook", "10158000000001"), ("cookie_id", "ck-7f3a"), "GB"
    )
    assert not path.linked
    assert (
        path.reason == "facebook:10158000000001 and cookie_id:ck-7f3a belong to different persons"
    )
    unknown = await identity_path(
        stores, ("email", "x@example.com"), ("cookie_id", "ck-7f3a"), "GB"
    )
    assert unknown.reason == "no person holds email:x@example.com"


async def test_the_merge_history_says_when_which_persons_identifiers_and_event(
    stores: Stores, limits: IngestLimits
) -> None:
    story = seed_story()
    story[0]["traits"] = {"city": "Lisbon"}
    story[1]["traits"] = {"firstName": "Ana", "city": "Porto"}  # set later: it wins
    for raw in story:
        await track(stores, [raw], limits)
    profile = await find_by_identifier(stores, "facebook", "10158000000001", "GB")
    assert profile is not None
    assert profile.traits == {"firstName": "Ana", "city": "Porto"}
    [record] = await merge_history(stores, profile)
    assert record["survivor"] == profile.id
    assert record["absorbed"] == profile.merged_from[0]
    assert record["event_id"] == "app-1"
    assert sorted(record["identifiers"]) == [
        "cookie_id:ck-7f3a",
        "email:ana.silva@example.com",
        "phone:+442079460958",
    ]
    assert record["replaced_traits"] == {
        "city": {
            "value": "Lisbon",
            "set_at": datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
            "person_id": profile.id,
        }
    }
