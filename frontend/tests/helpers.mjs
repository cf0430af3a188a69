// Shared by the node tests: the event fixtures ($HALLOPS_EVENT_FIXTURES when it names a file,
// else the committed sample: both generated from the catalogue by tests/contract/sample_events.py)
// and a small hall.
import { readFileSync } from "node:fs";

const SAMPLE = new URL("./fixtures/events.sample.json", import.meta.url);

export const FIXTURES_PATH = process.env.HALLOPS_EVENT_FIXTURES || SAMPLE;

/** One example event per declared type: [{seq, hall_id, type, at, window_id, data}]. */
export function fixtureEvents() {
  const { events } = JSON.parse(readFileSync(FIXTURES_PATH, "utf8"));
  if (!Array.isArray(events) || events.length === 0) throw new Error(`no events in ${FIXTURES_PATH}`);
  return events;
}

export function fixtureTypes() {
  return [...new Set(fixtureEvents().map((e) => e.type))].sort();
}

/** The fixture of `type` with its data changed: the payload shapes stay the catalogue's. */
export function fixture(type, data = {}) {
  const ev = fixtureEvents().find((e) => e.type === type);
  if (!ev) throw new Error(`no fixture of ${type}`);
  return { ...ev, data: { ...ev.data, ...data } };
}

let nextSeq = 1000;

/** An event as the feed frames it, numbered in order. */
export function event(type, data, at = "2026-12-01T10:00:00+08:00") {
  nextSeq += 1;
  return { ...fixture(type, data), seq: nextSeq, at };
}

/** A hall of two departments: windows 15, 16 (amr) and 20 (tax), all open. */
export function snapshot(changes = {}) {
  const win = (no, queues, extra = {}) => ({
    window_no: no, name: `${no}号窗口`, zone: "一楼", status: "open", department: queues[0],
    department_name: "", queues, clerk: { id: no, name: `职员${no}` }, ticket: null, ...extra,
  });
  return {
    seq: 100,
    day: "2026-12-01",
    hall: { code: "rizhao", name: "日照市政务服务中心", level: "city" },
    notice_line: "",
    windows: [win(15, ["amr"]), win(16, ["amr"]), win(20, ["tax"])],
    queues: [
      { id: 1, code: "amr", name: "市场监管业务", prefix: "A", waiting: 5, open_windows: 2,
        served_today: 0, avg_service_seconds: 300, estimated_wait_seconds: 900 },
      { id: 2, code: "tax", name: "税务业务", prefix: "B", waiting: 0, open_windows: 1,
        served_today: 0, avg_service_seconds: 240, estimated_wait_seconds: 0 },
    ],
    calls: [],
    recent_calls: [],
    calls_kept: 10,
    ...changes,
  };
}

/**
 * A clock the test moves: replaces setTimeout/setInterval/their clears and Date.now until
 * uninstall(). (node:test's mock.timers would do, but not on the Node 18 Debian 12 ships.)
 */
export class FakeClock {
  constructor(now = Date.parse("2026-12-01T10:00:00+08:00")) {
    this.now = now;
    this.timers = new Map();   // id -> {at, fn, every}
    this.nextId = 1;
    this.saved = null;
  }

  install() {
    const g = globalThis;
    this.saved = { setTimeout: g.setTimeout, clearTimeout: g.clearTimeout, setInterval: g.setInterval,
      clearInterval: g.clearInterval, now: Date.now };
    g.setTimeout = (fn, ms = 0) => this.#add(fn, ms, null);
    g.setInterval = (fn, ms = 0) => this.#add(fn, ms, Math.max(1, ms));
    g.clearTimeout = (id) => { this.timers.delete(id); };
    g.clearInterval = (id) => { this.timers.delete(id); };
    Date.now = () => this.now;
    return this;
  }

  uninstall() {
    if (!this.saved) return;
    Object.assign(globalThis, { setTimeout: this.saved.setTimeout, clearTimeout: this.saved.clearTimeout,
      setInterval: this.saved.setInterval, clearInterval: this.saved.clearInterval });
    Date.now = this.saved.now;
    this.saved = null;
  }

  /** Moves time on by `ms`, running every timer that falls due, in time order. */
  tick(ms) {
    const end = this.now + ms;
    for (;;) {
      let due = null;
      for (const [id, t] of this.timers) if (t.at <= end && (!due || t.at < due[1].at)) due = [id, t];
      if (!due) break;
      const [id, t] = due;
      this.now = t.at;
      if (t.every) t.at += t.every; else this.timers.delete(id);
      t.fn();
    }
    this.now = end;
  }

  #add(fn, ms, every) {
    const id = this.nextId++;
    this.timers.set(id, { at: this.now + Math.max(0, ms), fn, every });
    return id;
  }
}
