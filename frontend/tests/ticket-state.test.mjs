// A called ticket is never said to be 正在办理 (frontend/shared/ticket-state.js).
import { test } from "node:test";
import assert from "node:assert/strict";

import { currentTicketPhrase, signOutRefusal, statusChangeQuestion } from "../shared/ticket-state.js";

const CALLED = { ticket_no: "A012", status: "called" };
const SERVING = { ticket_no: "A012", status: "serving" };

test("a called ticket has not started; a serving one is being handled", () => {
  assert.equal(currentTicketPhrase(CALLED), "已呼叫 A012 号，尚未开始办理");
  assert.equal(currentTicketPhrase(SERVING), "正在办理 A012 号");
  assert.equal(currentTicketPhrase(null), "");
});

test("the question before a window is paused says what is true", () => {
  assert.equal(statusChangeQuestion(15, CALLED, "暂停"), "15 号窗口已呼叫 A012 号，尚未开始办理，确定要暂停吗？");
  assert.equal(statusChangeQuestion(15, SERVING, "关闭"), "15 号窗口正在办理 A012 号，确定要关闭吗？");
  assert.doesNotMatch(statusChangeQuestion(15, CALLED, "暂停"), /正在办理/);
});

test("signing out is refused with what to do first", () => {
  assert.equal(signOutRefusal(CALLED), "已呼叫 A012 号，尚未开始办理：请先开始办理、过号或取消，再签退");
  assert.equal(signOutRefusal(SERVING), "正在办理 A012 号：请先办结或转办，再签退");
});
