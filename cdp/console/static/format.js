// Turning what the service stores into what an agent reads: escaped text, channel
// badges, dates, and the one line that matters for each kind of event.

export function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

export const CHANNELS = {
  WEB: ["W", "#2f6fed", "Web"],
  MOBILE_APP: ["A", "#7b3fe4", "Mobile app"],
  EMAIL: ["@", "#0f8a8a", "Email"],
  SMS: ["S", "#a15c00", "SMS"],
  PHONE: ["☎", "#1e7a46", "Phone"],
  CHAT: ["C", "#5b6478", "Chat"],
  FACEBOOK: ["f", "#1877f2", "Facebook"],
  INSTAGRAM: ["I", "#c13584", "Instagram"],
  TWITTER: ["X", "#222", "Twitter"],
  WHATSAPP: ["W", "#128c7e", "WhatsApp"],
  STORE: ["⌂", "#b3261e", "Store"],
  CRM: ["R", "#6d4c41", "CRM"],
  OTHER: ["·", "#8a93a6", "Other"],
};

export function channelIcon(channel) {
  const [glyph, colour, name] = CHANNELS[channel] ?? CHANNELS.OTHER;
  return `<span class="icon" style="background:${colour}" role="img" aria-label="${esc(name)}" title="${esc(name)}">${esc(glyph)}</span>`;
}

export function channelName(channel) {
  return (CHANNELS[channel] ?? CHANNELS.OTHER)[2];
}

export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function day(iso) {
  return iso ? new Date(iso).toLocaleDateString(undefined, { dateStyle: "medium" }) : "";
}

export function money(amount, currency) {
  if (typeof amount !== "number") return "";
  try {
    return amount.toLocaleString(undefined, { style: "currency", currency: currency || "EUR" });
  } catch {
    return `${amount.toFixed(2)} ${currency ?? ""}`.trim();
  }
}

export function label(type) {
  const words = String(type).replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export const PLATFORM_TYPES = ["segment_entered", "segment_left"];

/** The key properties of an event, in words (an order's total and items, a message's
 * text, a page's URL, a call's length). */
export function summary(event) {
  const p = event.properties ?? {};
  switch (event.type) {
    case "purchase":
    case "refund": {
      const items = Array.isArray(p.items) ? p.items : [];
      const names = items.map((i) => `${i.quantity > 1 ? `${i.quantity} × ` : ""}${i.name ?? i.sku}`).join(", ");
      const order = p.orderId ? `order ${p.orderId}` : "";
      const code = p.discountCode ? ` · code ${p.discountCode}` : "";
      return [money(p.total, p.currency), order, names].filter(Boolean).join(" · ") + code;
    }
    case "call_received":
    case "call_made":
      return p.durationSeconds ? `${Math.round(p.durationSeconds / 60)} min call` : "";
    case "page_view":
      return p.url ?? "";
    case "content_view":
      return [p.topic, p.url].filter(Boolean).join(" · ");
    case "email_sent":
    case "email_open":
    case "email_click":
      return p.campaign ? `campaign ${p.campaign}` : "";
    case "product_view":
    case "add_to_cart":
    case "wishlist_add":
    case "wishlist_remove":
      return [p.sku, p.category].filter(Boolean).join(" · ");
    case "segment_entered":
    case "segment_left":
      return p.segmentName ?? p.segment ?? p.segmentId ?? "";
    default: {
      if (p.text) return `“${p.text}”`;
      if (p.subject) return p.subject;
      const shown = Object.entries(p).filter(([, v]) => typeof v !== "object").slice(0, 3);
      return shown.map(([k, v]) => `${k}: ${v}`).join(" · ");
    }
  }
}

export function eventRow(event, fresh = false) {
  const platform = PLATFORM_TYPES.includes(event.type);
  return `<li class="${platform ? "lane-platform" : ""}${fresh ? " fresh" : ""}" data-id="${esc(event.id)}">
    ${channelIcon(event.channel)}
    <div><div class="what">${esc(label(event.type))}</div><div class="detail">${esc(summary(event))}</div></div>
    <time datetime="${esc(event.timestamp)}">${esc(when(event.timestamp))}</time></li>`;
}
