// The customer's chat (the page /chat/<slug>/, also the widget's iframe). Vanilla JS, no build.
// Talks to /ws/chat/<slug>/ (protocol in channels_app/webchat/consumers.py) through the shared
// socket module. Customer and agent text is only ever inserted with textContent.
import { EventSocket } from "../js/realtime.js";
import { createCall } from "./call.js";

const body = document.body;
const STRINGS = JSON.parse(document.getElementById("webchat-strings").textContent);
const SLUG = body.dataset.slug;
const TOKEN_KEY = `cc-chat:${SLUG}:token`;
const ACTIVE_KEY = `cc-chat:${SLUG}:active`;
const TYPING_SEND_MS = 3000;
const TYPING_IDLE_MS = 4000;
const AGENT_TYPING_TIMEOUT_MS = 6000;
const embedded = body.classList.contains("embedded");

const $ = (id) => document.getElementById(id);
const ui = {
  agent: $("chat-agent"),
  end: $("chat-end"),
  callUs: $("chat-call-us"),
  minimize: $("chat-minimize"),
  connection: $("chat-connection"),
  queue: $("chat-queue"),
  warning: $("chat-warning"),
  prechat: $("chat-prechat"),
  offline: $("chat-offline"),
  offlineHeading: $("offline-heading"),
  offlineIntro: $("offline-intro"),
  offlineForm: $("offline-form"),
  offlineDone: $("offline-done"),
  transcript: $("chat-transcript"),
  typing: $("chat-typing"),
  ended: $("chat-ended"),
  transcriptForm: $("transcript-form"),
  transcriptDone: $("transcript-done"),
  restart: $("chat-restart"),
  composer: $("chat-composer"),
  input: $("chat-input"),
  error: $("chat-error"),
};

function t(key, params = {}) {
  let text = STRINGS[key] || STRINGS.error;
  for (const [name, value] of Object.entries(params)) text = text.split(`%(${name})s`).join(String(value));
  return text;
}

function storage(kind) {
  try {
    const store = window[kind];
    store.setItem("cc-chat:probe", "1");
    store.removeItem("cc-chat:probe");
    return store;
  } catch {
    return null; // storage blocked: the chat still works for this page view
  }
}
const local = storage("localStorage");

function newId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replaceAll("-", "");
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
}

// --- state ---------------------------------------------------------------------------------
const state = {
  connected: false,
  welcomed: false,
  config: null,
  availability: "open",
  session: null, // {id, state, agent, ...}
  ended: null, // end reason once the chat ended in this page view
  seenEvents: new Set(),
  messageRows: new Map(), // message id -> <li>
  noticeRows: new Set(),
  pending: new Map(), // client id -> <li>
  readUpTo: 0,
  lastAgentLineSeen: 0,
  visible: !embedded, // embedded: the host tells us when the panel opens
  unread: 0,
  page: null,
  initialized: !embedded, // embedded: widget.js sends the visitor's token and page first
};

// Where the visitor's token lives: this origin's localStorage when the browser allows it, and,
// embedded, also the website's own storage through widget.js, because browsers partition or
// block storage in third-party iframes (without it a visitor would be new on every page).
const identity = {
  hostToken: null,
  hostActive: false,
  token() {
    return (local && local.getItem(TOKEN_KEY)) || this.hostToken;
  },
  active() {
    return (local && local.getItem(ACTIVE_KEY) === "1") || this.hostActive;
  },
  save({ token, active }) {
    if (token) {
      this.hostToken = token;
      if (local) local.setItem(TOKEN_KEY, token);
    }
    if (active !== undefined) {
      this.hostActive = active;
      if (local) local.setItem(ACTIVE_KEY, active ? "1" : "0");
    }
    toHost({ type: "state", token: this.hostToken, active: this.hostActive }, { private: true });
  },
};

const call = createCall({ send: (data) => send(data), t, root: $("chat-call") });

// --- socket: the project's one socket module (hello, heartbeat, reconnect with backoff) --------
let socket = null;

