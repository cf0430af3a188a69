// Supervision's alarms as the window terminal and the leader's page hold them: the reducer
// (an alarm list + a live event -> the new list), the order, the words, the leader's actions;
// and the two pages' event reducers handing alarm events to it. Events are the catalogue's
// examples (fixtures/events.sample.json) with their data changed.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  actionRequest, alarmFromIssued, alarmsUrl, announcement, answerOverdue, leaderActions, levelName,
  levelTone, openAlarms, reduceAlarms, sortAlarms, stateText,
} from "../shared/alarms.js";
import { reduceLeaderEvent } from "../leader/events.js";
import { reduceWindowEvent } from "../window/events.js";
import { event, fixture } from "./helpers.mjs";

const issued = (data) => event("alarm.issued", data);
const changed = (data) => event("alarm.changed", data);
const WINDOW_1 = { windowNo: 1 };

/** An alarm as the read answers it: the catalogue's example, with `data` changed. */
const alarm = (data = {}) => ({ ...alarmFromIssued(fixture("alarm.issued").data), ...data });

test("an alarm issued for this window arrives at once; another window's, a replay, not", () => {
  const ev = issued({ alarm_id: 7, window_no: 1, level: "yellow", level_name: "黄牌" });
  const effect = reduceAlarms([], ev, WINDOW_1);
  assert.equal(effect.arrived, 7);
  assert.equal(effect.refetch, false);
  assert.deepEqual(effect.alarms.map((a) => [a.alarm_id, a.state, a.level_name, a.case_no]),
    [[7, "issued", "黄牌", "RIZHAO-20261207-00001"]]);
  // the event's list is not changed in place: the page swaps it
  const before = [];
  reduceAlarms(before, ev, WINDOW_1);
  assert.deepEqual(before, []);

  const other = reduceAlarms([], issued({ alarm_id: 8, window_no: 2 }), WINDOW_1);
  assert.deepEqual(other, { alarms: [], arrived: null, removed: null, updated: null, refetch: false });
  const again = reduceAlarms(effect.alarms, ev, WINDOW_1);
  assert.equal(again.arrived, null);
  assert.equal(again.alarms.length, 1);
});

test("a department's list takes the department's alarms, of any window", () => {
  const amr = { department: "amr" };
  assert.equal(reduceAlarms([], issued({ alarm_id: 1, department: "amr", window_no: 9 }), amr).arrived, 1);
  assert.equal(reduceAlarms([], issued({ alarm_id: 2, department: "tax" }), amr).arrived, null);
});

test("most severe first; newest first within a level", () => {
  const list = sortAlarms([
    alarm({ alarm_id: 1, level: "warning", issued_at: "2026-12-08T17:00:00+08:00" }),
    alarm({ alarm_id: 2, level: "yellow", issued_at: "2026-12-09T17:00:00+08:00" }),
    alarm({ alarm_id: 3, level: "warning", issued_at: "2026-12-09T09:00:00+08:00" }),
    alarm({ alarm_id: 4, level: "red", issued_at: "2026-12-01T09:00:00+08:00" }),
  ]);
  assert.deepEqual(list.map((a) => a.alarm_id), [4, 2, 3, 1]);
  // a new red card goes above a yellow one that came first
  const effect = reduceAlarms(list, issued({ alarm_id: 5, window_no: 1, level: "red", issued_at: "2026-12-10T09:00:00+08:00" }), WINDOW_1);
  assert.deepEqual(effect.alarms.map((a) => a.alarm_id), [5, 4, 2, 3, 1]);
});

test("a read keeps the open alarms only, sorted", () => {
  const read = { alarms: [
    alarm({ alarm_id: 1, level: "warning", state: "issued" }),
    alarm({ alarm_id: 2, level: "yellow", state: "rectifying" }),
    alarm({ alarm_id: 3, level: "red", state: "closed" }),
  ] };
  assert.deepEqual(openAlarms(read).map((a) => a.alarm_id), [2, 1]);
  assert.deepEqual(openAlarms(null), []);
});

test("督办 updates the alarm in place with its answer's deadline; closing takes it off", () => {
  const list = [alarm({ alarm_id: 1 }), alarm({ alarm_id: 2, level: "warning" })];
  const supervised = reduceAlarms(list, changed({
    alarm_id: 1, action: "alarm.supervise", state: "rectifying", window_no: 1,
    rectify_due_at: "2026-12-14T17:00:00+08:00", note: "请于期限内整改并答复",
  }), WINDOW_1);
  assert.equal(supervised.updated, 1);
  assert.equal(supervised.removed, null);
  const a = supervised.alarms[0];
  assert.equal(a.state, "rectifying");
  assert.equal(stateText(a), "督办中，答复期限 2026-12-14 17:00");
  assert.equal(list[0].state, "issued");   // not in place

  const answered = reduceAlarms(supervised.alarms, changed({
    alarm_id: 1, action: "alarm.answer", state: "rectifying", window_no: 1,
    rectify_due_at: "2026-12-14T17:00:00+08:00", note: "已补齐材料并办结", at: "2026-12-10T10:00:00+08:00",
  }), WINDOW_1);
  assert.equal(answered.alarms[0].answer, "已补齐材料并办结");
  assert.equal(stateText(answered.alarms[0]), "督办中，已于 2026-12-10 10:00 答复，待监察办结");

  for (const state of ["closed", "withdrawn", "cancelled"]) {
    const gone = reduceAlarms(answered.alarms, changed({ alarm_id: 1, action: "alarm.close", state, window_no: 1 }), WINDOW_1);
    assert.equal(gone.removed, 1, state);
    assert.deepEqual(gone.alarms.map((x) => x.alarm_id), [2], state);
  }
});

