// Agent desktop, open conversation: the channel panel (chat page, pre-chat, transcript requests),
// the customer's typing indicator, the agent's typing, and read receipts of the customer's chat
// lines. The panel is a server-rendered fragment re-fetched when the timeline gets a system line
// or the server says so, so a fresh page and a live one show the same thing.

const panel = document.getElementById("channel-panel");
const timeline = document.getElementById("timeline");
const typingLine = document.getElementById("chat-customer-typing");
const composerBody = document.getElementById("composer-body");
const HEARTBEAT_MS = 20000;
const TYPING_SEND_MS = 3000;
const TYPING_IDLE_MS = 4000;
const CUSTOMER_TYPING_TIMEOUT_MS = 6000;

let socket = null;
let attempt = 0;
let lastRead = 0;

async function refreshPanel() {
  const response = await fetch(panel.dataset.fragmentUrl, {
    headers: { "X-Requested-With": "fetch" },
    credentials: "same-origin",
  });
  if (!response.ok) return;
  const template = document.createElement("template");
  template.innerHTML = await response.text();
  panel.replaceChildren(template.content);
  if (panel.querySelector('[data-chat-open="1"]')) connect();
}

function connect() {
  if (socket) return;
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${window.location.host}${panel.dataset.wsPath}`);
  let heartbeat = null;
  socket.addEventListener("open", () => {
    attempt = 0;
    lastRead = 0;
    sendRead();
    heartbeat = setInterval(() => send({ type: "ping" }), HEARTBEAT_MS);
  });
  socket.addEventListener("message", (message) => {
    const data = JSON.parse(message.data);
    if (data.type === "typing") showCustomerTyping(data.typing);
    else if (data.type === "refresh") refreshPanel();
  });
  socket.addEventListener("close", (event) => {
    clearInterval(heartbeat);
    socket = null;
    if (event.code === 4404 || event.code === 4401) return;
    const delay = Math.min(15000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
    attempt += 1;
    setTimeout(connect, delay);
  });
}

function send(data) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(data));
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
  if (newest > lastRead) {
    lastRead = newest;
    send({ type: "read", up_to: newest });
  }
}

if (panel) {
  refreshPanel();
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
    const stop = () => {
      clearTimeout(idle);
      if (lastSent) {
        lastSent = 0;
        send({ type: "typing", typing: false });
      }
    };
    composerBody.addEventListener("input", () => {
      const now = Date.now();
      if (now - lastSent > TYPING_SEND_MS) {
        lastSent = now;
        send({ type: "typing", typing: true });
      }
      clearTimeout(idle);
      idle = setTimeout(stop, TYPING_IDLE_MS);
    });
    composerBody.form.addEventListener("submit", stop);
  }
}
