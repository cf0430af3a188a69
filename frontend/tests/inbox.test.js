// The window terminal's inbox of internal work (联办待办): the reducer (steps + a joint_step.*
// event -> steps), the order (claimed by me, then ready by due_at), the words, and the window
// terminal's event reducer handing step events to it. Events are the catalogue's examples
// (fixtures/events.sample.json) with their data changed.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  errorText, INBOX_EVENTS, inboxFromAnswer, isMine, parseIssued, reduceInbox, sortInbox, stepOf,
  stepStateText, timeLeftText,
} from "../shared/inbox.js";
import { HANDLED_EVENTS, IGNORED_EVENTS, reduceWindowEvent } from "../window/events.js";
import { event, fixture } from "./helpers.mjs";

const PSB = { department: "psb", me: { windowNo: 30, name: "李娜" } };
const step = (type, data = {}) => stepOf(fixture(type, data).data);

test("the fixtures carry every step event the inbox is kept from", () => {
  for (const t of INBOX_EVENTS) assert.equal(fixture(t).type, t);
});

test("a ready step of this department arrives; another department's does not", () => {
  const ev = event("joint_step.ready", { step_id: 5 });
  const effect = reduceInbox([], ev, PSB);
  assert.equal(effect.arrived, 5);
  assert.deepEqual(effect.steps.map((s) => [s.step_id, s.state, s.name, s.case_no]),
    [[5, "ready", "公章刻制备案", "RIZHAO-20261207-00001"]]);
  const before = [];
  reduceInbox(before, ev, PSB);
  assert.deepEqual(before, [], "the list is not changed in place");

  const tax = reduceInbox([], event("joint_step.ready", { step_id: 6, department: "tax" }), PSB);
  assert.deepEqual(tax, { steps: [], arrived: null, removed: null });
  // a replay of the same ready step is not a new arrival
  const again = reduceInbox(effect.steps, ev, PSB);
  assert.equal(again.arrived, null);
  assert.equal(again.steps.length, 1);
});

test("a claim replaces the ready step; done and consented take it out", () => {
  const ready = [step("joint_step.ready", { step_id: 5 })];
  const claimed = reduceInbox(ready, event("joint_step.claimed", { step_id: 5, claimed_by: "王强", window_no: 31 }), PSB);
  assert.equal(claimed.arrived, null);
  assert.deepEqual(claimed.steps.map((s) => [s.state, s.claimed_by, s.window_no]), [["claimed", "王强", 31]]);
  assert.equal(stepStateText(claimed.steps[0]), "已认领·王强（31号窗口）");

  const done = reduceInbox(claimed.steps, event("joint_step.done", { step_id: 5 }), PSB);
  assert.deepEqual(done, { steps: [], arrived: null, removed: 5 });
  const consented = reduceInbox(ready, event("joint_step.consented", { step_id: 5, department: "psb" }), PSB);
  assert.deepEqual(consented.steps, []);
  assert.equal(consented.removed, 5);
  // a step done that was never listed changes nothing
  assert.equal(reduceInbox([], event("joint_step.done", { step_id: 9 }), PSB).removed, null);
});

test("claimed by me first, then ready by due_at, then others' claims", () => {
  const steps = [
    step("joint_step.ready", { step_id: 1, due_at: "2026-12-07T16:00:00+08:00" }),
    step("joint_step.claimed", { step_id: 2, claimed_by: "王强", window_no: 31, due_at: "2026-12-07T11:00:00+08:00" }),
    step("joint_step.ready", { step_id: 3, due_at: "2026-12-07T12:00:00+08:00" }),
    step("joint_step.claimed", { step_id: 4, claimed_by: "李娜", window_no: 30, due_at: "2026-12-08T12:00:00+08:00" }),
  ];
  assert.deepEqual(sortInbox(steps, PSB.me).map((s) => s.step_id), [4, 3, 1, 2]);
  assert.ok(isMine(steps[3], PSB.me));
  assert.ok(!isMine(steps[1], PSB.me));
  assert.ok(!isMine(steps[0], PSB.me), "a ready step is nobody's");
  // the read's answer is put in the same order, closed steps left out
  const answer = { steps: [...steps, { ...steps[0], step_id: 7, state: "done" }] };
  assert.deepEqual(inboxFromAnswer(answer, PSB.me).map((s) => s.step_id), [4, 3, 1, 2]);
});

test("the time left to due_at as text, and 已超时 past it", () => {
  const s = step("joint_step.ready", { due_at: "2026-12-07T15:00:00+08:00" });
  const at = (iso) => Date.parse(iso);
  assert.equal(timeLeftText(s, at("2026-12-07T14:15:00+08:00")), "剩余45分钟");
  assert.equal(timeLeftText(s, at("2026-12-07T12:30:00+08:00")), "剩余2小时30分");
  assert.equal(timeLeftText(s, at("2026-12-05T15:00:00+08:00")), "剩余2天");
  assert.equal(timeLeftText(s, at("2026-12-07T15:20:00+08:00")), "已超时20分钟");
  assert.equal(timeLeftText({ ...s, due_at: null }), "无时限");
  assert.equal(stepStateText(s), "待认领");
});

test("refusals in Chinese; 出具证照 split on either comma", () => {
  assert.equal(errorText({ code: "step_claimed", message: "此环节已由王强认领" }), "该环节已被其他窗口认领");
  assert.equal(errorText({ code: "other", message: "别的原因" }), "别的原因");
  assert.deepEqual(parseIssued(" 公章备案回执，刻章许可, ,营业执照、"), ["公章备案回执", "刻章许可", "营业执照"]);
});

test("the window terminal hands step events to the inbox, and none at the picker", () => {
  for (const t of INBOX_EVENTS) {
    assert.ok(HANDLED_EVENTS.includes(t), t);
    assert.ok(!IGNORED_EVENTS.includes(t), t);
  }
  const inbox = { steps: [], department: "psb", me: { name: "李娜" } };
  const effect = reduceWindowEvent(new Map(), event("joint_step.ready", { step_id: 5 }), { windowNo: 30, clerkId: 3, inbox });
  assert.equal(effect.inbox.arrived, 5);
  assert.equal(effect.refreshBoard, false);
  const mine = reduceWindowEvent(new Map(), event("joint_step.claimed", { step_id: 5, claimed_by: "李娜", window_no: 30 }),
    { windowNo: 30, inbox: { ...inbox, steps: effect.inbox.steps } });
  assert.ok(isMine(mine.inbox.steps[0], { windowNo: 30, name: "李娜" }));
  const picker = reduceWindowEvent(new Map(), event("joint_step.ready", { step_id: 5 }), { inbox });
  assert.equal(picker.inbox, null);
});
