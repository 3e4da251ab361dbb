// The console's shell: sign in once per browser session, find a customer by anything
// they gave us, and open the page a link names (/?person=..., /?type=email&value=...,
// /?q=..., /?view=overview), so a helpdesk ticket can link straight to a customer.

import { ApiError, currentKey, forgetPermissions, gql, keepKey, permissions } from "./api.js";
import { esc, day } from "./format.js";
import { overview } from "./overview.js";
import { personPage } from "./person.js";

const main = document.getElementById("main");
const dialog = document.getElementById("signin");
let leave = () => {};
let shown = 0; // the page being shown: an answer for an older one is dropped

const FIND = `query Find($text: String!) {
  findPersons(query: $text) { id traits updatedAt identifiers { type value } }
}`;
const BY_IDENTIFIER = `query ByIdentifier($type: String!, $value: String!) {
  personByIdentifier(type: $type, value: $value) { id }
}`;
const RECENT = `query Recent { persons(first: 15) { edges { node { id traits updatedAt identifiers { type value } } } } }`;

function go(search) {
  history.pushState(null, "", search ? `/?${search}` : "/");
  route();
}

async function route() {
  leave();
  leave = () => {};
  const mine = ++shown;
  const current = () => mine === shown;
  if (!currentKey()) {
    askForKey();
    return;
  }
  document.getElementById("signout").hidden = false;
  const params = new URLSearchParams(location.search);
  main.innerHTML = `<p class="muted">Loading…</p>`;
  try {
    if (params.get("view") === "overview") {
      document.title = "Overview · CDP console";
      await overview(main, current);
    } else if (params.get("person")) {
      document.title = "Customer · CDP console";
      await openPerson(params.get("person"), current);
    } else if (params.get("type") && params.get("value")) {
      const found = (await gql(BY_IDENTIFIER, { type: params.get("type"), value: params.get("value") })).personByIdentifier;
      if (!current()) return;
      if (found) {
        history.replaceState(null, "", `/?person=${encodeURIComponent(found.id)}`);
        await openPerson(found.id, current);
      } else {
        main.innerHTML = `<section class="notice"><h1>No customer found</h1><p>No one has ${esc(params.get("type"))} ${esc(params.get("value"))}.</p></section>`;
      }
    } else if (params.get("q")) {
      document.getElementById("q").value = params.get("q");
      await search(params.get("q"), current);
    } else {
      await home(current);
    }
  } catch (error) {
    if (current()) showProblem(error);
  }
  main.focus({ preventScroll: true });
}

async function openPerson(id, current) {
  const close = await personPage(main, id, { onGone: () => go(""), current });
  if (current()) leave = close;
  else close();
}

async function search(text, current) {
  const found = (await gql(FIND, { text })).findPersons;
  if (!current()) return;
  if (found.length === 1) {
    history.replaceState(null, "", `/?person=${encodeURIComponent(found[0].id)}`);
    await openPerson(found[0].id, current);
    return;
  }
  main.innerHTML = found.length
    ? `<section><h1>${found.length} customers have ${esc(text)}</h1>${personList(found)}</section>`
    : `<section class="notice"><h1>No customer found</h1><p>Nobody has <strong>${esc(text)}</strong> as an email, phone, social id or handle, device, cookie or customer number. Check the spelling, or try another identifier.</p></section>`;
}

async function home(current) {
  const recent = (await gql(RECENT)).persons.edges.map((e) => e.node);
  if (!current()) return;
  main.innerHTML = `<section><h1>Find a customer</h1>
    <p>Type anything the customer gave you in the box above: an email, a phone number in any format, a social id or handle, a device, cookie or customer number.</p></section>
    <section><h2>Recently created</h2>${recent.length ? personList(recent) : `<p class="muted">No customers yet. Send events, run <code>cdp import</code> or <code>cdp demo</code>.</p>`}</section>`;
}

function personList(persons) {
  return `<ul class="persons">${persons
    .map((p) => {
      const name = [p.traits?.firstName, p.traits?.lastName].filter(Boolean).join(" ") || "Unnamed customer";
      const ids = p.identifiers.slice(0, 4).map((i) => `${i.type}: ${i.value}`).join(" · ");
      return `<li><a href="/?person=${encodeURIComponent(p.id)}">${esc(name)}</a> <span class="muted">${esc(ids)} · updated ${esc(day(p.updatedAt))}</span></li>`;
    })
    .join("")}</ul>`;
}

function showProblem(error) {
  if (error instanceof ApiError && error.signedOut) {
    keepKey(null);
    forgetPermissions();
    askForKey(error.message);
    return;
  }
  const hint =
    error instanceof ApiError && error.code === "FORBIDDEN"
      ? "<p>Ask an admin for a key with the scope it names, then sign out and in again.</p>"
      : "";
  main.innerHTML = `<section class="notice" role="alert"><h1>That did not work</h1><p>${esc(error.message)}</p>${hint}</section>`;
}

function askForKey(message = "") {
  document.getElementById("signout").hidden = true;
  main.innerHTML = `<section><h1>Sign in to see customers</h1><p>The console needs an API key.</p></section>`;
  document.getElementById("signin-error").textContent = message;
  if (!dialog.open) dialog.showModal();
}

document.getElementById("signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const key = document.getElementById("key").value.trim();
  const error = document.getElementById("signin-error");
  keepKey(key);
  forgetPermissions();
  try {
    await permissions();
  } catch (problem) {
    keepKey(null);
    error.textContent = problem.message;
    return;
  }
  error.textContent = "";
  document.getElementById("key").value = "";
  dialog.close();
  route();
});

dialog.addEventListener("cancel", (event) => event.preventDefault()); // nothing to see without a key

document.getElementById("signout").addEventListener("click", () => {
  keepKey(null);
  forgetPermissions();
  leave();
  history.pushState(null, "", "/");
  route();
});

document.getElementById("find").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = document.getElementById("q").value.trim();
  if (text) go(`q=${encodeURIComponent(text)}`);
});

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[href^='/?'], a[href='/']");
  if (!link || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  go(link.getAttribute("href").replace(/^\/\??/, ""));
});

window.addEventListener("popstate", route);
route();
