// The hall calendar and the leaders' duty roster without a DOM (node tests them): days as
// "YYYY-MM-DD" strings (the API's), a year as twelve small months, what a day is (working,
// statutory holiday, 调休 working weekend, set by hand), a year's holiday notice previewed as
// the server will load it, and the roster's week and the copy of last week.
//
// Dates are computed in UTC on purpose: a day here is a calendar date of the hall, never an
// instant, so the browser's own time zone must not move it.

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
export const WEEKDAY_LABEL = Object.freeze(["一", "二", "三", "四", "五", "六", "日"]);
export const ADJUSTED_WORKING_NOTE = "调休上班";   // the server's note of a 调休 working day
export const SOURCE_LABEL = Object.freeze({ library: "内置节假日库", notice: "国务院节假日通知", manual: "手工设置" });

const pad = (n) => String(n).padStart(2, "0");

/** "2026-10-01" -> a UTC Date, or null when it is no such day. */
export function parseDay(text) {
  const m = DAY.exec(String(text ?? ""));
  if (!m) return null;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]) ? d : null;
}

export const dayOf = (d) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;

export function addDays(day, n) {
  const d = parseDay(day);
  d.setUTCDate(d.getUTCDate() + n);
  return dayOf(d);
}

/** 0 Monday … 6 Sunday (a Chinese calendar's week starts on Monday). */
export const weekday = (day) => (parseDay(day).getUTCDay() + 6) % 7;
export const isWeekend = (day) => weekday(day) >= 5;

/** "10月1日" / "2026年10月1日" / "2026年10月1日 星期四". */
export function dayLabel(day, { year = false, week = false } = {}) {
  const d = parseDay(day);
  const text = `${year ? `${d.getUTCFullYear()}年` : ""}${d.getUTCMonth() + 1}月${d.getUTCDate()}日`;
  return week ? `${text} 星期${WEEKDAY_LABEL[weekday(day)]}` : text;
}

/** The days from `from` to `to`, both included. */
export function daysBetween(from, to) {
  const out = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}

// ------------------------------------------------------------------ what a day is

export const KIND_LABEL = Object.freeze({
  workday: "工作日",
  weekend: "休息日（周末）",
  holiday: "法定节假日",
  off: "休息日",
  adjusted: "调休上班",
});

/**
 * What `day` is, given its calendar row (or none): {kind, working, note, source}.
 * - no row: Monday–Friday work, the weekend is off (the server's default rule);
 * - a weekday off: `holiday` when it came from a notice or the library, `off` when set by hand;
 * - a weekend day working: `adjusted` (调休上班);
 * - a weekday working with a row: a workday all the same (a holiday set back by hand).
 */
export function dayKind(day, row) {
  const weekend = isWeekend(day);
  if (!row) return { kind: weekend ? "weekend" : "workday", working: !weekend, note: "", source: null };
  const base = { working: row.is_working, note: row.note || "", source: row.source || null };
  if (row.is_working) return { ...base, kind: weekend ? "adjusted" : "workday" };
  if (weekend) return { ...base, kind: "weekend" };
  return { ...base, kind: row.source === "manual" ? "off" : "holiday" };
}

/** "法定节假日：国庆节（国务院节假日通知）" for a day's title and the edit dialog. */
export function dayDescription(info) {
  const what = info.note && info.note !== KIND_LABEL[info.kind] ? `${KIND_LABEL[info.kind]}：${info.note}` : KIND_LABEL[info.kind];
  return info.source ? `${what}（${SOURCE_LABEL[info.source] || info.source}）` : what;
}

const rowsByDay = (rows) => new Map((rows || []).map((r) => [r.day, r]));

/**
 * A month as weeks of seven cells (Monday first), null outside the month:
 * {year, month (1–12), title, weeks: [[cell|null ×7]]}; a cell is the day's `dayKind` with
 * `day`, `date` (the day of the month), `today`, and `bridge` for a weekend between two days
 * off of the same holiday (国庆 Thursday to Wednesday: its Saturday and Sunday are shown as
 * part of it, though being a weekend they need no row).
 */
