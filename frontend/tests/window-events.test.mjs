import assert from "node:assert/strict";
import { test } from "node:test";

import { reduceWindowEvent } from "../window/events.js";
import { event, snapshot } from "./helpers.mjs";

const windows = () => new Map(snapshot().windows.map((w) => [w.window_no, { ...w }]));
const AT_15 = { windowNo: 15, clerkId: 15 };

test("a ticket event at the window, in its queues or sent to it refreshes the board", () => {
  assert.ok(reduceWindowEvent(windows(), event("ticket.called", { window_no: 15 }), AT_15).refreshBoard);
  assert.ok(reduceWindowEvent(windows(), event("ticket.registered", { queue: "amr", window_no: null }), AT_15).refreshBoard);
  assert.ok(reduceWindowEvent(windows(), event("ticket.transferred", {
    queue: "tax", window_no: null, target_window_no: 15, from_window_no: 20 }), AT_15).refreshBoard);
  assert.ok(reduceWindowEvent(windows(), event("ticket.cancelled", { window_no: 15 }), AT_15).refreshBoard);
});

test("another department's ticket events leave the board alone", () => {
  const effect = reduceWindowEvent(windows(), event("ticket.called", { queue: "tax", window_no: 20 }), AT_15);
  assert.deepEqual(effect, { window: null, signedOutHere: false, refreshBoard: false });
});

test("at the window picker no board is fetched, but window changes are kept", () => {
  const ws = windows();
  assert.equal(reduceWindowEvent(ws, event("ticket.called", { window_no: 15 }), {}).refreshBoard, false);
  const effect = reduceWindowEvent(ws, event("window.status_changed", { window_no: 16, status: "closed" }), {});
  assert.equal(effect.window, 16);
  assert.equal(ws.get(16).status, "closed");
});

test("the clerk is told of a change to their window made by someone else, not of their own", () => {
  const by = (id, role, name) => ({ id, role, name });
  const paused = (who) => event("window.status_changed", { window_no: 15, status: "paused", previous: "open", by: who });
  const effect = reduceWindowEvent(windows(), paused(by(1, "admin", "系统管理员")), AT_15);
  assert.equal(effect.notice, "管理员 系统管理员 已将本窗口设为「暂停」");
  assert.equal(effect.window, 15);
  assert.equal(reduceWindowEvent(windows(), paused(by(15, "clerk", "张敏")), AT_15).notice, undefined);
  assert.equal(reduceWindowEvent(windows(), paused(by(null, "system", "")), AT_15).notice, "系统 已将本窗口设为「暂停」");
  // another window's change is kept, not announced
  const other = event("window.status_changed", { window_no: 16, status: "closed", previous: "open", by: by(1, "admin", "系统管理员") });
  assert.equal(reduceWindowEvent(windows(), other, AT_15).notice, undefined);
});

test("a forced sign-out of this clerk at this window is noticed; another clerk's is not", () => {
  const ws = windows();
  assert.equal(reduceWindowEvent(ws, event("window.signed_out", { window_no: 15, clerk_id: 15 }), AT_15).signedOutHere, true);
  assert.equal(ws.get(15).clerk, null);
  assert.equal(reduceWindowEvent(ws, event("window.signed_out", { window_no: 16, clerk_id: 16 }), AT_15).signedOutHere, false);
  reduceWindowEvent(ws, event("window.signed_in", { window_no: 16, clerk_id: 99, clerk_name: "李" }), AT_15);
  assert.deepEqual(ws.get(16).clerk, { id: 99, name: "李" });
});

test("the day's close refreshes the board; ignored types answer null", () => {
  assert.ok(reduceWindowEvent(windows(), event("queue.day_closed", {}), AT_15).refreshBoard);
  assert.equal(reduceWindowEvent(windows(), event("hall.notice_set", {}), AT_15), null);
  assert.equal(reduceWindowEvent(windows(), event("session.ended", {}), AT_15), null);
});

test("好差评 at this window: the request waits, the rating shows its level, 差评 marked", () => {
  const asked = reduceWindowEvent(windows(), event("rating.requested", { window_no: 15, subject: "ticket" }), AT_15);
  assert.equal(asked.rating.pending, true);
  const good = reduceWindowEvent(windows(), event("rating.given", {
    window_no: 15, level: 4, level_name: "满意", bad: false, channel: "device" }), AT_15);
  assert.deepEqual(good.rating, { pending: false, bad: false, text: "群众评价：满意 · 评价器" });
  const bad = reduceWindowEvent(windows(), event("rating.given", {
    window_no: 15, level: 1, level_name: "非常不满意", bad: true, channel: "sms" }), AT_15);
  assert.equal(bad.rating.bad, true);
  assert.match(bad.rating.text, /非常不满意（差评）/);
  assert.equal(JSON.stringify(bad.rating).includes("comment"), false);
});

test("another window's rating, or one at the picker, shows nothing", () => {
  const ev = event("rating.given", { window_no: 16, level: 5, level_name: "非常满意", bad: false, channel: "device" });
  assert.equal(reduceWindowEvent(windows(), ev, AT_15).rating, null);
  assert.equal(reduceWindowEvent(windows(), ev, {}).rating, null);
});
