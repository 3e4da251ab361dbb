// The identity graph drawn as SVG: identifiers on a circle (strong ones first), a line
// per proven link; choosing a line (click, or Enter on it) shows the event that proved it.
// A circle suits the small graphs one person has (a handful to a few dozen identifiers)
// and needs no layout library.

import { channelName, esc, label, summary, when } from "./format.js";

const STRONG = new Set(["customer_id", "crm_id", "email", "phone", "whatsapp", "sms", "facebook", "instagram", "twitter"]);
const COLOURS = { email: "#0f8a8a", phone: "#1e7a46", facebook: "#1877f2", customer_id: "#b3261e", device_id: "#8a93a6", cookie_id: "#a0a8b8" };

// Where on its line a link's handle sits: off the middle, so two links crossing at the
// centre of the circle keep their handles apart.
const HANDLE = 0.38;

function keyOf(node) {
  return `${node.type}:${node.value}`;
}

export function drawGraph(container, graph, onChoose) {
  const nodes = [...graph.nodes].sort((a, b) => Number(STRONG.has(b.type)) - Number(STRONG.has(a.type)) || keyOf(a).localeCompare(keyOf(b)));
  const size = 360;
  const centre = size / 2;
  const radius = nodes.length > 1 ? 120 : 0;
  const at = new Map(
    nodes.map((node, i) => {
      const angle = (2 * Math.PI * i) / Math.max(nodes.length, 1) - Math.PI / 2;
      return [keyOf(node), [centre + radius * Math.cos(angle), centre + radius * Math.sin(angle)]];
    }),
  );
  const links = graph.edges
    .map((edge, i) => {
      const a = at.get(edge.from);
      const b = at.get(edge.to);
      if (!a || !b) return "";
      const name = `Link ${edge.from} to ${edge.to}`;
      return `<g class="edge" data-index="${i}" tabindex="0" role="button" aria-label="${esc(name)}: why are they linked?">
        <title>${esc(name)}</title>
        <line class="link" x1="${a[0]}" y1="${a[1]}" x2="${b[0]}" y2="${b[1]}"></line>
        <line class="link-hit" x1="${a[0]}" y1="${a[1]}" x2="${b[0]}" y2="${b[1]}"></line>
        <circle class="link-handle" cx="${a[0] + HANDLE * (b[0] - a[0])}" cy="${a[1] + HANDLE * (b[1] - a[1])}" r="6"></circle></g>`;
    })
    .join("");
  const dots = nodes
    .map((node) => {
      const [x, y] = at.get(keyOf(node));
      const colour = COLOURS[node.type] ?? "#7b3fe4";
      const right = x >= centre;
      return `<g class="node"><title>${esc(keyOf(node))}</title>
        <circle cx="${x}" cy="${y}" r="${STRONG.has(node.type) ? 11 : 8}" fill="${colour}"></circle>
        <text x="${x + (right ? 14 : -14)}" y="${y + 4}" text-anchor="${right ? "start" : "end"}">${esc(short(keyOf(node)))}</text></g>`;
    })
    .join("");
  container.innerHTML = `<svg viewBox="-150 0 ${size + 300} ${size}" role="group" aria-label="Identity graph: ${nodes.length} identifiers, ${graph.edges.length} links">${links}${dots}</svg>
    <div class="proof" id="proof" aria-live="polite">Choose a link to see the event that proved it.</div>`;
  for (const group of container.querySelectorAll("g.edge")) {
    const choose = () => {
      container.querySelectorAll(".link.chosen").forEach((line) => line.classList.remove("chosen"));
      group.querySelector(".link").classList.add("chosen");
      const edge = graph.edges[Number(group.dataset.index)];
      container.querySelector("#proof").innerHTML = proofOf(edge);
      onChoose?.(edge);
    };
    group.addEventListener("click", choose);
    group.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        choose();
      }
    });
  }
}

function short(text) {
  return text.length > 28 ? `${text.slice(0, 27)}…` : text; // the whole key is in the title
}

function proofOf(edge) {
  const pair = `<strong>${esc(edge.from)}</strong> and <strong>${esc(edge.to)}</strong>`;
  if (!edge.eventId) return `${pair} were linked by hand (${esc(edge.source)}) on ${esc(when(edge.at))}.`;
  const event = edge.event;
  if (!event) return `${pair} were linked by event ${esc(edge.eventId)} (${esc(edge.source)}), since erased.`;
  const detail = summary(event);
  return `${pair} were seen together in <strong>${esc(label(event.type))}</strong> on ${esc(channelName(event.channel))},
    ${esc(when(event.timestamp))} (event <code>${esc(event.id)}</code>)${detail ? `: ${esc(detail)}` : ""}.`;
}
