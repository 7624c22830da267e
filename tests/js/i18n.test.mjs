import assert from "node:assert/strict";
import { test } from "node:test";

import { format, strings } from "../../static/js/i18n.js";

test("format fills Django's named placeholders, every occurrence", () => {
  assert.equal(format("%(n)s caracteres · %(n)s", { n: 3 }), "3 caracteres · 3");
  assert.equal(format("Error %(status)s", { status: 502 }), "Error 502");
});

test("format leaves unknown placeholders and never throws on a missing text", () => {
  assert.equal(format("%(x)s s", {}), "%(x)s s");
  assert.equal(format(undefined, { x: 1 }), "");
});

test("strings reads a json_script block and is empty without one", () => {
  globalThis.document = {
    getElementById: (id) => (id === "desktop-strings" ? { textContent: '{"countdown": "%(seconds)s s"}' } : null),
  };
  try {
    assert.deepEqual(strings("desktop-strings"), { countdown: "%(seconds)s s" });
    assert.deepEqual(strings("missing"), {});
  } finally {
    delete globalThis.document;
  }
});
