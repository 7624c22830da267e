// Agent desktop: keeps the Active Conversations list and the open timeline live.
// Server-rendered fragments are fetched on events, so a live page shows what a fresh render shows;
// customer text only ever arrives as server-escaped HTML or through textContent.
import { desktopSocket as socket } from "./desktop_socket.js";
import { format, strings } from "./i18n.js";
import { csrfToken, errorText as httpErrorText, fetchFragment, postForm } from "./http.js";
import { playTone } from "./tones.js";
import { smsSegments } from "./sms_segments.js";
import { statusMovesForward } from "./message_status.js";
import { showWhisper } from "./whisper.js";

const body = document.body;
const conversationId = Number(body.dataset.conversationId || 0);
const list = document.getElementById("conversation-list");
const timeline = document.getElementById("timeline");
const banner = document.getElementById("connection-banner");
const composer = document.getElementById("composer");
const TEXT = strings("desktop-strings");

function errorText(data, response) {
  return httpErrorText(data, response, TEXT.error);
}

let listRefresh = null;
let listStale = false;
function refreshList() {
  // A change announced during a fetch may be missing from what that fetch returns: fetch again.
  if (listRefresh) {
    listStale = true;
    return listRefresh;
  }
  listRefresh = (async () => {
    try {
      do {
        listStale = false;
        const fragment = await fetchFragment(list.dataset.fragmentUrl);
        const focused = focusedListEntry();
        list.replaceChildren(fragment);
        if (focused) refocusListEntry(focused);
        markSelected();
        tickCountdowns();
        ringForCalls();
      } while (listStale);
    } finally {
      listRefresh = null;
    }
  })();
  return listRefresh;
}

// A call offered to this agent rings out loud until it is answered, refused or gone.
let stopCallRing = null;
function ringForCalls() {
  const ringing = Boolean(list.querySelector(".offer .channel-voice"));
  if (ringing && !stopCallRing) stopCallRing = playTone("incoming");
  if (!ringing && stopCallRing) {
    stopCallRing();
    stopCallRing = null;
  }
}

function listEntry(id) {
  return id ? list.querySelector(`.items > .conversation-item[data-conversation-id="${Number(id)}"]`) : null;
}

// A new message changes one entry (preview, unread count, timers, place): only that entry is
// fetched and put back where the list's order (newest activity first) puts it. Anything else,
// or an entry that left the list or has no place yet, reads the whole list.
let entryChain = Promise.resolve();
function refreshEntry(id) {
  entryChain = entryChain.then(async () => {
    if (listRefresh) {
      listStale = true;
      return;
    }
    try {
      const fragment = await fetchFragment(`${list.dataset.fragmentUrl}?conversation=${Number(id)}`);
      const fresh = fragment.querySelector(".conversation-item");
      const current = listEntry(id);
      if (listRefresh || !fresh || !current || !fresh.dataset.order) {
        refreshList();
        return;
      }
      const focused = focusedListEntry();
      const items = current.parentElement;
      current.remove();
      const key = (item) => [item.dataset.order || "", Number(item.dataset.conversationId)];
      const [order, pk] = key(fresh);
      const after = [...items.querySelectorAll(":scope > .conversation-item")].find((item) => {
        const [otherOrder, otherPk] = key(item);
        return otherOrder < order || (otherOrder === order && otherPk < pk);
      });
      items.insertBefore(fresh, after || null);
      if (focused) refocusListEntry(focused);
      markSelected();
      tickCountdowns();
    } catch {
      refreshList();
    }
  });
  return entryChain;
}

// The entry of the list that has the keyboard focus, to give it back after a refresh.
function focusedListEntry() {
  const active = document.activeElement;
  if (!active || !list.contains(active)) return null;
  const entry = active.closest("[data-offer-id], [data-conversation-id]");
  return entry ? { offer: entry.dataset.offerId, conversation: entry.dataset.conversationId } : null;
}

function refocusListEntry({ offer, conversation }) {
  const selector = offer
    ? `[data-offer-id="${offer}"] button.accept`
    : `.conversation-item[data-conversation-id="${conversation}"] > a`;
  const target = list.querySelector(selector);
  if (target) target.focus({ preventScroll: true });
}

function markSelected() {
  list.querySelectorAll("[data-conversation-id]").forEach((item) => {
    item.classList.toggle("selected", Number(item.dataset.conversationId) === conversationId);
  });
}

