// The admin's calendar, duty roster and notice-line templates without a DOM.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import {
  addDays, copyWeekPlan, dayChangeEffect, dayDescription, dayKind, dayLabel, daysText,
  leadersByDepartment, mondayOf, monthLayout, noticePreview, parseDay, rangeLabel, rosterRows,
  weekday, weekLabel, weekOf, yearLayout, yearSummary,
} from "../admin/calendar-model.js";
import { addTemplate, moveItem, removeAt, setTemplate, templateLabel, templatesPayload } from "../admin/model.js";

const row = (day, is_working, note, source = "library") => ({ day, is_working, note, source });

// 2026's 国庆节 as the library writes it: the weekdays off, and the 调休 Saturdays
const OCTOBER_2026 = [
  row("2026-09-20", true, "调休上班"),
  ...["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"].map((d) => row(d, false, "国庆节")),
  row("2026-10-10", true, "调休上班"),
];

test("days are calendar dates: no time zone moves them, and impossible days are refused", () => {
  assert.equal(weekday("2026-10-01"), 3);          // a Thursday (Monday is 0)
  assert.equal(weekday("2026-10-04"), 6);          // Sunday
  assert.equal(addDays("2026-12-31", 1), "2027-01-01");
  assert.equal(addDays("2028-03-01", -1), "2028-02-29");
  assert.equal(parseDay("2026-02-30"), null);
  assert.equal(parseDay("2026-2-3"), null);
  assert.equal(dayLabel("2026-10-01", { year: true, week: true }), "2026年10月1日 星期四");
  assert.equal(rangeLabel("2026-10-01", "2026-10-07"), "10月1日–10月7日");
  assert.equal(rangeLabel("2027-06-09", "2027-06-09"), "6月9日");
});

test("a month is laid out in weeks from Monday, with its holidays, 调休 days and today", () => {
  const m = monthLayout(2026, 10, OCTOBER_2026, "2026-10-09");
  assert.equal(m.title, "10月");
  assert.equal(m.weeks.length, 5);
  assert.ok(m.weeks.every((w) => w.length === 7));
  // October 2026 starts on a Thursday: three blank cells first
  assert.deepEqual(m.weeks[0].map((c) => c && c.date), [null, null, null, 1, 2, 3, 4]);
  assert.deepEqual(m.weeks[4].map((c) => c && c.date), [26, 27, 28, 29, 30, 31, null]);
  const cell = (d) => m.weeks.flat().find((c) => c && c.date === d);
  assert.equal(cell(1).kind, "holiday");
  assert.equal(cell(1).note, "国庆节");
  assert.equal(cell(1).working, false);
  // the weekend inside the holiday is shown as part of it (it needs no row: a weekend is off)
  assert.equal(cell(3).kind, "weekend");
  assert.equal(cell(3).bridge, "国庆节");
  assert.equal(cell(10).kind, "adjusted");
  assert.equal(cell(10).working, true);
  assert.equal(cell(11).kind, "weekend");
  assert.equal(cell(11).bridge, "");
  assert.equal(cell(12).kind, "workday");
  assert.equal(cell(9).today, true);
  assert.deepEqual(m.notes, [
    { label: "1日–7日", note: "国庆节", working: false },
    { label: "10日", note: "调休上班", working: true },
  ]);
});

test("a year is twelve months; February of a leap year has 29 days", () => {
  const months = yearLayout(2028, []);
  assert.equal(months.length, 12);
  assert.equal(months[1].weeks.flat().filter(Boolean).length, 29);
  assert.equal(months.reduce((n, m) => n + m.weeks.flat().filter(Boolean).length, 0), 366);
  // March 2026 begins on a Sunday: six blanks, and six weeks
  const march = monthLayout(2026, 3, []);
  assert.equal(march.weeks[0].filter((c) => c === null).length, 6);
  assert.equal(march.weeks.length, 6);
});

