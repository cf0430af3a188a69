// /track's words for a case: its place on the steps and the promised time left.
import assert from "node:assert/strict";
import { test } from "node:test";

import { adviceText, durationText, remainingText, stepStatuses, timelineEntries } from "../track/timeline.js";

const STEPS = [
  { state: "accepted", name: "已受理" },
  { state: "in_progress", name: "办理中" },
  { state: "awaiting_signoff", name: "待领导签批" },
  { state: "completed", name: "已办结" },
  { state: "delivered", name: "已领取" },
];
const through = (...states) => states.map((state) => ({ state }));
const statuses = (state, timeline) => stepStatuses(STEPS, state, timeline).map((s) => s.status);

test("a case in progress: accepted done, in progress current, the rest to come", () => {
  assert.deepEqual(statuses("in_progress", through("accepted", "in_progress")),
    ["done", "current", "todo", "todo", "todo"]);
  assert.deepEqual(statuses("accepted", through("accepted")), ["current", "todo", "todo", "todo", "todo"]);
});

test("a case that needed no sign-off passes that step as skipped; one that did, as done", () => {
  assert.deepEqual(statuses("completed", through("accepted", "in_progress", "approved", "completed")),
    ["done", "done", "skipped", "current", "todo"]);
  assert.deepEqual(statuses("approved", through("accepted", "in_progress", "awaiting_signoff", "approved")),
    ["done", "done", "done", "todo", "todo"]);
  assert.deepEqual(statuses("approved", through("accepted", "approved")),
    ["done", "skipped", "skipped", "todo", "todo"]);
  assert.deepEqual(statuses("awaiting_signoff", through("accepted", "in_progress", "awaiting_signoff")),
    ["done", "done", "current", "todo", "todo"]);
  assert.deepEqual(statuses("delivered", through("accepted", "approved", "completed", "delivered")),
    ["done", "skipped", "skipped", "done", "done"]);
});

test("withdrawn or not accepted: what it went through is done, nothing after it is to come", () => {
  assert.deepEqual(statuses("withdrawn", through("accepted", "in_progress", "withdrawn")),
    ["done", "done", "void", "void", "void"]);
  assert.deepEqual(statuses("not_accepted", through("not_accepted")), ["void", "void", "void", "void", "void"]);
  assert.deepEqual(statuses("not_accepted", through("accepted", "not_accepted")),
    ["done", "void", "void", "void", "void"]);
});

test("durations: minutes, hours and minutes; calendar days for a calendar-day limit", () => {
  assert.equal(durationText(0), "不到 1 分钟");
  assert.equal(durationText(59), "不到 1 分钟");
  assert.equal(durationText(45 * 60 + 59), "45 分钟");
  assert.equal(durationText(3 * 3600), "3 小时");
  assert.equal(durationText(16 * 3600 + 20 * 60), "16 小时 20 分钟");
  assert.equal(durationText(2 * 86400 + 3 * 3600, "calendar_day"), "2 天 3 小时");
  assert.equal(durationText(86400, "calendar_day"), "1 天");
  assert.equal(durationText(5 * 3600, "calendar_day"), "5 小时");
  // a working-day limit in the hall's working days (7 h each here)
  assert.equal(durationText(70 * 3600, "working_day", 7 * 3600), "10 个工作日");
  assert.equal(durationText(66 * 3600, "working_day", 7 * 3600), "9 个工作日 3 小时");
  assert.equal(durationText(5 * 3600, "working_day", 7 * 3600), "5 小时");
  assert.equal(durationText(70 * 3600, "working_day"), "70 小时");
});

const clock = (extra) => ({ status: "running", deadline: "2026-12-09T17:00:00+08:00", remaining_s: 0,
  overdue_s: 0, elapsed_s: 0, paused_s: {}, paused_total_s: 0, limit: 2, unit: "working_day", ...extra });

test("the time left is the server's working time; overdue, paused and stopped say so", () => {
  assert.deepEqual(remainingText(clock({ remaining_s: 11 * 3600 + 30 * 60 })),
    { text: "剩余 11 小时 30 分钟（工作时间）", tone: "ok" });
  assert.deepEqual(remainingText(clock({ overdue_s: 2 * 3600 })),
    { text: "已超过承诺时限 2 小时（工作时间）", tone: "late" });
  // with the hall's working day known: in working days
  assert.deepEqual(remainingText(clock({ remaining_s: 9 * 7 * 3600 }), { working_day_s: 7 * 3600 }),
    { text: "剩余 9 个工作日", tone: "ok" });
  assert.equal(remainingText(clock({ status: "paused", deadline: null }), { supplement: { materials: [] } }).tone, "paused");
  assert.match(remainingText(clock({ status: "paused" }), { supplement: { materials: [] } }).text, /补正/);
  assert.match(remainingText(clock({ status: "paused" })).text, /报批或特别程序/);
  assert.deepEqual(remainingText(clock({ status: "stopped", remaining_s: 3600 }), { state: "completed" }),
    { text: "已在承诺时限内办结", tone: "done" });
  assert.equal(remainingText(clock({ status: "stopped", overdue_s: 600 })).tone, "late");
  assert.equal(remainingText(clock({ limit: 3, unit: "calendar_day", remaining_s: 86400 + 7200 })).text,
    "剩余 1 天 2 小时");
});

test("an immediate case has no limit to count; an ended one counts no more", () => {
  assert.equal(remainingText(clock({ limit: 0 }), { kind: "immediate" }).text, "即办件，当场办结");
  assert.equal(remainingText(null).tone, "none");
  assert.equal(remainingText(clock({ remaining_s: 99 }), { state: "withdrawn" }).text, "已终止，不再计时");
});

test("advice: pick-up, what to bring, the sign-off, the reason of a refusal", () => {
  const v = { window_no: 3, state: "in_progress", supplement: null, ready_for_pickup: false, reason: null };
  assert.equal(adviceText(v), null);
  assert.equal(adviceText({ ...v, state: "completed", ready_for_pickup: true }), "已办结，请携带告知单到 3 号窗口领取");
  assert.match(adviceText({ ...v, supplement: { materials: [] } }), /补齐以下材料后到 3 号窗口/);
  assert.match(adviceText({ ...v, state: "awaiting_signoff" }), /带班领导签批/);
  assert.equal(adviceText({ ...v, state: "refused", reason: "不符合条件" }), "原因：不符合条件");
  assert.equal(adviceText({ ...v, state: "withdrawn", reason: "申请人撤回" }), "原因：申请人撤回");
});

test("the timeline reads newest first, with the window where there was one", () => {
  const entries = timelineEntries([
    { at: "2026-12-07T10:00:00+08:00", label: "受理", state: "accepted", state_name: "已受理", window_no: 1 },
    { at: "2026-12-07T10:05:00+08:00", label: "开始办理", state: "in_progress", state_name: "办理中", window_no: null },
  ]);
  assert.deepEqual(entries.map((e) => [e.label, e.where]), [["开始办理", ""], ["受理", "1 号窗口"]]);
});
