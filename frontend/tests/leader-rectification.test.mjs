// 整改 on the leader's page: which events read the department's tasks again, how a task's due
// time reads (overdue, held by an appeal), which actions are offered, and what each sends.
import assert from "node:assert/strict";
import { test } from "node:test";

import { reduceLeaderEvent } from "../leader/events.js";
import { dueState, leaderActions, rectRequest, touchesTasks } from "../leader/rectification-model.js";

const ev = (type, data) => ({ seq: 1, type, hall_id: 1, at: "", window_id: null, data });
const task = (extra = {}) => ({
  rectification_id: 7, state: "open", due_at: "2026-12-14T17:00:00+08:00",
  appeal: { pending: false }, allowed: ["rectification.verify", "rectification.appeal"], ...extra,
});
const DUE = Date.parse("2026-12-14T17:00:00+08:00");

test("a rectification event of the department reads its tasks again; another's does not", () => {
  for (const type of ["rectification.opened", "rectification.changed"]) {
    const mine = reduceLeaderEvent([], ev(type, { rectification_id: 1, department: "amr" }), { department: "amr" });
    assert.deepEqual(mine, { refetch: false, removed: null, arrived: null, rectifications: true }, type);
    const other = reduceLeaderEvent([], ev(type, { rectification_id: 2, department: "psb" }), { department: "amr" });
    assert.equal(other.rectifications, false, type);
  }
  assert.equal(touchesTasks(ev("rating.given", { department: "amr" }), "amr"), false);
});

test("the due time: overdue from its instant, not a second earlier; held while appealed", () => {
  assert.deepEqual(dueState(task(), DUE - 1000), { overdue: false, held: false, text: "剩 1 小时" });
  assert.equal(dueState(task(), DUE).overdue, true);
  assert.equal(dueState(task(), DUE).text, "已逾期");
  assert.equal(dueState(task(), DUE - 3 * 86400000).text, "剩 3 天");
  const held = dueState(task({ appeal: { pending: true } }), DUE + 1000);
  assert.deepEqual(held, { overdue: false, held: true, text: "申诉待裁决，计时暂停" });
  assert.equal(dueState(task({ state: "closed" }), DUE + 1000).overdue, false);
});

test("the actions offered are the server's, in the loop's order", () => {
  assert.deepEqual(leaderActions(task()), ["rectification.verify", "rectification.appeal"]);
  assert.deepEqual(leaderActions(task({ allowed: ["rectification.decide_appeal:upheld"] })), []);
});

test("each action's request, and the refusals worded for the form", () => {
  assert.deepEqual(rectRequest(task(), "rectification.verify", { note: " 属实 " }),
    { path: "/api/rectifications/7/verify", body: { note: "属实" } });
  assert.throws(() => rectRequest(task(), "rectification.verify", { note: " " }), /核实情况/);
  assert.deepEqual(rectRequest(task(), "rectification.appeal", { note: "恶意差评" }),
    { path: "/api/rectifications/7/appeal", body: { reason: "恶意差评" } });
  assert.deepEqual(rectRequest(task(), "rectification.call_back", { note: "已致歉", reached: true, followup: "4" }),
    { path: "/api/rectifications/7/call-back", body: { reached: true, note: "已致歉", followup_level: 4 } });
  assert.deepEqual(rectRequest(task(), "rectification.call_back", { note: "无人接听", reached: false, followup: "4" }),
    { path: "/api/rectifications/7/call-back", body: { reached: false, note: "无人接听" } });
  assert.throws(() => rectRequest(task(), "rectification.call_back", { reached: false }), /回访情况/);
  assert.deepEqual(rectRequest(task(), "rectification.close", {}),
    { path: "/api/rectifications/7/close", body: { note: "" } });
});
