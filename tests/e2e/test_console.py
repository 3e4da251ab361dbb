"""The agent console in a real headless Chromium, as a support agent uses it: sign in once,
find Ana by a phone number written her own way, read her four channels, watch a new
event arrive, ask why two identifiers are linked, record her answer to an offer."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    Locator,
    Page,
    Route,
    WebSocketRoute,
    expect,
    sync_playwright,
)

from tests.e2e.server import ADMIN_KEY, Service, graphql, serving
from tests.stories import event, seed_story

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    folder: Path = tmp_path_factory.mktemp("console")
    with serving({"CDP_DATA_DIR": str(folder / "data")}, folder) as running:
        graphql(running.client, "Track", events=seed_story())
        products = [{"sku": "LAMP-1", "name": "Head lamp", "price": 24.0, "stock": 2}]
        graphql(running.client, "UpsertProducts", products=products)
        wished = event(
            "wishlist_add",
            "WEB",
            [("email", "ana.silva@example.com")],
            at="2026-03-03T10:00:00Z",
            message_id="wish-1",
            properties={"sku": "LAMP-1", "category": "outdoor"},
        )
        [result] = graphql(running.client, "Track", events=[wished])["track"]["results"]
        graphql(
            running.client,
            "SetConsent",
            personId=result["personId"],
            purpose="marketing",
            granted=True,
            source="web form",
        )
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, service: Service) -> Iterator[Page]:
    """A fresh browser session at 1280x800 that can reach nothing but the service."""
    context = browser.new_context(
        base_url=str(service.client.base_url), viewport={"width": 1280, "height": 800}
    )
    context.route(re.compile(r"^(?!https?://127\.0\.0\.1[:/]).*"), _offline)
    opened = context.new_page()
    yield opened
    context.close()


def _offline(route: Route) -> None:
    """No CDN, no internet: anything that leaves the machine fails, as it would here."""
    route.abort()


def sign_in(page: Page, key: str = ADMIN_KEY, *, accepted: bool = True) -> None:
    """Sign in as an agent does, and (when the key is good) wait for the sign-in dialog
    to close: the page behind a modal dialog takes no typing."""
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    if accepted:
        expect(page.get_by_role("dialog")).to_be_hidden()


def test_an_agent_signs_in_once_and_finds_ana_by_her_phone_written_her_own_way(
    page: Page,
) -> None:
    page.goto("/")
    expect(page.get_by_role("dialog")).to_be_visible()
    sign_in(page)
    page.get_by_label("Find a customer by any identifier").fill("+44 (0)20 7946-0958")
    page.get_by_role("button", name="Find", exact=True).click()
    expect(page.get_by_role("heading", name="Ana", exact=True)).to_be_visible()
    events = page.get_by_role("list", name="Events, newest first")
    for channel in ("Facebook", "Web", "Phone", "Mobile app"):
        expect(events.get_by_role("img", name=channel, exact=True).first).to_be_visible()
    expect(events.get_by_text("“Is my order on its way?”")).to_be_visible()
    expect(events.get_by_text("4 min call")).to_be_visible()

    page.reload()  # the key is kept for the browser session: no second sign-in
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(page.get_by_role("heading", name="Ana", exact=True)).to_be_visible()


def test_a_new_event_appears_at_the_top_without_a_reload(page: Page, service: Service) -> None:
    page.goto("/?type=email&value=ana.silva@example.com")
    sign_in(page)
    expect(page.locator("#live")).to_have_text("live")
    call = event(
        "message_received",
        "WHATSAPP",
        [("whatsapp", "+44 20 7946 0958"), ("email", "ana.silva@example.com")],
        at="2026-03-04T09:00:00Z",
        message_id="wa-live-1",
        properties={"text": "Any news about the tent?"},
    )
    graphql(service.client, "Track", events=[call])
    newest = page.get_by_role("list", name="Events, newest first").get_by_role("listitem").first
    expect(newest).to_contain_text("Any news about the tent?")
    expect(newest.get_by_role("img", name="WhatsApp")).to_be_visible()


class Relay:
    """The console's WebSocket passed through to the service untouched, noting the
    subscriptions the page opens, so that a test can say to the page what the service
    says when its live feed lost its place (cdp.live.Missed)."""

    def __init__(self, *, holding: str | None = None) -> None:
        self.page_side: WebSocketRoute | None = None
        self.subscribed: list[str] = []  # operation ids, in the order the page sent them
        self.holding = holding  # a subscription kept from the service until released
        self.held: list[str | bytes] = []
        self.to_service: WebSocketRoute | None = None

    def __call__(self, socket: WebSocketRoute) -> None:
        service = socket.connect_to_server()
        self.page_side, self.to_service = socket, service

        def from_page(message: str | bytes) -> None:
            sent = json.loads(message)
            if sent.get("type") == "subscribe":
                self.subscribed.append(sent["id"])
                if self.holding and self.holding in sent["payload"]["query"]:
                    self.held.append(message)
                    return
            service.send(message)

        socket.on_message(from_page)
        service.on_message(socket.send)

    def release(self) -> None:
        """What was held goes to the service, late."""
        assert self.to_service is not None
        for message in self.held:
            self.to_service.send(message)
        self.held.clear()

    def drop(self) -> None:
        """The connection lost, as when the service restarts: the page's socket closes
        with "going away", and the browser client connects again by itself."""
        assert self.page_side is not None
        self.page_side.close(code=1001, reason="going away")

    def end_every_subscription_as_missed(self) -> None:
        """What the service sends each subscription when its feed lost its place: the
        error with its code and advice, then the end."""
        assert self.page_side is not None
        error = {
            "message": "live updates missed some changes (the database no longer holds the "
            "feed's place in its history); read the person again and subscribe again",
            "extensions": {"code": "SERVICE_UNAVAILABLE"},
        }
        for operation_id in self.subscribed:
            answer = {
                "id": operation_id,
                "type": "next",
                "payload": {"data": None, "errors": [error]},
            }
            self.page_side.send(json.dumps(answer))
            self.page_side.send(json.dumps({"id": operation_id, "type": "complete"}))


def test_after_the_live_feed_missed_changes_the_screen_reads_again_and_follows_again(
    page: Page, service: Service
) -> None:
    """The service ends a subscription with SERVICE_UNAVAILABLE when its feed lost its
    place: the agent is told, and a moment later the screen has followed again and read
    what it may have missed (an event that landed in between), without a reload."""
    relay = ana_live_through_a_relay(page)
    live = page.locator("#live")
    assert len(relay.subscribed) == 2  # her events and her profile's changes

    relay.end_every_subscription_as_missed()
    expect(live).to_contain_text("missed some changes")
    expect(live).to_contain_text("trying again in 1 s")
    ana_writes(service, "wa-away-1", "2026-03-05T09:00:00Z", "Hello? Anyone there?")
    events = page.get_by_role("list", name="Events, newest first")
    expect(events.get_by_role("listitem").first).to_contain_text("Hello? Anyone there?")
    expect(live).to_have_text("live")
    assert len(relay.subscribed) == 4  # both followed again

    ana_writes(service, "wa-back-1", "2026-03-06T09:00:00Z", "Thanks, got it.")
    expect(events.get_by_role("listitem").first).to_contain_text("Thanks, got it.")


def test_after_a_dropped_connection_the_screen_reads_what_landed_meanwhile(
    page: Page, service: Service
) -> None:
    """The socket drops (the service restarting, a network blink): the screen says it is
    reconnecting, and once connected again shows an event that landed while it was
    away, which no subscription could carry."""
    relay = ana_live_through_a_relay(page)
    live = page.locator("#live")

    relay.drop()
    expect(live).to_have_text("reconnecting…")
    ana_writes(service, "wa-gap-1", "2026-03-07T09:00:00Z", "Are you still open today?")
    events = page.get_by_role("list", name="Events, newest first")
    # the client waits 1.3 to 4 s before it connects again
    expect(live).to_have_text("live", timeout=15_000)
    expect(events.get_by_role("listitem").first).to_contain_text("Are you still open today?")


def test_an_event_landing_before_its_subscription_follows_still_appears(
    page: Page, service: Service
) -> None:
    """A subscribe is never acknowledged, so the service may follow the events a moment
    after the screen asked (a busy service, a slow network). The screen says "live" once
    the profile subscription's first message says the service follows her; an event
    that lands while her events' subscription is still on its way shows all the same,
    read with the profile change it causes."""
    relay = ana_live_through_a_relay(page, holding="personEvents")
    assert relay.held  # her events' subscription has not reached the service
    ana_writes(service, "wa-early-1", "2026-03-08T09:00:00Z", "Is the blue tent back?")
    events = page.get_by_role("list", name="Events, newest first")
    expect(events.get_by_role("listitem").first).to_contain_text("Is the blue tent back?")

    relay.release()  # then it arrives, and events come by it as before
    ana_writes(service, "wa-early-2", "2026-03-09T09:00:00Z", "Found it, thanks!")
    expect(events.get_by_role("listitem").first).to_contain_text("Found it, thanks!")
    asked = events.get_by_role("listitem").filter(has_text="Is the blue tent back?")
    expect(asked).to_have_count(1)  # once, though each profile change reads the page again


def ana_live_through_a_relay(page: Page, *, holding: str | None = None) -> Relay:
    """Ana's screen open and live, its socket passing through a :class:`Relay`."""
    relay = Relay(holding=holding)
    page.route_web_socket(re.compile(r"/graphql$"), relay)
    page.goto("/?type=email&value=ana.silva@example.com")
    sign_in(page)
    expect(page.locator("#live")).to_have_text("live")
    return relay


