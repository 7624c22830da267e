// Live floor view: each panel is a server-rendered fragment, fetched again when an event says
// it changed (and when the socket comes back), so the page shows what a fresh render shows.
import { AgentSocket } from "./realtime.js";
import { format, strings } from "./i18n.js";
import { postForm, tickTimers } from "./supervision.js";

const body = document.body;
const banner = document.getElementById("connection-banner");
const errorBox = document.getElementById("floor-error");
const TEXT = strings("floor-strings");
const panels = new Map(
  [...document.querySelectorAll(".floor-panel")].map((element) => [element.dataset.panel, element]),
);

// Which panels an event may change.
function panelsFor(type) {
  if (type.startsWith("agent.")) return ["agents", "services"];
  if (type === "queue.changed") return ["services", "conversations"];
  if (type === "message.created") return ["conversations"];
  if (type.startsWith("offer.") || type.startsWith("conversation.") || type.startsWith("interaction.")) {
    return ["services", "agents", "conversations"];
  }
  return [];
}

const running = new Map();
const stale = new Set();
function refresh(name) {
  const element = panels.get(name);
  if (!element) return Promise.resolve();
  // A change announced during a fetch may be missing from what that fetch returns: fetch again.
  if (running.has(name)) {
    stale.add(name);
    return running.get(name);
  }
  const job = (async () => {
    try {
      do {
        stale.delete(name);
        const response = await fetch(element.dataset.fragmentUrl, {
          headers: { "X-Requested-With": "fetch" },
          credentials: "same-origin",
        });
        if (!response.ok) throw new Error(`${response.status} ${element.dataset.fragmentUrl}`);
        const template = document.createElement("template");
        template.innerHTML = await response.text();
        element.replaceChildren(template.content);
        tickTimers(element);
      } while (stale.has(name));
      element.dataset.refreshedAt = String(Date.now());
    } catch (error) {
      console.error(error);
    } finally {
      running.delete(name);
    }
  })();
  running.set(name, job);
  return job;
}

function refreshAll() {
  return Promise.all([...panels.keys()].map(refresh));
}

const socket = new AgentSocket({
  cursor: Number(body.dataset.eventCursor || 0),
  onEvent: (event) => {
    body.dataset.lastAppliedEvent = String(event.id);
    panelsFor(event.type).forEach(refresh);
  },
  onStatus: (status) => {
    banner.hidden = status !== "reconnecting";
    body.dataset.connection = status;
    if (status === "live") refreshAll();
  },
});
socket.connect();

// Figures that move with time alone (longest wait, estimates) are re-read now and then.
setInterval(() => refresh("services"), 15000);
setInterval(() => tickTimers(document), 1000);
tickTimers(document);

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!form.classList.contains("js-floor-action")) return;
  event.preventDefault();
  errorBox.textContent = "";
  const button = form.querySelector("button[type=submit]");
  if (button) button.disabled = true;
  try {
    const { response, data } = await postForm(form);
    if (!response.ok) errorBox.textContent = data.error?.message || format(TEXT.error, { status: response.status });
  } catch (error) {
    console.error(error);
    errorBox.textContent = TEXT.network_error || "";
  } finally {
    if (button) button.disabled = false;
    refreshAll();
  }
});

