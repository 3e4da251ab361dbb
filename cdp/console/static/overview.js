// The overview: every segment's size as a bar, and the RFM map as a heat map.

import { gql } from "./api.js";
import { esc } from "./format.js";

const OVERVIEW = `query Overview {
  segments { id name kind size share significant }
  rfmGrid { recency frequency persons segment }
}`;

export async function overview(main, current = () => true) {
  const data = await gql(OVERVIEW);
  if (!current()) return;
  const segments = [...data.segments].sort((a, b) => b.size - a.size || a.name.localeCompare(b.name));
  const largest = Math.max(1, ...segments.map((s) => s.size));
  const bars = segments
    .map(
      (s) => `<li><span>${esc(s.name)}</span>
        <span class="bar" style="width:${((100 * s.size) / largest).toFixed(1)}%" role="img"
          aria-label="${esc(s.name)}: ${s.size} persons, ${(100 * s.share).toFixed(1)}%"></span>
        <span>${s.size.toLocaleString()}</span></li>`,
    )
    .join("");
  const most = Math.max(1, ...data.rfmGrid.map((c) => c.persons));
  const rows = [5, 4, 3, 2, 1]
    .map((r) => {
      const cells = data.rfmGrid
        .filter((c) => c.recency === r)
        .sort((a, b) => a.frequency - b.frequency)
        .map((c) => {
          const strength = c.persons / most;
          const ink = strength > 0.55 ? "#fff" : "#1d2330";
          return `<td style="background:rgba(47,111,237,${(0.08 + 0.92 * strength).toFixed(2)});color:${ink}"
            aria-label="Recency ${r}, frequency ${c.frequency}: ${c.persons} persons, ${esc(c.segment)}">
            ${c.persons.toLocaleString()}<small>${esc(c.segment)}</small></td>`;
        })
        .join("");
      return `<tr><th scope="row">R ${r}</th>${cells}</tr>`;
    })
    .join("");
  main.innerHTML = `<h1>Overview</h1>
    <div class="grid">
      <section aria-labelledby="sizes"><h2 id="sizes">Segment sizes</h2>
        <ul class="bars" aria-label="Segment sizes, largest first">${bars || "<li>No segments yet.</li>"}</ul></section>
      <section aria-labelledby="rfm"><h2 id="rfm">RFM map</h2>
        <p class="muted">Customers by recency (R, 5 = bought lately) and frequency (F, 5 = buys most often).</p>
        <table class="heat" aria-label="RFM heat map"><thead><tr><th></th>
          ${[1, 2, 3, 4, 5].map((f) => `<th scope="col">F ${f}</th>`).join("")}</tr></thead>
          <tbody>${rows}</tbody></table></section>
    </div>`;
}
