// Agent websocket: hello with the last event id, ordered replay, heartbeats, jittered reconnect.
// Events are applied once each: ids already seen are dropped (the server replays with overlap).

const HEARTBEAT_MS = 20000;
const MAX_BACKOFF_MS = 15000;
const SEEN_LIMIT = 2000;

export class AgentSocket {
  constructor({ lastEventId, onEvent, onStatus, onReload }) {
    this.lastEventId = lastEventId || 0;
    this.seen = new Set();
    this.onEvent = onEvent;
    this.onStatus = onStatus || (() => {});
    this.onReload = onReload || (() => window.location.reload());
    this.attempt = 0;
    this.heartbeat = null;
  }

  connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${window.location.host}/ws/agent/`);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      socket.send(JSON.stringify({ type: "hello", last_event_id: this.lastEventId, seen: [...this.seen] }));
      this.heartbeat = setInterval(() => {
        if (socket.readyState === WebSocket.OPEN) {
          socket.send(JSON.stringify({ type: "ping", last_event_id: this.lastEventId }));
        }
      }, HEARTBEAT_MS);
    });
    socket.addEventListener("message", (message) => this.receive(JSON.parse(message.data)));
    socket.addEventListener("close", () => {
      clearInterval(this.heartbeat);
      this.onStatus("reconnecting");
      const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempt) * (0.5 + Math.random() / 2);
      this.attempt += 1;
      setTimeout(() => this.connect(), delay);
    });
  }

  receive(data) {
    if (data.type === "ready") {
      this.onStatus("live");
    } else if (data.type === "reload") {
      this.onReload();
    } else if (data.type === "event") {
      const event = data.event;
      if (this.seen.has(event.id)) return;
      this.seen.add(event.id);
      if (this.seen.size > SEEN_LIMIT) this.seen.delete(this.seen.values().next().value);
      this.lastEventId = Math.max(this.lastEventId, event.id);
      this.onEvent(event);
    }
  }
}
