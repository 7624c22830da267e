// Supervisor queue page: re-fetch the figures on queue, offer and agent events.
import { AgentSocket } from "./realtime.js";

const container = document.getElementById("queue-figures");
let pending = null;

function refresh() {
  if (pending) return;
  pending = setTimeout(async () => {
    pending = null;
    const response = await fetch(container.dataset.fragmentUrl, { credentials: "same-origin" });
    if (response.ok) {
      const template = document.createElement("template");
      template.innerHTML = await response.text();
      container.replaceChildren(template.content);
    }
  }, 300);
}

const socket = new AgentSocket({
  cursor: Number(document.body.dataset.eventCursor || 0),
  onEvent: refresh,
  onStatus: (status) => {
    document.getElementById("connection-banner").hidden = status !== "reconnecting";
  },
});
socket.connect();
setInterval(refresh, 15000);
