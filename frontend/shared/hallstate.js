// The live state of a hall as the lobby screens see it: windows (status, clerk, the ticket at
// the window), queues (their figures as the server computed them), the calls being made now and
// the recent calls, built from a snapshot and kept current by the hall's events in sequence
// order. Shared by the lobby display and the admin screen so both read every event the same way.
//
// Nothing here recomputes a rule of the server: a queue's waiting count, open windows, average
// service time and estimated wait are replaced from the `queues` figures an event carries.

/** Event types this state applies (the contract tests check every declared type is here or in
 * IGNORED_EVENTS, and that applyEvent() answers accordingly). */
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
  "hall.notice_set",
]);

/** Event types that change nothing a lobby screen shows. */
export const IGNORED_EVENTS = Object.freeze([
  // cases and sign-offs are the window's and the leader's business, not the lobby's
  "case.accepted",
  "case.changed",
  "case.fee_collected",
  "signoff.requested",
  "signoff.decided",
  // supervision's alarms are for its wall and the window concerned, not the lobby
  "alarm.issued",
  "alarm.changed",
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
  // joint steps (联办) are the departments' windows' inbox, not the lobby's
  "joint_step.ready",
  "joint_step.claimed",
  "joint_step.done",
  "joint_step.consented",
  // a project's stage accepted or completed: its cases' own events say what changed
  "project.changed",
  // 好差评 (issue 11): the screens that show ratings and rectification come with it
  "rating.given",
  "rating.requested",
  "rectification.opened",
  "rectification.changed",
  // the kiosks' registration hours (issue 12): the kiosk's business
  "registration.open_set",
]);

const FIGURES = ["waiting", "open_windows", "avg_service_seconds", "estimated_wait_seconds"];

const callKey = (c) => `${c.ticket_no}@${c.window_no}`;

function callOf(c) {
  return {
    ticket_no: c.ticket_no, window_no: c.window_no, window_name: c.window_name || "",
    queue: c.queue, at: c.at, recalled: !!c.recalled,
  };
}

export class HallState {
  constructor() {
    this.hall = null;
    this.windows = new Map();   // window_no -> {window_no, name, zone, status, queues, clerk, ticket}
    this.queues = new Map();    // code -> {code, name, prefix, waiting, open_windows, avg_service_seconds, estimated_wait_seconds}
    this.current = [];          // calls being made now (ticket still called there), newest first
    this.recent = [];           // the recent calls, newest first, at most callsKept
    this.callsKept = 0;         // how many recent calls the server keeps (the snapshot says)
    this.notice = "";
  }

  /** A snapshot replaces everything, so nothing stale survives a resync. */
  applySnapshot(snap) {
    this.hall = snap.hall;
    this.windows = new Map(snap.windows.map((w) => [w.window_no, { ...w }]));
    this.queues = new Map(snap.queues.map((q) => [q.code, { ...q }]));
    this.current = (snap.calls || []).map(callOf);
    const recent = snap.recent_calls || [];
    this.callsKept = Number.isInteger(snap.calls_kept) ? snap.calls_kept : recent.length;
    this.recent = recent.map(callOf).slice(0, this.callsKept);
    this.notice = snap.notice_line || "";
  }

