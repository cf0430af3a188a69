import assert from "node:assert/strict";
import { test } from "node:test";

import {
  LEVELS, ballotResult, ballotTotals, isBad, levelName, raterScreen, ratingNotice, slipOf, verdictBody,
} from "../rate/model.js";

test("the national five levels, best first; the bottom two are 差评", () => {
  assert.deepEqual(LEVELS.map((l) => l.name), ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]);
  assert.deepEqual([5, 4, 3, 2, 1].map(isBad), [false, false, false, true, true]);
  assert.equal(levelName(3), "基本满意");
});

test("a verdict sends known reasons once in order, and the comment trimmed", () => {
  assert.deepEqual(verdictBody(2, ["fees", "attitude", "fees", "bogus"], "  慢 "), {
    level: 2, reasons: ["attitude", "fees"], comment: "慢",
  });
  assert.equal(verdictBody(5, [], "字".repeat(600)).comment.length, 500);
});

test("the rating device asks on its window's request and goes idle once rated there", () => {
  const req = { type: "rating.requested", data: { window_no: 1 } };
  assert.equal(raterScreen(req, 1), "ask");
  assert.equal(raterScreen(req, 2), null);
  assert.equal(raterScreen({ type: "rating.given", data: { window_no: 1, channel: "device" } }, 1), "idle");
  assert.equal(raterScreen({ type: "rating.given", data: { window_no: 1, channel: "sms" } }, 1), null);
});

test("the clerk sees the level and the channel, 差评 marked", () => {
  assert.deepEqual(ratingNotice({ level: 2, level_name: "不满意", bad: true, channel: "ballot" }),
    { bad: true, text: "群众评价：不满意（差评） · 评议箱" });
});

test("a scanned slip, and the server's answers as the running list shows them", () => {
  assert.equal(slipOf(" 26120700012345\n"), "26120700012345");
  assert.equal(slipOf("12"), null);
  assert.equal(slipOf("ab cd"), null);
  const rows = [
    ballotResult("A1", 5, 201, {}),
    ballotResult("A1", 5, 409, { error: { code: "slip_counted" } }),
    ballotResult("A2", 2, 404, { error: { code: "unknown_slip" } }),
    ballotResult("A3", 1, 409, { error: { code: "already_rated" } }),
  ];
  assert.deepEqual(rows.map((r) => r.result), ["counted", "duplicate", "not_found", "duplicate"]);
  assert.match(rows[1].text, /已计入/);
  const t = ballotTotals(rows);
  assert.equal(t.counted, 1);
  assert.equal(t.duplicate, 2);
  assert.equal(t.levels[5], 1);
});
