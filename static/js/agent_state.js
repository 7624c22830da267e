// The agent's state in the top bar of every agent page: Ready / Not Ready (with a reason), the
// time in it, and "then Not Ready (pending)" when asked for while busy. On the desktop it follows
// the desktop's socket; on the other agent pages (contacts, outbox) it opens its own, which also
// keeps the agent connected and says when a conversation is offered.
import { AgentSocket } from "./realtime.js";
import { format } from "./i18n.js";
import { postForm } from "./http.js";

const form = document.getElementById("agent-state-form");
const select = document.getElementById("agent-state");
const timer = document.getElementById("agent-state-timer");
const pending = document.getElementById("agent-state-pending");
const userId = Number(form ? form.dataset.userId : 0);
const WORKING = new Set(["busy", "acw", "offered"]);

function labels() {
  try {
    return JSON.parse(document.getElementById("agent-state-labels").textContent);
  } catch {
    return {};
  }
}

function stateText(state, reason) {
  const label = labels()[state] || state;
  return reason ? `${label}: ${reason}` : label;
}

function showPending(state, reason) {
  if (!pending) return;
  pending.hidden = !state;
  pending.textContent = state ? format(pending.dataset.text, { state: stateText(state, reason) }) : "";
}

export function applyState(payload) {
  if (!select || Number(payload.agent_id) !== userId) return;
  select.dataset.state = payload.state;
  const value = `${payload.state}|${payload.reason || ""}`;
  let option = [...select.options].find((o) => o.value === value);
  if (!option) {
    option = document.createElement("option");
    option.value = value;
    option.disabled = !["ready", "not_ready"].includes(payload.state);
    select.appendChild(option);
  }
  option.textContent = stateText(payload.state, payload.reason);
  select.value = value;
  if (timer && payload.since) timer.dataset.since = payload.since;
  // A request waits for the work to end: any state but working settles it.
  if (!WORKING.has(payload.state)) showPending("", "");
}

export function applyRequested(payload) {
  if (Number(payload.agent_id) !== userId) return;
  showPending(payload.state, payload.reason);
}

function formatDuration(seconds) {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}` : `${m}:${String(s).padStart(2, "0")}`;
}

function tick() {
  if (!timer || !timer.dataset.since) return;
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(timer.dataset.since)) / 1000));
  timer.textContent = formatDuration(seconds);
}

function follow(event) {
  if (event.type === "agent.state_changed") applyState(event.payload || {});
  else if (event.type === "agent.state_requested") applyRequested(event.payload || {});
}

if (form && select) {
  select.addEventListener("change", async () => {
    const [state, reason] = select.value.split("|");
    form.querySelector("input[name=state]").value = state;
    form.querySelector("input[name=reason]").value = reason || "";
    const { response, data } = await postForm(form);
    if (!response.ok) return;
    // Not Ready asked while busy stays Busy until the work ends: show what the agent is now.
    applyState({ agent_id: userId, state: data.state, reason: data.reason });
    showPending(data.requested_state || "", data.requested_reason || "");
  });
  tick();
  window.setInterval(tick, 1000);

  if (document.body.dataset.eventCursor) {
    // The desktop: its socket's events are re-dispatched by desktop.js.
    document.addEventListener("desktop:event", (event) => follow(event.detail || {}));
  } else {
    const socket = new AgentSocket({ cursor: Number(form.dataset.eventCursor || 0) });
    socket.on("event", (event) => {
      follow(event);
      if (event.type.startsWith("offer.")) followOffer(event);
    });
    socket.on("status", (status) => {
      document.body.dataset.connection = status;
      const banner = document.getElementById("connection-banner");
      if (banner) banner.hidden = status !== "reconnecting";
    });
    socket.connect();
  }
}

// Away from the desktop, a pending offer shows as a link back to it (the list is where it is
// accepted). Offers end by their own events (accepted, rejected, expired, cancelled; a fresh page
// is replayed the last seconds of them) or by their expiry time.
const pendingOffers = new Map();

function followOffer(event) {
  const payload = event.payload || {};
  if (Number(payload.agent_id) !== userId) return;
  const id = String(payload.offer_id);
  if (event.type === "offer.created") {
    const left = Date.parse(payload.expires_at) - Date.now();
    if (left > 0) pendingOffers.set(id, window.setTimeout(() => endOffer(id), left));
  } else {
    endOffer(id);
  }
  showOfferLink();
}

function endOffer(id) {
  window.clearTimeout(pendingOffers.get(id));
  pendingOffers.delete(id);
  showOfferLink();
}

function showOfferLink() {
  let link = document.getElementById("offer-waiting");
  if (!link && pendingOffers.size) {
    link = document.createElement("a");
    link.id = "offer-waiting";
    link.className = "offer-waiting";
    link.href = form.dataset.desktopUrl;
    link.textContent = form.dataset.offerText;
    form.after(link);
  }
  if (link) link.hidden = pendingOffers.size === 0;
}
