// The waits of sign-off requests on the screens a leader signs at (/leader, a leader's window
// terminal): moved on from the server's figures by the screen's clock, shown again every 15 s,
// red once past the hall's limit (frontend/shared/signoff-wait.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { createWaitClock, WAIT_TICK_MS, waitBadge, waitedText, waitState } from "../shared/signoff-wait.js";

const request = (id, extra = {}) => ({ signoff_id: id, waited_seconds: 0, waiting_too_long: false, ...extra });

/** A clock the test moves, and the ticks scheduled on it: run() fires each one that is due. */
function fakeTime(start = Date.parse("2026-12-07T02:00:00Z")) {
  let t = start;
  const timers = [];
  return {
    now: () => t,
    schedule(fn, ms) {
      const timer = { fn, ms, next: t + ms, stopped: false };
      timers.push(timer);
      return () => { timer.stopped = true; };
    },
    advance(ms) {
      const end = t + ms;
      for (;;) {
        const due = timers.filter((x) => !x.stopped && x.next <= end).sort((a, b) => a.next - b.next)[0];
        if (!due) break;
        t = due.next;
        due.next += due.ms;
        due.fn();
      }
      t = end;
    },
    timers,
  };
}

test("a wait moves on from the server's figure and turns too long past the hall's limit", () => {
  const r = request(1, { waited_seconds: 9 * 60 });
  assert.deepEqual(waitState(r, 10, 0), { seconds: 540, tooLong: false });
  assert.deepEqual(waitState(r, 10, 60_000), { seconds: 600, tooLong: false });
  assert.deepEqual(waitState(r, 10, 61_000), { seconds: 601, tooLong: true });
  assert.equal(waitState(request(2, { waiting_too_long: true }), 10).tooLong, true);
});

test("waits in words", () => {
  assert.equal(waitedText(30), "刚刚");
  assert.equal(waitedText(12 * 60 + 5), "已等 12 分钟");
  assert.equal(waitedText(60 * 60), "已等 1 小时");
  assert.equal(waitedText(65 * 60), "已等 1 小时 5 分钟");
});

test("the waits tick every 15 s from the page's clock, and a request turns red once past the limit", () => {
  const time = fakeTime();
  const waits = createWaitClock({ now: time.now, schedule: time.schedule });
  const list = [request(1, { waited_seconds: 8 * 60 + 50 }), request(2, { waited_seconds: 20 })];
  waits.read({ wait_limit_minutes: 10, requests: list });
  assert.equal(waits.limit, 10);

  const shown = [];
  const stop = waits.every(() => shown.push(list.map((r) => waitBadge(waits.of(r)))));
  assert.equal(time.timers.length, 1);
  assert.equal(time.timers[0].ms, WAIT_TICK_MS);
  assert.equal(WAIT_TICK_MS, 15000);

  time.advance(14_999);
  assert.deepEqual(shown, [], "nothing before the first tick");
  time.advance(1);
  assert.deepEqual(shown.at(-1), [
    { text: "已等 9 分钟", className: "badge" },
    { text: "刚刚", className: "badge" },
  ]);
  // 10 min 5 s: past the limit; the second one has waited a minute
  time.advance(4 * WAIT_TICK_MS);
  assert.equal(shown.length, 5);
  assert.deepEqual(shown.at(-1), [
    { text: "已等 10 分钟 · 等候超时", className: "badge red" },
    { text: "已等 1 分钟", className: "badge" },
  ]);

  // a new read starts from the server's figures again
  list[0] = request(1, { waited_seconds: 0 });
  waits.read({ wait_limit_minutes: 10, requests: list });
  assert.deepEqual(waitBadge(waits.of(list[0])), { text: "刚刚", className: "badge" });
  stop();
  time.advance(10 * WAIT_TICK_MS);
  assert.equal(shown.length, 5, "stopped");
});

test("the server's own too-long flag counts, and no limit read marks nothing by time", () => {
  const time = fakeTime();
  const waits = createWaitClock({ now: time.now, schedule: time.schedule });
  waits.read({ requests: [] });
  assert.equal(waits.limit, 0);
  time.advance(3600_000);
  assert.equal(waits.of(request(1)).tooLong, false);
  assert.equal(waits.of(request(2, { waiting_too_long: true })).tooLong, true);
  assert.equal(waits.of(request(1)).text, "已等 1 小时");
});
