// One customer on one screen: who they are, how we know them, what they did (live), the
// segments they are in and the offers worth making now.

import { ApiError, gql, liveClient, permissions } from "./api.js";
import { drawGraph } from "./graph.js";
import { CHANNELS, PLATFORM_TYPES, channelName, day, esc, eventRow, money, when } from "./format.js";

const PROFILE = `query Customer($id: ID!) {
  person(id: $id) {
    id traits mergedFrom createdAt updatedAt refreshPendingSince
    identifiers { type value firstSeen lastSeen }
    consents { purpose channel granted source at }
    metrics {
      purchases { orders revenue averageOrderValue lastOrderAt daysSinceLastOrder }
      rfm { code segment }
      clv { tier expectedValue12m probabilityAlive }
      engagement { preferredChannel mostActiveHour openRate }
    }
    segments { enteredAt segment { id name kind } }
    nextBestOffers(limit: 3) {
      offer { id name kind } product { sku name } reason channel probability decision sendAt
    }
    identityGraph {
      nodes { type value }
      edges { from to eventId source at event { id type channel timestamp properties } }
    }
    mergeHistory { id kind at agent reason identifiers }
  }
}`;

const TIMELINE = `query Timeline($id: ID!, $first: Int, $after: String, $channels: [Channel!],
    $types: [String!], $excludeTypes: [String!], $since: DateTime, $until: DateTime) {
  person(id: $id) {
    timeline(first: $first, after: $after, channels: $channels, types: $types,
             excludeTypes: $excludeTypes, since: $since, until: $until) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { id type channel timestamp properties } }
    }
  }
}`;

const EVENTS = `subscription Events($personId: ID!) {
  personEvents(personId: $personId) { id type channel timestamp properties }
}`;
const CHANGED = `subscription Changed($personId: ID!) { personChanged(personId: $personId) { id } }`;
// how long the screen waits before following again after the service said "try again"
const FIRST_RETRY_MS = 1000;
const LAST_RETRY_MS = 30000;

const RESPOND = `mutation Respond($personId: ID!, $offerId: ID!, $response: OfferResponse!, $channel: Channel, $decision: String) {
  recordOfferResponse(personId: $personId, offerId: $offerId, response: $response, channel: $channel, decision: $decision)
}`;
const UNLINK = `mutation Unlink($personId: ID!, $identifier: IdentifierInput!, $reason: String!) {
  unlinkIdentifier(personId: $personId, identifier: $identifier, reason: $reason) { persons { id } }
}`;
const MERGE = `mutation Merge($into: ID!, $from: ID!, $reason: String!) {
  mergePersons(into: $into, from: $from, reason: $reason) { id }
}`;

const PAGE = 30;

export async function personPage(main, personId, { onGone, current = () => true }) {
  const screen = new CustomerScreen(main, personId, onGone);
  await screen.open(current);
  return () => screen.close();
}

class CustomerScreen {
  constructor(main, personId, onGone) {
    this.main = main;
    this.id = personId;
    this.onGone = onGone;
    this.filters = { lane: "customer", channel: "", type: "", since: "", until: "" };
    this.after = null;
    this.live = null;
    this.following = []; // the live subscriptions' stops
    this.synced = false; // following, and what landed before read (goLive)
    this.said = new Map(); // offer id: what recording the customer's answer said
    this.closed = false;
    this.retryIn = FIRST_RETRY_MS;
    this.resuming = null;
    this.stops = [() => this.unfollow(), () => clearTimeout(this.resuming)];
  }