test("a change of an open alarm the list does not hold reads the list again", () => {
  assert.equal(reduceAlarms([], changed({ alarm_id: 9, state: "rectifying", window_no: 1 }), WINDOW_1).refetch, true);
  assert.equal(reduceAlarms([], changed({ alarm_id: 9, state: "closed", window_no: 1 }), WINDOW_1).refetch, false);
  assert.equal(reduceAlarms([], changed({ alarm_id: 9, state: "issued", window_no: 2 }), WINDOW_1).refetch, false);
});

test("other event types are not the alarm reducer's", () => {
  assert.equal(reduceAlarms([], event("ticket.called", {}), WINDOW_1), null);
});

test("levels in words and colours, states in words", () => {
  assert.deepEqual(["warning", "yellow", "red"].map(levelName), ["预警", "黄牌", "红牌"]);
  assert.deepEqual(["warning", "yellow", "red"].map(levelTone), ["amber", "yellow", "red"]);
  assert.equal(stateText(alarm()), "已发出");
  assert.equal(stateText(alarm({ acknowledged: true, appeal_pending: true })), "监察已确认，申诉待裁决");
  assert.equal(stateText(alarm({ state: "rectifying" })), "督办中");
  assert.equal(announcement(alarm()), "新的监察提醒：黄牌 办件超期 RIZHAO-20261207-00001");
  assert.equal(announcement(alarm({ case_no: null, ticket_no: "A012", kind_name: "等候超时" })),
    "新的监察提醒：黄牌 等候超时 A012 号");
});

test("an answer is overdue after its deadline, not before, not once given", () => {
  const a = alarm({ state: "rectifying", rectify_due_at: "2026-12-14T17:00:00+08:00" });
  assert.equal(answerOverdue(a, Date.parse("2026-12-14T16:59:59+08:00")), false);
  assert.equal(answerOverdue(a, Date.parse("2026-12-14T17:00:01+08:00")), true);
  assert.equal(answerOverdue({ ...a, answered_at: "2026-12-14T10:00:00+08:00" }, Date.parse("2026-12-15T10:00:00+08:00")), false);
});

test("the leader answers a 督办 not yet answered and appeals once", () => {
  assert.deepEqual(leaderActions(alarm()), ["appeal"]);
  assert.deepEqual(leaderActions(alarm({ state: "rectifying" })), ["answer", "appeal"]);
  assert.deepEqual(leaderActions(alarm({ state: "rectifying", answered_at: "x", appeal_pending: true, appeal: "y" })), []);
  // sent back: the appeal's text stays, no second appeal
  assert.deepEqual(leaderActions(alarm({ appeal: "申请人要求延期", appeal_pending: false })), []);
  assert.deepEqual(leaderActions(alarm({ state: "closed" })), []);
  assert.deepEqual(actionRequest(alarm({ alarm_id: 4 }), "answer", "  已整改 "),
    { path: "/api/alarms/4/answer", body: { answer: "已整改" } });
  assert.deepEqual(actionRequest(alarm({ alarm_id: 4 }), "appeal", "申请人要求延期"),
    { path: "/api/alarms/4/appeal", body: { reason: "申请人要求延期" } });
  assert.throws(() => actionRequest(alarm(), "answer", "  "), { message: "请填写答复内容" });
  assert.throws(() => actionRequest(alarm(), "appeal", ""), { message: "请填写申诉理由" });
});

test("where each page reads its open alarms", () => {
  assert.equal(alarmsUrl("rizhao", { windowNo: 3 }), "/api/halls/rizhao/alarms?state=open&window_no=3");
  assert.equal(alarmsUrl("ju xian", { department: "amr" }), "/api/halls/ju%20xian/alarms?state=open&department=amr");
});

test("the window terminal hands alarm events to the alarm list; at the picker, nothing", () => {
  const windows = new Map();
  const ev = issued({ alarm_id: 3, window_no: 1 });
  const effect = reduceWindowEvent(windows, ev, { windowNo: 1, clerkId: 1, alarms: [] });
  assert.equal(effect.alarms.arrived, 3);
  assert.equal(effect.refreshBoard, false);
  assert.equal(reduceWindowEvent(windows, ev, { windowNo: null }).alarms, null);
});

test("the leader's page hands its department's alarm events to the alarm list", () => {
  const requests = [];
  const effect = reduceLeaderEvent(requests, issued({ alarm_id: 3, department: "amr" }), { department: "amr", alarms: [] });
  assert.equal(effect.alarms.arrived, 3);
  assert.equal(effect.refetch, false);
  const other = reduceLeaderEvent(requests, issued({ alarm_id: 4, department: "tax" }), { department: "amr", alarms: [] });
  assert.equal(other.alarms.arrived, null);
});
