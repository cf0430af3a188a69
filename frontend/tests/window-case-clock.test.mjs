// The window terminal's case clock (frontend/window/clock.js): working time counted the way the
// server's clock counts it (server/domain/case_clock.py), moved on locally between views, and
// the words a clerk reads.
import assert from "node:assert/strict";
import { test } from "node:test";

import { clockAt, countsFrom, describeClock, formatWorking, makeCalendar, workedBetween } from "../window/clock.js";

// the demo hall: 09:00–12:00 and 13:00–17:00, 7 working hours a day
const cal = makeCalendar({ workPeriods: [["09:00", "12:00"], ["13:00", "17:00"]] });
const at = (s) => Date.parse(`${s}+08:00`);
const H = 3600;

test("a working day is the hall's working hours", () => {
  assert.equal(cal.daySeconds, 7 * H);
});

test("working time counts only inside the work periods of working days", () => {
  // Monday 2026-12-07 10:00 → 12:00: two hours; the lunch break counts nothing
  assert.equal(workedBetween(cal, "working_day", at("2026-12-07T10:00:00"), at("2026-12-07T12:00:00")), 2 * H);
  assert.equal(workedBetween(cal, "working_day", at("2026-12-07T12:00:00"), at("2026-12-07T13:00:00")), 0);
  assert.equal(workedBetween(cal, "working_day", at("2026-12-07T11:59:00"), at("2026-12-07T13:01:00")), 120);
  // Monday 10:00 to Wednesday 17:00 is the case test's 2-working-day limit: 6 h + 7 h + 7 h
  assert.equal(workedBetween(cal, "working_day", at("2026-12-07T10:00:00"), at("2026-12-09T17:00:00")), 20 * H);
  // the weekend counts nothing: Friday 16:00 → Monday 10:00 is 1 h + 1 h
  assert.equal(workedBetween(cal, "working_day", at("2026-12-11T16:00:00"), at("2026-12-14T10:00:00")), 2 * H);
  // nothing, or backwards: zero
  assert.equal(workedBetween(cal, "working_day", at("2026-12-07T10:00:00"), at("2026-12-07T10:00:00")), 0);
  assert.equal(workedBetween(cal, "working_day", at("2026-12-07T11:00:00"), at("2026-12-07T10:00:00")), 0);
});

test("the hall's overrides win over the weekday rule (holidays, 调休)", () => {
  const holiday = makeCalendar({ overrides: [{ day: "2026-12-08", is_working: false },
    { day: "2026-12-12", is_working: true }] });
  assert.equal(workedBetween(holiday, "working_day", at("2026-12-08T09:00:00"), at("2026-12-08T17:00:00")), 0);
  assert.equal(workedBetween(holiday, "working_day", at("2026-12-12T09:00:00"), at("2026-12-12T17:00:00")), 7 * H);
  assert.equal(holiday.isWorkingDay(Math.floor(at("2026-12-13T12:00:00") / 86400e3)), false);  // a Sunday
});

test("calendar-day limits count wall-clock time", () => {
  assert.equal(workedBetween(cal, "calendar_day", at("2026-12-12T00:00:00"), at("2026-12-13T00:00:00")), 86400);
});

test("working time in words: days of the hall's working day, then h:mm:ss", () => {
  assert.equal(formatWorking(20 * H, "working_day", cal), "2 个工作日 06:00:00");
  assert.equal(formatWorking(7 * H - 1, "working_day", cal), "06:59:59");
  assert.equal(formatWorking(31 * H + 5 * 60 + 9, "working_hour", cal), "31:05:09");
  assert.equal(formatWorking(2 * 86400 + 61, "calendar_day", cal), "2 天 00:01:01");
  assert.equal(formatWorking(-5, "working_day", cal), "00:00:00");
});

const running = { status: "running", deadline: "2026-12-09T17:00:00+08:00", elapsed_s: 0, remaining_s: 20 * H,
  overdue_s: 0, paused_s: {}, paused_total_s: 0, limit: 2, unit: "working_day" };

