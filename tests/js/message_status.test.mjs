import assert from "node:assert/strict";
import { test } from "node:test";

import { statusMovesForward } from "../../static/js/message_status.js";

test("a status only moves a message forward", () => {
  assert.equal(statusMovesForward("sending", "sent"), true);
  assert.equal(statusMovesForward("sent", "read"), true);
  assert.equal(statusMovesForward("delivered", "failed"), false);
});

test("a late status never moves a message back", () => {
  // The status events of one message applied out of order (a fetch of the row still under way).
  assert.equal(statusMovesForward("read", "sent"), false);
  assert.equal(statusMovesForward("delivered", "sending"), false);
  assert.equal(statusMovesForward("read", "read"), false);
});

test("a row without a known status takes any", () => {
  assert.equal(statusMovesForward("", "sent"), true);
  assert.equal(statusMovesForward(undefined, "queued"), true);
});
