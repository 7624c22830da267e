import assert from "node:assert/strict";
import { test } from "node:test";

import { formatDuration, tickTimers } from "../../static/js/supervision.js";

test("formatDuration shows m:ss, then h:mm:ss past an hour, never negative", () => {
  assert.equal(formatDuration(0), "0:00");
  assert.equal(formatDuration(59.6), "1:00");
  assert.equal(formatDuration(125), "2:05");
  assert.equal(formatDuration(3600 + 61), "1:01:01");
  assert.equal(formatDuration(-5), "0:00");
});

test("tickTimers writes the time elapsed since each timer's data-since, skipping bad dates", () => {
  const since = new Date(Date.now() - 90_000).toISOString();
  const good = { dataset: { since }, textContent: "" };
  const bad = { dataset: { since: "not a date" }, textContent: "kept" };
  tickTimers({ querySelectorAll: (selector) => (selector === ".timer[data-since]" ? [good, bad] : []) });
  assert.match(good.textContent, /^1:3[01]$/);
  assert.equal(bad.textContent, "kept");
});
