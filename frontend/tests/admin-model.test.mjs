import assert from "node:assert/strict";
import { test } from "node:test";

import {
  addQueue, bytesToBase64, centsToYuan, detachQueue, fieldCandidates, groupStaff, groupSummary,
  groupWindows, hashOfTab, itemPayload, itemState, joinPrevious, moveItem, movePosition,
  nextWindowNo, orderText, refusedRows, removeAt, removeQueue, settingsPayload, sheetFormat,
  staffChangeEffect, tabAfterKey, tabFromHash, versionChanges, windowMatches, yuanToCents,
} from "../admin/model.js";

const win = (no, department, status = "closed", extra = {}) => ({
  window_no: no, name: `${no}号窗口`, department, department_name: { amr: "市场监管", tax: "税务", realty: "不动产" }[department],
  zone: "一楼A区", status, clerk: null, ticket: null, ...extra,
});

const HALL = [
  win(20, "tax", "open"), win(1, "amr", "open"), win(2, "amr"), win(21, "tax", "paused"),
  win(3, "amr", "open", { clerk: { id: 9, name: "王芳" } }), win(60, "realty"),
];

test("windows are grouped by department in the floor's order, each with its open count", () => {
  const groups = groupWindows(HALL);
  assert.deepEqual(groups.map((g) => [g.department, g.name, g.open, g.total]), [
    ["amr", "市场监管", 2, 3], ["tax", "税务", 1, 2], ["realty", "不动产", 0, 1],
  ]);
  assert.deepEqual(groups[0].windows.map((w) => w.window_no), [1, 2, 3]);
  assert.equal(groupSummary(groups[0], false), "开放 2 / 共 3 个窗口");
});

test("a collapsed group keeps its heading and counts but shows no rows", () => {
  const groups = groupWindows(HALL, { collapsed: new Set(["tax"]) });
  const tax = groups.find((g) => g.department === "tax");
  assert.equal(tax.collapsed, true);
  assert.deepEqual(tax.windows, []);
  assert.equal(tax.total, 2);
  assert.equal(groups.find((g) => g.department === "amr").windows.length, 3);
});

test("the filter leaves out departments with nothing matching and counts the matches", () => {
  const byClerk = groupWindows(HALL, { text: "王芳" });
  assert.deepEqual(byClerk.map((g) => g.department), ["amr"]);
  assert.deepEqual(byClerk[0].windows.map((w) => w.window_no), [3]);
  assert.equal(byClerk[0].total, 3);  // the heading still counts the whole department
  assert.equal(groupSummary(byClerk[0], true), "开放 2 / 共 3 个窗口（筛选出 1 个）");
  assert.deepEqual(groupWindows(HALL, { status: "paused" }).map((g) => g.department), ["tax"]);
  assert.deepEqual(groupWindows(HALL, { text: "2" }).flatMap((g) => g.windows.map((w) => w.window_no)), [2]);
  assert.ok(windowMatches(HALL[0], "税务", ""));
  assert.ok(!windowMatches(HALL[0], "", "closed"));
});

test("a window added live lands in its department's group", () => {
  const groups = groupWindows([...HALL, win(131, "amr")]);
  assert.deepEqual(groups[0].windows.map((w) => w.window_no), [1, 2, 3, 131]);
  assert.equal(nextWindowNo(HALL.map((w) => w.window_no)), 61);
  assert.equal(nextWindowNo([999]), 999);
});

test("the serving order: add, remove, move, share a position and leave it", () => {
  let order = [];
  order = addQueue(order, "amr");
  order = addQueue(order, "zh");
  order = addQueue(order, "tax");
  order = addQueue(order, "amr");            // once only
  assert.deepEqual(order, [["amr"], ["zh"], ["tax"]]);
  order = joinPrevious(order, 2);
  assert.deepEqual(order, [["amr"], ["zh", "tax"]]);
  assert.deepEqual(joinPrevious(order, 0), order);   // nothing before the first
  order = movePosition(order, 1, -1);
  assert.deepEqual(order, [["zh", "tax"], ["amr"]]);
  assert.deepEqual(movePosition(order, 0, -1), order);
  order = detachQueue(order, "zh");
  assert.deepEqual(order, [["tax"], ["zh"], ["amr"]]);
  assert.deepEqual(detachQueue(order, "amr"), order);  // already alone
  order = removeQueue(joinPrevious(order, 1), "tax");
  assert.deepEqual(order, [["zh"], ["amr"]]);         // an emptied position goes
  const names = new Map([["zh", "Z 综合受理"], ["amr", "A 市场监管业务"], ["tax", "C 税务"]]);
  assert.equal(orderText([["zh", "tax"], ["amr"]], names), "Z 综合受理 + C 税务 → A 市场监管业务");
});