  /** Applies one event. Returns null when the event changes nothing shown here, else
   * {call} where call is the new or repeated call (or null for other changes). */
  applyEvent(ev) {
    const d = ev.data || {};
    let call = null;
    switch (ev.type) {
      case "ticket.registered":
      case "ticket.requeued":
        this.#figures(d);
        break;
      case "ticket.called":
      case "ticket.recalled": {
        this.#figures(d);
        call = callOf({ ...d, at: ev.at, recalled: ev.type === "ticket.recalled" });
        // one ticket is called at a window at a time; a call elsewhere moves the ticket
        this.current = [call, ...this.current.filter((c) => c.window_no !== call.window_no
          && c.ticket_no !== call.ticket_no)];
        this.recent = [call, ...this.recent.filter((c) => callKey(c) !== callKey(call))]
          .slice(0, this.callsKept);
        this.#setTicket(d.window_no, { ticket_no: d.ticket_no, status: "called" });
        break;
      }
      case "ticket.service_started":
      case "ticket.resumed":
        this.#figures(d);
        this.#endCall(d.window_no, d.ticket_no);
        this.#setTicket(d.window_no, { ticket_no: d.ticket_no, status: "serving" });
        break;
      case "ticket.finished":
      case "ticket.no_show":
      case "ticket.parked":
      case "ticket.parked_expired":
      case "ticket.cancelled":
        this.#figures(d);
        this.#endCall(d.window_no, d.ticket_no);
        this.#setTicket(d.window_no, null, d.ticket_no);
        break;
      case "ticket.transferred":
        // the payload is the new waiting ticket; the one at from_window_no ended
        this.#figures(d);
        this.#endCall(d.from_window_no, d.ticket_no);
        this.#setTicket(d.from_window_no, null, d.ticket_no);
        break;
      case "queue.day_closed":
        for (const q of this.queues.values()) { q.waiting = 0; q.estimated_wait_seconds = 0; }
        this.#figures(d);
        for (const w of this.windows.values()) w.ticket = null;
        this.current = [];
        this.recent = [];
        break;
      case "window.status_changed": {
        this.#figures(d);
        const w = this.windows.get(d.window_no);
        if (w) w.status = d.status;
        break;
      }
      case "window.signed_in": {
        this.#figures(d);
        const w = this.windows.get(d.window_no);
        if (w) w.clerk = { id: d.clerk_id, name: d.clerk_name };
        break;
      }
      case "window.signed_out": {
        this.#figures(d);
        const w = this.windows.get(d.window_no);
        if (w) w.clerk = null;
        break;
      }
      case "window.configured": {
        // added or changed by the admin while the hall runs: a new window appears closed
        const w = this.windows.get(d.window_no) || { window_no: d.window_no, status: "closed", clerk: null, ticket: null };
        Object.assign(w, {
          name: d.name, zone: d.zone, department: d.department,
          department_name: d.department_name, queues: d.queues,
        });
        this.windows = new Map([...this.windows.set(d.window_no, w)].sort((a, b) => a[0] - b[0]));
        break;
      }
      case "hall.notice_set":
        this.notice = d.text || "";
        break;
      default:
        return null;   // IGNORED_EVENTS, and any type this screen does not know yet
    }
    return { call };
  }

  /** Is this call (ticket at window) still being called? */
  isCurrent(call) {
    return this.current.some((c) => callKey(c) === callKey(call));
  }

  totalWaiting() {
    let total = 0;
    for (const q of this.queues.values()) total += q.waiting;
    return total;
  }

  /** A ticket that leaves "called" at its window (served, gone, moved) is no longer called. */
  #endCall(windowNo, ticketNo) {
    this.current = this.current.filter((c) => !(c.window_no === windowNo && c.ticket_no === ticketNo));
  }

  #setTicket(windowNo, ticket, onlyIf = null) {
    const w = this.windows.get(windowNo);
    if (!w) return;
    if (onlyIf && !(w.ticket && w.ticket.ticket_no === onlyIf)) return;
    w.ticket = ticket;
  }

  /** The server's figures replace ours; an event from before they were carried still moves the
   * waiting count it names. */
  #figures(d) {
    if (Array.isArray(d.queues)) {
      for (const f of d.queues) {
        const q = this.queues.get(f.code);
        if (!q) continue;
        for (const k of FIGURES) if (Number.isFinite(f[k])) q[k] = f[k];
      }
      return;
    }
    const q = this.queues.get(d.queue);
    if (q && Number.isInteger(d.waiting)) q.waiting = d.waiting;
  }
}