  async open(current) {
    this.may = await permissions();
    const person = (await gql(PROFILE, { id: this.id })).person;
    if (!current()) return; // the agent went elsewhere meanwhile
    if (!person) {
      this.main.innerHTML = `<section class="notice"><h1>No such customer</h1><p>No person has the id ${esc(this.id)} (it may have been erased).</p></section>`;
      return;
    }
    this.id = person.id; // an absorbed id opens the survivor
    this.main.innerHTML = `<div id="header"></div>
      <div class="grid">
        <div>
          <section aria-labelledby="timeline-title">
            <h2 id="timeline-title">Timeline <span id="live" class="live off" aria-live="polite">connecting…</span></h2>
            ${this.filterForm()}
            <p id="count" class="muted"></p>
            <ol class="events" id="events" aria-label="Events, newest first"></ol>
            <p><button type="button" id="older" hidden>Older events</button></p>
          </section>
        </div>
        <div>
          <section aria-labelledby="offers-title"><h2 id="offers-title">Next best offers</h2><div id="offers"></div></section>
          <section aria-labelledby="segments-title"><h2 id="segments-title">Segments</h2><div id="segments"></div></section>
          <section aria-labelledby="ids-title"><h2 id="ids-title">Identities</h2><div id="identities"></div>
            <h3>Identity graph</h3><div class="graph" id="graph"></div>
            <h3>Merge history</h3><div id="merges"></div>
            ${
              this.may.linkIdentities
                ? `<h3>Merge a duplicate into this customer</h3>
            <form id="merge" class="filters"><label>Duplicate's person id<input name="from" required></label>
              <label>Reason<input name="reason" required value="same customer, confirmed by phone"></label>
              <button type="submit">Merge…</button></form>`
                : `<p class="muted">Unlinking and merging need an admin key.</p>`
            }
            <p id="action-result" role="status"></p>
          </section>
        </div>
      </div>`;
    this.render(person);
    this.bindFilters();
    this.main.querySelector("#merge")?.addEventListener("submit", (e) => this.merge(e));
    await this.loadTimeline(true);
    this.goLive();
  }

  /** Erased while open: nothing of them stays on the screen. */
  gone() {
    this.close();
    this.main.innerHTML = `<section class="notice" role="alert"><h1>Customer erased</h1><p>Person ${esc(this.id)} was erased while this screen was open: nothing of them is kept.</p></section>`;
  }

  close() {
    if (this.closed) return;
    this.closed = true; // a read still under way draws nothing: the screen may be another's now
    this.stops.forEach((stop) => stop());
    this.live?.dispose();
  }

  /** Draw the profile. A part holding what the agent opened or is answering (the
   * identities' buttons, a link's proof in the graph, the offers) is drawn again only
   * when what it shows changed: the profile is read again after every change of it. */
  render(person) {
    const was = this.person;
    this.person = person;
    const differs = (part) => !was || JSON.stringify(part(was)) !== JSON.stringify(part(person));
    this.main.querySelector("#header").innerHTML = header(person);
    this.main.querySelector("#segments").innerHTML = segments(person.segments);
    this.main.querySelector("#merges").innerHTML = merges(person.mergeHistory);
    // each read decides its offers anew (a new decision id, a little exploration)
    if (differs((p) => p.nextBestOffers.map((o) => [o.offer.id, o.product?.sku, o.reason, o.channel]))) {
      this.renderOffers(person.nextBestOffers);
    }
    if (differs((p) => p.identityGraph)) drawGraph(this.main.querySelector("#graph"), person.identityGraph);
    if (differs((p) => p.identifiers)) {
      this.main.querySelector("#identities").innerHTML = identities(person.identifiers, this.may.linkIdentities);
      for (const button of this.main.querySelectorAll("button[data-unlink]")) {
        button.addEventListener("click", () => this.unlink(button.dataset.type, button.dataset.value));
      }
    }
  }

  renderOffers(offers) {
    const box = this.main.querySelector("#offers");
    if (!offers.length) {
      box.innerHTML = `<p class="muted">Nothing to offer now (no consented channel, or nothing eligible).</p>`;
      return;
    }
    box.innerHTML = offers
      .map(
        (o, i) => `<div class="offer" data-offer="${esc(o.offer.id)}">
          <strong>${esc(o.offer.name)}</strong>${o.product && o.product.name !== o.offer.name ? ` · ${esc(o.product.name)}` : ""}
          <div>${esc(o.reason)}</div>
          <div class="muted">${o.channel ? `by ${esc(channelName(o.channel))}` : "no consented channel"} · ${(100 * o.probability).toFixed(0)}% likely${o.sendAt ? ` · best sent ${esc(when(o.sendAt))}` : ""}</div>
          ${
            this.may.answerOffers
              ? `<div class="actions" role="group" aria-label="The customer's answer to ${esc(o.offer.name)}">
            <button type="button" class="small" data-i="${i}" data-response="ACCEPTED">Accepted</button>
            <button type="button" class="small" data-i="${i}" data-response="CLICKED">Interested</button>
            <button type="button" class="small danger" data-i="${i}" data-response="DECLINED">Declined</button>
          </div>`
              : ""
          }<div class="muted" role="status">${this.said.get(o.offer.id) ?? ""}</div></div>`,
      )
      .join("");
    for (const button of box.querySelectorAll("button[data-response]")) {
      button.addEventListener("click", () => this.respond(offers[Number(button.dataset.i)], button.dataset.response));
    }
  }

