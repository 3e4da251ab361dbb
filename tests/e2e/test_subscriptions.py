"""Live updates as a frontend gets them: a WebSocket to ``cdp serve`` speaking
graphql-transport-ws, signed in with an API key, following a customer while her events
land through the HTTP API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from gql import Client, gql
from gql.transport.exceptions import TransportConnectionFailed
from gql.transport.websockets import WebsocketsTransport
from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from cdp.store.database import Document
from tests.e2e.server import ADMIN_KEY, Service, graphql, serving
from tests.resolvers.graphql import operation

PROTOCOL = "graphql-transport-ws"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    folder: Path = tmp_path_factory.mktemp("live")
    with serving({"CDP_DATA_DIR": str(folder / "data")}, folder) as running:
        yield running


@contextmanager
def signed_in(service: Service, key: str | None) -> Iterator[ClientConnection]:
    url = str(service.client.base_url).replace("http://", "ws://") + "/graphql"
    with connect(url, subprotocols=[PROTOCOL], open_timeout=10) as socket:  # type: ignore[list-item]
        payload = {"Authorization": f"Bearer {key}"} if key else {}
        socket.send(json.dumps({"type": "connection_init", "payload": payload}))
        yield socket


def receive(socket: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(socket.recv(timeout=15))
    return message


def subscribe(socket: ClientConnection, name: str, **variables: Any) -> None:
    """Once signed in, the first subscription: operation "1"."""
    assert receive(socket)["type"] == "connection_ack"
    also_subscribe(socket, "1", name, **variables)


def also_subscribe(
    socket: ClientConnection, operation_id: str, name: str, **variables: Any
) -> None:
    body = {"query": operation(name), "variables": variables}
    socket.send(json.dumps({"id": operation_id, "type": "subscribe", "payload": body}))


def followed(socket: ClientConnection, person: str) -> None:
    """Subscribe to the person's events (operation "1"), then to her profile ("2"), and
    wait for the profile's first message: the protocol acknowledges no subscribe, and
    that message says the service follows her (the events' subscription, taken up
    first, follows her by then)."""
    subscribe(socket, "PersonEvents", personId=person)
    also_subscribe(socket, "2", "PersonChanged", personId=person)
    assert receive(socket)["id"] == "2"


def receive_events(socket: ClientConnection) -> dict[str, Any]:
    """The next message of the events' subscription, past the profile's."""
    while (message := receive(socket))["id"] != "1":
        pass
    return message


def track(service: Service, message_id: str, *identifiers: tuple[str, str], **extra: Any) -> str:
    sent = {
        "messageId": message_id,
        "type": extra.pop("type", "page_view"),
        "channel": extra.pop("channel", "WEB"),
        "identifiers": [{"type": t, "value": v} for t, v in identifiers],
        "timestamp": "2026-11-30T10:00:00Z",
        **extra,
    }
    [result] = graphql(service.client, "Track", events=[sent])["track"]["results"]
    assert result["status"] == "ACCEPTED", result
    person: str = result["personId"]
    return person


def key_with(service: Service, *scopes: str) -> str:
    made = graphql(service.client, "CreateApiKey", name="live test", scopes=list(scopes))
    key: str = made["createApiKey"]["key"]
    return key


def test_without_a_key_the_socket_is_refused(service: Service) -> None:
    with signed_in(service, None) as socket, pytest.raises(ConnectionClosed) as closed:
        receive(socket)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


def test_a_key_that_may_not_read_profiles_is_refused_the_subscription(service: Service) -> None:
    person = track(service, "scope-1", ("email", "lena.berg@example.se"))
    with signed_in(service, key_with(service, "EVENTS_WRITE")) as socket:
        subscribe(socket, "PersonEvents", personId=person)
        answer = receive(socket)
        assert answer["type"] == "next"  # the refusal, then the end of the subscription
        assert answer["payload"]["data"] is None
        [error] = answer["payload"]["errors"]
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert "profiles:read" in error["message"]
        assert receive(socket)["type"] == "complete"


def test_a_document_of_two_subscriptions_must_name_the_one_to_follow(service: Service) -> None:
    """Two subscriptions in one document and no ``operationName``: refused, as over HTTP,
    rather than following the first one."""
    lena = track(service, "two-ops-1", ("email", "lena.berg@example.se"))
    document = (
        f'subscription Lena {{ personEvents(personId: "{lena}") {{ id }} }} '
        'subscription Nobody { personEvents(personId: "nobody") { id } }'
    )
    with signed_in(service, ADMIN_KEY) as socket:
        assert receive(socket)["type"] == "connection_ack"
        socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": document}}))
        refused = receive(socket)
        assert refused["type"] == "error"
        [error] = refused["payload"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert "operationName" in error["message"]
        named = {"query": document, "operationName": "Nobody"}
        socket.send(json.dumps({"id": "2", "type": "subscribe", "payload": named}))
        answer = receive(socket)
        assert answer["id"] == "2"
        [error] = answer["payload"]["errors"]
        assert error["extensions"]["code"] == "NOT_FOUND"


def test_an_agent_sees_each_new_event_of_the_customer_as_it_lands(service: Service) -> None:
    """Sofia calls the shop while the agent has her open; a visit by her old cookie is
    merged into her as it proves the link, and from then on counts as hers."""
    sofia = track(
        service, "live-1", ("email", "sofia.reyes@example.es"), ("phone", "+34 612 48 27 91")
    )
    with signed_in(service, key_with(service, "PROFILES_READ")) as socket:
        followed(socket, sofia)
        stranger = track(service, "live-2", ("cookie_id", "ck-other"))  # someone else
        track(service, "live-3", ("phone", "+34612482791"), type="call", channel="PHONE")
        call = receive_events(socket)
        assert call["type"] == "next"
        event = call["payload"]["data"]["personEvents"]
        assert (event["id"], event["type"], event["channel"]) == ("live-3", "call", "PHONE")
        # an old cookie, first seen alone, then proven hers by a login
        cookie = track(service, "live-4", ("cookie_id", "ck-sofia"))
        assert cookie != sofia
        track(service, "live-5", ("cookie_id", "ck-sofia"), ("email", "sofia.reyes@example.es"))
        track(service, "live-6", ("cookie_id", "ck-sofia"), type="product_view")
        seen = [receive_events(socket)["payload"]["data"]["personEvents"]["id"] for _ in range(2)]
        assert seen == ["live-5", "live-6"]  # never live-2 or live-4 (not hers then)
    assert stranger != sofia


def test_the_profile_comes_first_as_it_is_once_the_service_follows_her(
    service: Service,
) -> None:
    """A subscribe is never acknowledged; the profile's first message is the sign that
    the service follows her, so a screen that reads her events after it misses none."""
    person = track(service, "first-1", ("email", "lena.vogel@example.de"), traits={"city": "Köln"})
    with signed_in(service, key_with(service, "PROFILES_READ")) as socket:
        subscribe(socket, "PersonChanged", personId=person)
        first = receive(socket)
    assert first["type"] == "next"
    profile = first["payload"]["data"]["personChanged"]
    assert (profile["id"], profile["traits"]) == (person, {"city": "Köln"})


def test_the_profile_is_sent_again_when_it_changes(service: Service) -> None:
    person = track(service, "changed-1", ("email", "noor.haddad@example.ae"))
    with signed_in(service, ADMIN_KEY) as socket:
        subscribe(socket, "PersonChanged", personId=person)
        assert receive(socket)["payload"]["data"]["personChanged"]["traits"] == {}
        track(
            service,
            "changed-2",
            ("email", "noor.haddad@example.ae"),
            type="purchase",
            channel="STORE",
            properties={"total": 64.0},
            traits={"firstName": "Noor"},
        )
        for _ in range(10):  # the trait write and the refresh may come as separate sends
            profile = receive(socket)["payload"]["data"]["personChanged"]
            if profile["metrics"] and profile["metrics"]["purchases"]["orders"] == 1:
                break
        assert profile["id"] == person
        assert profile["traits"] == {"firstName": "Noor"}
        assert profile["metrics"]["purchases"]["revenue"] == 64.0


def test_both_subscriptions_end_when_the_person_is_erased(service: Service) -> None:
    """Karin is erased while a screen follows her: both subscriptions are completed, so
    the screen knows to let go of what it shows of her, and holds nothing open."""
    karin = track(service, "erased-1", ("email", "karin.dahl@example.no"))
    with signed_in(service, ADMIN_KEY) as socket:
        followed(socket, karin)
        graphql(service.client, "ErasePerson", id=karin, reason="asked to be forgotten")
        ended = [receive(socket), receive(socket)]
    assert sorted(ended, key=lambda m: m["id"]) == [
        {"id": "1", "type": "complete"},
        {"id": "2", "type": "complete"},
    ]


def test_a_revoked_key_cannot_open_a_socket(service: Service) -> None:
    made = graphql(service.client, "CreateApiKey", name="leaver", scopes=["PROFILES_READ"])
    graphql(service.client, "RevokeApiKey", id=made["createApiKey"]["id"])
    key = made["createApiKey"]["key"]
    with signed_in(service, key) as socket, pytest.raises(ConnectionClosed) as closed:
        receive(socket)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


async def test_a_graphql_ws_client_follows_events_written_through_another_instance(
    db: AsyncDatabase[Document], mongodb_uri: str, tmp_path: Path
) -> None:
    """Two instances on one database, as behind a load balancer, and a third-party
    client (gql's graphql-transport-ws transport): the agent's subscription is on the
    first instance, the customer's event lands through the second; without a key the
    same client is refused."""
    shared = {"CDP_MONGODB_URI": mongodb_uri, "CDP_DB_NAME": db.name}
    with serving(shared, tmp_path) as first, serving(shared, tmp_path) as second:
        nina = track(second, "multi-1", ("email", "nina.kowalski@example.pl"))
        signed = transport(first, {"Authorization": f"Bearer {ADMIN_KEY}"})
        async with Client(transport=signed) as session:
            request = gql(operation("PersonEvents"))
            request.variable_values = {"personId": nina}
            stream = session.subscribe(request)
            arriving = asyncio.create_task(anext(stream))
            # the protocol does not acknowledge a subscribe: give the first instance a
            # moment to register it (the change stream itself is already open)
            await asyncio.sleep(0.5)
            await asyncio.to_thread(
                track, second, "multi-2", ("email", "nina.kowalski@example.pl"), type="login"
            )
            answer = await asyncio.wait_for(arriving, 15)
        assert answer["personEvents"]["id"] == "multi-2"

        with pytest.raises(TransportConnectionFailed) as refused:
            async with Client(transport=transport(first, None)) as anonymous:
                await anonymous.execute(gql("{ __typename }"))
        closed = refused.value.__cause__
        assert isinstance(closed, ConnectionClosed)
        assert closed.rcvd is not None
        assert closed.rcvd.code == 4403  # Forbidden


async def test_a_burst_of_profile_writes_is_sent_once(
    db: AsyncDatabase[Document], mongodb_uri: str, tmp_path: Path
) -> None:
    """Five writes of Omar's profile in one command (an integration correcting his
    traits field by field) reach a follower as one message with the last of them, not
    five a quarter of a second apart; the next write is sent again."""
    with serving({"CDP_MONGODB_URI": mongodb_uri, "CDP_DB_NAME": db.name}, tmp_path) as service:
        omar = track(service, "burst-1", ("email", "omar.farouk@example.eg"))

        def follow() -> list[dict[str, Any]]:
            with signed_in(service, ADMIN_KEY) as socket:
                subscribe(socket, "PersonChanged", personId=omar)
                sent = [receive(socket)]  # as he is: following from now
                asyncio.run_coroutine_threadsafe(written(5), loop).result(15)
                sent.append(receive(socket))
                with pytest.raises(TimeoutError):
                    socket.recv(timeout=1.5)  # four more would have come by now
                asyncio.run_coroutine_threadsafe(written(1, start=5), loop).result(15)
                sent.append(receive(socket))
                return sent

        async def written(times: int, start: int = 0) -> None:
            steps = [
                UpdateOne({"_id": omar}, {"$set": {"traits.step": start + n}}) for n in range(times)
            ]
            await db["persons"].bulk_write(steps)

        loop = asyncio.get_running_loop()
        sent = await asyncio.to_thread(follow)
    steps = [message["payload"]["data"]["personChanged"]["traits"].get("step") for message in sent]
    assert steps == [None, 4, 5]


async def test_a_bug_met_while_following_is_an_internal_error_not_the_clients_fault(
    db: AsyncDatabase[Document], mongodb_uri: str, tmp_path: Path
) -> None:
    """An event document the service cannot read (written by hand, without the time it
    was received) reaches a follower's stream: the subscription ends with
    INTERNAL_SERVER_ERROR and the generic sentence, as a query's bug would, not
    BAD_USER_INPUT with the missing key's name."""
    with serving({"CDP_MONGODB_URI": mongodb_uri, "CDP_DB_NAME": db.name}, tmp_path) as service:
        iris = track(service, "bug-1", ("email", "iris.berg@example.se"))

        def follow() -> dict[str, Any]:
            with signed_in(service, ADMIN_KEY) as socket:
                subscribe(socket, "PersonEvents", personId=iris)
                asyncio.run_coroutine_threadsafe(written_by_hand(), loop).result(15)
                return receive(socket)

        async def written_by_hand() -> None:
            await asyncio.sleep(0.5)  # the subscribe is not acknowledged: let it register
            hand_made = {"_id": "bug-2", "person_id": iris, "type": "call", "channel": "PHONE"}
            await db["events"].insert_one(hand_made)

        loop = asyncio.get_running_loop()
        answer = await asyncio.to_thread(follow)
    assert answer["type"] == "next"
    [error] = answer["payload"]["errors"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "received_at" not in error["message"]


def transport(service: Service, init: dict[str, Any] | None) -> WebsocketsTransport:
    url = str(service.client.base_url).replace("http://", "ws://") + "/graphql"
    return WebsocketsTransport(
        url=url, init_payload=init or {}, subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL]
    )
