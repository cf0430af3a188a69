// The Socket.IO connection with a credential of its own (the citizen's /track: {track: code},
// no session): what the handshake carries, a scoped stream's gaps, resuming, and a refusal
// that ends the retries. A scripted io() stands in for the socket.io client.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";

import { connectTerminal } from "../shared/live.js";
import { FakeClock } from "./helpers.mjs";

class FakeSio {
  static all = [];

  constructor(ns, opts) {
    this.ns = ns;
    this.opts = opts;
    this.handlers = {};
    this.closed = false;
    FakeSio.all.push(this);
  }

  on(name, fn) { this.handlers[name] = fn; }

  off() { this.handlers = {}; }

  close() { this.closed = true; }

  /** The server sends frames in one "hall" event. */
  frames(...frames) { this.handlers.hall(...frames); }

  fire(name, arg) { if (this.handlers[name]) this.handlers[name](arg); }

  static get last() { return FakeSio.all[FakeSio.all.length - 1]; }
}

const flush = () => new Promise((resolve) => setImmediate(resolve));
let clock;
beforeEach(() => {
  FakeSio.all = [];
  globalThis.window = { io: (ns, opts) => new FakeSio(ns, opts) };
  clock = new FakeClock().install();
});
afterEach(() => {
  clock.uninstall();
  delete globalThis.window;
});

function track() {
  const log = { events: [], lives: [], statuses: [] };
  const conn = connectTerminal({
    credential: async () => ({ track: "K7Q2M9X4PA" }),
    scoped: true,
    refusedCodes: ["unknown_query_code"],
    onSnapshot: () => {},
    onEvent: (ev) => log.events.push(ev.seq),
    onLive: (seq) => log.lives.push(seq),
    onStatus: (s) => log.statuses.push(s),
  });
  return { conn, log };
}

test("the handshake carries the credential and where to resume, never a session ticket", async () => {
  const { conn, log } = track();
  await flush();
  assert.equal(FakeSio.last.ns, "/hall");
  assert.deepEqual(FakeSio.last.opts.auth, { track: "K7Q2M9X4PA", since: null, hall: null });
  // one case's events: the hall's numbers with gaps, all applied
  FakeSio.last.frames({ type: "live", seq: 50 });
  FakeSio.last.frames({ seq: 57, type: "case.changed" }, { seq: 61, type: "signoff.decided" });
  assert.deepEqual(log.events, [57, 61]);
  assert.deepEqual(log.lives, [50]);
  assert.equal(log.statuses.at(-1), "online");
  // dropped: it comes back asking for what came after the last event it applied
  FakeSio.last.fire("disconnect");
  clock.tick(6000);
  await flush();
  assert.equal(FakeSio.all.length, 2);
  assert.deepEqual(FakeSio.last.opts.auth, { track: "K7Q2M9X4PA", since: 61, hall: null });
  conn.close();
});

test("a refusal with a code it was told to give up on ends the retries; others retry", async () => {
  const { conn, log } = track();
  await flush();
  FakeSio.last.fire("connect_error", { message: "操作过于频繁，请 2 秒后再试", data: { code: "rate_limited" } });
  clock.tick(6000);
  await flush();
  assert.equal(FakeSio.all.length, 2, "a rate limit is retried");
  FakeSio.last.fire("connect_error", { message: "查询码不正确或办件不存在，请核对告知单", data: { code: "unknown_query_code" } });
  clock.tick(60000);
  await flush();
  assert.equal(FakeSio.all.length, 2, "a wrong code is not");
  assert.equal(FakeSio.last.closed, true);
  assert.equal(log.statuses.at(-1), "unauthorized");
  conn.close();
});