let timelineChain = Promise.resolve();
function appendNewMessages() {
  // Serialized so two events never append the same rows twice.
  timelineChain = timelineChain.then(async () => {
    const rows = timeline.querySelectorAll("[data-message-id]");
    const lastId = rows.length ? Number(rows[rows.length - 1].dataset.messageId) : 0;
    const fragment = await fetchFragment(`${timeline.dataset.fragmentUrl}?after=${lastId}`);
    fragment.querySelectorAll("[data-message-id]").forEach((row) => {
      if (!timeline.querySelector(`[data-message-id="${row.dataset.messageId}"]`)) timeline.appendChild(row);
    });
    timeline.scrollTop = timeline.scrollHeight;
  }).catch((error) => console.error(error));
  return timelineChain;
}

function updateStatus(payload) {
  const findRow = () => timeline && timeline.querySelector(`[data-message-id="${payload.message_id}"]`);
  const row = findRow();
  if (!row) {
    // Not in the timeline yet: the row that arrives may have been rendered before this change.
    return appendNewMessages().then(() => {
      const appended = findRow();
      if (appended) applyStatus(appended, payload);
    });
  }
  applyStatus(row, payload);
  return null;
}

function applyStatus(row, payload) {
  const status = row.querySelector(".status");
  if (status && !statusMovesForward(status.dataset.status, payload.status)) return null;
  if (status) {
    status.dataset.status = payload.status;
    status.textContent = (TEXT.statuses || {})[payload.status] || payload.status_label || payload.status;
  }
  if (payload.error_code || payload.error_message) {
    let error = row.querySelector(".error");
    if (!error) {
      error = document.createElement("div");
      error.className = "error";
      row.appendChild(error);
    }
    const message = (TEXT.error_texts || {})[payload.error_code] || payload.error_message || "";
    error.textContent = `${payload.error_code || ""} ${message}`.trim();
  }
  return null;
}

// While this page's own end or wrap-up is being submitted, the page navigates by the answer; the
// events the same action causes (wrap-up, closed) must not reload it first.
let navigatingAway = false;

function applyEvent(event) {
  // Other modules of the page (work queues, channel panels) follow the same events.
  document.dispatchEvent(new CustomEvent("desktop:event", { detail: event }));
  const payload = event.payload || {};
  const mine = payload.conversation_id && payload.conversation_id === conversationId;
  if ((event.type === "message.created" || event.type === "voice.call") && listEntry(payload.conversation_id)) {
    refreshEntry(payload.conversation_id);
  } else if (
    event.type.startsWith("conversation.") ||
    event.type.startsWith("offer.") ||
    event.type.startsWith("contact.") ||
    event.type === "message.created"
  ) {
    refreshList();
  }
  if (event.type === "offer.created") announceOffer(payload);
  if (event.type === "voice.screen_pop") screenPop(event);
  if (event.type === "supervisor.whisper") showWhisper(payload);
  if (!timeline || !mine || navigatingAway) return;
  if (event.type === "message.created") appendNewMessages();
  else if (event.type === "message.status_changed") updateStatus(payload);
  else if (event.type === "conversation.closed" || event.type === "conversation.wrap_up") {
    // Only a step forward reloads: a fresh page of a closed conversation is also replayed the
    // recent conversation.wrap_up (the replay overlap) and must not reload for it, again and again.
    const status = document.getElementById("conversation-status");
    const step = { open: 0, wrap_up: 1, closed: 2 };
    const shown = status ? step[status.dataset.status] : -1;
    if (shown < step[event.type === "conversation.closed" ? "closed" : "wrap_up"]) window.location.reload();
  } else if (event.type === "conversation.participants_changed") {
    // Who is in the conversation changed (a colleague joined or left): reload once, unless this
    // render shows them already (a fresh page is replayed the last seconds of events).
    const header = document.querySelector(".workspace-header");
    const people = (payload.people || []).join(",");
    if (!header || header.dataset.people !== people) window.location.reload();
  } else if (event.type === "interaction.started" || event.type === "conversation.transferred") {
    // A fresh page is replayed the last seconds of events (the replay overlap): reload only for
    // a change this render does not show yet, or the page reloads again and again.
    const header = document.querySelector(".workspace-header");
    const shown =
      event.type === "interaction.started"
        ? Boolean(header && header.querySelector(`[data-interaction-id="${payload.interaction_id}"]`))
        : Boolean(header && Number(header.dataset.serviceId) === Number(payload.service_id));
    if (!shown) window.location.reload();
  }
}

socket.on("event", applyEvent);
socket.on("status", (status) => {
  banner.hidden = status !== "reconnecting";
  body.dataset.connection = status;
  if (status === "live") {
    refreshList();
    if (timeline) appendNewMessages();
  }
});
socket.connect();