def ana_writes(service: Service, message_id: str, at: str, text: str) -> None:
    """A WhatsApp message from Ana (known by her email) through ``track``."""
    message = event(
        "message_received",
        "WHATSAPP",
        [("email", "ana.silva@example.com")],
        at=at,
        message_id=message_id,
        properties={"text": text},
    )
    graphql(service.client, "Track", events=[message])


def test_the_agent_reads_why_two_identifiers_are_linked(page: Page) -> None:
    proof = why_her_facebook_is_linked(page)
    expect(proof).to_contain_text("app-1")


def why_her_facebook_is_linked(page: Page) -> Locator:
    """Ana's screen opened by her Facebook id, live, with the proof of that id's link
    open (the handle on the line clicked, as an agent clicks it)."""
    page.goto("/?type=facebook&value=10158000000001")
    sign_in(page)
    expect(page.locator("#live")).to_have_text("live")
    link = page.get_by_role("button", name=re.compile(r"^Link .*facebook:10158000000001"))
    link.locator(".link-handle").click()
    proof = page.locator("#proof")
    expect(proof).to_contain_text("seen together in Login on Mobile app")
    return proof


def test_a_change_of_her_profile_leaves_the_proof_the_agent_is_reading(
    page: Page, service: Service
) -> None:
    """Ana tells the shop where she lives while the agent reads why two of her
    identifiers are linked: the screen reads her profile again and shows the city, and
    leaves the graph and its proof, which did not change, as the agent has them."""
    proof = why_her_facebook_is_linked(page)
    moved = event(
        "form_submitted",
        "WEB",
        [("email", "ana.silva@example.com")],
        at="2026-03-10T09:00:00Z",
        message_id="web-city-1",
        traits={"city": "Porto", "country": "PT"},
    )
    graphql(service.client, "Track", events=[moved])
    expect(page.locator(".facts")).to_contain_text("Porto, PT")
    expect(proof).to_contain_text("seen together in Login on Mobile app")