export function monthLayout(year, month, rows, today = "") {
  const byDay = rows instanceof Map ? rows : rowsByDay(rows);
  const first = `${year}-${pad(month)}-01`;
  const last = addDays(`${month === 12 ? year + 1 : year}-${pad(month === 12 ? 1 : month + 1)}-01`, -1);
  const cells = Array(weekday(first)).fill(null);
  for (const day of daysBetween(first, last)) {
    const info = dayKind(day, byDay.get(day));
    cells.push({ ...info, day, date: parseDay(day).getUTCDate(), today: day === today, bridge: bridgeOf(day, info, byDay) });
  }
  while (cells.length % 7) cells.push(null);
  const weeks = [];
  for (let i = 0; i < cells.length; i += 7) weeks.push(cells.slice(i, i + 7));
  return { year, month, title: `${month}月`, weeks, notes: monthNotes(cells.filter(Boolean)) };
}

/** The notes under a month: the days that are not what the Monday–Friday rule makes them, or
 * carry a note, in runs of the same note ("1日–7日 国庆节", "10日 调休上班"). A run goes on
 * across the days between (a weekend inside a holiday). -> [{label, note, working}] */
function monthNotes(cells) {
  const runs = [];
  for (const c of cells) {
    const note = c.note || c.bridge;
    const special = note || c.kind === "off" || c.kind === "holiday" || c.kind === "adjusted";
    if (!special) continue;
    const text = note || KIND_LABEL[c.kind];
    const last = runs[runs.length - 1];
    if (last && last.note === text && last.working === c.working && c.date - last.to <= 3) last.to = c.date;
    else runs.push({ note: text, working: c.working, from: c.date, to: c.date });
  }
  return runs.map((r) => ({ label: r.from === r.to ? `${r.from}日` : `${r.from}日–${r.to}日`, note: r.note, working: r.working }));
}

function bridgeOf(day, info, byDay) {
  if (info.kind !== "weekend" || info.note) return "";
  const friday = addDays(day, -(weekday(day) - 4));
  const monday = addDays(day, 7 - weekday(day));
  const a = byDay.get(friday);
  const b = byDay.get(monday);
  return a && b && !a.is_working && !b.is_working && a.note && a.note === b.note ? a.note : "";
}

/** The twelve months of `year`. */
export function yearLayout(year, rows, today = "") {
  const byDay = rowsByDay(rows);
  return Array.from({ length: 12 }, (_, i) => monthLayout(year, i + 1, byDay, today));
}

/**
 * The year in words, under the months: the holidays (weekdays off of the same note, grouped,
 * from the first to the last), the 调休 working days, and what was set by hand.
 * {holidays: [{note, from, to, days}], adjusted: [day], manual: [{day, is_working, note}]}
 */
export function yearSummary(rows) {
  const holidays = [];
  const lastOf = new Map();   // note -> its latest holiday
  const adjusted = [];
  const manual = [];
  for (const r of [...(rows || [])].sort((a, b) => (a.day < b.day ? -1 : 1))) {
    if (r.source === "manual") { manual.push({ day: r.day, is_working: r.is_working, note: r.note || "" }); continue; }
    if (r.is_working) { if (isWeekend(r.day)) adjusted.push(r.day); continue; }
    const note = r.note || "休息";
    const h = lastOf.get(note);
    // the same name twice a year (rare) is two holidays when more than two weeks apart
    if (h && parseDay(r.day) - parseDay(h.to) <= 14 * 86400000) {
      h.to = r.day;
      h.days += 1;
    } else {
      const added = { note, from: r.day, to: r.day, days: 1 };
      holidays.push(added);
      lastOf.set(note, added);
    }
  }
  return { holidays, adjusted, manual };
}