  async respond(offer, response) {
    let said;
    try {
      await gql(RESPOND, {
        personId: this.id,
        offerId: offer.offer.id,
        response,
        channel: offer.channel,
        decision: offer.decision,
      });
      said = esc(`Recorded: ${response.toLowerCase()}.`);
    } catch (error) {
      said = `<span class="error">${esc(error.message)}</span>`;
    }
    // kept with the offer: a change of the profile meanwhile may draw the offers again
    this.said.set(offer.offer.id, said);
    const status = this.main.querySelector(`[data-offer="${CSS.escape(offer.offer.id)}"] [role="status"]`);
    if (status) status.innerHTML = said;
  }

  filterForm() {
    const channels = Object.entries(CHANNELS)
      .map(([value, [, , name]]) => `<option value="${value}">${esc(name)}</option>`)
      .join("");
    return `<form id="filters" class="filters" aria-label="Filter the timeline">
      <label>Lane<select name="lane"><option value="customer">Customer's own</option>
        <option value="platform">Platform (segments)</option><option value="all">Everything</option></select></label>
      <label>Channel<select name="channel"><option value="">All channels</option>${channels}</select></label>
      <label>Type<input name="type" size="14" placeholder="e.g. purchase"></label>
      <label>From<input name="since" type="date"></label>
      <label>To<input name="until" type="date"></label>
    </form>`;
  }

