// The one websocket of a desktop page, shared by the modules of the page (the desktop itself and
// the channel panels): each subscribes with desktopSocket.on(...); desktop.js connects it.
import { AgentSocket } from "./realtime.js";

export const desktopSocket = new AgentSocket({
  cursor: Number(document.body.dataset.eventCursor || 0),
});
