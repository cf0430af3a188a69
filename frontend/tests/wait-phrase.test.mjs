// The wait told to a citizen (kiosk, notice, /track): minutes only when a window serves the
// queue; with none open the server gives no estimate (null) and the phrase says why.
import { test } from "node:test";
import assert from "node:assert/strict";
import { waitPhrase } from "../shared/api.js";

test("a wait with windows open is promised in minutes", () => {
  assert.equal(waitPhrase(300), "预计等候 约 5 分钟");
  assert.equal(waitPhrase(0), "无需等候");
  assert.equal(waitPhrase(5400), "预计等候 约 1 小时 30 分钟");
});

test("with no window open nothing is promised, and the phrase says why", () => {
  for (const none of [null, undefined]) {
    const text = waitPhrase(none);
    assert.match(text, /没有窗口办理/);
    assert.doesNotMatch(text, /分钟/);
  }
});