test("the editors' functions never change what they are given", () => {
  const order = [["a"], ["b", "c"]];
  const frozen = JSON.stringify(order);
  addQueue(order, "d"); removeQueue(order, "b"); movePosition(order, 0, 1); joinPrevious(order, 1); detachQueue(order, "b");
  assert.equal(JSON.stringify(order), frozen);
  const list = [1, 2, 3];
  assert.deepEqual(moveItem(list, 0, 1), [2, 1, 3]);
  assert.deepEqual(moveItem(list, 2, 1), [1, 2, 3]);
  assert.deepEqual(removeAt(list, 1), [1, 3]);
  assert.deepEqual(list, [1, 2, 3]);
});

test("yuan and cents", () => {
  assert.equal(yuanToCents("10"), 1000);
  assert.equal(yuanToCents("10.5"), 1050);
  assert.equal(yuanToCents(" ¥1,200.05 "), 120005);
  assert.equal(yuanToCents("0.07"), 7);
  for (const bad of ["", "abc", "1.234", "-1", "1e3", "1."]) assert.equal(yuanToCents(bad), null, bad);
  assert.equal(centsToYuan(1050), "10.50");
  assert.equal(centsToYuan(7), "0.07");
  assert.equal(centsToYuan(0), "0.00");
  // 0.1 + 0.2 never appears: cents are whole numbers both ways
  assert.equal(yuanToCents(centsToYuan(30)), 30);
});

const AMR_012 = {
  code: "amr-012", name: "食品生产许可", department: "amr", category: "市场准入", kind: "promised",
  limit_unit: "working_day", statutory_limit: 20, promised_limit: 10, urgent_limit: 5, queue: "amr",
  requires_signoff: true, service_norm_minutes: null, active: true, version: 1,
  materials: [{ name: "申请书", is_key: true, copies: 1, note: "" }, { name: "委托书", is_key: false, copies: 2, note: "委托时" }],
  fees: [{ name: "工本费", amount_cents: 1050, basis: "鲁价费发〔2019〕1号" }],
};

test("an item round-trips through the editor's state into the API's body", () => {
  const state = itemState(AMR_012);
  assert.equal(state.fees[0].yuan, "10.50");
  const { body, error } = itemPayload(state);
  assert.equal(error, undefined);
  assert.deepEqual(body, {
    name: "食品生产许可", department: "amr", category: "市场准入", queue: "amr", kind: "promised",
    limit_unit: "working_day", statutory_limit: 20, promised_limit: 10, urgent_limit: 5,
    requires_signoff: true, service_norm_minutes: null, active: true,
    materials: AMR_012.materials, fees: AMR_012.fees,
  });
});

test("the item editor names the field of what it cannot send", () => {
  const state = itemState(AMR_012);
  state.fees[0].yuan = "十元";
  assert.equal(itemPayload(state).error.field, "fees.0.amount_cents");
  state.fees[0].yuan = "10";
  state.materials.push({ name: "  ", is_key: true, copies: 1, note: "" });
  assert.equal(itemPayload(state).error.field, "materials.2.name");
  state.materials[2].name = "照片";
  state.materials[2].copies = "0";
  assert.equal(itemPayload(state).error.field, "materials.2.copies");
  state.materials.pop();
  state.statutory_limit = "";
  assert.equal(itemPayload(state).error.field, "statutory_limit");
  // an immediate item sends 0 as its promised limit whatever was typed; no queue is null
  Object.assign(state, { statutory_limit: "5", kind: "immediate", promised_limit: "3", queue: "", urgent_limit: "" });
  const { body } = itemPayload(state);
  assert.equal(body.promised_limit, 0);
  assert.equal(body.queue, null);
  assert.equal(body.urgent_limit, null);
});

test("each version says what it changed from the one before", () => {
  const v1 = { ...AMR_012 };
  const v2 = { ...AMR_012, promised_limit: 5, materials: [AMR_012.materials[0]] };
  assert.deepEqual(versionChanges(undefined, v1), ["首次发布"]);
  assert.deepEqual(versionChanges(v1, v2), ["承诺时限", "材料"]);
  assert.deepEqual(versionChanges(v1, { ...v1 }), []);
});

