// Monitoring a conversation: its timeline kept live (read-only) from the event log; whisper,
// barge in, transfer and close post to the supervisor actions.
import { AgentSocket } from "./realtime.js";
import { fetchFragment } from "./http.js";
import { format, strings } from "./i18n.js";
import { statusMovesForward } from "./message_status.js";
import { postForm, tickTimers } from "./supervision.js";

const body = document.body;
const conversationId = Number(body.dataset.conversationId);
const banner = document.getElementById("connection-banner");
const timeline = document.getElementById("timeline");
const header = document.getElementById("monitor-header-container");
const errorBox = document.getElementById("monitor-error");
const TEXT = strings("monitor-strings");

let chain = Promise.resolve();
function appendNewMessages() {
  // Serialized so two events never append the same rows twice.
  chain = chain
    .then(async () => {
      const rows = timeline.querySelectorAll("[data-message-id]");
      const lastId = rows.length ? Number(rows[rows.length - 1].dataset.messageId) : 0;
      const fragment = await fetchFragment(`${timeline.dataset.fragmentUrl}?after=${lastId}`);
      fragment.querySelectorAll("[data-message-id]").forEach((row) => {
        if (!timeline.querySelector(`[data-message-id="${row.dataset.messageId}"]`)) timeline.appendChild(row);
      });
      timeline.scrollTop = timeline.scrollHeight;
    })
    .catch((error) => console.error(error));
  return chain;
}

function applyStatus(payload) {
  const row = timeline.querySelector(`[data-message-id="${payload.message_id}"]`);
  if (!row) return appendNewMessages();
  const status = row.querySelector(".status");
  if (status && !statusMovesForward(status.dataset.status, payload.status)) return null;
  if (status) {
    status.dataset.status = payload.status;
    status.textContent = (TEXT.statuses || {})[payload.status] || payload.status;
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

async function refreshHeader() {
  try {
    header.replaceChildren(await fetchFragment(header.dataset.fragmentUrl));
  } catch (error) {
    console.error(error);
  }
}

const socket = new AgentSocket({
  cursor: Number(body.dataset.eventCursor || 0),
  onEvent: (event) => {
    const payload = event.payload || {};
    if (Number(payload.conversation_id) !== conversationId) return;
    if (event.type === "message.created") appendNewMessages();
    else if (event.type === "message.status_changed") applyStatus(payload);
    else if (event.type.startsWith("conversation.") || event.type.startsWith("interaction.")) refreshHeader();
  },
  onStatus: (status) => {
    banner.hidden = status !== "reconnecting";
    body.dataset.connection = status;
    if (status === "live") {
      appendNewMessages();
      refreshHeader();
    }
  },
});
socket.connect();

const bargeToken = document.querySelector("#barge-form input[name=client_token]");
if (bargeToken) bargeToken.value = crypto.randomUUID();

document.querySelectorAll("form.js-monitor-action").forEach((form) => {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    errorBox.textContent = "";
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const { response, data } = await postForm(form);
      if (response.ok) {
        const textarea = form.querySelector("textarea");
        if (textarea) textarea.value = "";
        if (form === bargeToken?.form) bargeToken.value = crypto.randomUUID();
        appendNewMessages();
        refreshHeader();
      } else {
        errorBox.textContent = data.error?.message || format(TEXT.error, { status: response.status });
      }
    } catch (error) {
      console.error(error);
      errorBox.textContent = TEXT.network_error || "";
    } finally {
      button.disabled = false;
    }
  });
});
tickTimers(document);
