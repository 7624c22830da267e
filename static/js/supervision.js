// Helpers shared by the supervisor pages (floor view, monitor).

export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

// Every element with data-since (an ISO time) shows the time elapsed since, as m:ss.
export function tickTimers(root) {
  root.querySelectorAll(".timer[data-since]").forEach((timer) => {
    const since = Date.parse(timer.dataset.since);
    if (Number.isNaN(since)) return;
    timer.textContent = formatDuration((Date.now() - since) / 1000);
  });
}

export { csrfToken, postForm } from "./http.js";
