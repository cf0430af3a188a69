// Supervision's alarms (电子监察) as a window terminal or a department leader's page holds them,
// without a DOM (so node can test it): the open alarms of one window or one department, kept
// live from alarm.issued / alarm.changed and read again from GET /api/halls/{hall}/alarms on
// load and after a reconnect; their levels, states and the actions a leader has, in words.
import { formatDateTime } from "./api.js";

/** The live event types that change an alarm list. */
export const ALARM_EVENTS = Object.freeze(["alarm.issued", "alarm.changed"]);

/** The ladder's levels, most severe last; `tone` names the colour the level is shown in (the
 * name is always written too: colour alone says nothing to a colour-blind clerk). */
export const LEVELS = Object.freeze({
  warning: Object.freeze({ name: "预警", tone: "amber", rank: 1 }),
  yellow: Object.freeze({ name: "黄牌", tone: "yellow", rank: 2 }),
  red: Object.freeze({ name: "红牌", tone: "red", rank: 3 }),
});

export const STATE_NAMES = Object.freeze({
  issued: "已发出",
  rectifying: "督办中",
  withdrawn: "已撤销",
  cancelled: "已作废",
  closed: "已关闭",
});

/** States in which an alarm is still the department's business. */
export const OPEN_STATES = Object.freeze(["issued", "rectifying"]);

export const isOpen = (alarm) => OPEN_STATES.includes(alarm.state);

export function levelName(level) {
  return (LEVELS[level] || {}).name || level || "";
}

export function levelTone(level) {
  return (LEVELS[level] || {}).tone || "";
}

/** Most severe first; within a level the newest first (what just arrived is on top of its
 * level), then by id so that equal times keep one order. */
export function compareAlarms(a, b) {
  const rank = (x) => (LEVELS[x.level] || { rank: 0 }).rank;
  return rank(b) - rank(a)
    || String(b.issued_at || "").localeCompare(String(a.issued_at || ""))
    || b.alarm_id - a.alarm_id;
}

export function sortAlarms(alarms) {
  return [...alarms].sort(compareAlarms);
}

/** The open alarms of a read (GET .../alarms answers {"alarms": [...]}), sorted. */
export function openAlarms(answer) {
  const list = Array.isArray(answer) ? answer : (answer && answer.alarms) || [];
  return sortAlarms(list.filter(isOpen));
}

/** The alarm an alarm.issued event describes, shaped as the read's alarm dict. */
export function alarmFromIssued(d) {
  return {
    alarm_id: d.alarm_id,
    kind: d.kind,
    kind_name: d.kind_name,
    level: d.level,
    level_name: d.level_name || levelName(d.level),
    subject: d.subject,
    summary: d.summary,
    state: "issued",
    case_id: d.case_id ?? null,
    case_no: d.case_no ?? null,
    item_name: d.item_name ?? null,
    ticket_no: d.ticket_no ?? null,
    department: d.department ?? null,
    window_no: d.window_no ?? null,
    due_at: d.due_at,
    issued_at: d.issued_at,
    acknowledged: false,
    acknowledged_at: null,
    rectify_due_at: null,
    answer: null,
    answered_at: null,
    appeal: null,
    appeal_pending: false,
    rule_version: d.rule_version,
  };
}

/** Does the event's alarm belong to the list of window `windowNo` / department `department`
 * (null: no condition on it)? */
function inScope(d, { windowNo = null, department = null }) {
  return (windowNo === null || d.window_no === windowNo)
    && (department === null || d.department === department);
}

/** What an alarm.changed event tells of the alarm it changed. */
function changedAlarm(a, d) {
  const next = {
    ...a,
    state: d.state,
    acknowledged: d.acknowledged,
    acknowledged_at: d.acknowledged && !a.acknowledged ? d.at : a.acknowledged_at,
    rectify_due_at: d.rectify_due_at,
    appeal_pending: d.appeal_pending,
    last_action: { action: d.action, by: d.by, at: d.at, note: d.note },
  };
  if (d.action === "alarm.answer") {
    next.answered_at = d.at;
    next.answer = d.note || a.answer;
  } else if (d.action === "alarm.appeal") {
    next.appeal = d.note || a.appeal;
  } else if (d.action === "alarm.supervise") {
    // a new 督办 (again, after an appeal sent back) waits for a new answer
    next.answered_at = null;
    next.answer = null;
  }
  return next;
}

/**
 * Applies `ev` to `alarms` (open alarms, sorted; not changed in place) for the list of window
 * `windowNo` or department `department` and says what the page must do:
 * {alarms: the new list, arrived: the alarm_id just issued or null, removed: the alarm_id that
 *  left the open list or null, updated: the alarm_id changed in place or null, refetch: read the
 *  list again (a change of an alarm this list does not hold yet)}.
 * Null for any other type.
 */
