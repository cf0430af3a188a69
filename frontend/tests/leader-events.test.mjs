// The leader's screen: what each live event does to its list of waiting sign-off requests,
// and the keyboard's selection (the waits: signoff-wait.test.mjs).
import assert from "node:assert/strict";
import { test } from "node:test";

import { keepSelection, moveSelection, reduceLeaderEvent } from "../leader/events.js";

const request = (id, caseId, extra = {}) => ({
  signoff_id: id, waited_seconds: 0, waiting_too_long: false, case: { case_id: caseId }, ...extra,
});
const ev = (type, data) => ({ seq: 1, type, hall_id: 1, at: "", window_id: null, data });
const AMR = { department: "amr" };

test("a request for this department is read in and marked as arrived; another's is not", () => {
  assert.deepEqual(reduceLeaderEvent([], ev("signoff.requested", { signoff_id: 7, case_id: 3, department: "amr" }), AMR),
    { refetch: true, removed: null, arrived: 7 });
  assert.deepEqual(reduceLeaderEvent([], ev("signoff.requested", { signoff_id: 8, case_id: 4, department: "tax" }), AMR),
    { refetch: false, removed: null, arrived: null });
});

test("a decision takes its request off at once, without reading the list again", () => {
  const list = [request(1, 10), request(2, 20)];
  const effect = reduceLeaderEvent(list, ev("signoff.decided", { signoff_id: 1, case_id: 10, department: "amr" }), AMR);
  assert.deepEqual(effect, { refetch: false, removed: 1, arrived: null });
  assert.deepEqual(list.map((r) => r.signoff_id), [2]);
  const other = reduceLeaderEvent(list, ev("signoff.decided", { signoff_id: 9, case_id: 90, department: "amr" }), AMR);
  assert.deepEqual(other, { refetch: false, removed: null, arrived: null });
  assert.equal(list.length, 1);
});

test("a change of a waiting case reads the list again; of another case, not", () => {
  const list = [request(1, 10)];
  assert.equal(reduceLeaderEvent(list, ev("case.changed", { case_id: 10, department: "amr" }), AMR).refetch, true);
  assert.equal(reduceLeaderEvent(list, ev("case.changed", { case_id: 11, department: "amr" }), AMR).refetch, false);
});

test("queue, window and other events answer null", () => {
  for (const type of ["ticket.called", "window.status_changed", "case.accepted", "hall.notice_set", "made.up"]) {
    assert.equal(reduceLeaderEvent([request(1, 10)], ev(type, { case_id: 10, department: "amr" }), AMR), null, type);
  }
});

test("the selection stays, or moves to the request now in its place, and the arrows stay inside", () => {
  const list = [request(1, 10), request(2, 20), request(3, 30)];
  assert.equal(keepSelection(list, 2, 1), 2);
  assert.equal(keepSelection(list.filter((r) => r.signoff_id !== 2), 2, 1), 3);
  assert.equal(keepSelection([request(1, 10)], 3, 2), 1);
  assert.equal(keepSelection([], 1, 0), null);
  assert.equal(moveSelection(list, 1, 1), 2);
  assert.equal(moveSelection(list, 3, 1), 3);
  assert.equal(moveSelection(list, 1, -1), 1);
  assert.equal(moveSelection(list, 99, 1), 1);
  assert.equal(moveSelection([], 1, 1), null);
});
