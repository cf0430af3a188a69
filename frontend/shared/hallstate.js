// The live state of a hall as the lobby screens see it: windows (status, clerk, the ticket at
// the window), queues (waiting, average service time) and the latest calls, built from a
// snapshot and kept current by the hall's events in sequence order. Shared by the lobby display
// and the admin screen so both read every event the same way.

export const RECENT_CALLS = 10;

export class HallState {
  constructor() {
    this.hall = null;
    this.windows = new Map();   // window_no -> {window_no, name, zone, status, queues, clerk, ticket}
    this.queues = new Map();    // code -> {code, name, prefix, waiting, avg_service_seconds}
    this.calls = [];            // newest first: {ticket_no, window_no, window_name, queue, at, recalled}
    this.notice = "";
  }

  /** A snapshot replaces everything, so nothing stale survives a resync. */
  applySnapshot(snap) {
    this.hall = snap.hall;
    this.windows = new Map(snap.windows.map((w) => [w.window_no, { ...w }]));
    this.queues = new Map(snap.queues.map((q) => [q.code, { ...q }]));
    this.calls = (snap.calls || []).map((c) => ({ ...c })).slice(0, RECENT_CALLS);
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
        this.#setWaiting(d.queue, d.waiting);
        break;
      case "ticket.called":
      case "ticket.recalled": {
        if (ev.type === "ticket.called") this.#setWaiting(d.queue, d.waiting);
        this.#setTicket(d.window_no, { ticket_no: d.ticket_no, status: "called" });
        call = { ...d, at: ev.at, recalled: ev.type === "ticket.recalled" };
        this.calls = [call, ...this.calls.filter((c) => !(c.ticket_no === d.ticket_no && c.window_no === d.window_no))]
          .slice(0, RECENT_CALLS);
        break;
      }
      case "ticket.service_started":
      case "ticket.resumed":
        this.#setTicket(d.window_no, { ticket_no: d.ticket_no, status: "serving" });
        break;
      case "ticket.finished":
        this.#setTicket(d.window_no, null, d.ticket_no);
        this.#learnServiceTime(d.queue, d.service_seconds);
        break;
      case "ticket.no_show":
      case "ticket.parked":
      case "ticket.parked_expired":
        this.#setTicket(d.window_no, null, d.ticket_no);
        break;
      case "ticket.transferred":
        this.#setTicket(d.from_window_no, null, d.ticket_no);
        this.#setWaiting(d.queue, d.waiting);
        break;
      case "queue.day_closed":
        for (const q of this.queues.values()) q.waiting = 0;
        for (const w of this.windows.values()) w.ticket = null;
        this.calls = [];
        break;
      case "window.status_changed": {
        const w = this.windows.get(d.window_no);
        if (w) w.status = d.status;
        break;
      }
      case "window.signed_in": {
        const w = this.windows.get(d.window_no);
        if (w) w.clerk = { id: d.clerk_id, name: d.clerk_name };
        break;
      }
      case "window.signed_out": {
        const w = this.windows.get(d.window_no);
        if (w) w.clerk = null;
        break;
      }
      case "hall.notice_set":
        this.notice = d.text || "";
        break;
      default:
        return null;   // calendar.day_set, duty.set, …: nothing the lobby shows
    }
    return { call };
  }

  /** ceil(waiting / max(1, open windows serving the queue)) × the queue's average service time. */
  estimatedWait(q) {
    let open = 0;
    for (const w of this.windows.values()) if (w.status === "open" && w.queues.includes(q.code)) open += 1;
    return { open, seconds: Math.ceil(q.waiting / Math.max(1, open)) * q.avg_service_seconds };
  }

  totalWaiting() {
    let total = 0;
    for (const q of this.queues.values()) total += q.waiting;
    return total;
  }

  #setTicket(windowNo, ticket, onlyIf = null) {
    const w = this.windows.get(windowNo);
    if (!w) return;
    if (onlyIf && !(w.ticket && w.ticket.ticket_no === onlyIf)) return;
    w.ticket = ticket;
  }

  #setWaiting(queue, waiting) {
    const q = this.queues.get(queue);
    if (q && Number.isInteger(waiting)) q.waiting = waiting;
  }

  /** The queue's average service time learns like hq_finish does (EWMA, 30 s … 1 h). */
  #learnServiceTime(queue, seconds) {
    const q = this.queues.get(queue);
    if (!q || !seconds) return;
    q.avg_service_seconds = Math.min(3600, Math.max(30, Math.trunc((q.avg_service_seconds * 4 + seconds) / 5)));
  }
}
