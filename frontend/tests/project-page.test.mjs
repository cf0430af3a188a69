// 一表通 screens' logic: which live events concern the project page, its clocks and steps in
// words (超时默许, 等待补交材料), the material store and fees; the supervision wall's projects
// panel kept live by project.changed (a county's project on the city's wall); /track's stages.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  concerns, currentStage, daysText, materialStatus, moneyText, overallClock, stageClock, stageLabel, stageStatus,
  stepsProgress, stepView, workingDayOf,
} from "../project/model.js";
import { applyProjectChange, projectRow } from "../supervision/projects.js";
import { jointStages, projectStages } from "../track/timeline.js";

const DAY = 7 * 3600; // the demo hall's working day

const stage = (no, c = null, steps = []) => ({
  stage_no: no, code: `s${no}`, name: ["建设用地规划许可", "建设工程规划许可", "施工许可", "竣工验收备案"][no - 1],
  limit: { amount: 15, unit: "working_day" }, issues: [], case: c, steps,
});
const kase = (id, state, clock = {}) => ({
  case_id: id, case_no: `RIZHAO-20261207-0000${id}`, state, accepted_at: "2026-12-07T09:30:00+08:00",
  completed_at: null, clock: { status: "running", elapsed_s: 0, remaining_s: 15 * DAY, overdue_s: 0, unit: "working_day", limit: 15, ...clock },
});
const project = {
  project_no: "XM-RIZHAO-2026-00001",
  stages: [stage(1, kase(11, "completed", { status: "stopped" })), stage(2, kase(12, "in_progress")), stage(3), stage(4)],
  clock: { limit: { amount: 60, unit: "working_day" }, elapsed_s: 2.5 * DAY, remaining_s: 57.5 * DAY, overdue_s: 0 },
};

test("the page re-reads on its own project's events and its stage cases' events only", () => {
  const ev = (type, data) => ({ type, data });
  assert.equal(concerns(project, ev("project.changed", { project_no: "XM-RIZHAO-2026-00001", case_id: 99 })), true);
  assert.equal(concerns(project, ev("project.changed", { project_no: "XM-RIZHAO-2026-00002", case_id: 12 })), false);
  for (const type of ["joint_step.ready", "joint_step.claimed", "joint_step.done", "joint_step.consented", "case.changed"]) {
    assert.equal(concerns(project, ev(type, { case_id: 12 })), true, type);
    assert.equal(concerns(project, ev(type, { case_id: 13 })), false, type);
  }
  assert.equal(concerns(project, ev("ticket.called", { case_id: 12 })), false);
  assert.equal(concerns(null, ev("case.changed", { case_id: 12 })), false);
});

test("the overall clock: the government's working days against the flow's limit", () => {
  assert.equal(workingDayOf(project.clock), DAY);
  assert.deepEqual(overallClock(project.clock), {
    used: "用时 2.5 个工作日", limit: "总时限 60 个工作日", text: "用时 2.5 个工作日 / 总时限 60 个工作日", tone: "ok",
  });
  const late = overallClock({ limit: { amount: 60, unit: "working_day" }, elapsed_s: 62 * DAY, remaining_s: 0, overdue_s: 2 * DAY });
  assert.equal(late.text, "用时 62 个工作日 / 总时限 60 个工作日，已超出 2 个工作日");
  assert.equal(late.tone, "late");
  assert.equal(daysText(0, DAY), "0 个工作日");
  assert.equal(daysText(1800, DAY), "0.1 个工作日");
  assert.equal(daysText(600, DAY), "10 分钟");
});

test("a stage's place, clock and label", () => {
  assert.deepEqual(project.stages.map(stageStatus), ["done", "current", "todo", "todo"]);
  assert.deepEqual(stageClock(project.stages[0], DAY), { text: "已在时限内办结", tone: "done" });
  assert.deepEqual(stageClock(project.stages[1], DAY), { text: "剩余 15 个工作日", tone: "ok" });
  assert.deepEqual(stageClock(stage(2, kase(12, "in_progress", { remaining_s: 0, overdue_s: DAY + 3600 })), DAY),
    { text: "已超时 1 个工作日 1 小时", tone: "late" });
  assert.deepEqual(stageClock(project.stages[2], DAY), { text: "时限 15 个工作日", tone: "none" });
  assert.equal(currentStage(project).stage_no, 2);
  assert.equal(stageLabel(2, 4, "建设工程规划许可"), "第 2/4 阶段 · 建设工程规划许可");
  assert.equal(stageLabel(null, 4), "未受理");
});