test("what a day is: the default rule, a holiday, a day set by hand, 调休, a holiday undone", () => {
  assert.equal(dayKind("2026-12-09", null).kind, "workday");
  assert.equal(dayKind("2026-12-12", null).kind, "weekend");
  assert.equal(dayKind("2026-10-01", row("2026-10-01", false, "国庆节")).kind, "holiday");
  const closure = dayKind("2026-12-09", row("2026-12-09", false, "系统升级停办", "manual"));
  assert.equal(closure.kind, "off");
  assert.equal(dayDescription(closure), "休息日：系统升级停办（手工设置）");
  assert.equal(dayKind("2026-10-10", row("2026-10-10", true, "调休上班")).kind, "adjusted");
  assert.equal(dayDescription(dayKind("2026-10-10", row("2026-10-10", true, "调休上班", "notice"))), "调休上班（国务院节假日通知）");
  // a library holiday set back to working by hand is a workday that keeps its note
  const undone = dayKind("2026-10-02", row("2026-10-02", true, "照常办公", "manual"));
  assert.equal(undone.kind, "workday");
  assert.equal(undone.working, true);
  assert.equal(dayDescription(dayKind("2026-12-09", null)), "工作日");
});

test("setting a day says that open cases are repriced only when it changes working or not", () => {
  const info = dayKind("2026-12-09", null);
  const off = dayChangeEffect("2026-12-09", info, false, "系统升级停办");
  assert.equal(off.reprices, true);
  assert.match(off.text, /^2026年12月9日 星期三将设为休息日（不上班），备注“系统升级停办”/);
  assert.match(off.text, /所有在办件的办理期限立即按新日历重新计算/);
  assert.equal(dayChangeEffect("2026-12-09", info, true, ""), null);
  const noteOnly = dayChangeEffect("2026-10-01", dayKind("2026-10-01", row("2026-10-01", false, "国庆节")), false, "国庆");
  assert.equal(noteOnly.reprices, false);
  assert.match(noteOnly.text, /是否上班不变/);
});

test("the year in words: holidays from first to last weekday off, 调休 days, days set by hand", () => {
  const s = yearSummary([
    ...OCTOBER_2026,
    row("2026-01-01", false, "元旦"), row("2026-01-02", false, "元旦"), row("2026-01-04", true, "调休上班"),
    row("2026-12-09", false, "系统升级停办", "manual"),
  ]);
  assert.deepEqual(s.holidays, [
    { note: "元旦", from: "2026-01-01", to: "2026-01-02", days: 2 },
    { note: "国庆节", from: "2026-10-01", to: "2026-10-07", days: 5 },
  ]);
  assert.deepEqual(s.adjusted, ["2026-01-04", "2026-09-20", "2026-10-10"]);
  assert.deepEqual(s.manual, [{ day: "2026-12-09", is_working: false, note: "系统升级停办" }]);
  // the same name twice, months apart, is two holidays
  const twice = yearSummary([row("2026-01-05", false, "停办"), row("2026-06-01", false, "停办")]);
  assert.equal(twice.holidays.length, 2);
  assert.equal(daysText(["2027-01-31", "2027-02-20"]), "1月31日、2月20日");
  assert.equal(daysText(["2027-01-01", "2027-01-02", "2027-01-03"], 2), "1月1日、1月2日 等 3 天");
});

const EXAMPLE = JSON.parse(readFileSync(new URL("../../docs/examples/holiday-notice-2027.json", import.meta.url), "utf8"));

test("a notice is previewed as the server loads it: weekdays off, 调休 days, what changes", () => {
  const p = noticePreview(EXAMPLE, []);
  assert.equal(p.year, 2027);
  assert.match(p.title, /示例/);
  assert.equal(p.holidays.length, 7);
  assert.deepEqual(p.holidays[1], {
    name: "春节", from: "2027-02-05", to: "2027-02-12", total: 8, working_days: ["2027-01-31", "2027-02-20"],
  });
  // 元旦 2027: Friday 1 January off; the weekend after needs no row
  assert.ok(p.days_off.includes("2027-01-01"));
  assert.ok(!p.days_off.includes("2027-01-02"));
  assert.ok(p.days_off.every((d) => weekday(d) < 5));
  assert.deepEqual(p.working_days, ["2027-01-31", "2027-02-20", "2027-04-25", "2027-05-08", "2027-09-26", "2027-10-09"]);
  // on an empty year every one of those days changes
  assert.equal(p.changed.length, p.days_off.length + p.working_days.length);
  assert.equal(p.replaces, false);
  assert.equal(noticePreview({ ...EXAMPLE, title: "" }, []).title, "国务院办公厅关于2027年部分节假日安排的通知");
});