if (composer) {
  const textarea = composer.querySelector("textarea");
  const errorBox = document.getElementById("composer-error");
  const token = composer.querySelector("input[name=client_token]");
  token.value = crypto.randomUUID();
  const targetSelect = document.getElementById("composer-target");
  const counter = document.getElementById("segment-counter");
  const canned = document.getElementById("composer-canned");
  const fromSelect = document.getElementById("composer-from");
  function updateSegments() {
    const option = targetSelect && targetSelect.selectedOptions[0];
    const channel = option ? option.dataset.channel : "";
    if (fromSelect) fromSelect.disabled = !(option && option.dataset.newLeg === "1");
    composer.classList.toggle("note-mode", channel === "note");
    if (channel !== "sms") {
      counter.textContent = "";
      return;
    }
    const { segments, encoding, length } = smsSegments(textarea.value);
    counter.textContent = format(TEXT.sms_counter, { length, encoding, segments });
  }
  textarea.addEventListener("input", updateSegments);
  if (targetSelect) targetSelect.addEventListener("change", updateSegments);
  if (canned) {
    canned.addEventListener("change", () => {
      if (!canned.value) return;
      textarea.value = textarea.value ? `${textarea.value}\n${canned.value}` : canned.value;
      canned.value = "";
      textarea.focus();
      updateSegments();
    });
  }
  updateSegments();
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  composer.addEventListener("submit", async (event) => {
    event.preventDefault();
    errorBox.textContent = "";
    const button = composer.querySelector("button[type=submit]");
    const [channel, to] = (targetSelect ? targetSelect.value : "|").split("|");
    const isNote = channel === "note";
    composer.querySelector("input[name=channel]").value = isNote ? "" : channel;
    composer.querySelector("input[name=to]").value = isNote ? "" : to;
    button.disabled = true;
    try {
      const response = await fetch(isNote ? composer.dataset.noteUrl : composer.action, {
        method: "POST",
        body: new FormData(composer),
        headers: { "X-CSRFToken": csrfToken() },
        credentials: "same-origin",
      });
      if (response.ok) {
        textarea.value = "";
        token.value = crypto.randomUUID();
        composer.dispatchEvent(new CustomEvent("composer:sent"));
        updateSegments();
        const option = targetSelect && targetSelect.selectedOptions[0];
        if (option && option.dataset.newLeg === "1") window.location.reload();
        else appendNewMessages();
      } else {
        const data = await response.json().catch(() => ({}));
        errorBox.textContent = errorText(data, response);
      }
    } catch (error) {
      console.error(error);
      errorBox.textContent = TEXT.network_error || "";
    } finally {
      button.disabled = false;
    }
  });
}

const endForm = document.querySelector("form.js-end");
if (endForm) {
  endForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    navigatingAway = true;
    const { response, data } = await postForm(endForm);
    if (!response.ok) {
      navigatingAway = false;
      window.alert(errorText(data, response));
    } else if (data.status === "closed") window.location.assign("/");
    else window.location.reload();
  });
  document.addEventListener("keydown", (event) => {
    if (event.altKey && (event.key === "q" || event.key === "Q")) {
      event.preventDefault();
      endForm.requestSubmit();
    }
  });
}

const wrapUp = document.getElementById("wrap-up");
if (wrapUp) {
  wrapUp.addEventListener("submit", async (event) => {
    event.preventDefault();
    navigatingAway = true;
    const { response, data } = await postForm(wrapUp);
    if (response.ok) window.location.assign("/");
    else {
      navigatingAway = false;
      document.getElementById("wrap-up-error").textContent = errorText(data, response);
    }
  });
}