test("steps: 等待补交材料 from blocked_by, 超时默许, late when open past due", () => {
  const now = Date.parse("2026-12-08T10:00:00+08:00");
  assert.deepEqual(stepView({ state: "waiting", blocked_by: ["环境影响报告表"] }, now),
    { state_name: "等待补交材料", tone: "blocked", note: "待补交：环境影响报告表", late: false });
  assert.deepEqual(stepView({ state: "consented", blocked_by: [] }, now),
    { state_name: "超时默许", tone: "consented", note: "逾期未答复，视为同意", late: false });
  const late = stepView({ state: "claimed", due_at: "2026-12-08T09:00:00+08:00", blocked_by: [] }, now);
  assert.equal(late.tone, "late");
  assert.equal(late.state_name, "办理中");
  assert.equal(stepView({ state: "ready", due_at: "2026-12-09T09:00:00+08:00" }, now).tone, "ready");
  assert.equal(stepView({ state: null }, now).state_name, "未开始");
  assert.equal(stepsProgress([{ state: "done" }, { state: "consented" }, { state: "ready" }]), "已办结 2/3 个环节");
});

test("the material store and fees in words", () => {
  assert.deepEqual(materialStatus({ on_file: true, deferred: false, status: "submitted" }), { status: "已收取", tone: "done" });
  assert.deepEqual(materialStatus({ on_file: false, deferred: true, status: "missing" }), { status: "容缺待补", tone: "deferred" });
  assert.deepEqual(materialStatus({ on_file: false, deferred: false, status: "missing" }), { status: "缺少", tone: "missing" });
  assert.equal(moneyText(3200000), "¥32,000.00");
  assert.equal(moneyText(0), "¥0.00");
});

test("the wall's projects: a county's new project on top with its hall's name, moved on, gone when complete", () => {
  const listed = [{ project_no: "XM-RIZHAO-2026-00001", hall: "rizhao", hall_name: "日照市政务服务中心", name: "一中", state: "active",
    stages_total: 4, stage_no: 1, stage_name: "建设用地规划许可", case_no: "C1", case_state: "accepted", opened_at: "x" }];
  const payload = {
    project_id: 2, project_no: "XM-JUXIAN-2026-00001", hall: "juxian", name: "莒县城南污水处理厂项目", workflow: "construction-project",
    department: "planning", state: "active", transition: "stage_accepted", stage_no: 1, stage_name: "建设用地规划许可",
    stages_total: 4, case_id: 5, case_no: "JUXIAN-20261207-00001", case_state: "accepted",
  };
  let list = applyProjectChange(listed, payload, { juxian: "莒县政务服务中心" });
  assert.deepEqual(list.map((p) => [p.project_no, p.hall_name]),
    [["XM-JUXIAN-2026-00001", "莒县政务服务中心"], ["XM-RIZHAO-2026-00001", "日照市政务服务中心"]]);
  list = applyProjectChange(list, { ...listed[0], ...payload, project_no: "XM-RIZHAO-2026-00001", hall: "rizhao", stage_no: 2,
    stage_name: "建设工程规划许可", case_state: "accepted" });
  assert.deepEqual(list.map((p) => [p.project_no, p.stage_no, p.opened_at ?? null]),
    [["XM-JUXIAN-2026-00001", 1, null], ["XM-RIZHAO-2026-00001", 2, "x"]]);
  list = applyProjectChange(list, { ...payload, state: "completed", transition: "completed" });
  assert.deepEqual(list.map((p) => p.project_no), ["XM-RIZHAO-2026-00001"]);
  assert.deepEqual(projectRow({ ...payload, hall_name: "莒县政务服务中心" }, "rizhao"), {
    no: "XM-JUXIAN-2026-00001", name: "莒县城南污水处理厂项目", hall: "莒县政务服务中心",
    stage: "第 1/4 阶段 · 建设用地规划许可", caseState: "已受理", href: "/project?no=XM-JUXIAN-2026-00001",
  });
  assert.equal(projectRow(listed[0], "rizhao").hall, "");
});

test("/track: the project's stages, the followed case's marked", () => {
  const p = projectStages({
    project_no: "XM-RIZHAO-2026-00001", name: "一中新校区", state: "active", stage_no: 2, stages_total: 4,
    stages: [
      { no: 1, name: "建设用地规划许可", state: "completed", state_name: "已办结", done: true, this: false },
      { no: 2, name: "建设工程规划许可", state: "in_progress", state_name: "办理中", done: false, this: true },
      { no: 3, name: "施工许可", state: "pending", state_name: "未受理", done: false, this: false },
      { no: 4, name: "竣工验收备案", state: "pending", state_name: "未受理", done: false, this: false },
    ],
  });
  assert.equal(p.title, "工程建设项目 · 一中新校区");
  assert.equal(p.progress, "本件为第 2/4 阶段，已办结 1 个阶段");
  assert.deepEqual(p.stages.map((s) => [s.status, s.this]), [["done", false], ["current", true], ["todo", false], ["todo", false]]);
  assert.equal(projectStages(null), null);
});

test("/track: a stage case's joint steps show its own stage only", () => {
  const stages = jointStages({
    stages: [{ no: 1, name: "建设用地规划许可" }, { no: 2, name: "建设工程规划许可" }],
    steps: [{ code: "works-permit", name: "建设工程规划许可", stage_no: 2, after: [], state: "ready", due_at: null, overdue: false }],
  });
  assert.deepEqual(stages.map((s) => s.no), [2]);
});