/** What setting a day will do, said before it is done (null: nothing changes). */
export function dayChangeEffect(day, info, isWorking, note) {
  const label = dayLabel(day, { year: true, week: true });
  if (info.working === isWorking) {
    return info.note === note ? null : { reprices: false, text: `${label}的备注改为“${note || "（无）"}”，是否上班不变。` };
  }
  const becomes = isWorking ? "工作日（上班）" : "休息日（不上班）";
  return {
    reprices: true,
    text: `${label}将设为${becomes}${note ? `，备注“${note}”` : ""}。保存后，本中心所有在办件的办理期限立即按新日历重新计算，各窗口和监察屏随即显示新的到期时间。`,
  };
}

// ------------------------------------------------------------------ the yearly notice

/**
 * A notice (as read from its JSON file) previewed before sending: what the server will write,
 * by its rules (server/domain/holiday_notice.py `days`): every weekday from `from` to `to` off
 * with the holiday's name, every listed working day working (调休上班). Compared with the
 * year's current rows: the days whose working status changes, the rows of an earlier notice or
 * the library the new one drops, and the days set by hand it leaves alone.
 *
 * Returns {error} when the file cannot be read as a notice at all; the finer rules (a range too
 * long, a working day on a weekday, an overlap) are the server's, which names the field.
 */
export function noticePreview(notice, currentRows = []) {
  if (!notice || typeof notice !== "object" || Array.isArray(notice)) return { error: "文件内容应为一个 JSON 对象（节假日安排通知）" };
  const year = notice.year;
  if (!Number.isInteger(year)) return { error: "缺少年份（year 应为整数，如 2027）" };
  if (!Array.isArray(notice.holidays) || !notice.holidays.length) return { error: "缺少节假日列表（holidays）" };
  const days = new Map();
  const holidays = [];
  for (const [i, h] of notice.holidays.entries()) {
    const name = h && typeof h.name === "string" ? h.name.trim() : "";
    const where = `第 ${i + 1} 项${name ? `（${name}）` : ""}`;
    if (!h || typeof h !== "object") return { error: `${where}应为 JSON 对象` };
    if (!parseDay(h.from) || !parseDay(h.to)) return { error: `${where}的放假起止日期应为 YYYY-MM-DD` };
    if (h.to < h.from) return { error: `${where}的结束日期早于开始日期` };
    const working = Array.isArray(h.working_days) ? h.working_days : [];
    if (working.some((d) => !parseDay(d))) return { error: `${where}的调休上班日期应为 YYYY-MM-DD` };
    const range = daysBetween(h.from, h.to);
    for (const d of range) if (!isWeekend(d)) days.set(d, { is_working: false, note: name });
    for (const d of working) days.set(d, { is_working: true, note: ADJUSTED_WORKING_NOTE });
    holidays.push({ name, from: h.from, to: h.to, total: range.length, working_days: [...working].sort() });
  }
  const current = rowsByDay((currentRows || []).filter((r) => r.day.startsWith(`${year}-`)));
  const working = (d, r) => (r ? r.is_working : !isWeekend(d));
  const changed = [];
  const removed = [];
  const keptManual = [];
  for (const [d, v] of days) if (working(d, current.get(d)) !== v.is_working) changed.push(d);
  for (const [d, r] of current) {
    if (days.has(d)) continue;
    if (r.source === "manual") keptManual.push(d);
    else {
      removed.push(d);
      if (r.is_working !== !isWeekend(d)) changed.push(d);
    }
  }
  const sorted = [...days.keys()].sort();
  return {
    year,
    title: typeof notice.title === "string" && notice.title.trim() ? notice.title.trim() : `国务院办公厅关于${year}年部分节假日安排的通知`,
    holidays,
    days_off: sorted.filter((d) => !days.get(d).is_working),
    working_days: sorted.filter((d) => days.get(d).is_working),
    changed: changed.sort(),
    removed: removed.sort(),
    kept_manual: keptManual.sort(),
    replaces: current.size > 0,
  };
}

