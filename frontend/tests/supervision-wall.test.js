// The supervision wall's model: events applied to it (alarms at once, the rest read again), the
// wall's order of alarms, the drill-down's filter, and times and rates in words.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  caseTimeText, compareWall, countAlarms, crumbs, departmentActive, issuedText, HANDLED_EVENTS, IGNORED_EVENTS, inView, kindsText,
  rateText, reduceWallEvent, responseText, scoreTone, sinceText, viewOf, visible, wallActions,
  wallModel, wallOrder, windowStateLabel,
} from "../supervision/wall.js";
import { event, fixture } from "./helpers.mjs";

const alarm = (id, level, extra = {}) => ({
  alarm_id: id, level, level_name: { warning: "预警", yellow: "黄牌", red: "红牌" }[level],
  kind: "case_deadline", kind_name: "办件超期", summary: `告警 ${id}`, state: "issued",
  department: "amr", window_no: 1, acknowledged: false, issued_at: `2026-12-09T10:0${id}:00+08:00`,
  case_id: id, ...extra,
});

/** A wall snapshot as GET /api/halls/{hall}/supervision answers it, small. */
function wallSnapshot(alarms = [], extra = {}) {
  const counts = countAlarms(alarms);
  return {
    hall: { code: "rizhao", name: "日照市政务服务中心", level: "city" },
    now: "2026-12-09T10:00:00+08:00",
    working_day_s: 25200,
    limits: { ticket_wait_minutes: 30, window_pause_minutes: 30, unattended_minutes: 5, signoff_wait_minutes: 10 },
    alarms: { open: alarms, counts, truncated: false },
    cases: {
      overdue: [{ case_id: 7, department: "amr", window_no: 1, overdue_s: 3600, remaining_s: 0, unit: "working_day" }],
      near_due: [{ case_id: 8, department: "psb", window_no: 30, overdue_s: 0, remaining_s: 1800, unit: "working_day" }],
      overdue_total: 1, near_due_total: 1,
    },
    waits: { longest: [{ ticket_no: "A001", department: "amr", waited_s: 2000, over_limit: true }], waiting: 1, over_limit: 1 },
    windows: [
      { window_no: 1, status: "open", state: "open", department: "amr", clerk_name: "张敏" },
      { window_no: 15, status: "open", state: "open", department: "amr", clerk_name: "职员15" },
      { window_no: 30, status: "closed", state: "closed", department: "psb", clerk_name: null },
    ],
    signoffs: [{ signoff_id: 1, case_id: 9, department: "psb", window_no: 30 }],
    rates: null,
    departments: [{ code: "amr", name: "市场监管局" }, { code: "psb", name: "公安局" }],
    counties: [],
    ...extra,
  };
}

test("an alarm issued shows at once, in the wall's order, and the counts follow", () => {
  const model = wallModel(wallSnapshot([alarm(1, "warning")]));
  const issued = event("alarm.issued", { alarm_id: 5, level: "red", level_name: "红牌", case_id: 5 });
  const effect = reduceWallEvent(model, issued);
  assert.equal(effect.render, true);
  assert.equal(effect.arrived, 5);
  assert.equal(effect.refetch, true);  // its case moves between the case lists
  assert.deepEqual(model.alarms.map((a) => a.alarm_id), [5, 1]);
  assert.deepEqual(model.counts, { warning: 1, yellow: 0, red: 1, total: 2, unacknowledged: 2 });
  // the same event again (a replay after a reconnect) changes nothing
  const again = reduceWallEvent(model, issued);
  assert.equal(again.render, false);
  assert.equal(model.alarms.length, 2);
});

test("an acknowledgement marks the alarm in place; a closed alarm leaves the wall", () => {
  const model = wallModel(wallSnapshot([alarm(1, "yellow"), alarm(2, "warning")]));
  const ack = reduceWallEvent(model, event("alarm.changed", {
    alarm_id: 1, action: "alarm.acknowledge", state: "issued", acknowledged: true,
  }));
  assert.equal(ack.render, true);
  assert.equal(model.alarms.find((a) => a.alarm_id === 1).acknowledged, true);
  assert.equal(model.counts.unacknowledged, 1);
  reduceWallEvent(model, event("alarm.changed", {
    alarm_id: 2, action: "alarm.close", state: "closed", acknowledged: true,
  }));
  assert.deepEqual(model.alarms.map((a) => a.alarm_id), [1]);
  assert.equal(model.counts.total, 1);
});

