// The window terminal's case panel without a DOM (frontend/window/case-model.js): which case
// events make it fetch what, the list patched from an event at once, and the actions shown
// from the case's `actions` (the transition table's rows).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  actionForKey, applyCaseEvent, applyPickupEvent, CASE_ACTIONS, CASE_EVENTS, decisionText, reduceCaseEvent,
  scannedCaseCode, visibleActions,
} from "../window/case-model.js";
import { HANDLED_EVENTS, reduceWindowEvent } from "../window/events.js";
import { fixtureTypes, fixture } from "./helpers.mjs";

/** The catalogue's example of `type` (generated fixtures), else a bare event, with `data`. */
function caseEvent(type, data) {
  let base;
  try { base = fixture(type); } catch { base = { seq: 1, type, at: "2026-12-07T10:00:00+08:00", data: {} }; }
  return { ...base, type, data: { ...base.data, ...data } };
}

const AT_1 = { windowNo: 1, department: "amr", openCaseId: null, shownCaseIds: new Set(), leader: false };

test("the terminal handles every case and sign-off event type", () => {
  for (const t of CASE_EVENTS) assert.ok(HANDLED_EVENTS.includes(t), t);
  // with the catalogue's fixtures: every declared case type is one of them
  const declared = fixtureTypes().filter((t) => t.startsWith("case.") || t.startsWith("signoff."));
  for (const t of declared) assert.ok(CASE_EVENTS.includes(t), `${t} is declared but not handled`);
});

test("a case event at this window refreshes the list; at another department's, nothing", () => {
  const here = reduceCaseEvent(caseEvent("case.accepted", { case_id: 7, window_no: 1, department: "amr" }), AT_1);
  assert.deepEqual(here, { refreshCase: false, refreshList: true, refreshSignoffs: false, decision: null });
  const dept = reduceCaseEvent(caseEvent("case.changed", { case_id: 8, window_no: 3, department: "amr" }), AT_1);
  assert.equal(dept.refreshList, true);   // the list holds the department's open cases too
  const other = reduceCaseEvent(caseEvent("case.changed", { case_id: 9, window_no: 60, department: "realty" }), AT_1);
  assert.deepEqual(other, { refreshCase: false, refreshList: false, refreshSignoffs: false, decision: null });
});

test("an event naming the open case fetches it again; a fee only the open case", () => {
  const view = { ...AT_1, openCaseId: 7 };
  assert.equal(reduceCaseEvent(caseEvent("case.changed", { case_id: 7, window_no: 1, department: "amr" }), view).refreshCase, true);
  assert.equal(reduceCaseEvent(caseEvent("case.changed", { case_id: 8, window_no: 1, department: "amr" }), view).refreshCase, false);
  const fee = reduceCaseEvent(caseEvent("case.fee_collected", { case_id: 7, window_no: 1, department: "amr" }), view);
  assert.deepEqual(fee, { refreshCase: true, refreshList: false, refreshSignoffs: false, decision: null });
});

test("a shown case from elsewhere still refreshes the list (a leader's view, a transfer)", () => {
  const view = { ...AT_1, department: "tax", shownCaseIds: new Set([5]) };
  assert.equal(reduceCaseEvent(caseEvent("case.changed", { case_id: 5, window_no: 9, department: "amr" }), view).refreshList, true);
});

test("a leader's sign-off on the open case is shown at once, from the event itself", () => {
  const view = { ...AT_1, openCaseId: 7 };
  const ev = caseEvent("signoff.decided", { case_id: 7, case_no: "RIZHAO-20261207-00007", department: "amr",
    purpose: "decision", decision: "rejected", comment: "材料不实", leader_name: "王强", state: "refused" });
  const effect = reduceCaseEvent(ev, view);
  assert.equal(effect.refreshCase, true);
  assert.equal(effect.decision.decision, "rejected");
  assert.equal(effect.decision.comment, "材料不实");
  const words = decisionText(effect.decision);
  assert.equal(words.tone, "no");
  assert.equal(words.title, "领导签批：不同意");
  assert.equal(words.text, "王强：“材料不实”");
  // a decision on a case not shown here is nobody's business at this terminal
  const elsewhere = reduceCaseEvent({ ...ev, data: { ...ev.data, case_id: 99 } }, view);
  assert.equal(elsewhere.decision, null);
});

