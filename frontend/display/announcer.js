// What the lobby reads out, without a DOM (node tests it). A call that arrives live is read out
// at once. Calls that arrive as backlog (the events a reconnecting display catches up with, or
// a resync snapshot) are held until the live marker; then only the ones still being called are
// read out, once per (ticket, window), oldest first. A display back from a 30-second cut thus
// reads the few calls still waiting for their citizen, not every call it missed.

const keyOf = (call) => `${call.ticket_no}@${call.window_no}`;

export class CallAnnouncer {
  /**
   * @param {{isCurrent: (call) => boolean, speak: (call) => void,
   *          wanted?: (call) => boolean}} deps
   *   isCurrent: is the call still being called (the hall state after the backlog);
   *   speak: read it out; wanted: whether this display announces the call at all (its zone).
   */
  constructor({ isCurrent, speak, wanted = () => true }) {
    this.isCurrent = isCurrent;
    this.speak = speak;
    this.wanted = wanted;
    this.pending = new Map();   // key -> call, in the order first seen
    this.seenState = false;
  }

  /** A call applied from the stream (a call or a recall). */
  call(call, { backlog }) {
    if (!this.wanted(call)) return;
    if (!backlog) {
      this.speak(call);
      return;
    }
    this.pending.delete(keyOf(call));   // a repeated call of the same ticket counts once, at its latest
    this.pending.set(keyOf(call), call);
  }

  /** A snapshot replaced the state. The first one is what the screen opens on: nothing to read
   * out. A later one (a resync after a long cut) holds the calls this display had not shown. */
  snapshot(previousCalls, currentCalls) {
    const first = !this.seenState;
    this.seenState = true;
    if (first) return;
    const known = new Set(previousCalls.map(keyOf));
    for (const call of currentCalls) {
      if (!known.has(keyOf(call)) && this.wanted(call) && !this.pending.has(keyOf(call))) {
        this.pending.set(keyOf(call), call);
      }
    }
  }

  /** The live marker: the backlog is applied; read out what is still being called. */
  live() {
    this.seenState = true;
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const call of calls) if (this.isCurrent(call)) this.speak(call);
  }
}
