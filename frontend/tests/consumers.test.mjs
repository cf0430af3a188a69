// The contract between the catalogue's event types and every browser consumer: each declared
// type (one fixture event per type) is handled or named as ignored, never both, and the
// reducers answer the way their lists say.
import assert from "node:assert/strict";
import { test } from "node:test";

import { HallState, HANDLED_EVENTS as HALL_HANDLED, IGNORED_EVENTS as HALL_IGNORED } from "../shared/hallstate.js";
import { HANDLED_EVENTS as WINDOW_HANDLED, IGNORED_EVENTS as WINDOW_IGNORED, reduceWindowEvent } from "../window/events.js";
import { HANDLED_EVENTS as LEADER_HANDLED, IGNORED_EVENTS as LEADER_IGNORED, reduceLeaderEvent } from "../leader/events.js";
import { HANDLED_EVENTS as WALL_HANDLED, IGNORED_EVENTS as WALL_IGNORED, reduceWallEvent, wallModel } from "../supervision/wall.js";
import { FIXTURES_PATH, fixtureEvents, fixtureTypes, snapshot } from "./helpers.mjs";

function windowsOf(snap) {
  return new Map(snap.windows.map((w) => [w.window_no, { ...w }]));
}

// Every page that consumes the live stream, with the reducer it applies events through
// (/display and /admin both read the stream through HallState).
const CONSUMERS = [
  {
    name: "shared/hallstate.js (/display, /admin)",
    handled: HALL_HANDLED,
    ignored: HALL_IGNORED,
    apply(ev) {
      const hall = new HallState();
      hall.applySnapshot(snapshot());
      return hall.applyEvent(ev);
    },
  },
  {
    name: "window/events.js (/window)",
    handled: WINDOW_HANDLED,
    ignored: WINDOW_IGNORED,
    apply(ev) {
      return reduceWindowEvent(windowsOf(snapshot()), ev, { windowNo: 15, clerkId: 15 });
    },
  },
  {
    name: "leader/events.js (/leader)",
    handled: LEADER_HANDLED,
    ignored: LEADER_IGNORED,
    apply(ev) {
      const d = ev.data || {};
      // a department's list holding the example's own case and request
      const requests = [{ signoff_id: d.signoff_id ?? 1, case: { case_id: d.case_id ?? 1 } }];
      return reduceLeaderEvent(requests, ev, { department: d.department ?? "amr" });
    },
  },
  {
    name: "supervision/wall.js (/supervision)",
    handled: WALL_HANDLED,
    ignored: WALL_IGNORED,
    apply(ev) {
      // the hall's wall with the windows of the fixtures' hall and no alarm yet
      const wall = wallModel({
        hall: { code: "rizhao", name: "日照市政务服务中心", level: "city" },
        alarms: { open: [], counts: { warning: 0, yellow: 0, red: 0, total: 0, unacknowledged: 0 }, truncated: false },
        cases: { overdue: [], near_due: [] },
        waits: { longest: [] },
        windows: snapshot().windows.map((w) => ({ ...w, state: w.status, clerk_name: w.clerk.name })),
        signoffs: [],
        departments: [],
      });
      return reduceWallEvent(wall, ev);
    },
  },
];

test(`the fixtures (${FIXTURES_PATH}) name the types every consumer must know`, () => {
  assert.ok(fixtureTypes().length >= 10, fixtureTypes().join(", "));
});

for (const c of CONSUMERS) {
  test(`${c.name}: every declared event type is handled or ignored`, () => {
    const known = new Set([...c.handled, ...c.ignored]);
    const missing = fixtureTypes().filter((t) => !known.has(t));
    assert.deepEqual(missing, [], `not handled and not ignored by ${c.name}`);
  });

  test(`${c.name}: no type is both handled and ignored, none listed twice`, () => {
    assert.deepEqual(c.handled.filter((t) => c.ignored.includes(t)), []);
    assert.equal(new Set(c.handled).size, c.handled.length);
    assert.equal(new Set(c.ignored).size, c.ignored.length);
  });

  test(`${c.name}: the reducer applies what it handles and passes over what it ignores`, () => {
    for (const ev of fixtureEvents()) {
      const result = c.apply(structuredClone(ev));
      if (c.handled.includes(ev.type)) assert.notEqual(result, null, `${ev.type} was declared handled`);
      if (c.ignored.includes(ev.type)) assert.equal(result, null, `${ev.type} was declared ignored`);
    }
  });

  test(`${c.name}: lists only types the catalogue declares`, () => {
    const declared = new Set(fixtureTypes());
    assert.deepEqual([...c.handled, ...c.ignored].filter((t) => !declared.has(t)), []);
  });
}

test("every fixture, applied in order to one hall, keeps it consistent", () => {
  const hall = new HallState();
  hall.applySnapshot(snapshot());
  for (const ev of fixtureEvents()) hall.applyEvent(structuredClone(ev));
  for (const w of hall.windows.values()) {
    if (w.ticket) assert.match(w.ticket.status, /^(called|serving)$/);
  }
  for (const q of hall.queues.values()) assert.ok(Number.isInteger(q.waiting) && q.waiting >= 0);
});