test("staff are grouped by department, the hall's own staff first, and searched", () => {
  const staff = [
    { username: "zhao", name: "赵", role: "clerk", department: "amr", department_name: "市场监管" },
    { username: "admin", name: "管理员", role: "admin", department: null },
    { username: "li", name: "李", role: "leader", department: "amr", department_name: "市场监管" },
    { username: "qian", name: "钱", role: "clerk", department: "gone", department_name: "旧部门" },
  ];
  const groups = groupStaff(staff, [{ code: "amr", name: "市场监管" }, { code: "tax", name: "税务" }]);
  assert.deepEqual(groups.map((g) => [g.name, g.staff.map((s) => s.username)]), [
    ["中心（不属于部门）", ["admin"]], ["市场监管", ["li", "zhao"]], ["旧部门", ["qian"]],
  ]);
  assert.deepEqual(groupStaff(staff, [], "带班").flatMap((g) => g.staff.map((s) => s.username)), ["li"]);
});

test("a change that ends a member's sessions is said before it is made", () => {
  const before = { name: "赵明", role: "clerk", department: "amr", active: true, window_no: 3 };
  assert.match(staffChangeEffect(before, { ...before, active: false }), /停用后，赵明 立即退出.*从 3 号窗口签退/);
  assert.match(staffChangeEffect(before, { ...before, department: "tax" }), /须重新登录/);
  assert.equal(staffChangeEffect(before, { ...before, phone: "13900000000" }), null);
});

test("settings: periods as typed become the API's, a bad one is named", () => {
  const s = {
    work_periods: [["09:00", "12:00"], ["", ""], ["13:00", "17:00"]], closes_at: "17:30",
    no_show_recalls: "2", park_minutes: "60", signoff_wait_minutes: "10", supplement_notice_days: "5",
    supplement_warn_days: "1", rectification_days: "5",
  };
  const { body } = settingsPayload(s);
  assert.deepEqual(body.work_periods, [["09:00", "12:00"], ["13:00", "17:00"]]);
  assert.equal(body.park_minutes, 60);
  assert.equal(settingsPayload({ ...s, work_periods: [["12:00", "09:00"]] }).error.field, "work_periods.0");
  assert.equal(settingsPayload({ ...s, park_minutes: "" }).error.field, "park_minutes");
});

test("a file becomes base64 the way the server decodes it", () => {
  const bytes = new Uint8Array(200_000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 256;
  assert.equal(bytesToBase64(bytes), Buffer.from(bytes).toString("base64"));
  assert.equal(bytesToBase64(new TextEncoder().encode("\ufeff用户名,姓名")), Buffer.from("\ufeff用户名,姓名").toString("base64"));
  assert.equal(bytesToBase64(new Uint8Array(0)), "");
  assert.equal(sheetFormat("人员.XLSX"), "xlsx");
  assert.equal(sheetFormat("items.csv"), "csv");
  assert.equal(sheetFormat("items.xls"), null);
});

test("refused rows come in row order with the column as the sheet heads it", () => {
  const rows = refusedRows({ rows: [
    { row: 5, column: "department", code: "unknown_department", message: "部门 nowhere 不存在" },
    { row: 3, column: "用户名", code: "invalid_row", message: "用户名应为…" },
    { row: 9, column: null, code: "self_demotion", message: "不能停用自己的账号" },
  ] }, "staff");
  assert.deepEqual(rows.map((r) => [r.row, r.column]), [[3, "用户名"], [5, "部门"], [9, "—"]]);
  assert.deepEqual(refusedRows(undefined, "staff"), []);
});

test("tabs: the hash names one, arrows move between them, errors find their field", () => {
  assert.equal(tabFromHash("#/staff"), "staff");
  assert.equal(tabFromHash("#items"), "items");
  assert.equal(tabFromHash("#/nothing"), "windows");
  assert.equal(tabFromHash(""), "windows");
  assert.equal(hashOfTab("sheets"), "#/sheets");
  assert.equal(tabAfterKey("windows", "ArrowLeft"), "sheets");
  assert.equal(tabAfterKey("sheets", "ArrowRight"), "windows");
  assert.equal(tabAfterKey("staff", "End"), "sheets");
  assert.equal(tabAfterKey("staff", "Enter"), null);
  assert.deepEqual(fieldCandidates("materials.0.name"), ["materials.0.name", "materials.0", "materials"]);
  assert.deepEqual(fieldCandidates(undefined), []);
});
