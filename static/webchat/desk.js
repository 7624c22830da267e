// Agent desktop, open conversation: the chat panel (the customer's page, pre-chat answers,
// transcript requests), the customer's typing indicator, the agent's typing, and read receipts
// of the customer's chat lines. Everything goes over the page's one socket (desktop_socket.js):
// the panel is a server-rendered fragment re-fetched when the conversation changes, so a fresh
// page and a live one show the same thing.
import { desktopSocket as socket } from "../js/desktop_socket.js";
import { fetchFragment } from "../js/http.js";

const panel = document.getElementById("channel-panel");
const timeline = document.getElementById("timeline");
const typingLine = document.getElementById("chat-customer-typing");
const composerBody = document.getElementById("composer-body");
const conversationId = Number(document.body.dataset.conversationId || 0);
const TYPING_SEND_MS = 3000;
const TYPING_IDLE_MS = 4000;
const CUSTOMER_TYPING_TIMEOUT_MS = 6000;
const PANEL_EVENTS = new Set(["interaction.ended", "interaction.started", "conversation.closed", "conversation.wrap_up", "voice.call"]);

let lastRead = 0;
let panelTimer = null;

function refreshPanel() {
  clearTimeout(panelTimer);
  panelTimer = setTimeout(async () => {
    let fragment;
    try {
      fragment = await fetchFragment(panel.dataset.fragmentUrl);
    } catch {
      return; // not this agent's any more (handed over): the page's own events say what next
    }
    const kept = openState();
    panel.replaceChildren(fragment);
    restoreOpenState(kept);
    panel.dispatchEvent(new CustomEvent("panel-updated"));
  }, 150);
}

// A refresh keeps what the agent has open or chosen in the panel (a menu, a colleague picked,
// focus), as long as the new render still has it.
function openState() {
  const focused = document.activeElement && panel.contains(document.activeElement) ? document.activeElement : null;
  return {
    menus: [...panel.querySelectorAll("details[open]")].map((menu) => menu.className),
    choices: [...panel.querySelectorAll("select[id]")].map((select) => [select.id, select.value]),
    focus: focused && focused.id ? `#${CSS.escape(focused.id)}` : focused && focused.dataset.action ? `[data-action="${focused.dataset.action}"]` : "",
  };
}

function restoreOpenState(kept) {
  for (const name of kept.menus) {
    const menu = [...panel.querySelectorAll("details")].find((details) => details.className === name);
    if (menu) menu.open = true;
  }
  for (const [id, value] of kept.choices) {
    const select = document.getElementById(id);
    if (select && panel.contains(select) && [...select.options].some((option) => option.value === value)) select.value = value;
  }
  const target = kept.focus && panel.querySelector(kept.focus);
  if (target) target.focus();
}

let typingTimer = null;
function showCustomerTyping(typing) {
  clearTimeout(typingTimer);
  typingLine.hidden = !typing;
  if (typing) typingTimer = setTimeout(() => (typingLine.hidden = true), CUSTOMER_TYPING_TIMEOUT_MS);
}

// The customer's chat lines on screen, tab visible: they are read.
function sendRead() {
  if (!timeline || document.hidden) return;
  const rows = timeline.querySelectorAll(".message.inbound[data-message-id]");
  if (!rows.length) return;
  const newest = Number(rows[rows.length - 1].dataset.messageId);
  if (newest > lastRead && socket.send({ type: "read", conversation_id: conversationId, up_to: newest })) {
    lastRead = newest;
  }
}

if (panel && conversationId) {
  refreshPanel();
  socket.on("status", (status) => {
    if (status !== "live") return;
    socket.send({ type: "watch", conversation_id: conversationId });
    lastRead = 0;
    sendRead();
  });
  socket.on("message", (data) => {
    if (data.type === "typing" && Number(data.conversation_id) === conversationId) showCustomerTyping(data.typing);
  });
  socket.on("event", (event) => {
    const payload = event.payload || {};
    if (Number(payload.conversation_id) === conversationId && PANEL_EVENTS.has(event.type)) refreshPanel();
  });
  document.addEventListener("visibilitychange", sendRead);
  if (timeline) {
    new MutationObserver((mutations) => {
      const added = mutations.flatMap((mutation) => [...mutation.addedNodes]).filter((node) => node.nodeType === 1);
      if (added.some((node) => node.classList.contains("inbound"))) {
        showCustomerTyping(false);
        sendRead();
      }
      if (added.some((node) => node.classList.contains("kind-system"))) refreshPanel();
    }).observe(timeline, { childList: true });
  }
  if (composerBody) {
    let lastSent = 0;
    let idle = null;
    const typing = (value) => socket.send({ type: "typing", conversation_id: conversationId, typing: value });
    const stop = () => {
      clearTimeout(idle);
      if (lastSent) {
        lastSent = 0;
        typing(false);
      }
    };
    composerBody.addEventListener("input", () => {
      const now = Date.now();
      if (now - lastSent > TYPING_SEND_MS) {
        lastSent = now;
        typing(true);
      }
      clearTimeout(idle);
      idle = setTimeout(stop, TYPING_IDLE_MS);
    });
    composerBody.form.addEventListener("submit", stop);
  }
}