test("a leader refreshes the waiting sign-offs of their department only", () => {
  const leader = { ...AT_1, windowNo: 2, leader: true };
  const asked = caseEvent("signoff.requested", { case_id: 3, department: "amr", window_no: 1 });
  assert.equal(reduceCaseEvent(asked, leader).refreshSignoffs, true);
  assert.equal(reduceCaseEvent(asked, AT_1).refreshSignoffs, false);   // a clerk has no such list
  assert.equal(reduceCaseEvent({ ...asked, data: { ...asked.data, department: "tax" } }, leader).refreshSignoffs, false);
  // a case leaving awaiting_signoff (withdrawn meanwhile) leaves the list too
  const left = caseEvent("case.changed", { case_id: 3, department: "amr", window_no: 1, state: "withdrawn", previous: "awaiting_signoff" });
  assert.equal(reduceCaseEvent(left, leader).refreshSignoffs, true);
});

test("window/events.js hands case events to the case reducer", () => {
  const ws = new Map([[1, { window_no: 1, status: "open", queues: ["amr"], clerk: { id: 1 } }]]);
  const effect = reduceWindowEvent(ws, caseEvent("case.accepted", { case_id: 7, window_no: 1, department: "amr" }),
    { windowNo: 1, clerkId: 1, cases: { department: "amr", openCaseId: 7 } });
  assert.equal(effect.refreshBoard, false);
  assert.equal(effect.cases.refreshList, true);
  assert.equal(effect.cases.refreshCase, true);
});

test("the list takes an event's state and clock at once; a closed case leaves it", () => {
  const list = [
    { case_id: 1, state: "accepted", state_name: "已受理", clock: { status: "running", remaining_s: 100 }, missing: 1 },
    { case_id: 2, state: "in_progress", state_name: "办理中", clock: { status: "running" }, missing: 0 },
  ];
  const changed = caseEvent("case.changed", { case_id: 1, state: "accepted", missing: [],
    clock: { status: "paused", deadline: null, remaining_s: 90 } });
  assert.equal(applyCaseEvent(list, changed), true);
  assert.equal(list[0].clock.status, "paused");
  assert.equal(list[0].missing, 0);
  assert.equal(applyCaseEvent(list, caseEvent("case.changed", { case_id: 2, state: "completed" })), true);
  assert.deepEqual(list.map((c) => c.case_id), [1]);
  assert.equal(applyCaseEvent(list, caseEvent("case.changed", { case_id: 42, state: "accepted" })), false);
  assert.equal(applyCaseEvent(list, caseEvent("case.fee_collected", { case_id: 1 })), false);
});

const detail = (state, actions, extra = {}) => ({
  case_id: 1, state, actions, requires_signoff: false, materials: [], supplements: [],
  clock: { status: "running" }, clock_paused_kind: null, ...extra,
});

test("the panel shows only the actions the case's `actions` allow", () => {
  const accepted = detail("accepted", ["case.not_accept", "case.start", "case.decide:approve", "case.decide:refuse",
    "case.withdraw", "case.materials", "case.supplement_request", "case.supplement_receive", "case.pause",
    "case.resume", "case.escalate", "case.fee"]);
  const ids = visibleActions(accepted).map((a) => a.id);
  assert.deepEqual(ids, ["start", "approve", "refuse", "supplement", "materials", "pause", "escalate", "fee",
    "withdraw", "not_accept"]);
  // nothing outstanding to receive, the clock runs (no resume)
  assert.ok(!ids.includes("receive") && !ids.includes("resume"));
  assert.deepEqual(visibleActions(detail("completed", ["case.deliver", "case.fee"])).map((a) => a.id), ["fee", "deliver"]);
  assert.deepEqual(visibleActions(detail("delivered", [])), []);
});

