import assert from "node:assert/strict";
import { test } from "node:test";

import { CallAnnouncer } from "../display/announcer.js";
import { HallState } from "../shared/hallstate.js";
import { event, snapshot } from "./helpers.mjs";

/** A lobby: the hall state and what it read out, fed like display.js feeds them. */
function lobby(snap = snapshot(), wanted = undefined) {
  const hall = new HallState();
  const spoken = [];
  const announcer = new CallAnnouncer({
    isCurrent: (c) => hall.isCurrent(c), speak: (c) => spoken.push(`${c.ticket_no}@${c.window_no}`), wanted,
  });
  const feed = {
    hall, spoken,
    snapshot(s) {
      const before = hall.current;
      hall.applySnapshot(s);
      announcer.snapshot(before, hall.current);
    },
    event(ev, backlog) {
      const changed = hall.applyEvent(ev);
      if (changed && changed.call) announcer.call(changed.call, { backlog });
    },
    live() { announcer.live(); },
  };
  feed.snapshot(snap);
  feed.live();
  return feed;
}

const call = (no, win, type = "ticket.called") => event(type, { ticket_no: no, window_no: win, status: "called" });
const start = (no, win) => event("ticket.service_started", { ticket_no: no, window_no: win, status: "serving" });
const finish = (no, win) => event("ticket.finished", { ticket_no: no, window_no: win, status: "done" });

test("live calls and recalls are read out at once", () => {
  const l = lobby();
  l.event(call("A001", 15), false);
  l.event(call("A001", 15, "ticket.recalled"), false);
  assert.deepEqual(l.spoken, ["A001@15", "A001@15"]);
});

test("after a cut, only the calls still current are read out, once each, after the live marker", () => {
  const l = lobby();
  // 100 calls while the display was away: 3 windows call, serve and finish in turn
  const windows = [15, 16, 20];
  let n = 0;
  for (let round = 0; round < 33; round++) {
    for (const w of windows) {
      n += 1;
      const no = `A${String(n).padStart(3, "0")}`;
      l.event(call(no, w), true);
      if (round < 32 || w === 16) { l.event(start(no, w), true); l.event(finish(no, w), true); }
    }
  }
  l.event(call("B100", 16), true);
  l.event(call("B100", 16, "ticket.recalled"), true);
  l.event(call("B100", 16, "ticket.recalled"), true);
  assert.deepEqual(l.spoken, [], "nothing is read out before the backlog is applied");
  l.live();
  assert.deepEqual(l.spoken, ["A097@15", "A099@20", "B100@16"]);
  l.live();
  assert.equal(l.spoken.length, 3, "a second live marker reads nothing again");
});

test("a call made and served during the cut is not read out; one transferred away neither", () => {
  const l = lobby();
  l.event(call("A001", 15), true);
  l.event(event("ticket.transferred", { ticket_no: "A001", window_no: null, from_window_no: 15, status: "waiting" }), true);
  l.event(call("A002", 16), true);
  l.event(event("ticket.cancelled", { ticket_no: "A002", window_no: 16, status: "done" }), true);
  l.live();
  assert.deepEqual(l.spoken, []);
});

test("a resync snapshot reads out the current calls this display had not shown", () => {
  const l = lobby();
  l.event(call("A001", 15), false);
  const c = (no, w) => ({ ticket_no: no, window_no: w, window_name: "", queue: "amr", at: "2026-12-01T10:00:00+08:00", recalled: false });
  l.snapshot(snapshot({ calls: [c("A005", 16), c("A001", 15)] }));
  l.live();
  assert.deepEqual(l.spoken, ["A001@15", "A005@16"]);
});

test("the first snapshot reads nothing out", () => {
  const c = { ticket_no: "A001", window_no: 15, window_name: "", queue: "amr", at: "2026-12-01T10:00:00+08:00" };
  const l = lobby(snapshot({ calls: [c] }));
  assert.deepEqual(l.spoken, []);
});

test("a display of one zone reads out only that zone's calls", () => {
  const l = lobby(snapshot(), (c) => c.window_no !== 20);
  l.event(call("A001", 20), false);
  l.event(call("A002", 15), true);
  l.event(call("A003", 20), true);
  l.live();
  assert.deepEqual(l.spoken, ["A002@15"]);
});
