// The case clock on the terminal, without a DOM (node tests it): the server sends a clock view
// (server/domain/case_clock.py `view`) as of the moment it answered; between answers the
// terminal moves it on by itself, once a second, counting working time the way the server
// does: inside the hall's work periods, on working days (its calendar overrides, else Monday to
// Friday), in the hall's zone, and for a day limit not on the acceptance day (day 0: the limit
// counts from the next midnight). No polling: a new view comes with the next answer or event.

/** The hall's zone, Asia/Shanghai: UTC+8 all year (China keeps no summer time). */
const ZONE_OFFSET_MS = 8 * 3600 * 1000;
const DAY_MS = 86400 * 1000;
/** A limit runs at most a few hundred working days: counting further is a bug, not a case. */
const MAX_DAYS = 2000;

export const PAUSE_KIND_NAMES = Object.freeze({
  supplement: "补正材料",
  escalation: "报批",
  hearing: "听证",
  testing: "检验检测",
  inspection: "现场核查",
  expert_review: "专家评审",
});

export const UNIT_NAMES = Object.freeze({
  working_day: "个工作日",
  working_hour: "个工作小时",
  calendar_day: "天",
});

function seconds(hhmm) {
  const [h, m] = String(hhmm).split(":").map(Number);
  return h * 3600 + m * 60;
}