test("a running clock counts down by the working time since the view arrived", () => {
  const anchor = at("2026-12-07T10:00:00");
  const c = clockAt(running, anchor, anchor + 65_000, cal);
  assert.equal(c.remaining_s, 20 * H - 65);
  assert.equal(describeClock(c, null, cal).main, "剩余 2 个工作日 05:58:55");
  // over lunch it stands still
  const lunch = clockAt(running, at("2026-12-07T12:00:00"), at("2026-12-07T12:59:59"), cal);
  assert.equal(lunch.remaining_s, 20 * H);
});

test("a day limit does not count on the acceptance day (day 0); an hour limit does", () => {
  const accepted = "2026-12-07T10:00:00+08:00";
  const from = countsFrom(accepted, "working_day");
  assert.equal(from, at("2026-12-08T00:00:00"));
  assert.equal(countsFrom(accepted, "working_hour"), at("2026-12-07T10:00:00"));
  assert.equal(countsFrom(null, "working_day"), null);
  // Monday 10:00 → 17:00: still the two whole days; Tuesday 10:00: an hour of them used
  const day0 = { ...running, remaining_s: 14 * H };
  const anchor = at("2026-12-07T10:00:00");
  assert.equal(clockAt(day0, anchor, at("2026-12-07T16:59:00"), cal, from).remaining_s, 14 * H);
  const tuesday = clockAt(day0, anchor, at("2026-12-08T10:00:00"), cal, from);
  assert.equal(formatWorking(tuesday.remaining_s, "working_day", cal), "1 个工作日 06:00:00");
  // a pause counts all its working time, the acceptance day's too
  const paused = clockAt({ ...day0, status: "paused" }, anchor, at("2026-12-07T11:00:00"), cal, from);
  assert.equal(paused.paused_total_s, H);
});

test("once due, a running clock counts the overdue time up", () => {
  const due = { ...running, remaining_s: 60, deadline: "2026-12-09T16:59:00+08:00" };
  const c = clockAt(due, at("2026-12-09T16:59:00"), at("2026-12-10T09:30:00"), cal);
  assert.equal(c.remaining_s, 0);
  assert.equal(c.overdue_s, 30 * 60);   // the minute to 17:00 used the rest of the limit
  const d = describeClock(c, null, cal);
  assert.equal(d.tone, "late");
  assert.equal(d.main, "已超期 00:30:00");
  // already overdue in the view: it grows from there
  const late = clockAt({ ...running, remaining_s: 0, overdue_s: 600 }, at("2026-12-10T09:00:00"), at("2026-12-10T09:01:00"), cal);
  assert.equal(late.overdue_s, 660);
});

test("a paused clock keeps its remaining time and counts the pause; a stopped one stands", () => {
  const paused = { ...running, status: "paused", deadline: null, paused_s: { supplement: 0 } };
  const c = clockAt(paused, at("2026-12-07T10:00:00"), at("2026-12-07T11:00:00"), cal);
  assert.equal(c.remaining_s, 20 * H);
  assert.equal(c.paused_total_s, H);
  const d = describeClock(c, "supplement", cal);
  assert.equal(d.tone, "paused");
  assert.equal(d.main, "暂停计时 · 补正材料");
  assert.match(d.sub, /剩余 2 个工作日 06:00:00/);
  const stopped = clockAt({ ...running, status: "stopped", remaining_s: 3 * H }, at("2026-12-07T10:00:00"), at("2026-12-08T10:00:00"), cal);
  assert.equal(stopped.remaining_s, 3 * H);
  assert.equal(describeClock(stopped, null, cal).main, "已停止计时 · 提前 03:00:00");
});

test("the last working day warns", () => {
  const c = clockAt({ ...running, remaining_s: 2 * H }, 0, 0, cal);
  assert.equal(describeClock(c, null, cal).tone, "warn");
  assert.equal(describeClock(clockAt(running, 0, 0, cal), null, cal).tone, "ok");
});