test("a change of an alarm the wall does not hold reads the snapshot again", () => {
  const model = wallModel(wallSnapshot([]));
  const effect = reduceWallEvent(model, event("alarm.changed", { alarm_id: 99, state: "rectifying" }));
  assert.equal(effect.refetch, true);
  assert.equal(effect.render, false);
});

test("a truncated list keeps the server's counts and adds what arrives", () => {
  const snap = wallSnapshot([alarm(1, "warning")]);
  snap.alarms.counts = { warning: 400, yellow: 0, red: 0, total: 400, unacknowledged: 400 };
  snap.alarms.truncated = true;
  const model = wallModel(snap);
  const effect = reduceWallEvent(model, event("alarm.issued", { alarm_id: 9, level: "yellow", case_id: null }));
  assert.equal(effect.refetch, true);
  assert.equal(model.counts.total, 401);
  assert.equal(model.counts.yellow, 1);
});

test("windows change in place and the times are read again", () => {
  const model = wallModel(wallSnapshot());
  const out = reduceWallEvent(model, event("window.signed_out", { window_no: 1, clerk_id: 1 }));
  assert.deepEqual(out, { render: true, refetch: true, arrived: null });
  assert.equal(model.snap.windows[0].state, "unattended");
  reduceWallEvent(model, event("window.signed_in", { window_no: 1, clerk_id: 1, clerk_name: "李四" }));
  assert.equal(model.snap.windows[0].state, "open");
  assert.equal(model.snap.windows[0].clerk_name, "李四");
  reduceWallEvent(model, event("window.status_changed", { window_no: 1, status: "paused", previous: "open" }));
  assert.equal(model.snap.windows[0].state, "paused");
});

test("cases, sign-offs and waits read the snapshot again; the rest is ignored", () => {
  const model = wallModel(wallSnapshot());
  for (const type of ["case.changed", "case.accepted", "signoff.requested", "signoff.decided", "ticket.registered", "ticket.called"]) {
    assert.deepEqual(reduceWallEvent(model, fixture(type)), { render: false, refetch: true, arrived: null }, type);
  }
  for (const type of ["ticket.finished", "hall.notice_set", "case.fee_collected"]) {
    assert.equal(reduceWallEvent(model, fixture(type)), null, type);
  }
  assert.equal(reduceWallEvent(model, { type: "made.up", data: {} }), null);
  assert.equal(HANDLED_EVENTS.filter((t) => IGNORED_EVENTS.includes(t)).length, 0);
});

test("the wall's order: red before yellow before warning, unacknowledged first, newest first", () => {
  const list = [
    alarm(1, "warning"),
    alarm(2, "red", { acknowledged: true }),
    alarm(3, "yellow"),
    alarm(4, "red"),
    alarm(5, "warning"),
  ];
  assert.deepEqual(wallOrder(list).map((a) => a.alarm_id), [4, 2, 3, 5, 1]);
  assert.ok(compareWall(alarm(1, "red"), alarm(2, "warning")) < 0);
});

test("drill-down: hall → department → window filters every list", () => {
  const model = wallModel(wallSnapshot([alarm(1, "red"), alarm(2, "warning", { department: "psb", window_no: 30 })]));
  const hall = visible(model, viewOf());
  assert.equal(hall.alarms.length, 2);
  assert.equal(hall.counts, model.counts);
  const psb = visible(model, viewOf({ department: "psb" }));
  assert.deepEqual(psb.alarms.map((a) => a.alarm_id), [2]);
  assert.deepEqual(psb.near_due.map((c) => c.case_id), [8]);
  assert.deepEqual(psb.overdue, []);
  assert.deepEqual(psb.windows.map((w) => w.window_no), [30]);
  assert.deepEqual(psb.waits, []);
  assert.equal(psb.counts.warning, 1);
  const w1 = visible(model, viewOf({ department: "amr", window_no: "1" }));
  assert.deepEqual(w1.alarms.map((a) => a.alarm_id), [1]);
  assert.deepEqual(w1.windows.map((w) => w.window_no), [1]);
  assert.equal(w1.waits.length, 1);  // the department's queue
  assert.equal(inView({ department: "amr" }, viewOf({ department: "amr", window_no: 3 })), true);
  assert.deepEqual(crumbs(model, viewOf({ department: "amr", window_no: 1 })).map((c) => c.label),
    ["日照市政务服务中心", "市场监管局", "1 号窗口"]);
});