/** "2026-12-07" of a day number (days since 1970-01-01 in the hall's zone). */
function dayKey(day) {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/**
 * The hall calendar: work periods ([["09:00","12:00"],["13:00","17:00"]], GET /api/halls/{hall})
 * and overrides ([{day: "2026-10-01", is_working: false}], GET .../calendar).
 */
export function makeCalendar({ workPeriods = [["09:00", "12:00"], ["13:00", "17:00"]], overrides = [] } = {}) {
  const periods = workPeriods.map(([a, b]) => [seconds(a), seconds(b)]).sort((x, y) => x[0] - y[0]);
  const days = new Map(overrides.map((o) => [String(o.day).slice(0, 10), !!o.is_working]));
  return {
    periods,
    /** Working seconds in one working day: a "working day" of remaining time. */
    daySeconds: periods.reduce((sum, [a, b]) => sum + (b - a), 0),
    isWorkingDay(day) {
      const key = dayKey(day);
      if (days.has(key)) return days.get(key);
      const weekday = (day + 4) % 7;   // 1970-01-01 was a Thursday; 0 = Sunday
      return weekday >= 1 && weekday <= 5;
    },
  };
}

/** Working seconds in [fromMs, toMs) by the clock's unit; 0 when toMs <= fromMs. */
export function workedBetween(cal, unit, fromMs, toMs) {
  if (!(toMs > fromMs)) return 0;
  if (unit === "calendar_day") return Math.floor((toMs - fromMs) / 1000);
  const from = fromMs + ZONE_OFFSET_MS;
  const to = toMs + ZONE_OFFSET_MS;
  const first = Math.floor(from / DAY_MS);
  const last = Math.min(Math.floor(to / DAY_MS), first + MAX_DAYS);
  let ms = 0;
  for (let day = first; day <= last; day++) {
    if (!cal.isWorkingDay(day)) continue;
    const base = day * DAY_MS;
    for (const [a, b] of cal.periods) {
      const start = Math.max(from, base + a * 1000);
      const end = Math.min(to, base + b * 1000);
      if (end > start) ms += end - start;
    }
  }
  return Math.floor(ms / 1000);
}

/**
 * When a case's limit starts to count (case_clock.py `counts_from`): a working-hour limit at
 * acceptance, a day limit at the midnight after the acceptance day. Null if not known.
 */
export function countsFrom(acceptedAt, unit) {
  const ms = acceptedAt ? Date.parse(acceptedAt) : NaN;
  if (Number.isNaN(ms)) return null;
  if (unit === "working_hour") return ms;
  return (Math.floor((ms + ZONE_OFFSET_MS) / DAY_MS) + 1) * DAY_MS - ZONE_OFFSET_MS;
}

/**
 * The clock `view` (received when the terminal's clock read `anchorMs`) as at `nowMs`:
 * running, the working time since the anchor (none before `fromMs`, see countsFrom) is used
 * from the limit (and, once due, counts as overdue); paused, the limit stands still and the
 * pause grows; stopped, nothing moves.
 */
export function clockAt(view, anchorMs, nowMs, cal, fromMs = null) {
  if (!view) return null;
  const start = fromMs === null ? anchorMs : Math.max(anchorMs, fromMs);
  const worked = workedBetween(cal, view.unit, view.status === "paused" ? anchorMs : start, nowMs);
  const out = {
    status: view.status,
    unit: view.unit,
    limit: view.limit,
    deadline: view.deadline,
    remaining_s: view.remaining_s || 0,
    overdue_s: view.overdue_s || 0,
    paused_total_s: view.paused_total_s || 0,
  };
  if (view.status === "running") {
    const left = out.remaining_s - out.overdue_s - worked;
    out.remaining_s = Math.max(0, left);
    out.overdue_s = Math.max(0, -left);
  } else if (view.status === "paused") {
    out.paused_total_s += worked;
  }
  return out;
}

const pad = (n) => String(n).padStart(2, "0");

/**
 * Working time in words a clerk reads at a glance: "2 个工作日 06:00:00" (a working day is the
 * hall's working hours, 7 h for 09:00–12:00 + 13:00–17:00), "31:05:09" for hour limits,
 * "2 天 06:00:00" for calendar days.
 */
export function formatWorking(totalSeconds, unit, cal) {
  const s = Math.max(0, Math.floor(totalSeconds));
  const day = unit === "working_hour" ? 0 : unit === "calendar_day" ? 86400 : cal.daySeconds;
  const days = day ? Math.floor(s / day) : 0;
  const rest = s - days * day;
  const hms = `${pad(Math.floor(rest / 3600))}:${pad(Math.floor((rest % 3600) / 60))}:${pad(rest % 60)}`;
  if (!days) return hms;
  return `${days} ${unit === "calendar_day" ? "天" : "个工作日"} ${hms}`;
}

/**
 * What the clock panel says: {tone: "ok" | "warn" | "late" | "paused" | "stopped", main, sub}.
 * `warn` from the last working day (or last hour of an hour limit) on.
 */
export function describeClock(c, pauseKind, cal) {
  if (!c) return { tone: "stopped", main: "—", sub: "" };
  const remaining = formatWorking(c.remaining_s, c.unit, cal);
  const paused = formatWorking(c.paused_total_s, c.unit, cal);
  if (c.status === "stopped") {
    return c.overdue_s > 0
      ? { tone: "late", main: `已停止计时 · 超期 ${formatWorking(c.overdue_s, c.unit, cal)}`, sub: "" }
      : { tone: "stopped", main: c.remaining_s > 0 ? `已停止计时 · 提前 ${remaining}` : "已停止计时", sub: "" };
  }
  if (c.status === "paused") {
    return {
      tone: "paused",
      main: PAUSE_KIND_NAMES[pauseKind] ? `暂停计时 · ${PAUSE_KIND_NAMES[pauseKind]}` : "暂停计时",
      sub: c.overdue_s > 0 ? `暂停前已超期 ${formatWorking(c.overdue_s, c.unit, cal)}；已暂停 ${paused}`
        : `剩余 ${remaining}（暂停期间不计入时限）；已暂停 ${paused}`,
    };
  }
  if (c.overdue_s > 0) return { tone: "late", main: `已超期 ${formatWorking(c.overdue_s, c.unit, cal)}`, sub: "" };
  const soon = c.unit === "working_hour" ? 3600 : c.unit === "calendar_day" ? 86400 : cal.daySeconds;
  return {
    tone: c.remaining_s <= soon ? "warn" : "ok",
    main: `剩余 ${remaining}`,
    sub: c.paused_total_s > 0 ? `已暂停 ${paused}（不计入时限）` : "",
  };
}
