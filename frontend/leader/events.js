// What a live event means to the leader's screen, without a DOM (so node can test it): the
// screen holds its department's waiting sign-off requests (GET /api/halls/{hall}/signoffs) and
// reads them again when a request arrives or a waiting case changes; a decision removes its
// request at once. Supervision's alarms for the department go to the alarm list's reducer
// (shared/alarms.js).
import { ALARM_EVENTS, reduceAlarms } from "../shared/alarms.js";
import { RECTIFICATION_EVENTS, touchesTasks } from "./rectification-model.js";

/** Event types the leader's screen reacts to. */
export const HANDLED_EVENTS = Object.freeze([
  "signoff.requested",
  "signoff.decided",
  "case.changed",
  ...ALARM_EVENTS,
  // 整改: the department's tasks are read again (rectification-model.js)
  ...RECTIFICATION_EVENTS,
]);

/** Event types that change nothing on it: the queue and the windows (the department room
 * brings them), a new case (not waiting for a sign-off yet), fees, the calendar, the roster
 * (today's duty is read with the list), and a session ending (the socket closes, the page goes
 * to the login). */
export const IGNORED_EVENTS = Object.freeze([
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
  "hall.notice_set",
  "calendar.day_set",
  "calendar.year_loaded",
  "duty.set",
  "case.accepted",
  "case.fee_collected",
  "session.ended",
  // the admin's changes to staff, devices, items and settings: internal, nothing shown here
  "staff.changed",
  "device.changed",
  "item.published",
  "hall.settings_changed",
  "hall.structure_changed",
  // joint steps (联办): the inbox of internal work is a later part of issue 10
  "joint_step.ready",
  "joint_step.claimed",
  "joint_step.done",
  "joint_step.consented",
  // a project's stage accepted or completed: its cases' own events say what changed
  "project.changed",
  // 好差评 (issue 11): a rating by itself changes nothing here; a bad one's task comes as
  // rectification.opened
  "rating.given",
  "rating.requested",
  // the kiosks' registration hours (issue 12): the kiosk's business
  "registration.open_set",
]);

/**
 * Applies `ev` to `requests` (the waiting requests, as the list answers them; a decision's
 * request is removed in place) and says what the screen must do:
 * {refetch: read the list again, removed: the signoff_id taken off or null, arrived: the
 *  signoff_id of a new request for this department or null; for an alarm event also alarms:
 *  what it does to the department's open `alarms`, shared/alarms.js reduceAlarms; for a
 *  rectification event also rectifications: whether the department's 整改 list must be read
 *  again}. Null for an
 * ignored or unknown type.
 */
export function reduceLeaderEvent(requests, ev, { department = null, alarms = [] } = {}) {
  const d = ev.data || {};
  const effect = { refetch: false, removed: null, arrived: null };
  if (ALARM_EVENTS.includes(ev.type)) {
    effect.alarms = reduceAlarms(alarms, ev, { department });
    return effect;
  }
  if (RECTIFICATION_EVENTS.includes(ev.type)) {
    effect.rectifications = touchesTasks(ev, department);
    return effect;
  }
  switch (ev.type) {
    case "signoff.requested":
      if (d.department === department) {
        effect.refetch = true;
        effect.arrived = d.signoff_id;
      }
      return effect;
    case "signoff.decided": {
      const i = requests.findIndex((r) => r.signoff_id === d.signoff_id);
      if (i >= 0) {
        requests.splice(i, 1);
        effect.removed = d.signoff_id;
      }
      return effect;
    }
    case "case.changed":
      // its materials, history or clock as the leader sees them; withdrawn: no longer waiting
      effect.refetch = requests.some((r) => r.case && r.case.case_id === d.case_id);
      return effect;
    default:
      return null;
  }
}

/** The request to select after the list changed: the same one if still there, else the one
 * now at its place (the next), else the last; null for an empty list. */
export function keepSelection(requests, selectedId, previousIndex = 0) {
  if (!requests.length) return null;
  if (requests.some((r) => r.signoff_id === selectedId)) return selectedId;
  const i = Math.min(Math.max(0, previousIndex), requests.length - 1);
  return requests[i].signoff_id;
}

/** The neighbour of `selectedId` in direction `step` (+1 down, -1 up), staying in the list. */
export function moveSelection(requests, selectedId, step) {
  if (!requests.length) return null;
  const i = requests.findIndex((r) => r.signoff_id === selectedId);
  if (i < 0) return requests[0].signoff_id;
  return requests[Math.min(requests.length - 1, Math.max(0, i + step))].signoff_id;
}