function connect() {
  if (socket) return;
  socket = new EventSocket({
    path: body.dataset.wsPath,
    hello: () => ({ token: identity.token(), page: state.page, language: document.documentElement.lang }),
    onEvent: applyEvent,
    onMessage: receive,
    onReload: () => {},
    onStatus: (status) => {
      if (status !== "reconnecting") return;
      state.connected = false;
      setConnection("reconnecting");
      failPending();
    },
  });
  setConnection("connecting");
  socket.connect();
}

function send(data) {
  return Boolean(socket && socket.send(data));
}

function setConnection(status) {
  body.dataset.connection = status;
  ui.connection.hidden = status === "live";
  if (status === "reconnecting") ui.connection.textContent = t("reconnecting");
  else if (status === "connecting") ui.connection.textContent = t("connecting");
}

// --- frames from the server ----------------------------------------------------------------
function receive(data) {
  switch (data.type) {
    case "welcome":
      if (data.renewed) identity.save({ active: false });
      identity.save({ token: data.token });
      if (data.renewed) resetTranscript();
      state.config = data.config;
      state.availability = data.availability;
      state.connected = true;
      state.welcomed = true;
      setConnection("live");
      if (data.session) applySession(data.session);
      else {
        identity.save({ active: false });
        // The chat we showed ended while we were disconnected.
        if (state.session && state.session.state === "open") state.ended = "agent";
        if (!state.ended) state.session = null;
        render();
      }
      break;
    case "session":
      applySession(data.session);
      break;
    case "event":
      applyEvent(data.event);
      break;
    case "ack":
      acknowledge(data.client_id, data.message_id);
      break;
    case "typing":
      showAgentTyping(data.typing, data.name);
      break;
    case "queue":
      if (state.session && !state.session.has_agent && !state.ended) setQueue(data);
      break;
    case "form_errors":
      showFormErrors(data.form, data.errors);
      break;
    case "offline_sent":
      ui.offlineForm.hidden = true;
      ui.offlineDone.hidden = false;
      ui.offlineDone.textContent = t("offline_sent");
      break;
    case "transcript_requested":
      ui.transcriptForm.hidden = true;
      ui.transcriptDone.hidden = false;
      ui.transcriptDone.textContent = t("transcript_requested", { email: data.email });
      break;
    case "error":
      showError(data);
      break;
    default:
      break;
  }
}

function applySession(session) {
  if (!state.session || state.session.id !== session.id) resetTranscript();
  state.session = session;
  state.ended = session.state === "ended" ? session.end_reason : null;
  identity.save({ active: session.state === "open" });
  state.readUpTo = Math.max(state.readUpTo, session.read_up_to || 0);
  const items = [
    ...session.messages.map((message) => ({ at: message.at, kind: "message", item: message })),
    ...session.notices.map((notice) => ({ at: notice.at, kind: "notice", item: notice })),
  ].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  for (const entry of items) {
    if (entry.kind === "message") addMessage(entry.item);
    else addNotice(entry.item);
  }
  setAgent(session.agent);
  call.restore(session.call);
  setQueue(session.has_agent ? null : session.queue);
  setWarning(session.warning ? session.warning.expires_at : null);
  markRead();
  render();
  reportSeen();
}

function applyEvent(event) {
  if (state.seenEvents.has(event.id)) return;
  state.seenEvents.add(event.id);
  const payload = event.payload || {};
  switch (event.type) {
    case "chat.message":
      if (payload.client_id && state.pending.has(payload.client_id)) acknowledge(payload.client_id, payload.message.id);
      addMessage(payload.message);
      if (payload.message.from === "agent") {
        showAgentTyping(false);
        if (!state.visible || document.hidden) bumpUnread();
        reportSeen();
      }
      break;
    case "chat.notice":
      addNotice(payload.notice);
      break;
    case "chat.agent":
      setAgent(payload.name);
      if (payload.name) setQueue(null);
      if (state.session) state.session.has_agent = Boolean(payload.name);
      break;
    case "chat.queue":
      if (!state.session || !state.session.has_agent) setQueue(payload.position || payload.connecting ? payload : null);
      break;
    case "chat.read":
      state.readUpTo = Math.max(state.readUpTo, payload.up_to || 0);
      markRead();
      break;
    case "chat.warning":
      setWarning(payload.expires_at);
      break;
    case "voice.call":
      call.update(payload);
      break;
    case "voice.signal":
      call.signal(payload);
      break;
    case "chat.ended":
      state.ended = payload.reason || "agent";
      if (state.session) state.session.state = "ended";
      identity.save({ active: false });
      setWarning(null);
      setQueue(null);
      showAgentTyping(false);
      break;
    default:
      break;
  }
  render();
}

