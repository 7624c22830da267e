import assert from "node:assert/strict";
import { test } from "node:test";

import { smsSegments } from "../../static/js/sms_segments.js";

test("GSM-7 text fits 160 characters in one segment", () => {
  assert.deepEqual(smsSegments("a".repeat(160)), { encoding: "GSM-7", length: 160, segments: 1 });
});

test("longer GSM-7 text is split in parts of 153", () => {
  assert.equal(smsSegments("a".repeat(161)).segments, 2);
  assert.equal(smsSegments("a".repeat(306)).segments, 2);
  assert.equal(smsSegments("a".repeat(307)).segments, 3);
});

test("extension characters such as the euro sign count twice", () => {
  assert.deepEqual(smsSegments("€".repeat(80)), { encoding: "GSM-7", length: 160, segments: 1 });
  assert.equal(smsSegments("€".repeat(81)).segments, 2);
});

test("any other character switches to UCS-2: 70, then parts of 67", () => {
  assert.deepEqual(smsSegments("ж".repeat(70)), { encoding: "UCS-2", length: 70, segments: 1 });
  assert.equal(smsSegments("ж".repeat(71)).segments, 2);
  assert.equal(smsSegments("ж".repeat(134)).segments, 2);
  assert.equal(smsSegments("ж".repeat(135)).segments, 3);
});

test("an emoji takes two UCS-2 units", () => {
  assert.equal(smsSegments("😀".repeat(35)).length, 70);
  assert.equal(smsSegments("😀".repeat(36)).segments, 2);
});