  bindFilters() {
    const form = this.main.querySelector("#filters");
    form.addEventListener("change", () => {
      const data = new FormData(form);
      this.filters = Object.fromEntries(["lane", "channel", "type", "since", "until"].map((k) => [k, String(data.get(k) ?? "").trim()]));
      this.loadTimeline(true).catch((error) => this.problem(error));
    });
    form.addEventListener("submit", (e) => e.preventDefault());
    const older = this.main.querySelector("#older");
    older.addEventListener("click", () => this.loadTimeline(false).catch((error) => this.problem(error)));
    // more as the agent scrolls: the button loads itself when it comes into view
    const watcher = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && !older.hidden && !this.loading) older.click();
    });
    watcher.observe(older);
    this.stops.push(() => watcher.disconnect());
  }

  variables() {
    const f = this.filters;
    return {
      id: this.id,
      first: PAGE,
      channels: f.channel ? [f.channel] : null,
      types: f.lane === "platform" ? PLATFORM_TYPES : f.type ? [f.type] : null,
      excludeTypes: f.lane === "customer" ? PLATFORM_TYPES : null,
      since: f.since ? `${f.since}T00:00:00Z` : null,
      until: f.until ? `${f.until}T23:59:59Z` : null,
    };
  }

  matches(event) {
    const f = this.filters;
    const platform = PLATFORM_TYPES.includes(event.type);
    if (f.lane === "customer" && platform) return false;
    if (f.lane === "platform" && !platform) return false;
    if (f.channel && event.channel !== f.channel) return false;
    if (f.type && f.lane !== "platform" && event.type !== f.type) return false;
    if (f.since && event.timestamp < `${f.since}T00:00:00`) return false;
    return !(f.until && event.timestamp > `${f.until}T23:59:59.999`);
  }

  /** A page of the timeline with the filters set, after ``after`` (null: the first);
   * null when the screen closed meanwhile or the person is gone (the profile's read
   * says so: :meth:`gone`). */
  async readPage(after) {
    const person = (await gql(TIMELINE, { ...this.variables(), after })).person;
    return this.closed || !person ? null : person.timeline;
  }

  /** The number of events the filters match, as known now. */
  count(total) {
    this.total = total;
    this.main.querySelector("#count").textContent = `${total} events`;
  }

  async loadTimeline(fresh) {
    this.loading = true;
    try {
      const page = await this.readPage(fresh ? null : this.after);
      if (!page) return;
      const list = this.main.querySelector("#events");
      const rows = page.edges.map((edge) => eventRow(edge.node)).join("");
      if (fresh) list.innerHTML = rows || `<li class="muted">No events match these filters.</li>`;
      else list.insertAdjacentHTML("beforeend", rows);
      this.after = page.pageInfo.endCursor;
      this.count(page.totalCount);
      this.main.querySelector("#older").hidden = !page.pageInfo.hasNextPage;
    } finally {
      this.loading = false;
    }
  }

  /** The screen says "live" only once the service follows the customer: the protocol
   * acknowledges a connection, not a subscription, and the profile subscription's first
   * message is the sign (what the screen reads after it, and what arrives from then on,
   * leave no gap). A dropped connection says "reconnecting…"; the client subscribes
   * again by itself, and that first message comes again. */
  goLive() {
    const state = this.main.querySelector("#live");
    this.live = liveClient((up) => {
      if (up) return; // connected, not yet following: the first profile message says when
      this.synced = false;
      state.textContent = "reconnecting…";
      state.classList.add("off");
    });
    this.follow();
  }

  /** Subscribe to the customer's events and profile changes. An end the service says
   * to retry (SERVICE_UNAVAILABLE: the live feed lost its place, or this screen fell
   * behind) is followed by a new subscription, sooner the first time, later each time
   * again; any other end is shown. */
  follow() {
    const state = this.main.querySelector("#live");
    let ended = false;
    this.synced = false;
    const failed = (error) => {
      if (ended) return; // both subscriptions end together: one answer is enough
      ended = true;
      if (error.code !== "SERVICE_UNAVAILABLE") {
        state.textContent = `not live: ${error.message}`;
        state.classList.add("off");
        return;
      }
      this.unfollow();
      const wait = this.retryIn;
      this.retryIn = Math.min(wait * 2, LAST_RETRY_MS);
      state.textContent = `not live: ${error.message} (trying again in ${Math.round(wait / 1000)} s)`;
      state.classList.add("off");
      this.resuming = setTimeout(() => this.resume(), wait);
    };
    const heard = (then) => (data) => {
      this.retryIn = FIRST_RETRY_MS;
      then(data).catch((error) => this.problem(error));
    };
    const profileSent = async () => {
      if (this.synced) return Promise.all([this.changed(), this.newest()]);
      this.synced = true; // following from now: read what landed before
      await this.catchUp();
      if (ended || !this.synced) return; // ended or dropped meanwhile: that is what is shown
      state.textContent = "live";
      state.classList.remove("off");
    };
    this.following = [
      this.live.subscribe(EVENTS, { personId: this.id }, heard(async (data) => this.arrived(data.personEvents)), failed),
      // the service ends it when the person is erased (or the error above ended it)
      this.live.subscribe(CHANGED, { personId: this.id }, heard(profileSent), failed, () => ended || this.changed()),
    ];
  }

  unfollow() {
    this.following.forEach((stop) => stop());
    this.following = [];
  }

  /** Follow again; the profile subscription's first message reads what was missed. */
  resume() {
    this.resuming = null;
    this.follow();
  }

  /** The profile and the first page read again, once following again: what landed
   * while the screen was not following comes with the read, what lands from now on
   * with the subscription (an event both bring is shown once). */
  catchUp() {
    return Promise.all([this.changed(), this.loadTimeline(true)]);
  }

  /** The first page read again, and what it holds that the screen does not show put on
   * top: an event that landed before its own subscription was following (nothing says
   * when that is) shows with the profile change it caused. */
  async newest() {
    const page = await this.readPage(null);
    if (!page) return;
    [...page.edges].reverse().forEach((edge) => this.arrived(edge.node));
    this.count(page.totalCount);
  }

  arrived(event) {
    if (!this.matches(event) || this.main.querySelector(`#events li[data-id="${CSS.escape(event.id)}"]`)) return;
    const list = this.main.querySelector("#events");
    list.querySelector("li.muted")?.remove();
    list.insertAdjacentHTML("afterbegin", eventRow(event, true));
    this.count((this.total ?? 0) + 1);
  }

  async changed() {
    try {
      const person = (await gql(PROFILE, { id: this.id })).person;
      if (this.closed) return;
      if (person) this.render(person);
      else this.gone();
    } catch (error) {
      this.problem(error);
    }
  }

  async unlink(type, value) {
    const reason = prompt(`Unlink ${type} ${value} from this customer? It becomes a person of its own. Say why:`, "not this customer's");
    if (!reason) return;
    await this.act(() => gql(UNLINK, { personId: this.id, identifier: { type, value }, reason }), `Unlinked ${type} ${value}.`);
  }

  async merge(event) {
    event.preventDefault();
    const data = new FormData(event.target);
    const from = String(data.get("from")).trim();
    if (!confirm(`Merge person ${from} into this customer? Their identifiers and history move here.`)) return;
    await this.act(() => gql(MERGE, { into: this.id, from, reason: String(data.get("reason")) }), `Merged ${from} into this customer.`);
  }

  async act(call, done) {
    const result = this.main.querySelector("#action-result");
    try {
      await call();
      result.textContent = done;
      await this.changed();
    } catch (error) {
      result.innerHTML = `<span class="error">${esc(error.message)}</span>`;
    }
  }

  problem(error) {
    if (this.closed) return;
    const result = this.main.querySelector("#action-result") ?? this.main;
    result.insertAdjacentHTML("afterbegin", `<p class="error" role="alert">${esc(error.message)}</p>`);
    if (error instanceof ApiError && error.signedOut) this.onGone?.();
  }
}

