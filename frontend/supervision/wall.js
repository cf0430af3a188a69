// The supervision wall's model, without a DOM (node tests it): the snapshot the server answers
// (GET /api/halls/{hall}/supervision), kept live by the hall's events. Alarms are applied from
// alarm.issued / alarm.changed at once (the open list is what a supervisor acts on: it must move
// within a second); what the other events change (cases, waits, windows' times, sign-offs) is
// read again with the snapshot, coalesced. Also: the drill-down's filter (hall → department →
// window), the wall's order of alarms, and times and rates in words.
import { LEVELS, reduceAlarms } from "../shared/alarms.js";
import { durationText } from "../track/timeline.js";

/** Event types the wall reacts to. */
export const HANDLED_EVENTS = Object.freeze([
  "alarm.issued",
  "alarm.changed",
  "case.accepted",
  "case.changed",
  "signoff.requested",
  "signoff.decided",
  "ticket.registered",
  "ticket.called",
  "ticket.transferred",
  "ticket.requeued",
  "ticket.cancelled",
  "queue.day_closed",
  "window.status_changed",
  "window.signed_in",
  "window.signed_out",
  "calendar.day_set",
  "calendar.year_loaded",
  // 一表通: a project's stage accepted or completed moves its row of the projects' panel
  "project.changed",
  // 整改: an appeal made or decided moves the appeals' panel (appeals.js)
  "rectification.changed",
]);

/** Event types that change nothing the wall shows: a ticket's life at the window once called
 * (it left the waiting list), fees, the notice line, the duty roster, a session ending (the
 * socket closes and the page goes to the login). */
export const IGNORED_EVENTS = Object.freeze([
  "ticket.recalled",
  "ticket.service_started",
  "ticket.resumed",
  "ticket.finished",
  "ticket.no_show",
  "ticket.parked",
  "ticket.parked_expired",
  "case.fee_collected",
  "hall.notice_set",
  "window.configured",
  "duty.set",
  "session.ended",
  // the admin's changes to staff, devices, items and settings: internal, nothing shown here
  "staff.changed",
  "device.changed",
  "item.published",
  "hall.settings_changed",
  "hall.structure_changed",
  // joint steps (联办): an overrun reaches the wall as an alarm
  "joint_step.ready",
  "joint_step.claimed",
  "joint_step.done",
  "joint_step.consented",
  // 好差评 (issue 11): the screens that show ratings and rectification come with it
  "rating.given",
  "rating.requested",
  // a new task has no appeal yet; an overdue one reaches the wall as an alarm
  "rectification.opened",
  // the kiosks' registration hours (issue 12): the kiosk's business
  "registration.open_set",
]);

const RANK = { warning: 1, yellow: 2, red: 3 };

/** The wall's order: the most severe first; within a level what nobody has acknowledged yet,
 * then the newest. */
export function compareWall(a, b) {
  return (RANK[b.level] || 0) - (RANK[a.level] || 0)
    || Number(!!a.acknowledged) - Number(!!b.acknowledged)
    || String(b.issued_at || "").localeCompare(String(a.issued_at || ""))
    || b.alarm_id - a.alarm_id;
}

export function wallOrder(alarms) {
  return [...alarms].sort(compareWall);
}

/** {warning, yellow, red, total, unacknowledged} of a list of open alarms. */
export function countAlarms(alarms) {
  const c = { warning: 0, yellow: 0, red: 0, total: 0, unacknowledged: 0 };
  for (const a of alarms) {
    if (a.level in RANK) c[a.level] += 1;
    c.total += 1;
    if (!a.acknowledged) c.unacknowledged += 1;
  }
  return c;
}

/** The wall's model from a snapshot: {snap, alarms (wall order), counts, truncated}. */
export function wallModel(snap) {
  const alarms = wallOrder(snap.alarms.open);
  return {
    snap,
    alarms,
    counts: { ...snap.alarms.counts },
    truncated: !!snap.alarms.truncated,
  };
}

/**
 * Applies `ev` to `model` (its alarms and windows changed in place) and says what the page must
 * do: {render: draw again now, refetch: read the snapshot again (coalesced), arrived: the
 * alarm_id just issued or null; project: a project.changed payload for the projects' panel
 * (projects.js), only on that event; appeals: true on rectification.changed, the appeals'
 * panel reads its list again (appeals.js)}. Null for an ignored or unknown type.
 */
