// One websocket to the event log: hello with the page's cursor, ordered replay, live events,
// heartbeats and jittered reconnects. Each event reaches onEvent exactly once, in id order:
// the server streams from a settled cursor and the page keeps the ids it has above it.

const HEARTBEAT_MS = 20000;
const MAX_BACKOFF_MS = 15000;
const SIGNED_OUT_RELOAD_MS = 1000;

export class EventSocket {
  // path: the websocket path ("/ws/agent/"). cursor: the page's data-event-cursor.
  // hello(): extra fields for the hello frame. onMessage(data): frames other than events.
  constructor({ path, cursor, onEvent, onStatus, onReload, hello, onMessage }) {
    this.path = path;
    this.cursor = Number(cursor) || 0;
    this.seen = new Set();
    this.onEvent = onEvent;
    this.onStatus = onStatus || (() => {});
    this.onReload = onReload || (() => window.location.reload());
    this.helloExtra = hello || (() => ({}));
    this.onMessage = onMessage || (() => {});
    this.attempt = 0;
    this.heartbeat = null;
    this.socket = null;
    this.stopped = false;
    // Set while the page navigates away (the logout form's own post among others): the session
    // closing under a page that is leaving anyway must not reload it over the next page.
    this.leaving = false;
    window.addEventListener("beforeunload", () => {
      this.leaving = true;
    });
    this.listeners = { event: [], message: [], status: [] };
  }

  // More than one module of a page can follow the same socket: on("event"|"message"|"status").
  on(kind, listener) {
    this.listeners[kind].push(listener);
    return this;
  }

  emit(kind, value) {
    for (const listener of this.listeners[kind]) listener(value);
  }

  status(value) {
    this.onStatus(value);
    this.emit("status", value);
  }

  connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${window.location.host}${this.path}`);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.send({ type: "hello", cursor: this.cursor, seen: [...this.seen], ...this.helloExtra() });
      clearInterval(this.heartbeat);
      this.heartbeat = setInterval(() => this.send({ type: "ping" }), HEARTBEAT_MS);
    });
    socket.addEventListener("message", (message) => this.receive(JSON.parse(message.data)));
    socket.addEventListener("close", (event) => {
      clearInterval(this.heartbeat);
      if (this.stopped) return;
      if (event.code === 4401) {
        // The login session ended (logout elsewhere, expiry): the page cannot stay live.
        this.status("signed-out");
        setTimeout(() => {
          if (!this.leaving) this.onReload();
        }, SIGNED_OUT_RELOAD_MS);
        return;
      }
      this.status("reconnecting");
      const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempt) * (0.5 + Math.random() / 2);
      this.attempt += 1;
      setTimeout(() => this.connect(), delay);
    });
  }

  send(data) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(data));
      return true;
    }
    return false;
  }

  close() {
    this.stopped = true;
    clearInterval(this.heartbeat);
    if (this.socket) this.socket.close();
  }

  advance(cursor) {
    if (typeof cursor !== "number" || cursor <= this.cursor) return;
    this.cursor = cursor;
    for (const id of this.seen) if (id <= cursor) this.seen.delete(id);
  }

  receive(data) {
    if (data.type === "event") {
      const event = data.event;
      if (event.id > this.cursor && !this.seen.has(event.id)) {
        this.seen.add(event.id);
        if (this.onEvent) this.onEvent(event);
        this.emit("event", event);
      }
      this.advance(data.cursor);
    } else if (data.type === "ready" || data.type === "pong") {
      this.advance(data.cursor);
      if (data.type === "ready") this.status("live");
    } else if (data.type === "reload") {
      this.onReload();
    } else {
      this.onMessage(data);
      this.emit("message", data);
    }
  }
}

export class AgentSocket extends EventSocket {
  constructor(options) {
    super({ path: "/ws/agent/", ...options, cursor: options.cursor ?? options.lastEventId });
  }
}