// Offers: countdown, accept/reject, and a notification when the tab is hidden.
function formatDuration(seconds) {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}` : `${m}:${String(s).padStart(2, "0")}`;
}

function tickTimers() {
  const items = list.querySelector(".items");
  const threshold = Number(items ? items.dataset.replyThreshold : 60);
  list.querySelectorAll("[data-since]").forEach((timer) => {
    const seconds = Math.max(0, Math.round((Date.now() - Date.parse(timer.dataset.since)) / 1000));
    timer.textContent = formatDuration(seconds);
    if (timer.classList.contains("waiting-time")) timer.classList.toggle("late", seconds > threshold);
  });
}

function tickCountdowns() {
  tickTimers();
  list.querySelectorAll("[data-expires-at]").forEach((offer) => {
    const left = Math.max(0, Math.round((Date.parse(offer.dataset.expiresAt) - Date.now()) / 1000));
    const countdown = offer.querySelector(".countdown");
    if (countdown) countdown.textContent = format(TEXT.countdown, { seconds: left });
    // The ring empties as the offer runs out (CSSOM, allowed by the page's CSP).
    const ring = offer.querySelector(".countdown-ring");
    const total = (Date.parse(offer.dataset.expiresAt) - Date.parse(offer.dataset.offeredAt)) / 1000;
    if (ring && total > 0) {
      const share = Math.min(1, left / total);
      ring.style.setProperty("--left", String(share));
      ring.classList.toggle("ending", share <= 0.25);
    }
  });
}
setInterval(tickCountdowns, 1000);
tickCountdowns();

function announceOffer() {
  if (document.hidden && "Notification" in window && Notification.permission === "granted") {
    new Notification(document.title, { body: list.dataset.offerText || "" });
  }
}
// A phone call rings on this agent's phone (CTI): the desktop opens the caller's conversation.
// Once per pop (a fresh page is replayed the last events), only while it is recent, and never
// over a reply being written (the call is in the list, the draft stays).
const SCREEN_POP_FRESH_MS = 120000;
function screenPop(event) {
  const payload = event.payload || {};
  const id = Number(payload.conversation_id || 0);
  if (!id || id === conversationId || !payload.url) return;
  if (Date.now() - Date.parse(event.at) > SCREEN_POP_FRESH_MS) return;
  const key = `cc-screen-pop-${event.id}`;
  try {
    if (sessionStorage.getItem(key)) return;
    sessionStorage.setItem(key, "1");
  } catch (_error) {
    // no session storage (a private window's quota): pop anyway
  }
  if (document.hidden && "Notification" in window && Notification.permission === "granted") {
    new Notification(document.title, { body: format(TEXT.call_from, { number: payload.number || "" }) });
  }
  const draft = composer ? composer.querySelector("textarea") : null;
  if (draft && draft.value.trim()) return;
  window.location.assign(payload.url);
}

if ("Notification" in window && Notification.permission === "default") {
  document.addEventListener("click", () => Notification.requestPermission(), { once: true });
}

list.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!form.classList.contains("js-offer")) return;
  event.preventDefault();
  form.querySelector("button").disabled = true;
  const { response, data } = await postForm(form);
  if (response.ok && data.conversation_url) {
    window.location.assign(data.conversation_url);
  } else {
    if (!response.ok) window.alert(errorText(data, response));
    refreshList();
  }
});

document.querySelectorAll("form.js-transfer, form.js-post").forEach((form) => {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { response, data } = await postForm(form);
    if (!response.ok) window.alert(errorText(data, response));
    else if (form.classList.contains("js-leave")) window.location.assign("/");
    else appendNewMessages();
  });
});


// Logging out while handling work asks first.
const logoutForm = document.getElementById("logout-form");
if (logoutForm) {
  logoutForm.addEventListener("submit", (event) => {
    const working = list.querySelector(".conversation-item") !== null;
    if (working && !window.confirm(logoutForm.dataset.confirm)) event.preventDefault();
  });
}

// "Send again" on a failed or undelivered message (delegated: rows arrive live).
if (timeline) {
  timeline.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!form.classList.contains("js-retry")) return;
    event.preventDefault();
    form.querySelector("button").disabled = true;
    const { response, data } = await postForm(form);
    if (!response.ok) window.alert(errorText(data, response));
    appendNewMessages();
  });
}

// Keyboard: Alt+1…9 goes to the list's nth entry (offers first, then conversations: the Accept
// button or the conversation's link), ArrowUp/ArrowDown move between entries while one has the
// focus; Enter accepts or opens it. An open conversation puts the focus in the composer.
function listTargets() {
  return [...list.querySelectorAll(".offer button.accept, .conversation-item > a")];
}

document.addEventListener("keydown", (event) => {
  if (event.altKey && !event.ctrlKey && !event.metaKey && /^[1-9]$/.test(event.key)) {
    const target = listTargets()[Number(event.key) - 1];
    if (target) {
      event.preventDefault();
      target.focus();
    }
    return;
  }
  if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
  const targets = listTargets();
  const index = targets.indexOf(document.activeElement);
  if (index < 0) return;
  event.preventDefault();
  const next = event.key === "ArrowDown" ? Math.min(index + 1, targets.length - 1) : Math.max(index - 1, 0);
  targets[next].focus();
});

if (composer && (!document.activeElement || document.activeElement === document.body)) {
  composer.querySelector("textarea").focus({ preventScroll: true });
}

// Header menus (Transfer, Invite): one open at a time, closed by Escape or a click elsewhere;
// opening one puts the focus on its first field.
const menus = [...document.querySelectorAll(".workspace-header details.menu")];
for (const menu of menus) {
  menu.addEventListener("toggle", () => {
    if (!menu.open) return;
    for (const other of menus) if (other !== menu) other.open = false;
    menu.querySelector("select, input")?.focus();
  });
}
document.addEventListener("click", (event) => {
  for (const menu of menus) if (menu.open && !menu.contains(event.target)) menu.open = false;
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const open = menus.find((menu) => menu.open);
  if (open) {
    open.open = false;
    open.querySelector("summary").focus();
  }
});