def test_a_customer_erased_while_open_leaves_the_screen_at_once(
    page: Page, service: Service
) -> None:
    """Bo asks to be forgotten while an agent has him open: the erasure ends the
    screen's subscription, and the screen says he was erased instead of showing his
    data until someone clicks."""
    visit = event(
        "form_submitted",
        "WEB",
        [("email", "bo.lindqvist@example.se")],
        at="2026-03-02T11:00:00Z",
        message_id="web-bo-1",
        traits={"firstName": "Bo"},
    )
    [bo] = graphql(service.client, "Track", events=[visit])["track"]["results"]
    page.goto("/?type=email&value=bo.lindqvist@example.se")
    sign_in(page)
    expect(page.get_by_role("heading", name="Bo", exact=True)).to_be_visible()
    expect(page.locator("#live")).to_have_text("live")
    graphql(service.client, "ErasePerson", id=bo["personId"], reason="asked to be forgotten")
    expect(page.get_by_role("heading", name="Customer erased")).to_be_visible()
    expect(page.get_by_text("bo.lindqvist@example.se")).to_have_count(0)


def test_the_agent_records_the_customers_answer_to_an_offer(page: Page, service: Service) -> None:
    page.goto("/?type=email&value=ana.silva@example.com")
    sign_in(page)
    offer = page.locator(".offer", has_text="Head lamp")
    expect(offer).to_contain_text("only 2 left")
    offer.get_by_role("button", name="Accepted").click()
    expect(offer.get_by_role("status")).to_have_text("Recorded: accepted.")


def test_a_refused_key_and_a_key_without_the_scope_are_told_in_words(
    page: Page, service: Service
) -> None:
    page.goto("/?view=overview")
    sign_in(page, "cdp_not-a-real-key", accepted=False)
    expect(page.locator("#signin-error")).to_contain_text("key")
    writer = graphql(service.client, "CreateApiKey", name="integration", scopes=["EVENTS_WRITE"])[
        "createApiKey"
    ]["key"]
    sign_in(page, writer)
    expect(page.get_by_role("alert")).to_contain_text("profiles:read")


def test_the_overview_draws_segment_sizes_and_the_rfm_map(page: Page) -> None:
    page.goto("/?view=overview")
    sign_in(page)
    expect(page.get_by_role("list", name="Segment sizes, largest first")).to_be_visible()
    expect(page.get_by_role("table", name="RFM heat map").get_by_role("cell")).to_have_count(25)


def test_graphiql_works_with_its_own_assets_and_no_internet(page: Page) -> None:
    page.goto("/")
    sign_in(page)
    page.goto("/graphql")
    expect(page.locator(".graphiql-container")).to_be_visible()
    expect(page.get_by_text("findPersons").first).to_be_visible()


def test_a_read_only_key_is_offered_no_actions_it_may_not_take(
    page: Page, service: Service
) -> None:
    reader = graphql(
        service.client, "CreateApiKey", name="agent", scopes=["PROFILES_READ", "PII_READ"]
    )["createApiKey"]["key"]
    page.goto("/?type=email&value=ana.silva@example.com")
    sign_in(page, reader)
    expect(page.get_by_role("heading", name="Ana", exact=True)).to_be_visible()
    expect(page.locator(".offer", has_text="Head lamp")).to_be_visible()
    expect(page.get_by_role("button", name="Accepted")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Unlink"))).to_have_count(0)
    expect(page.get_by_text("Unlinking and merging need an admin key.")).to_be_visible()


def test_the_console_page_runs_only_its_own_scripts(service: Service) -> None:
    page = service.client.get("/", headers={"Accept": "text/html"})
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
