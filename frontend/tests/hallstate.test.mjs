import assert from "node:assert/strict";
import { test } from "node:test";

import { HallState } from "../shared/hallstate.js";
import { event, snapshot } from "./helpers.mjs";

function hallWith(changes) {
  const hall = new HallState();
  hall.applySnapshot(snapshot(changes));
  return hall;
}

function called(hall, ticketNo, windowNo, extra = {}) {
  return hall.applyEvent(event("ticket.called", {
    ticket_no: ticketNo, window_no: windowNo, window_name: `${windowNo}号窗口`, status: "called", ...extra,
  }));
}

test("a cancelled ticket leaves its window", () => {
  const hall = hallWith();
  called(hall, "A012", 15);
  assert.deepEqual(hall.windows.get(15).ticket, { ticket_no: "A012", status: "called" });
  hall.applyEvent(event("ticket.cancelled", { ticket_no: "A012", window_no: 15, status: "done" }));
  assert.equal(hall.windows.get(15).ticket, null);
});

test("called, then served: the window shows it serving, then free; the call stops being current", () => {
  const hall = hallWith();
  const { call } = called(hall, "A012", 15);
  assert.deepEqual(call, { ticket_no: "A012", window_no: 15, window_name: "15号窗口", queue: "amr",
    at: "2026-12-01T10:00:00+08:00", recalled: false });
  assert.deepEqual(hall.current.map((c) => c.ticket_no), ["A012"]);
  assert.ok(hall.isCurrent({ ticket_no: "A012", window_no: 15 }));

  hall.applyEvent(event("ticket.service_started", { ticket_no: "A012", window_no: 15, status: "serving" }));
  assert.deepEqual(hall.windows.get(15).ticket, { ticket_no: "A012", status: "serving" });
  assert.deepEqual(hall.current, [], "正在呼叫 must not show a ticket being served");
  assert.deepEqual(hall.recent.map((c) => c.ticket_no), ["A012"], "it stays in the recent calls");

  hall.applyEvent(event("ticket.finished", { ticket_no: "A012", window_no: 15, status: "done", outcome: "served" }));
  assert.equal(hall.windows.get(15).ticket, null);
});

test("the newest current call is first; a served call gives way to the one still called", () => {
  const hall = hallWith();
  called(hall, "A012", 15);
  called(hall, "A013", 16);
  assert.deepEqual(hall.current.map((c) => c.ticket_no), ["A013", "A012"]);
  hall.applyEvent(event("ticket.service_started", { ticket_no: "A013", window_no: 16, status: "serving" }));
  assert.deepEqual(hall.current.map((c) => c.ticket_no), ["A012"]);
  assert.deepEqual(hall.recent.map((c) => c.ticket_no), ["A013", "A012"]);
});

test("a recall moves the call to the front, marked, without a second entry", () => {
  const hall = hallWith();
  called(hall, "A012", 15);
  called(hall, "A013", 16);
  const { call } = hall.applyEvent(event("ticket.recalled", { ticket_no: "A012", window_no: 15, recalls: 1 }));
  assert.equal(call.recalled, true);
  assert.deepEqual(hall.current.map((c) => [c.ticket_no, c.recalled]), [["A012", true], ["A013", false]]);
  assert.deepEqual(hall.recent.map((c) => c.ticket_no), ["A012", "A013"]);
});

for (const [type, extra] of [
  ["ticket.no_show", { status: "done", outcome: "no_show", requeued: false }],
  ["ticket.parked", { status: "parked" }],
  ["ticket.cancelled", { status: "done", outcome: "cancelled", reason: "群众撤回" }],
  ["ticket.parked_expired", { status: "done", outcome: "parked_expired" }],
]) {
  test(`${type}: the ticket leaves its window and is no longer called`, () => {
    const hall = hallWith();
    called(hall, "A012", 15);
    hall.applyEvent(event(type, { ticket_no: "A012", window_no: 15, ...extra }));
    assert.equal(hall.windows.get(15).ticket, null);
    assert.deepEqual(hall.current, []);
  });
}

test("a parked ticket that expires later leaves the window's new ticket alone", () => {
  const hall = hallWith();
  called(hall, "A012", 15);
  hall.applyEvent(event("ticket.parked", { ticket_no: "A012", window_no: 15, status: "parked" }));
  called(hall, "A014", 15);
  hall.applyEvent(event("ticket.parked_expired", { ticket_no: "A012", window_no: 15, status: "done" }));
  assert.deepEqual(hall.windows.get(15).ticket, { ticket_no: "A014", status: "called" });
  assert.deepEqual(hall.current.map((c) => c.ticket_no), ["A014"]);
});