function header(person) {
  const t = person.traits ?? {};
  const name = [t.firstName, t.lastName].filter(Boolean).join(" ") || t.name || "Unnamed customer";
  const m = person.metrics ?? {};
  const hour = m.engagement?.mostActiveHour;
  const facts = [
    ["RFM segment", m.rfm ? `${m.rfm.segment} (${m.rfm.code})` : "not scored yet"],
    ["CLV tier", m.clv?.tier ?? "not fitted yet"],
    ["Orders", m.purchases ? `${m.purchases.orders} · ${money(m.purchases.revenue)}` : "none"],
    ["Last order", m.purchases?.lastOrderAt ? day(m.purchases.lastOrderAt) : "never"],
    ["Preferred channel", m.engagement?.preferredChannel ? channelName(m.engagement.preferredChannel) : "none consented"],
    ["Best hour", hour == null ? "unknown" : `${String(hour).padStart(2, "0")}:00 UTC`],
    ["Lives in", [t.city, t.country].filter(Boolean).join(", ") || "unknown"],
  ];
  const consents = person.consents.length
    ? person.consents
        .map((c) => `<span class="chip ${c.granted ? "yes" : "no"}" title="${esc(c.source)}, ${esc(when(c.at))}">${c.granted ? "✓" : "✗"} ${esc(c.purpose)} · ${esc(c.channel ? channelName(c.channel) : "all channels")}</span>`)
        .join("")
    : `<span class="chip no">no consent recorded</span>`;
  const known = person.identifiers.map((i) => i.firstSeen).sort()[0] ?? person.createdAt;
  const pending = person.refreshPendingSince ? `<p class="muted">Metrics catching up since ${esc(when(person.refreshPendingSince))}.</p>` : "";
  return `<section class="card" aria-labelledby="who"><h1 id="who">${esc(name)}</h1>
    <div class="muted">Known since ${esc(day(known))} · id <code>${esc(person.id)}</code></div>
    <ul class="facts">${facts.map(([k, v]) => `<li><span>${esc(k)}</span>${esc(v)}</li>`).join("")}</ul>
    <p aria-label="Consents">${consents}</p>${pending}</section>`;
}

function segments(list) {
  if (!list.length) return `<p class="muted">In no segment.</p>`;
  return list
    .map((m) => `<span class="chip" title="${esc(m.segment.kind)}">${esc(m.segment.name)} <small>since ${esc(day(m.enteredAt))}</small></span>`)
    .join("");
}

function identities(list, mayUnlink) {
  const unlink = (i) =>
    mayUnlink
      ? `<button type="button" class="small danger" data-unlink data-type="${esc(i.type)}" data-value="${esc(i.value)}"
          aria-label="Unlink ${esc(i.type)} ${esc(i.value)}">Unlink…</button>`
      : "";
  const rows = list
    .map(
      (i) => `<tr><td>${esc(i.type)}</td><td>${esc(i.value)}</td><td>${esc(day(i.firstSeen))}</td><td>${esc(day(i.lastSeen))}</td>
        <td>${unlink(i)}</td></tr>`,
    )
    .join("");
  return `<div class="scroll"><table class="identities"><thead><tr><th>Type</th><th>Value</th><th>First seen</th><th>Last seen</th><th></th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function merges(list) {
  if (!list.length) return `<p class="muted">Never merged or split.</p>`;
  return `<ul>${list
    .map((r) => `<li>${esc(r.kind === "MERGE" ? "Merged" : "Split")} ${esc(when(r.at))} by ${esc(r.agent ?? "the identity rules")}: ${esc(r.reason)}</li>`)
    .join("")}</ul>`;
}