test("a notice loaded over an earlier one: dropped days, kept hand-set days, only real changes", () => {
  const current = [
    row("2027-02-05", false, "春节", "notice"),            // listed again: no change
    row("2027-02-15", false, "春节", "notice"),            // no longer listed: removed, works again
    row("2027-03-01", true, "调休上班", "notice"),          // a Monday: removed, no change of working
    row("2027-06-14", false, "系统升级停办", "manual"),     // by hand, untouched by the notice: kept
    row("2027-10-01", true, "照常办公", "manual"),          // by hand, listed: the notice wins
  ];
  const p = noticePreview(EXAMPLE, current);
  assert.equal(p.replaces, true);
  assert.deepEqual(p.removed, ["2027-02-15", "2027-03-01"]);
  assert.deepEqual(p.kept_manual, ["2027-06-14"]);
  assert.ok(!p.changed.includes("2027-02-05"));
  assert.ok(p.changed.includes("2027-02-15"));
  assert.ok(!p.changed.includes("2027-03-01"));
  assert.ok(p.changed.includes("2027-10-01"));
  // rows of another year are no business of this notice
  assert.deepEqual(noticePreview(EXAMPLE, [row("2026-10-01", false, "国庆节")]).removed, []);
});

test("a file that is no notice is said so before anything is sent", () => {
  assert.match(noticePreview([], []).error, /JSON 对象/);
  assert.match(noticePreview({ year: "2027", holidays: [] }, []).error, /year/);
  assert.match(noticePreview({ year: 2027 }, []).error, /holidays/);
  assert.match(noticePreview({ year: 2027, holidays: [{ name: "春节", from: "2027-02-30", to: "2027-02-12" }] }, []).error,
    /^第 1 项（春节）的放假起止日期/);
  assert.match(noticePreview({ year: 2027, holidays: [{ name: "x", from: "2027-02-12", to: "2027-02-05" }] }, []).error, /早于/);
  assert.match(noticePreview({ year: 2027, holidays: [{ name: "x", from: "2027-02-05", to: "2027-02-05", working_days: ["2.20"] }] }, []).error, /调休上班/);
});

// ------------------------------------------------------------------ the duty roster

const STAFF = [
  { id: 140, username: "leader.amr", name: "王强", role: "leader", department: "amr", active: true },
  { id: 141, username: "leader.tax", name: "李明", role: "leader", department: "tax", active: true },
  { id: 142, username: "leader.tax2", name: "赵四", role: "leader", department: "tax", active: false },
  { id: 15, username: "clerk015", name: "张敏", role: "clerk", department: "amr", active: true },
];
const DEPARTMENTS = [{ code: "amr", name: "市场监管局" }, { code: "tax", name: "税务局" }, { code: "realty", name: "不动产" }];
const on = (id, name, department) => ({ staff_id: id, name, username: `u${id}`, department, department_name: department });

test("a week runs Monday to Sunday", () => {
  assert.equal(mondayOf("2026-12-07"), "2026-12-07");
  assert.equal(mondayOf("2026-12-13"), "2026-12-07");
  assert.equal(mondayOf("2027-01-01"), "2026-12-28");
  assert.deepEqual(weekOf("2026-12-09"), ["2026-12-07", "2026-12-08", "2026-12-09", "2026-12-10", "2026-12-11", "2026-12-12", "2026-12-13"]);
  assert.equal(weekLabel("2026-12-28"), "2026年12月28日–1月3日");
});