export function reduceWallEvent(model, ev) {
  const d = ev.data || {};
  const effect = { render: false, refetch: false, arrived: null };
  switch (ev.type) {
    case "project.changed":
      // nothing of the snapshot: the panel's own list moves (a county's project comes on the
      // city's stream too)
      return { ...effect, project: d };
    case "rectification.changed":
      // nothing of the snapshot: the appeals' panel reads its list again
      return { ...effect, appeals: true };
    case "alarm.issued":
    case "alarm.changed": {
      const r = reduceAlarms(model.alarms, ev);
      if (r.alarms !== model.alarms) {
        model.alarms = wallOrder(r.alarms);
        effect.render = true;
      }
      effect.arrived = r.arrived;
      if (model.truncated) {
        // the list holds only the first alarms: the counts are the server's
        effect.refetch = true;
        if (r.arrived !== null) {
          model.counts[d.level] = (model.counts[d.level] || 0) + 1;
          model.counts.total += 1;
          model.counts.unacknowledged += 1;
        }
      } else {
        model.counts = countAlarms(model.alarms);
      }
      // a 黄牌 moves its case from near due to overdue; an alarm not held here is read in full
      if (r.refetch || (ev.type === "alarm.issued" && d.case_id)) effect.refetch = true;
      return effect;
    }
    case "window.status_changed":
    case "window.signed_in":
    case "window.signed_out": {
      const w = model.snap.windows.find((x) => x.window_no === d.window_no);
      if (w) {
        if (ev.type === "window.status_changed") {
          w.status = d.status;
          w.state = d.status;
          if (d.status === "paused") w.paused_since = ev.at || null;
        } else if (ev.type === "window.signed_in") {
          w.clerk_name = d.clerk_name;
          if (w.state === "unattended") w.state = w.status;
        } else {
          w.clerk_name = null;
          if (w.status === "open") { w.state = "unattended"; w.unattended_since = ev.at || null; }
        }
        effect.render = true;
      }
      effect.refetch = true;   // the times (paused since, absent since) are the server's
      return effect;
    }
    default:
      if (!HANDLED_EVENTS.includes(ev.type)) return null;
      effect.refetch = true;
      return effect;
  }
}

// ------------------------------------------------------------------ drill-down

/** Where the wall looks: the hall, one department, one window of it. */
export function viewOf({ department = null, window_no = null } = {}) {
  return { department, window_no: window_no === null ? null : Number(window_no) };
}

/** Does an item (alarm, case, window, sign-off, wait) belong to the view? */
export function inView(item, view) {
  if (view.department !== null && item.department !== view.department) return false;
  if (view.window_no !== null && "window_no" in item && item.window_no !== view.window_no) return false;
  return true;
}

/** What the wall shows at `view`: every list filtered to it. */
export function visible(model, view) {
  const pick = (list) => (list || []).filter((x) => inView(x, view));
  const s = model.snap;
  return {
    alarms: pick(model.alarms),
    overdue: pick(s.cases.overdue),
    near_due: pick(s.cases.near_due),
    windows: pick(s.windows),
    signoffs: pick(s.signoffs),
    // tickets wait for a queue, not a window: a window's view shows its department's
    waits: (s.waits.longest || []).filter((t) => view.department === null || t.department === view.department),
    counts: view.department === null && view.window_no === null ? model.counts : countAlarms(pick(model.alarms)),
  };
}

/** Has a department something for supervision to see (alarms, overdue or near-due cases, a
 * window open without its clerk)? The wall lists those; the rest on request. */
export function departmentActive(d) {
  return !!((d.alarms && d.alarms.total) || d.overdue || d.near_due || d.windows_unattended);
}

/** The breadcrumb of a view: [{label, view}], the hall first. */
export function crumbs(model, view) {
  const s = model.snap;
  const out = [{ label: s.hall.name, view: viewOf() }];
  if (view.department !== null) {
    const d = s.departments.find((x) => x.code === view.department);
    out.push({ label: d ? d.name : view.department, view: viewOf({ department: view.department }) });
  }
  if (view.window_no !== null) out.push({ label: `${view.window_no} 号窗口`, view });
  return out;
}