test("a transfer frees the sending window; the ticket called at the receiving window is current there", () => {
  const hall = hallWith();
  called(hall, "A012", 15);
  hall.applyEvent(event("ticket.transferred", {
    ticket_no: "A012", status: "waiting", queue: "tax", window_no: null, target_window_no: 20,
    from_window_no: 15, waiting: 1, queues: [{ code: "tax", waiting: 1, open_windows: 1,
      avg_service_seconds: 240, estimated_wait_seconds: 240 }],
  }));
  assert.equal(hall.windows.get(15).ticket, null);
  assert.deepEqual(hall.current, []);
  assert.equal(hall.queues.get("tax").waiting, 1);
  called(hall, "A012", 20, { queue: "tax" });
  assert.deepEqual(hall.current.map((c) => [c.ticket_no, c.window_no]), [["A012", 20]]);
});

test("a ticket called at another window is current only there", () => {
  const hall = hallWith();
  called(hall, "A012", 15);
  called(hall, "A012", 16);
  assert.deepEqual(hall.current.map((c) => c.window_no), [16]);
});

test("queue figures are replaced from the event, not computed here", () => {
  const hall = hallWith();
  const figures = { code: "amr", waiting: 9, open_windows: 1, avg_service_seconds: 412, estimated_wait_seconds: 3708 };
  hall.applyEvent(event("ticket.finished", { ticket_no: "A001", window_no: 15, service_seconds: 9999, queues: [figures] }));
  const q = hall.queues.get("amr");
  assert.deepEqual(
    { code: q.code, waiting: q.waiting, open_windows: q.open_windows, avg_service_seconds: q.avg_service_seconds,
      estimated_wait_seconds: q.estimated_wait_seconds },
    figures,
  );
  assert.equal(q.name, "市场监管业务", "the rest of the queue stays");
  hall.applyEvent(event("window.status_changed", { window_no: 16, status: "paused", previous: "open",
    queues: [{ ...figures, open_windows: 0, estimated_wait_seconds: 3708 }] }));
  assert.equal(hall.queues.get("amr").open_windows, 0);
  assert.equal(hall.windows.get(16).status, "paused");
  assert.equal(typeof hall.estimatedWait, "undefined", "the estimated wait is the server's");
});

test("an event without figures still moves the waiting count it carries", () => {
  const hall = hallWith();
  const ev = event("ticket.registered", { queue: "amr", waiting: 6 });
  delete ev.data.queues;
  hall.applyEvent(ev);
  assert.equal(hall.queues.get("amr").waiting, 6);
  assert.equal(hall.queues.get("amr").avg_service_seconds, 300);
});

test("a snapshot replaces everything, current and recent calls apart", () => {
  const hall = hallWith();
  called(hall, "A012", 15);
  hall.applyEvent(event("hall.notice_set", { text: "旧通知" }));
  const call = { ticket_no: "B003", window_no: 20, window_name: "20号窗口", queue: "tax",
    at: "2026-12-01T11:00:00+08:00", recalled: false };
  hall.applySnapshot(snapshot({
    notice_line: "新通知",
    windows: snapshot().windows.map((w) => (w.window_no === 20 ? { ...w, ticket: { ticket_no: "B003", status: "called" } } : w)),
    calls: [call],
    recent_calls: [call, { ...call, ticket_no: "B002" }, { ...call, ticket_no: "B001" }],
    calls_kept: 2,
  }));
  assert.equal(hall.windows.get(15).ticket, null);
  assert.deepEqual(hall.windows.get(20).ticket, { ticket_no: "B003", status: "called" });
  assert.deepEqual(hall.current, [call]);
  assert.deepEqual(hall.recent.map((c) => c.ticket_no), ["B003", "B002"], "calls_kept bounds the history");
  assert.equal(hall.notice, "新通知");
});

test("the number of recent calls kept is the snapshot's", () => {
  const hall = hallWith({ calls_kept: 3 });
  for (let i = 1; i <= 5; i++) called(hall, `A00${i}`, 15 + (i % 2));
  assert.deepEqual(hall.recent.map((c) => c.ticket_no), ["A005", "A004", "A003"]);
});

test("the day's close clears windows, calls and waiting", () => {
  const hall = hallWith();
  called(hall, "A012", 15);
  const ev = event("queue.day_closed", { closed: 3 });
  delete ev.data.queues;
  hall.applyEvent(ev);
  assert.equal(hall.windows.get(15).ticket, null);
  assert.deepEqual([hall.current, hall.recent], [[], []]);
  assert.equal(hall.totalWaiting(), 0);
});

test("ignored and unknown types change nothing", () => {
  const hall = hallWith();
  for (const type of ["calendar.day_set", "duty.set", "session.ended"]) {
    assert.equal(hall.applyEvent(event(type, {})), null);
  }
  assert.equal(hall.applyEvent({ seq: 1, type: "case.accepted", data: {} }), null);
});
