// The kiosk's closed screen and when it looks again (frontend/kiosk/hours.js).
import { test } from "node:test";
import assert from "node:assert/strict";

import { RECHECK_MAX_MS, closedView, recheckDelay, whenText } from "../kiosk/hours.js";

const CLOSED = {
  open: false,
  by: null,
  hours: { text: "取号时间：工作日 08:30–17:00（办理时间 09:00–12:00、13:00–17:00）" },
  open_until: null,
  changes_at: "2026-12-07T08:30:00+08:00",
};

test("the next opening is written in the hall's own terms, whatever the kiosk's zone", () => {
  assert.equal(whenText("2026-12-07T08:30:00+08:00"), "12月7日（星期一）08:30");
  assert.equal(whenText("2027-01-04T08:30:00+08:00"), "1月4日（星期一）08:30");
  assert.equal(whenText(null), "");
});

test("the closed screen shows the hours and the next opening", () => {
  assert.deepEqual(closedView(CLOSED), {
    title: "现在不是取号时间",
    hours: CLOSED.hours.text,
    next: "下次取号：12月7日（星期一）08:30",
  });
  assert.equal(closedView({ ...CLOSED, changes_at: null }).next, "");
});

test("the kiosk looks again just after the change, at most every ten minutes", () => {
  const at = Date.parse(CLOSED.changes_at);
  assert.equal(recheckDelay(CLOSED, at - 60_000), 61_000);
  assert.equal(recheckDelay(CLOSED, at - 86_400_000), RECHECK_MAX_MS);
  assert.equal(recheckDelay(CLOSED, at + 5000), 1000);
  assert.equal(recheckDelay({ ...CLOSED, changes_at: null }, at), RECHECK_MAX_MS);
});