test("the leaders who may be on duty: active leaders by department; the roster's rows", () => {
  const byDept = leadersByDepartment(STAFF, DEPARTMENTS);
  assert.deepEqual([...byDept.keys()], ["amr", "tax"]);
  assert.deepEqual(byDept.get("tax").map((l) => l.id), [141]);
  const week = weekOf("2026-12-07");
  const rows = rosterRows(week, { "2026-12-08": [on(140, "王强", "amr"), on(200, "钱五", "realty")] }, byDept.keys(), DEPARTMENTS);
  // realty has no leader now but someone on duty this week: shown, so nobody is hidden
  assert.deepEqual(rows.map((r) => r.department), ["amr", "tax", "realty"]);
  assert.deepEqual(rows[0].days.map((d) => d.map((l) => l.name)), [[], ["王强"], [], [], [], [], []]);
});

test("copying last week: day by day, empties too, leaving out who may no longer be on duty", () => {
  const last = weekOf("2026-11-30");
  const now = weekOf("2026-12-07");
  const lastDuty = {
    "2026-11-30": [on(140, "王强", "amr"), on(141, "李明", "tax")],
    "2026-12-01": [on(142, "赵四", "tax")],   // disabled since
    "2026-12-02": [on(140, "王强", "amr")],
  };
  const thisDuty = {
    "2026-12-09": [on(140, "王强", "amr")],   // the same as last Wednesday: unchanged
    "2026-12-10": [on(141, "李明", "tax")],   // last Thursday was empty: cleared
  };
  const { plan, dropped, empty } = copyWeekPlan(last, now, lastDuty, thisDuty, [140, 141]);
  assert.equal(empty, false);
  assert.deepEqual(plan.map((p) => [p.day, p.staff_ids]), [
    ["2026-12-07", [140, 141]], ["2026-12-08", []], ["2026-12-09", [140]], ["2026-12-10", []],
    ["2026-12-11", []], ["2026-12-12", []], ["2026-12-13", []],
  ]);
  assert.equal(plan[0].from, "2026-11-30");
  assert.deepEqual(plan[0].names, ["王强", "李明"]);
  assert.equal(plan[2].unchanged, true);
  assert.equal(plan[3].clears, true);
  assert.equal(plan[4].unchanged, true);
  assert.equal(plan[4].clears, false);
  assert.deepEqual(dropped, [{ day: "2026-12-01", name: "赵四" }]);
  assert.equal(copyWeekPlan(last, now, {}, thisDuty, [140]).empty, true);
});

// ------------------------------------------------------------------ notice-line templates

test("templates: add, edit, reorder, remove, and the list the server takes", () => {
  let list = addTemplate([], "午间延时服务 12:00-13:00");
  list = addTemplate(list);
  list = setTemplate(list, 1, "  系统维护，不动产业务暂停办理  ");
  list = addTemplate(list, "");
  list = moveItem(list, 1, -1);
  assert.deepEqual(list, ["  系统维护，不动产业务暂停办理  ", "午间延时服务 12:00-13:00", ""]);
  assert.deepEqual(templatesPayload(list).templates, ["系统维护，不动产业务暂停办理", "午间延时服务 12:00-13:00"]);
  assert.deepEqual(removeAt(list, 0), ["午间延时服务 12:00-13:00", ""]);
  const full = Array.from({ length: 20 }, (_, i) => `模板${i}`);
  assert.equal(addTemplate(full, "再一条").length, 20);
  assert.deepEqual(templatesPayload([...full, "x"]).error.field, "notice_templates");
  const long = templatesPayload(["好", "字".repeat(501)]);
  assert.equal(long.error.field, "notice_templates.1");
  assert.match(long.error.message, /第 2 条超过 500 字/);
  assert.equal(templatesPayload(["甲", " 甲 "]).error.field, "notice_templates.1");
  assert.equal(templateLabel("今日 12:00-13:00 午间延时服务，不动产业务请到二楼办理", 10), "今日 12:00-1…");
  assert.equal(templateLabel("第一行\n第二行"), "第一行");
});
