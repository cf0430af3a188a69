// What a live event means to the window terminal, without a DOM (so node can test it): the
// terminal keeps every window's status and clerk itself, and fetches its board again when an
// event touches its window, its queues or its clerk. Case and sign-off events go to the case
// panel's reducer (case-model.js), alarm events to the alarm strip's (shared/alarms.js), joint
// step events to the inbox's (shared/inbox.js).
import { ALARM_EVENTS, reduceAlarms } from "../shared/alarms.js";
import { INBOX_EVENTS, reduceInbox } from "../shared/inbox.js";
import { WINDOW_STATUS_LABEL } from "../shared/api.js";
import { ratingNotice } from "../rate/model.js";
import { CASE_EVENTS, reduceCaseEvent } from "./case-model.js";

/** 好差评 at this window: the clerk's request, and the citizen's answer (issue 11). */
export const RATING_EVENTS = Object.freeze(["rating.requested", "rating.given"]);

/** Event types the terminal reacts to. */
export const HANDLED_EVENTS = Object.freeze([
  "ticket.registered",
  "ticket.called",
  "ticket.recalled",
  "ticket.service_started",
  "ticket.resumed",
  "ticket.finished",
  "ticket.no_show",
  "ticket.requeued",
  "ticket.parked",
  "ticket.parked_expired",
  "ticket.cancelled",
  "ticket.transferred",
  "queue.day_closed",
  "window.status_changed",
  "window.signed_in",
  "window.signed_out",
  "window.configured",
  ...CASE_EVENTS,
  ...ALARM_EVENTS,
  ...INBOX_EVENTS,
  ...RATING_EVENTS,
]);

/** Event types that change nothing on the terminal (a session ending closes the socket and the
 * reconnect finds the login gone). */
export const IGNORED_EVENTS = Object.freeze([
  "hall.notice_set",
  "calendar.day_set",
  "calendar.year_loaded",
  "duty.set",
  "session.ended",
  // the admin's changes to staff, devices, items and settings: internal, nothing shown here
  "staff.changed",
  "device.changed",
  "item.published",
  "hall.settings_changed",
  "hall.structure_changed",
  // a project's stage accepted or completed: its cases' own events say what changed
  "project.changed",
  // 整改 (issue 11): the department's task, not the window's
  "rectification.opened",
  "rectification.changed",
  // the kiosks' registration hours (issue 12): the kiosk's business
  "registration.open_set",
]);

const TICKET_EVENTS = new Set(HANDLED_EVENTS.filter((t) => t.startsWith("ticket.")));

/** Does a ticket event touch the board of the terminal at `windowNo`? */
function touchesBoard(d, windowNo, clerkId, windowQueues) {
  return d.window_no === windowNo || d.target_window_no === windowNo
    || d.from_window_no === windowNo || windowQueues.includes(d.queue)
    || (!!d.target_clerk_id && d.target_clerk_id === clerkId);
}

/**
 * Applies `ev` to `windows` (window_no -> {status, clerk, queues, ...}) and says what the
 * terminal at `windowNo` (null: at the window picker) of clerk `clerkId` must do:
 * {window: the window_no whose status or clerk changed, or null;
 *  signedOutHere: this clerk was signed out of this window (elsewhere, or by an admin);
 *  refreshBoard: fetch the board again;
 *  cases: for a case or sign-off event, what the case panel showing `cases` must do
 *  (case-model.js reduceCaseEvent);
 *  alarms: for an alarm event, what it does to this window's open `alarms` (shared/alarms.js
 *  reduceAlarms; null at the window picker);
 *  inbox: for a joint step event, what it does to the department's open steps `inbox`
 *  ({steps, department, me}: shared/inbox.js reduceInbox; null at the window picker);
 *  rating: for a rating event at this window, what the rating line shows ({pending, text,
 *  bad}); null for another window's or at the picker;
 *  notice: this window's status changed by someone else (an admin, a leader, a timer): what
 *  the clerk is told}.
 * Returns null for an ignored or unknown type.
 */
export function reduceWindowEvent(windows, ev, {
  windowNo = null, clerkId = null, cases = {}, alarms = [], inbox = {},
} = {}) {
  const d = ev.data || {};
  const effect = { window: null, signedOutHere: false, refreshBoard: false };
  if (CASE_EVENTS.includes(ev.type)) {
    effect.cases = reduceCaseEvent(ev, { windowNo, ...cases });
    return effect;
  }
  if (ALARM_EVENTS.includes(ev.type)) {
    effect.alarms = windowNo === null ? null : reduceAlarms(alarms, ev, { windowNo });
    return effect;
  }
  if (INBOX_EVENTS.includes(ev.type)) {
    const { steps = [], department = null, me = {} } = inbox;
    effect.inbox = windowNo === null ? null : reduceInbox(steps, ev, { department, me: { windowNo, ...me } });
    return effect;
  }
  if (RATING_EVENTS.includes(ev.type)) {
    effect.rating = windowNo === null || d.window_no !== windowNo ? null : windowRating(ev);
    return effect;
  }
  const mine = windowNo === null ? null : windows.get(windowNo);
  if (TICKET_EVENTS.has(ev.type)) {
    effect.refreshBoard = !!mine && touchesBoard(d, windowNo, clerkId, mine.queues || []);
    return effect;
  }
  switch (ev.type) {
    case "queue.day_closed":
      effect.refreshBoard = !!mine;
      return effect;
    case "window.status_changed":
    case "window.signed_in":
    case "window.signed_out": {
      const w = windows.get(d.window_no);
      if (!w) return effect;
      if (ev.type === "window.status_changed") {
        w.status = d.status;
        if (d.window_no === windowNo && d.by && d.by.id !== clerkId) effect.notice = changedBy(d);
      } else if (ev.type === "window.signed_in") w.clerk = { id: d.clerk_id, name: d.clerk_name };
      else {
        w.clerk = null;
        effect.signedOutHere = d.window_no === windowNo && d.clerk_id === clerkId;
      }
      effect.window = d.window_no;
      return effect;
    }
    case "window.configured": {
      // the admin changed a window's set-up: its clerk is told, and the board is read again
      const w = windows.get(d.window_no) || { window_no: d.window_no, status: "closed", clerk: null };
      Object.assign(w, { name: d.name, department: d.department, queues: d.queues });
      windows.set(d.window_no, w);
      if (d.window_no === windowNo) effect.notice = configuredNotice(d);
      effect.window = d.window_no;
      return effect;
    }
    default:
      return null;
  }
}

/** What the clerk is told when the admin changed their window's set-up. */
export function configuredNotice(d) {
  return `管理员已修改本窗口设置：${d.name}，办理队列 ${d.queues.join("、") || "（无）"}`;
}

const ROLE_NAME = { admin: "管理员", leader: "值班领导", supervisor: "监察员", system: "系统" };

/** What the clerk is told when someone else changed their window's status. */
export function changedBy(d) {
  const who = [ROLE_NAME[d.by.role] || "", d.by.name && d.by.name !== ROLE_NAME[d.by.role] ? d.by.name : ""]
    .filter(Boolean).join(" ") || "他人";
  return `${who} 已将本窗口设为「${WINDOW_STATUS_LABEL[d.status] || d.status}」`;
}

/** The rating line of the terminal: waiting for the citizen's tap, or the level given (差评
 * marked); never who rated. */
export function windowRating(ev) {
  if (ev.type === "rating.requested") {
    return { pending: true, bad: false, text: "已请群众评价，等待群众在评价器上评价…" };
  }
  return { pending: false, ...ratingNotice(ev.data || {}) };
}
