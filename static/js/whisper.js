// Whispers: a supervisor's note to the agents handling a conversation pops up on their desktop
// (event supervisor.whisper). Shown once per whisper, also across a reload (the server replays the
// last seconds of events); the text is staff text, inserted with textContent all the same.
import { format } from "./i18n.js";

const SHOWN_KEY = "cc-whispers-shown";
const SHOWN_LIMIT = 200;

function shownIds() {
  try {
    return JSON.parse(sessionStorage.getItem(SHOWN_KEY) || "[]");
  } catch {
    return [];
  }
}

function remember(id) {
  const ids = shownIds().filter((known) => known !== id);
  ids.push(id);
  sessionStorage.setItem(SHOWN_KEY, JSON.stringify(ids.slice(-SHOWN_LIMIT)));
}

export function showWhisper(payload) {
  const container = document.getElementById("whisper-popups");
  if (!container || !payload || !payload.message_id) return;
  if (shownIds().includes(payload.message_id)) return;
  remember(payload.message_id);
  const popup = document.createElement("div");
  popup.className = "whisper";
  popup.setAttribute("role", "alert");
  popup.dataset.messageId = String(payload.message_id);
  popup.dataset.conversationId = String(payload.conversation_id);
  const title = document.createElement("strong");
  title.className = "whisper-title";
  title.textContent = `${format(container.dataset.titleText, { name: payload.from || "" })} · ${payload.number || ""}`;
  const text = document.createElement("p");
  text.className = "whisper-body";
  text.textContent = payload.body || "";
  const close = document.createElement("button");
  close.type = "button";
  close.className = "whisper-close";
  close.textContent = container.dataset.closeText || "×";
  close.addEventListener("click", () => popup.remove());
  popup.append(title, text, close);
  container.appendChild(popup);
}