test("times and rates in words", () => {
  assert.deepEqual(caseTimeText({ overdue_s: 7200, remaining_s: 0, unit: "working_day" }, 25200),
    { text: "超期 2 小时（工作时间）", tone: "late" });
  assert.deepEqual(caseTimeText({ overdue_s: 0, remaining_s: 25200 + 3600, unit: "working_day" }, 25200),
    { text: "剩余 1 个工作日 1 小时", tone: "near" });
  const due = { overdue_s: 0, remaining_s: 0, deadline: "2026-12-09T17:00:00+08:00", unit: "working_hour" };
  assert.equal(caseTimeText(due, 0, Date.parse("2026-12-09T17:30:00+08:00")).text, "已到办结时限");
  assert.equal(caseTimeText(due, 0, Date.parse("2026-12-09T16:59:00+08:00")).text, "剩余 不到 1 分钟（工作时间）");
  assert.equal(sinceText(30), "刚刚");
  assert.equal(sinceText(12 * 60), "12 分钟");
  assert.equal(sinceText(65 * 60), "1 小时 5 分钟");
  assert.equal(sinceText(51 * 3600), "2 天 3 小时");
  assert.equal(rateText(null), "—");
  assert.equal(rateText(0.95123), "95.1%");
  assert.equal(rateText(1), "100.0%");
  assert.equal(responseText(null), "—");
  assert.equal(responseText(30), "不到 1 分钟");
  assert.equal(responseText(3600), "1 小时");
  assert.equal(scoreTone(96), "green");
  assert.equal(scoreTone(80), "amber");
  assert.equal(scoreTone(40), "red");
  assert.equal(windowStateLabel({ state: "unattended" }).label, "开放无人");
  assert.equal(windowStateLabel({ state: "paused_too_long" }).tone, "red");
  assert.equal(kindsText({ case_deadline: 1, ticket_wait: 3, manual: 0 }, { case_deadline: "办件超期", ticket_wait: "排队等候超时" }),
    "排队等候超时 3、办件超期 1");
  assert.equal(kindsText({}), "无");
});

test("a supervisor acknowledges an open alarm once, annotates any open one", () => {
  assert.deepEqual(wallActions(alarm(1, "red")), ["acknowledge", "annotate"]);
  assert.deepEqual(wallActions(alarm(1, "red", { acknowledged: true })), ["annotate"]);
  assert.deepEqual(wallActions(alarm(1, "red", { state: "rectifying", acknowledged: true })), ["annotate"]);
  assert.deepEqual(wallActions(alarm(1, "red", { state: "closed" })), []);
});

test("a department is on the wall's list when it has something to see", () => {
  const quiet = { alarms: { total: 0 }, overdue: 0, near_due: 0, windows_unattended: 0 };
  assert.equal(departmentActive(quiet), false);
  assert.equal(departmentActive({ ...quiet, alarms: { total: 2 } }), true);
  assert.equal(departmentActive({ ...quiet, near_due: 1 }), true);
  assert.equal(departmentActive({ ...quiet, windows_unattended: 1 }), true);
});

test("an alarm's issue time: the time today, the date and time before", () => {
  const now = Date.parse("2026-12-09T10:31:00+08:00");
  assert.equal(issuedText("2026-12-09T09:05:00+08:00", now), "09:05");
  assert.equal(issuedText("2026-12-04T17:00:00+08:00", now), "12-04 17:00");
  assert.equal(issuedText("2026-12-08T16:30:00Z", now), "00:30");  // the hall's day, not UTC's
  assert.equal(issuedText(null, now), "");
});
