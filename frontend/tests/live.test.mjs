// The plain feed's client against a scripted socket, on a fake clock.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";

import { connectFeed, OFFLINE_AFTER_MS, PING_EVERY_MS, SeqTracker, SILENT_AFTER_MS, SKIP } from "../shared/live.js";
import { FakeClock } from "./helpers.mjs";

class FakeSocket {
  static all = [];

  constructor(url) {
    this.url = url;
    this.sent = [];
    this.closedWith = null;
    FakeSocket.all.push(this);
  }

  send(data) { this.sent.push(JSON.parse(data)); }

  close(code, reason) { this.closedWith = [code, reason]; }

  /** The server writes a frame. */
  frame(f) { if (this.onmessage) this.onmessage({ data: JSON.stringify(f) }); }

  static get last() { return FakeSocket.all[FakeSocket.all.length - 1]; }
}

function feed() {
  const log = { events: [], lives: [], statuses: [], snapshots: [] };
  const conn = connectFeed({
    token: "t", hall: "rizhao", url: "ws://test/ws/display", WebSocketImpl: FakeSocket,
    onSnapshot: (data, seq) => log.snapshots.push(seq),
    onEvent: (ev, { backlog }) => log.events.push([ev.seq, backlog]),
    onLive: (seq) => log.lives.push(seq),
    onStatus: (s) => log.statuses.push(s),
  });
  return { conn, log };
}

/** Auth, then what the server sends before its live marker. */
function connect(sock, frames, liveSeq) {
  sock.frame({ type: "auth_required" });
  sock.frame({ type: "auth_ok", hall: "rizhao" });
  for (const f of frames) sock.frame(f);
  sock.frame({ type: "live", seq: liveSeq });
}

const ev = (seq) => ({ seq, type: "hall.notice_set", hall_id: 1, at: "", window_id: null, data: { text: "" } });

let clock;
beforeEach(() => {
  FakeSocket.all = [];
  clock = new FakeClock().install();
});
afterEach(() => clock.uninstall());

test("events before the live marker are backlog, after it live; onLive marks the turn", () => {
  const { conn, log } = feed();
  const sock = FakeSocket.last;
  connect(sock, [{ type: "snapshot", seq: 10, data: {} }, ev(11), ev(12)], 12);
  sock.frame(ev(13));
  assert.deepEqual(sock.sent[0], { type: "auth", token: "t", since: null, hall: "rizhao" });
  assert.deepEqual(log.snapshots, [10]);
  assert.deepEqual(log.events, [[11, true], [12, true], [13, false]]);
  assert.deepEqual(log.lives, [12]);
  assert.equal(log.statuses.at(-1), "online");
  conn.close();
});

test("a reconnect resumes after the last event and its catch-up is backlog again", () => {
  const { conn, log } = feed();
  connect(FakeSocket.last, [{ type: "snapshot", seq: 10, data: {} }], 10);
  FakeSocket.last.frame(ev(11));
  FakeSocket.last.onclose();
  clock.tick(6000);
  const again = FakeSocket.all[1];
  assert.ok(again, "reconnected");
  connect(again, [ev(12), ev(13)], 13);
  assert.equal(again.sent[0].since, 11);
  assert.deepEqual(log.events, [[11, false], [12, true], [13, true]]);
  assert.deepEqual(log.lives, [10, 13]);
  conn.close();
});

test("a resume from a seq the server no longer keeps (archived) gets a snapshot that replaces the state", () => {
  const { conn, log } = feed();
  connect(FakeSocket.last, [{ type: "snapshot", seq: 10, data: {} }], 10);
  FakeSocket.last.frame(ev(11));
  FakeSocket.last.onclose();
  clock.tick(6000);
  const again = FakeSocket.all[1];
  // months later: the log starts at 5000; the server answers since=11 with a fresh snapshot
  connect(again, [{ type: "snapshot", seq: 5000, data: {} }], 5000);
  again.frame(ev(5001));
  assert.equal(again.sent[0].since, 11);
  assert.deepEqual(log.snapshots, [10, 5000]);
  assert.deepEqual(log.events, [[11, false], [5001, false]]);
  assert.equal(again.closedWith, null, "no gap: it stays connected");
  assert.equal(conn.seq, 5001);
  conn.close();
});

test("heartbeat: pings while live; a connection silent too long is dropped and shows offline", () => {
  const { conn, log } = feed();
  const sock = FakeSocket.last;
  connect(sock, [{ type: "snapshot", seq: 10, data: {} }], 10);
  // a quiet hall: the server answers each ping, so the connection lives on
  for (let t = 0; t < 60_000; t += PING_EVERY_MS) {
    clock.tick(PING_EVERY_MS);
    assert.deepEqual(sock.sent.at(-1), { type: "ping" });
    sock.frame({ type: "pong" });
  }
  assert.equal(sock.closedWith, null);
  assert.equal(log.statuses.at(-1), "online");

  // the link dies silently: no close, no frame
  clock.tick(SILENT_AFTER_MS + PING_EVERY_MS);
  assert.deepEqual(sock.closedWith, [4000, "silent"]);
  assert.equal(log.statuses.at(-1), "connecting");
  // the reconnect finds no server either (a socket that never answers)
  clock.tick(OFFLINE_AFTER_MS);
  assert.equal(log.statuses.at(-1), "offline");
  assert.ok(FakeSocket.all.length >= 2, "it keeps trying");
  conn.close();
});

test("before the live marker the heartbeat does not run; a socket that never goes live is left", () => {
  const { conn } = feed();
  const sock = FakeSocket.last;
  sock.frame({ type: "auth_required" });
  clock.tick(9_000);
  assert.deepEqual(sock.sent.map((m) => m.type), ["auth"]);
  clock.tick(1_000);
  assert.deepEqual(sock.closedWith, [4000, "no live marker"]);
  conn.close();
});

test("a skip frame moves the sequence on and reaches no reducer; a real gap still reconnects", () => {
  const seen = [];
  const tracker = new SeqTracker(41, () => {}, (frame) => seen.push(frame.seq));
  assert.equal(tracker.apply({ seq: 42, type: "ticket.called", data: {} }, false), "ok");
  assert.equal(tracker.apply({ seq: 43, type: SKIP }, false), "ok");  // e.g. session.ended
  assert.equal(tracker.apply({ seq: 44, type: "ticket.recalled", data: {} }, false), "ok");
  assert.deepEqual(seen, [42, 44]);
  assert.equal(tracker.seq, 44);
  assert.equal(tracker.apply({ seq: 46, type: "ticket.finished", data: {} }, false), "gap");
});