export function reduceAlarms(alarms, ev, scope = {}) {
  if (!ALARM_EVENTS.includes(ev.type)) return null;
  const d = ev.data || {};
  const effect = { alarms, arrived: null, removed: null, updated: null, refetch: false };
  const i = alarms.findIndex((a) => a.alarm_id === d.alarm_id);
  if (ev.type === "alarm.issued") {
    if (i >= 0 || !inScope(d, scope)) return effect;   // a replay after a reconnect: known
    effect.alarms = sortAlarms([...alarms, alarmFromIssued(d)]);
    effect.arrived = d.alarm_id;
    return effect;
  }
  if (i < 0) {
    // an alarm issued before the list was read (or while the read was not there): the read
    // has it with every field
    effect.refetch = inScope(d, scope) && OPEN_STATES.includes(d.state);
    return effect;
  }
  const next = changedAlarm(alarms[i], d);
  if (isOpen(next)) {
    effect.alarms = alarms.map((a, j) => (j === i ? next : a));
    effect.updated = d.alarm_id;
  } else {
    effect.alarms = alarms.filter((_, j) => j !== i);
    effect.removed = d.alarm_id;
  }
  return effect;
}

/** Where a screen reads its open alarms: a window's (the terminal) or a department's (the
 * leader's page). */
export function alarmsUrl(hallCode, { windowNo = null, department = null } = {}) {
  const q = new URLSearchParams({ state: "open" });
  if (windowNo !== null) q.set("window_no", String(windowNo));
  if (department !== null) q.set("department", department);
  return `/api/halls/${encodeURIComponent(hallCode)}/alarms?${q}`;
}

/** Where the alarm stands, in a line: "督办中，答复期限 2026-12-14 17:00", "申诉待裁决", ... */
export function stateText(alarm) {
  const parts = [];
  if (alarm.state === "rectifying") {
    parts.push(alarm.answered_at
      ? `督办中，已于 ${formatDateTime(alarm.answered_at)} 答复，待监察办结`
      : alarm.rectify_due_at ? `督办中，答复期限 ${formatDateTime(alarm.rectify_due_at)}` : "督办中");
  } else if (alarm.state === "issued") {
    parts.push(alarm.acknowledged ? "监察已确认" : "已发出");
  } else {
    parts.push(STATE_NAMES[alarm.state] || alarm.state);
  }
  if (alarm.appeal_pending) parts.push("申诉待裁决");
  return parts.join("，");
}

/** Is an answer to the 督办 overdue at `now` (ms)? */
export function answerOverdue(alarm, now = Date.now()) {
  return alarm.state === "rectifying" && !alarm.answered_at && !!alarm.rectify_due_at
    && Date.parse(alarm.rectify_due_at) < now;
}

/** What the department's leader can do with the alarm: answer a 督办 not yet answered; appeal
 * an open alarm once (an appeal sent back keeps its text: no second one). The server decides;
 * these say which buttons to offer. */
export function leaderActions(alarm) {
  const actions = [];
  if (alarm.state === "rectifying" && !alarm.answered_at) actions.push("answer");
  if (isOpen(alarm) && !alarm.appeal_pending && !alarm.appeal) actions.push("appeal");
  return actions;
}

export const ACTION_FORMS = Object.freeze({
  answer: Object.freeze({
    label: "答复督办", field: "answer", title: "答复内容", placeholder: "整改情况及结果",
    empty: "请填写答复内容", done: "已答复督办",
  }),
  appeal: Object.freeze({
    label: "申诉", field: "reason", title: "申诉理由", placeholder: "说明不应预警的理由，如：申请人要求延期并已签字",
    empty: "请填写申诉理由", done: "已提交申诉",
  }),
});

/** The POST of a leader's action: {path, body}; throws an Error with the Chinese message for
 * an empty text. */
export function actionRequest(alarm, action, text) {
  const form = ACTION_FORMS[action];
  if (!form) throw new Error(`unknown action ${action}`);
  const value = String(text || "").trim();
  if (!value) throw new Error(form.empty);
  return { path: `/api/alarms/${alarm.alarm_id}/${action}`, body: { [form.field]: value } };
}

/** "新的监察提醒：黄牌 办件超期 RIZHAO-20261207-00001" — what a screen reader announces. */
export function announcement(alarm) {
  return ["新的监察提醒：", levelName(alarm.level), " ", alarm.kind_name || "",
    alarm.case_no ? ` ${alarm.case_no}` : alarm.ticket_no ? ` ${alarm.ticket_no} 号` : ""].join("");
}