// --- transcript ----------------------------------------------------------------------------
function resetTranscript() {
  ui.transcript.replaceChildren();
  state.messageRows.clear();
  state.noticeRows.clear();
  state.pending.clear();
  state.readUpTo = 0;
  state.lastAgentLineSeen = 0;
}

function timeLabel(iso) {
  const date = iso ? new Date(iso) : new Date();
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function messageRow(from, text, iso, name) {
  const row = document.createElement("li");
  row.className = `chat-line chat-line-${from}`;
  const meta = document.createElement("div");
  meta.className = "chat-line-meta";
  const who = document.createElement("span");
  who.className = "chat-line-who";
  who.textContent = from === "customer" ? t("you") : name || t("agent");
  const time = document.createElement("time");
  if (iso) time.dateTime = iso;
  time.textContent = timeLabel(iso);
  meta.append(who, " · ", time);
  const bubble = document.createElement("div");
  bubble.className = "chat-line-body";
  bubble.textContent = text;
  row.append(meta, bubble);
  if (from === "customer") {
    const status = document.createElement("span");
    status.className = "chat-line-status";
    row.append(status);
  }
  return row;
}

function setStatus(row, status, detail) {
  const element = row.querySelector(".chat-line-status");
  if (!element) return;
  row.dataset.status = status;
  element.textContent = detail || t(status === "not_sent" ? "not_sent" : status);
}

function addMessage(message) {
  if (!message || state.messageRows.has(message.id)) return;
  const row = messageRow(message.from, message.body, message.at, message.name);
  row.dataset.messageId = message.id;
  state.messageRows.set(message.id, row);
  if (message.from === "customer") setStatus(row, message.read || message.id <= state.readUpTo ? "read" : "sent");
  append(row);
}

function addNotice(notice) {
  if (!notice || state.noticeRows.has(notice.id)) return;
  state.noticeRows.add(notice.id);
  const row = document.createElement("li");
  row.className = `chat-notice chat-notice-${notice.code}`;
  row.dataset.noticeId = notice.id;
  row.textContent = noticeText(notice);
  append(row);
}

function append(row) {
  // Snapshots are applied oldest first and live frames arrive in order: appending keeps order.
  ui.transcript.append(row);
  ui.transcript.scrollTop = ui.transcript.scrollHeight;
}

function noticeText(notice) {
  const params = notice.params || {};
  switch (notice.code) {
    case "agent_joined":
      return t("agent_joined", { name: params.name || t("agent") });
    case "agent_left":
      return t("agent_left", { name: params.name || t("agent") });
    case "agent_transferred":
      return t("agent_transferred", { previous: params.previous || t("agent"), name: params.name || t("agent") });
    case "transferred_to_service":
      return t("transferred_to_service", { previous: params.previous || t("agent"), service: params.service || "" });
    case "participant_joined":
      return t("participant_joined", { name: params.name || t("agent") });
    case "participant_left":
      return t("participant_left", { name: params.name || t("agent") });
    case "inactivity_warning":
      return t("inactivity_warning", { time: timeLabel(params.expires_at) });
    case "ended":
      return t(`ended_${params.reason || "agent"}`);
    default:
      return "";
  }
}

function acknowledge(clientId, messageId) {
  const row = state.pending.get(clientId);
  if (!row) return;
  state.pending.delete(clientId);
  if (state.messageRows.has(messageId)) {
    row.remove();
    return;
  }
  row.classList.remove("chat-line-pending");
  row.dataset.messageId = messageId;
  state.messageRows.set(messageId, row);
  setStatus(row, messageId <= state.readUpTo ? "read" : "sent");
}

function failPending(detail) {
  for (const row of state.pending.values()) setStatus(row, "not_sent", detail);
  state.pending.clear();
}

function markRead() {
  for (const [id, row] of state.messageRows) {
    if (row.classList.contains("chat-line-customer") && id <= state.readUpTo) setStatus(row, "read");
  }
}

// --- header, banners, panels -----------------------------------------------------------------
function setAgent(name) {
  if (state.ended) {
    ui.agent.textContent = t("ended_header");
    return;
  }
  ui.agent.textContent = name ? t("chatting_with", { name }) : state.session && state.session.started ? t("waiting") : "";
}

function setQueue(queue) {
  if (queue && queue.connecting) {
    ui.queue.textContent = t("connecting_agent");
    ui.queue.hidden = false;
    return;
  }
  if (!queue || !queue.position) {
    ui.queue.hidden = true;
    ui.queue.textContent = "";
    return;
  }
  let text = t("queue_position", { position: queue.position });
  text += " ";
  if (queue.wait_seconds === null || queue.wait_seconds === undefined) text += t("no_agent");
  else text += queue.wait_seconds < 60 ? t("queue_wait_short") : t("queue_wait", { minutes: Math.round(queue.wait_seconds / 60) });
  ui.queue.textContent = text;
  ui.queue.hidden = false;
}

function setWarning(expiresAt) {
  ui.warning.hidden = !expiresAt;
  ui.warning.textContent = expiresAt ? t("inactivity_warning", { time: timeLabel(expiresAt) }) : "";
}

let agentTypingTimer = null;
function showAgentTyping(typing, name) {
  clearTimeout(agentTypingTimer);
  ui.typing.hidden = !typing;
  ui.typing.textContent = typing ? t("typing", { name: name || t("agent") }) : "";
  if (typing) agentTypingTimer = setTimeout(() => showAgentTyping(false), AGENT_TYPING_TIMEOUT_MS);
}

function render() {
  const session = state.session;
  const open = session && session.state === "open" && !state.ended;
  const config = state.config || {};
  const offline = !session && state.availability !== "open";
  const needsPrechat = !session && !offline && config.prechat && Object.keys(config.prechat).length > 0;
  body.dataset.chatState = state.ended ? "ended" : open ? "open" : offline ? "offline" : needsPrechat ? "prechat" : "new";
  ui.prechat.hidden = !(needsPrechat && !state.ended);
  ui.offline.hidden = !(offline && !state.ended);
  if (offline) {
    ui.offlineHeading.textContent = t(state.availability === "closed" ? "closed" : "unavailable");
    ui.offlineIntro.textContent = config.offline_form ? t("leave_message") : t("try_later");
    if (!config.offline_form) ui.offlineForm.hidden = true;
  }
  ui.transcript.hidden = !(session || state.ended || (!offline && !needsPrechat));
  ui.composer.hidden = !(state.welcomed && !state.ended && !offline && (open || !needsPrechat));
  ui.end.hidden = !open;
  ui.callUs.hidden = !(open && config.calls && !call.live());
  document.getElementById("prechat-call").hidden = !config.calls;
  ui.ended.hidden = !state.ended;
  if (state.ended) {
    ui.composer.hidden = true;
    setQueue(null);
    if (!session || !session.started) ui.transcriptForm.hidden = true;
  }
  if (!open || state.ended) setAgent(null);
  if (session && open && !session.has_agent && !ui.agent.textContent) setAgent(null);
}

// --- forms -----------------------------------------------------------------------------------
function formFields(form) {
  const fields = {};
  for (const [name, value] of new FormData(form).entries()) fields[name] = value;
  return fields;
}

function clearFormErrors(form) {
  form.querySelectorAll("[data-error-for]").forEach((element) => {
    element.textContent = "";
    if (element.classList.contains("chat-field-error")) element.hidden = true;
  });
  form.querySelectorAll("[aria-invalid]").forEach((input) => {
    input.removeAttribute("aria-invalid");
    input.removeAttribute("aria-describedby");
  });
}

function showFormErrors(formName, errors) {
  const form = document.querySelector(`form[data-form="${formName}"]`);
  if (!form) return;
  setBusy(form, false);
  clearFormErrors(form);
  let first = null;
  for (const [name, messages] of Object.entries(errors || {})) {
    const element = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`) || form.querySelector('[data-error-for="__all__"]');
    element.textContent = messages.join(" ");
    element.hidden = false;
    const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", element.id);
      if (!first) first = input;
    }
  }
  if (first) first.focus();
}

function setBusy(form, busy) {
  const button = form.querySelector("button[type=submit]");
  if (button) button.disabled = busy;
}

function showError(data) {
  const text = data.detail || t("error");
  if (data.client_id && state.pending.has(data.client_id)) {
    const row = state.pending.get(data.client_id);
    state.pending.delete(data.client_id);
    setStatus(row, "not_sent", t("not_sent"));
    row.classList.add("chat-line-failed");
  }
  document.querySelectorAll("form[data-form] button[disabled]").forEach((button) => {
    button.disabled = false;
  });
  const visibleForm = ["prechat", "offline", "transcript"]
    .map((name) => document.querySelector(`form[data-form="${name}"]`))
    .find((element) => element && !element.closest("[hidden]") && !element.hidden);
  if (visibleForm && ui.composer.hidden) {
    const slot = visibleForm.querySelector('[data-error-for="__all__"]');
    slot.textContent = text;
    return;
  }
  ui.error.textContent = text;
}

ui.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = ui.input.value.trim();
  ui.error.textContent = "";
  if (!text) return;
  const limit = Number(body.dataset.maxLength || 0);
  if (limit && text.length > limit) {
    ui.error.textContent = t("too_long", { length: text.length, limit });
    return;
  }
  const clientId = newId();
  const row = messageRow("customer", text, new Date().toISOString(), "");
  row.classList.add("chat-line-pending");
  state.pending.set(clientId, row);
  setStatus(row, "sending");
  append(row);
  if (!send({ type: "message", client_id: clientId, body: text })) {
    state.pending.delete(clientId);
    setStatus(row, "not_sent");
    ui.error.textContent = t("reconnecting");
    return;
  }
  ui.input.value = "";
  stopTyping();
});

ui.input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.composer.requestSubmit();
  }
});

let lastTypingSent = 0;
let typingIdle = null;
ui.input.addEventListener("input", () => {
  if (!state.session || state.session.state !== "open") return;
  const now = Date.now();
  if (now - lastTypingSent > TYPING_SEND_MS) {
    lastTypingSent = now;
    send({ type: "typing", typing: true });
  }
  clearTimeout(typingIdle);
  typingIdle = setTimeout(stopTyping, TYPING_IDLE_MS);
});

function stopTyping() {
  clearTimeout(typingIdle);
  if (lastTypingSent) {
    lastTypingSent = 0;
    send({ type: "typing", typing: false });
  }
}

document.getElementById("prechat-call").addEventListener("click", async () => {
  const form = document.getElementById("prechat-form");
  clearFormErrors(form);
  if (!form.reportValidity()) return;
  setBusy(form, true);
  const asked = await call.request(() => send({ type: "prechat", client_id: newId(), fields: formFields(form), call: true }));
  if (!asked) setBusy(form, false);
});

ui.callUs.addEventListener("click", () => call.request(() => send({ type: "call_request" })));

document.getElementById("prechat-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  clearFormErrors(form);
  setBusy(form, true);
  if (!send({ type: "prechat", client_id: newId(), fields: formFields(form) })) setBusy(form, false);
});

ui.offlineForm.addEventListener("submit", (event) => {
  event.preventDefault();
  clearFormErrors(ui.offlineForm);
  send({ type: "offline", client_id: newId(), fields: formFields(ui.offlineForm) });
});

ui.transcriptForm.addEventListener("submit", (event) => {
  event.preventDefault();
  clearFormErrors(ui.transcriptForm);
  send({ type: "transcript", fields: formFields(ui.transcriptForm) });
});

ui.end.addEventListener("click", () => send({ type: "end" }));

ui.restart.addEventListener("click", () => {
  state.ended = null;
  state.session = null;
  resetTranscript();
  ui.transcriptForm.hidden = false;
  ui.transcriptDone.hidden = true;
  send({ type: "restart" });
  render();
});

// Prefill the transcript email from the pre-chat answers.
const transcriptEmail = ui.transcriptForm.querySelector("input[type=email]");
const prechatEmail = document.querySelector("#prechat-form input[type=email]");
if (transcriptEmail && prechatEmail) prechatEmail.addEventListener("change", () => (transcriptEmail.value = prechatEmail.value));

// --- read receipts of the agent's lines --------------------------------------------------------
function reportSeen() {
  if (!state.visible || document.hidden) return;
  let newest = 0;
  for (const [id, row] of state.messageRows) if (row.classList.contains("chat-line-agent")) newest = Math.max(newest, id);
  if (newest > state.lastAgentLineSeen) {
    state.lastAgentLineSeen = newest;
    send({ type: "seen", up_to: newest });
  }
  clearUnread();
}
document.addEventListener("visibilitychange", reportSeen);

// --- the embedding page (widget.js) -------------------------------------------------------------
function parentOrigin() {
  if (window.location.ancestorOrigins && window.location.ancestorOrigins.length) return window.location.ancestorOrigins[0];
  try {
    return new URL(document.referrer).origin;
  } catch {
    return "*";
  }
}
const PARENT_ORIGIN = embedded ? parentOrigin() : null;

function toHost(message, { private: secret = false } = {}) {
  if (!embedded || window.parent === window) return;
  if (secret && PARENT_ORIGIN === "*") return; // the token only ever goes to the embedding site
  window.parent.postMessage({ source: "cc-chat", ...message }, PARENT_ORIGIN);
}

function bumpUnread() {
  state.unread += 1;
  toHost({ type: "unread", count: state.unread, label: t("unread", { count: state.unread }) });
}
function clearUnread() {
  if (!state.unread) return;
  state.unread = 0;
  toHost({ type: "unread", count: 0, label: "" });
}

window.addEventListener("message", (event) => {
  if (!embedded || event.source !== window.parent) return;
  const data = event.data || {};
  if (data.source !== "cc-chat-host") return;
  if (data.type === "init") {
    if (state.initialized) return;
    state.initialized = true;
    identity.hostToken = typeof data.token === "string" ? data.token : null;
    identity.hostActive = Boolean(data.active);
    state.page = pageFrom(data.page);
    state.visible = Boolean(data.open);
    if (identity.active() || state.visible) connect();
  } else if (data.type === "page") {
    const page = pageFrom(data);
    if (state.page && state.page.url === page.url && state.page.title === page.title) return;
    state.page = page;
    send({ type: "page", page });
  } else if (data.type === "open") {
    state.visible = true;
    if (state.initialized) connect();
    reportSeen();
    const target = !ui.composer.hidden ? ui.input : document.querySelector("form[data-form]:not([hidden]) input, form[data-form]:not([hidden]) textarea");
    if (target && !target.closest("[hidden]")) target.focus();
  } else if (data.type === "closed") {
    state.visible = false;
  }
});

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && embedded) toHost({ type: "close" });
});
if (ui.minimize) ui.minimize.addEventListener("click", () => toHost({ type: "close" }));

function pageFrom(data) {
  if (!data) return null;
  return { url: String(data.url || "").slice(0, 2000), title: String(data.title || "").slice(0, 300) };
}

render();
if (embedded) {
  toHost({ type: "ready", labels: { open: t("open_chat"), close: t("close_chat"), title: t("frame_title") } });
} else {
  state.page = { url: window.location.href, title: document.title };
  connect();
}