test("what the server would refuse is not offered", () => {
  const signoff = detail("in_progress", ["case.decide:approve", "case.decide:refuse", "case.request_signoff:decision"],
    { requires_signoff: true });
  assert.deepEqual(visibleActions(signoff).map((a) => a.id), ["signoff_request"]);
  const supplementPause = detail("accepted", ["case.resume", "case.supplement_request", "case.supplement_receive"], {
    clock: { status: "paused" }, clock_paused_kind: "supplement",
    materials: [{ position: 2, status: "missing" }], supplements: [{ id: 1, received_at: null }],
  });
  // paused for the supplement: it resumes when the materials arrive, not by hand
  assert.deepEqual(visibleActions(supplementPause).map((a) => a.id), ["receive"]);
  const hearing = { ...supplementPause, clock_paused_kind: "hearing", materials: [], supplements: [] };
  assert.deepEqual(visibleActions(hearing).map((a) => a.id), ["resume"]);
});

test("a leader sees the sign-off, a clerk never does", () => {
  const waiting = detail("awaiting_signoff", ["case.signoff:approve", "case.signoff:reject", "case.signoff:extension",
    "case.withdraw", "case.fee"]);
  assert.deepEqual(visibleActions(waiting, "leader").map((a) => a.id), ["signoff"]);
  assert.deepEqual(visibleActions(waiting, "clerk").map((a) => a.id), ["fee", "withdraw"]);
});

test("every action has its own Alt key", () => {
  const keys = CASE_ACTIONS.map((a) => a.hotkey);
  assert.equal(new Set(keys).size, keys.length);
  for (const k of keys) assert.match(k, /^[A-Z]$/);
  // O opens the list; F, E, D belong to the browser (menu, address bar)
  for (const k of ["O", "F", "E", "D"]) assert.ok(!keys.includes(k), k);
  const shown = visibleActions(detail("accepted", ["case.start", "case.withdraw"]));
  assert.equal(actionForKey(shown, "s").id, "start");
  assert.equal(actionForKey(shown, "A"), null);   // approve is not allowed here
});

test("待领取: a case picked up leaves the list at once; one still completed stays", () => {
  const ready = [
    { case_id: 1, state: "completed", state_name: "已办结" },
    { case_id: 2, state: "completed", state_name: "已办结" },
  ];
  // a fee collected on a completed case is no case.changed: it stays
  assert.equal(applyPickupEvent(ready, caseEvent("case.fee_collected", { case_id: 1 })), false);
  assert.equal(applyPickupEvent(ready, caseEvent("case.changed", { case_id: 1, state: "completed" })), false);
  assert.equal(applyPickupEvent(ready, caseEvent("case.changed", { case_id: 2, state: "delivered", previous: "completed" })), true);
  assert.deepEqual(ready.map((c) => c.case_id), [1]);
  // a case completed elsewhere is not here yet: the list is fetched for it (reduceCaseEvent)
  assert.equal(applyPickupEvent(ready, caseEvent("case.changed", { case_id: 3, state: "completed" })), false);
  assert.equal(reduceCaseEvent(caseEvent("case.changed", { case_id: 3, window_no: 4, department: "amr",
    state: "completed" }), AT_1).refreshList, true);
});

test("what a scanner types into 扫描回执/告知单 gives the code the server finds a case by", () => {
  // the receipt's case number, the notice's barcode (registration number), a query code
  assert.equal(scannedCaseCode("RIZHAO-20261207-00007"), "RIZHAO-20261207-00007");
  assert.equal(scannedCaseCode(" 26120700000040\r\n"), "26120700000040");
  assert.equal(scannedCaseCode("k7m2q9xh3p"), "K7M2Q9XH3P");
  // a QR code: the /track URL of the receipt or the notice, the scanner types it whole
  assert.equal(scannedCaseCode("https://zwfw.rizhao.gov.cn/track?code=K7M2Q9XH3P"), "K7M2Q9XH3P");
  assert.equal(scannedCaseCode("http://127.0.0.1:8080/track?code=k7m2q9xh3p&x=1"), "K7M2Q9XH3P");
  assert.equal(scannedCaseCode("/track?code=K7M2Q9XH3P"), "K7M2Q9XH3P");
  // what cannot be one is not sent
  for (const bad of ["", "   ", "abc", "https://example.com/track", "A B C D", "办件编号", "x".repeat(41),
    "https://example.com/?code=%3Cscript%3E", null, undefined]) {
    assert.equal(scannedCaseCode(bad), null, String(bad));
  }
});
