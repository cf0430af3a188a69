// /track's words for a joint case (联办): its steps grouped into stages and rounds (the steps
// that run side by side), each step's state and time in plain Chinese, and the pick-up.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  adviceText, JOINT_STATE_NAMES, jointProgress, jointStages, pickupPoint, pickupText, stepTime,
} from "../track/timeline.js";

const step = (code, name, state, extra = {}) => ({
  code, name, stage_no: 1, department_name: "市场监督管理局", mode: "copy_notice",
  after: code === "licence" ? [] : ["licence"], state, due_at: null, overdue: false, done_at: null, ...extra,
});
const ITEMS = ["营业执照", "公章"];
const companySetup = (states, pickup = {}) => ({
  workflow: "company-setup",
  name: "企业开办多证联办",
  stages: [{ no: 1, name: "企业开办" }],
  steps: [
    step("licence", "设立登记（一审制）", states[0], { done_at: "11:00", due_at: "15:00" }),
    step("code", "统一社会信用代码赋码", states[1], { due_at: "14:00" }),
    step("seal", "公章刻制备案", states[2], { department_name: "公安局", due_at: "16:00" }),
    step("social", "社会保险登记", states[3], { due_at: "16:00" }),
    step("tax", "税务登记与发票申领", states[4], { mode: "joint_review", due_at: "16:00", done_at: "16:00" }),
  ],
  pickup: { window_no: 1, items: ITEMS, ready: false, delivered: false, ...pickup },
});
const open = (s) => ["ready", "claimed"].includes(s.state) ? s : { ...s, due_at: null };
const settled = (s) => ["done", "consented"].includes(s.state) ? s : { ...s, done_at: null };
const realistic = (joint) => ({ ...joint, steps: joint.steps.map((s) => settled(open(s))) });

test("the licence first, then its four followers side by side, in the definition's order", () => {
  const [stage] = jointStages(realistic(companySetup(["done", "ready", "ready", "ready", "ready"])));
  assert.equal(stage.name, "企业开办");
  assert.deepEqual(stage.rounds.map((r) => r.steps.map((s) => s.code)),
    [["licence"], ["code", "seal", "social", "tax"]]);
  assert.deepEqual(stage.rounds.map((r) => [r.parallel, r.status]), [[false, "done"], [true, "current"]]);
  const seal = stage.rounds[1].steps[1];
  assert.equal(seal.department_name, "公安局");
});

test("each state in plain words", () => {
  assert.deepEqual(JOINT_STATE_NAMES, {
    waiting: "等待前序环节", ready: "待办理", claimed: "办理中", done: "已办结", consented: "超时默许",
  });
  const [stage] = jointStages(realistic(companySetup(["done", "claimed", "done", "waiting", "consented"])));
  assert.deepEqual(stage.rounds.flatMap((r) => r.steps.map((s) => s.state_name)),
    ["已办结", "办理中", "已办结", "等待前序环节", "超时默许"]);
});

test("the time: due while open, done or consented once settled, what it waits for while waiting", () => {
  const fmt = (iso) => `[${iso}]`;
  const [stage] = jointStages(realistic(companySetup(["ready", "waiting", "waiting", "waiting", "waiting"])), fmt);
  const [licence] = stage.rounds[0].steps;
  assert.equal(licence.time, "应于 [15:00] 前办结");
  assert.equal(stage.rounds[1].steps[0].time, "待「设立登记（一审制）」办结后开始");
  assert.equal(stage.rounds[1].status, "todo");
  assert.equal(stepTime({ state: "done", done_at: "11:00" }, fmt), "[11:00] 办结");
  assert.equal(stepTime({ state: "consented", done_at: "16:00" }, fmt), "[16:00] 未答复，视为同意");
  assert.equal(stepTime({ state: "claimed", due_at: "16:00", overdue: true }, fmt), "已超过办理时限（[16:00]）");
  assert.equal(stepTime({ state: "waiting", after: [] }, fmt), "待上一阶段办结后开始");
});

test("an overdue open step is toned late; the others by their state", () => {
  const joint = realistic(companySetup(["done", "ready", "claimed", "done", "ready"]));
  joint.steps[4].overdue = true;
  const [stage] = jointStages(joint);
  assert.deepEqual(stage.rounds[1].steps.map((s) => s.tone), ["ready", "claimed", "done", "late"]);
});

test("stages in order, rounds counted within each stage (a project flow's serial stages)", () => {
  const joint = {
    stages: [{ no: 1, name: "建设用地规划许可" }, { no: 2, name: "建设工程规划许可" }],
    steps: [
      { code: "filing", name: "项目立项备案", stage_no: 1, after: [], state: "done" },
      { code: "land-permit", name: "建设用地规划许可", stage_no: 1, after: ["filing"], state: "claimed" },
      { code: "eia", name: "环境影响评价审批", stage_no: 1, after: ["filing"], state: "ready" },
      { code: "works-permit", name: "建设工程规划许可", stage_no: 2, after: [], state: "waiting" },
      { code: "fire-design", name: "消防设计审查", stage_no: 2, after: [], state: "waiting" },
    ],
  };
  const stages = jointStages(joint);
  assert.deepEqual(stages.map((s) => [s.no, s.rounds.map((r) => r.steps.map((x) => x.code))]), [
    [1, [["filing"], ["land-permit", "eia"]]],
    [2, [["works-permit", "fire-design"]]],
  ]);
  assert.equal(stages[1].rounds[0].steps[0].time, "待上一阶段办结后开始");
  assert.deepEqual(jointStages(null), []);
});

test("progress and the pick-up line", () => {
  assert.equal(jointProgress(companySetup(["done", "ready", "ready", "ready", "ready"])), "共 5 个环节，已办结 1 个");
  assert.equal(jointProgress(companySetup(["done", "done", "done", "done", "consented"])), "共 5 个环节，已全部办结");
  assert.equal(pickupText({ window_no: 1, items: ITEMS, ready: false }), null);
  assert.equal(pickupText({ window_no: 1, items: ITEMS, ready: true }), "请到 1 号窗口一次领取：营业执照、公章");
  assert.equal(pickupText({ window_no: 1, items: ITEMS, ready: true, delivered: true }), "已在 1 号窗口领取：营业执照、公章");
  assert.deepEqual(pickupPoint({ window_no: 1, items: ITEMS, ready: false }).status, "todo");
  assert.deepEqual(pickupPoint({ window_no: 1, items: ITEMS, ready: true }),
    { status: "current", title: "一次领取 · 1 号窗口", text: "全部环节已办结，可以领取" });
  assert.equal(pickupPoint({ window_no: 1, items: ITEMS, ready: true, delivered: true }).text, "已领取");
  assert.equal(pickupPoint(null), null);
});

test("the advice of a completed joint case is the pick-up line, at the bundle's pick-up window", () => {
  const joint = companySetup(["done", "done", "done", "done", "done"], { ready: true, window_no: 3 });
  assert.equal(adviceText({ state: "completed", ready_for_pickup: true, window_no: 1, joint }),
    "请到 3 号窗口一次领取：营业执照、公章");
  // not yet settled: no pick-up advice; a plain case keeps its own
  assert.equal(adviceText({ state: "accepted", joint: companySetup(["done", "ready", "ready", "ready", "ready"]) }), null);
  assert.equal(adviceText({ state: "completed", ready_for_pickup: true, window_no: 5, joint: null }),
    "已办结，请携带告知单到 5 号窗口领取");
});