/** "10月1日–10月7日" (one day: "6月9日"). */
export function rangeLabel(from, to) {
  return from === to ? dayLabel(from) : `${dayLabel(from)}–${dayLabel(to)}`;
}

/** Days as "1月31日、2月20日" (at most `max`, then "等 N 天"). */
export function daysText(days, max = 12) {
  const shown = days.slice(0, max).map((d) => dayLabel(d)).join("、");
  return days.length > max ? `${shown} 等 ${days.length} 天` : shown;
}

// ------------------------------------------------------------------ the duty roster

/** The Monday of the week holding `day`, and that week's seven days. */
export const mondayOf = (day) => addDays(day, -weekday(day));
export const weekOf = (day) => Array.from({ length: 7 }, (_, i) => addDays(mondayOf(day), i));

/** "12月7日–12月13日" */
export const weekLabel = (monday) => `${dayLabel(monday, { year: true })}–${dayLabel(addDays(monday, 6))}`;

/**
 * The week as the roster's table: one row per department that has a leader who may be on duty
 * (`withLeaders`, department codes) or someone on duty this week, in the order of
 * `departments`, each with the leaders on duty on each day. `duty` maps a day to the leaders
 * duty.get answers for it.
 * -> [{department, name, days: [[leader]] ×7}]
 */
export function rosterRows(week, duty, withLeaders, departments) {
  const rows = new Map(departments.map((d) => [d.code, { department: d.code, name: d.name, days: week.map(() => []) }]));
  const used = new Set(withLeaders);
  week.forEach((day, i) => {
    for (const l of duty[day] || []) {
      if (!rows.has(l.department)) rows.set(l.department, { department: l.department, name: l.department_name, days: week.map(() => []) });
      used.add(l.department);
      rows.get(l.department).days[i].push(l);
    }
  });
  return [...rows.values()].filter((r) => used.has(r.department));
}

/** The hall's leaders who may be on duty (active, role leader), by department:
 * Map(department -> [{id, name, username}]) in the order of `departments`. */
export function leadersByDepartment(staff, departments) {
  const out = new Map(departments.map((d) => [d.code, []]));
  for (const s of staff) {
    if (s.role !== "leader" || !s.active || !s.department) continue;
    if (!out.has(s.department)) out.set(s.department, []);
    out.get(s.department).push({ id: s.id, name: s.name, username: s.username });
  }
  for (const [code, list] of out) if (!list.length) out.delete(code);
  return out;
}

const idsOf = (leaders) => (leaders || []).map((l) => l.staff_id).sort((a, b) => a - b);
const sameIds = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Copying the week before to this one: day by day, this week's Monday gets last Monday's
 * leaders, and so on; a day left empty last week is emptied. A leader who may no longer be on
 * duty (disabled, no longer a leader: not in `activeIds`) is left out and named.
 * -> {plan: [{day, from, staff_ids, names, clears, unchanged}], dropped: [{day, name}], empty}
 * `empty`: last week had nobody on duty at all (nothing to copy).
 */
export function copyWeekPlan(lastWeek, thisWeek, lastDuty, thisDuty, activeIds) {
  const active = new Set(activeIds);
  const dropped = [];
  let any = false;
  const plan = thisWeek.map((day, i) => {
    const from = lastWeek[i];
    const source = lastDuty[from] || [];
    if (source.length) any = true;
    const kept = source.filter((l) => {
      if (active.has(l.staff_id)) return true;
      dropped.push({ day: from, name: l.name });
      return false;
    });
    const staffIds = idsOf(kept);
    const current = idsOf(thisDuty[day]);
    return {
      day,
      from,
      staff_ids: staffIds,
      names: kept.map((l) => l.name),
      clears: staffIds.length === 0 && current.length > 0,
      unchanged: sameIds(staffIds, current),
    };
  });
  return { plan, dropped, empty: !any };
}