// ------------------------------------------------------------------ words

/** A case's time against its limit: {text, tone} — "超期 2 小时（工作时间）" red, "剩余 …" amber.
 * `now` is the server's (the snapshot's), not this screen's clock. */
export function caseTimeText(c, workingDay = 0, now = Date.now()) {
  const span = (s) => {
    const t = durationText(s, c.unit, workingDay);
    return c.unit !== "calendar_day" && !t.includes("工作日") ? `${t}（工作时间）` : t;
  };
  if (c.overdue_s > 0) return { text: `超期 ${span(c.overdue_s)}`, tone: "late" };
  if (c.deadline && Date.parse(c.deadline) <= Number(now) && !c.remaining_s) {
    return { text: "已到办结时限", tone: "late" };
  }
  return { text: `剩余 ${span(c.remaining_s)}`, tone: "near" };
}

/** "刚刚", "12 分钟", "1 小时 5 分钟", "2 天 3 小时" for a number of seconds. */
export function sinceText(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  if (s < 60) return "刚刚";
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} 分钟`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} 小时 ${minutes % 60} 分钟` : `${hours} 小时`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} 天 ${hours % 24} 小时` : `${days} 天`;
}

/** Seconds from an ISO time to `now` (ms), never negative. */
export function secondsSince(iso, now = Date.now()) {
  if (!iso) return 0;
  return Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
}

/** When an alarm was issued: "09:42" today, "12-04 17:00" before (both in the hall's zone). */
export function issuedText(iso, now = Date.now()) {
  if (!iso) return "";
  const day = (t) => new Date(t).toLocaleDateString("en-CA", { timeZone: "Asia/Shanghai" });
  const time = new Date(iso).toLocaleTimeString("zh-CN", {
    timeZone: "Asia/Shanghai", hour12: false, hour: "2-digit", minute: "2-digit",
  });
  return day(iso) === day(now) ? time : `${day(iso).slice(5)} ${time}`;
}

/** "95.1%", or "—" when there is nothing to divide (no case completed yet). */
export function rateText(rate) {
  if (rate === null || rate === undefined) return "—";
  return `${(Math.round(rate * 1000) / 10).toFixed(1)}%`;
}

/** A response time ("平均签收用时"): "—" when none. */
export function responseText(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  return seconds < 60 ? "不到 1 分钟" : sinceText(seconds);
}

export const WINDOW_STATES = Object.freeze({
  open: { label: "在岗", tone: "green" },
  paused: { label: "暂停", tone: "amber" },
  closed: { label: "关闭", tone: "gray" },
  unattended: { label: "开放无人", tone: "red" },
  paused_too_long: { label: "暂停超时", tone: "red" },
});

export function windowStateLabel(w) {
  return (WINDOW_STATES[w.state] || { label: w.state, tone: "gray" });
}

/** A department's score as a tone: 90+ good, 75+ watch, else poor (the number is shown too). */
export function scoreTone(score) {
  if (score >= 90) return "green";
  if (score >= 75) return "amber";
  return "red";
}

/** The level's name and colour (the shared alarm levels: 预警 amber, 黄牌 yellow, 红牌 red). */
export function levelInfo(level) {
  return LEVELS[level] || { name: level, tone: "", rank: 0 };
}

/** The buttons a supervisor has on an alarm of the wall. */
export function wallActions(alarm) {
  const open = alarm.state === "issued" || alarm.state === "rectifying";
  if (!open) return [];
  return alarm.acknowledged ? ["annotate"] : ["acknowledge", "annotate"];
}

/** "2026-12" of a Date in the hall's zone (the month picker's default). */
export function monthOf(date = new Date()) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit",
  }).formatToParts(date).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}`;
}

/** The kinds of a month row in words, the most first: "办件超期 3、排队等候超时 1". */
export function kindsText(byKind, names = {}) {
  const entries = Object.entries(byKind || {}).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  if (!entries.length) return "无";
  return entries.map(([k, n]) => `${names[k] || k} ${n}`).join("、");
}
