// Acceptance at the window without a DOM (frontend/window/intake-model.js): the applicant and
// 容缺 shared by 受理 and 联办受理, the workflows a department leads, what a stage's intake
// shows, the case.accept body of a joint intake, and the words after it.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  acceptedMessage, acceptedView, applicantOf, deficiencyOf, dueDateOf, intakeUrl, intakeView, IntakeError, jointBody,
  leadWorkflows, materialsOf, projectLabel, readyProjects, stageText,
} from "../window/intake-model.js";
import { hallDate } from "../shared/api.js";

const refused = (fn, message, field) => assert.throws(fn, (err) => {
  assert.ok(err instanceof IntakeError);
  if (message) assert.equal(err.message, message);
  assert.equal(err.field, field);
  return true;
});

const WORKFLOWS = [
  { code: "company-setup", kind: "bundle", name: "企业开办多证联办", definition: { lead_department: "amr" } },
  { code: "construction-project", kind: "project", name: "工程建设项目一表通", definition: { lead_department: "planning" } },
];

const STAGE_1 = {
  workflow: "construction-project", kind: "project", name: "工程建设项目一表通", project: null,
  stages_total: 4, stage_no: 1, stage_name: "建设用地规划许可", on_file: [],
  materials: [
    { position: 1, name: "项目立项（备案）文件", is_key: true },
    { position: 2, name: "环境影响报告表", is_key: false },
  ],
};
const STAGE_2 = {
  ...STAGE_1, stage_no: 2, stage_name: "建设工程规划许可",
  project: { project_no: "XM-RIZHAO-2026-00001", name: "一中新校区", applicant: "日照**公司" },
  on_file: ["项目立项（备案）文件", "用地红线图"],
  materials: [{ position: 1, name: "建设工程设计方案", is_key: true }],
};
const BUNDLE = {
  workflow: "company-setup", kind: "bundle", name: "企业开办多证联办", project: null, stages_total: 1,
  stage_no: 1, stage_name: "企业开办", on_file: [],
  materials: [{ position: 1, name: "公司章程", is_key: true }, { position: 7, name: "银行开户信息", is_key: false }],
};

test("the applicant: a name is required, the phone and the ID number are checked", () => {
  assert.deepEqual(applicantOf({ name: " 日照城投 ", phone: "13800138002" }), { name: "日照城投", phone: "13800138002" });
  refused(() => applicantOf({ name: "  " }), "请填写申请人姓名或单位名称", "applicant.name");
  refused(() => applicantOf({ name: "张三", phone: "123" }), null, "phone");
  refused(() => applicantOf({ name: "张三", idNumber: "37110219900101001" }), null, "id_number");
});

test("容缺: only when ticked, and then with its due date", () => {
  assert.equal(deficiencyOf(false, "2026-12-08"), null);
  assert.deepEqual(deficiencyOf(true, "2026-12-08"), { commitment_signed: true, due: "2026-12-08" });
  refused(() => deficiencyOf(true, ""), "请填写容缺材料的补交期限", "deficiency");
  assert.deepEqual(deficiencyOf(true, " 20261211 ", "2026-12-07"), { commitment_signed: true, due: "2026-12-11" });
});

test("the supplement deadline as a clerk types it, without a date picker", () => {
  const today = "2026-12-07";
  for (const typed of ["2026-12-11", "20261211", "2026/12/11", "2026.12.11", "2026年12月11日", "12-11", "1211", "12/11", "12月11日"]) {
    assert.equal(dueDateOf(typed, today), "2026-12-11", typed);
  }
  assert.equal(dueDateOf("2027-1-5", today), "2027-01-05");
  // too early or too late is the server's to say, by its clock and the case's deadline
  assert.equal(dueDateOf("1201", today), "2026-12-01");
  // what Chromium's date input made of "20261211" typed into it
  refused(() => dueDateOf("61211-02-02", today), "补交期限应为日期，例如 2026-12-11 或 20261211", "deficiency");
  refused(() => dueDateOf("下周五", today), null, "deficiency");
  refused(() => dueDateOf("2026-02-30", today), "没有这一天：2026-02-30", "deficiency");
  refused(() => dueDateOf("1301", today), "没有这一天：1301", "deficiency");
  // the hall's today: 00:30 in Rizhao is still the day before in UTC
  assert.equal(hallDate(new Date("2026-12-06T16:30:00Z")), "2026-12-07");
  // without today, only a whole date is a date
  assert.equal(dueDateOf("20261211"), "2026-12-11");
  refused(() => dueDateOf("1211"), null, "deficiency");
});

test("materials as marked: a problem is kept only for what was not handed in", () => {
  assert.deepEqual(materialsOf([
    { position: 1, status: "submitted", problem: "ignored" },
    { position: 2, status: "faulty", problem: " 缺签字页 " },
  ]), [{ position: 1, status: "submitted", problem: "" }, { position: 2, status: "faulty", problem: "缺签字页" }]);
});

test("a window is offered the workflows its department leads, none elsewhere", () => {
  assert.deepEqual(leadWorkflows(WORKFLOWS, "amr").map((w) => w.code), ["company-setup"]);
  assert.deepEqual(leadWorkflows(WORKFLOWS, "planning").map((w) => w.code), ["construction-project"]);
  assert.deepEqual(leadWorkflows(WORKFLOWS, "ndrc"), []);
  assert.deepEqual(leadWorkflows(WORKFLOWS, null), []);
  assert.equal(intakeUrl("rizhao", "construction-project", "XM-RIZHAO-2026-00001"),
    "/api/halls/rizhao/workflows/construction-project/intake?project=XM-RIZHAO-2026-00001");
  assert.equal(intakeUrl("rizhao", "company-setup"), "/api/halls/rizhao/workflows/company-setup/intake");
});

test("what an intake shows: the stage, the on-file names, what is asked, whether 容缺 applies", () => {
  const first = intakeView(STAGE_1);
  assert.equal(first.stage, "第 1 阶段 / 共 4 阶段 · 建设用地规划许可");
  assert.equal(first.asksApplicant, true);
  assert.equal(first.asksProjectName, true);
  assert.deepEqual(first.onFile, []);
  assert.equal(first.deferrable, true);
  const later = intakeView(STAGE_2);
  assert.equal(later.stage, "第 2 阶段 / 共 4 阶段 · 建设工程规划许可");
  assert.equal(later.asksApplicant, false, "a later stage's applicant is the project's");
  assert.equal(later.asksProjectName, false);
  assert.deepEqual(later.onFile, ["项目立项（备案）文件", "用地红线图"]);
  assert.deepEqual(later.materials.map((m) => m.name), ["建设工程设计方案"]);
  assert.equal(later.deferrable, false, "no 容缺 when every material asked is key");
  const bundle = intakeView(BUNDLE);
  assert.match(bundle.stage, /^企业开办多证联办（多证联办/);
  assert.equal(bundle.asksProjectName, false);
  assert.equal(stageText({ stage_no: 3, stages_total: 4, stage_name: "施工许可" }), "第 3 阶段 / 共 4 阶段 · 施工许可");
});

test("a bundle's body: the workflow, the ticket, the applicant, every material, 容缺", () => {
  const body = jointBody({
    workflow: "company-setup", kind: "bundle", mode: "new", ticketId: 42,
    applicant: { name: "日照新材料有限公司", phone: "13800138001" },
    marked: [{ position: 1, status: "submitted" }, { position: 7, status: "missing", problem: "未开户" }],
    deficiency: { ticked: true, due: "2026-12-08" },
  });
  assert.deepEqual(body, {
    workflow: "company-setup", ticket_id: 42,
    applicant: { name: "日照新材料有限公司", phone: "13800138001" },
    materials: [{ position: 1, status: "submitted", problem: "" }, { position: 7, status: "missing", problem: "未开户" }],
    deficiency: { commitment_signed: true, due: "2026-12-08" },
  });
  assert.ok(!("project" in body) && !("project_name" in body) && !("item" in body));
  refused(() => jointBody({ workflow: "company-setup", kind: "bundle", applicant: {} }), null, "applicant.name");
});

test("a new project's body names the project and its applicant; a later stage only the number", () => {
  const first = jointBody({
    workflow: "construction-project", kind: "project", mode: "new", projectName: " 一中新校区 ",
    applicant: { name: "日照城投建设有限公司" }, marked: [{ position: 1, status: "submitted" }],
  });
  assert.equal(first.project_name, "一中新校区");
  assert.deepEqual(first.applicant, { name: "日照城投建设有限公司" });
  assert.ok(!("project" in first) && !("deficiency" in first) && !("ticket_id" in first));
  refused(() => jointBody({ workflow: "construction-project", kind: "project", mode: "new", projectName: "",
    applicant: { name: "x" } }), "请填写工程项目名称", "project_name");

  const later = jointBody({
    workflow: "construction-project", kind: "project", mode: "later", projectNo: " xm-rizhao-2026-00001 ",
    projectName: "ignored", applicant: { name: "ignored" }, marked: [{ position: 1, status: "submitted" }],
  });
  assert.deepEqual(later, { workflow: "construction-project", project: "XM-RIZHAO-2026-00001",
    materials: [{ position: 1, status: "submitted", problem: "" }] });
  refused(() => jointBody({ workflow: "construction-project", kind: "project", mode: "later", projectNo: "" }),
    "请填写或选择项目编号", "project");
  refused(() => jointBody({ workflow: "construction-project", kind: "project", mode: "later", projectNo: "XM-1" }),
    null, "project");
});

test("after acceptance: the numbers, the stage and where each step went", () => {
  const names = { ndrc: "发展和改革委员会", planning: "自然资源和规划局", env: "生态环境局" };
  const result = { case_id: 9, case_no: "RIZHAO-20261207-00003", project_no: "XM-RIZHAO-2026-00001", stage_no: 1 };
  const v = acceptedView(result, STAGE_1, [
    { name: "项目立项备案", department: "ndrc", state: "ready" },
    { name: "建设用地规划许可", department: "planning", state: "waiting" },
  ], (c) => names[c]);
  assert.equal(v.title, "一表通已受理");
  assert.deepEqual(v.lines, ["办件编号 RIZHAO-20261207-00003",
    "项目编号 XM-RIZHAO-2026-00001 · 第 1 阶段 / 共 4 阶段 · 建设用地规划许可"]);
  assert.deepEqual(v.steps, [
    { name: "项目立项备案", department: "发展和改革委员会", text: "已推送，待认领" },
    { name: "建设用地规划许可", department: "自然资源和规划局", text: "待前序环节办结后推送" },
  ]);
  assert.equal(acceptedMessage(result), "已联办受理 RIZHAO-20261207-00003，项目 XM-RIZHAO-2026-00001 第 1 阶段，各环节已推送至相关部门");
  const bundle = acceptedView({ case_no: "RIZHAO-20261207-00001" }, BUNDLE, [], (c) => c);
  assert.equal(bundle.title, "多证联办已受理");
  assert.deepEqual(bundle.lines, ["办件编号 RIZHAO-20261207-00001"]);
  assert.equal(acceptedMessage({ case_no: "RIZHAO-20261207-00001" }), "已联办受理 RIZHAO-20261207-00001，各环节已推送至相关部门");
});

test("the projects offered for a next stage: active, this flow, the current stage done", () => {
  const p = (no, state, caseState, workflow = "construction-project") => ({
    project_no: no, name: "项目", workflow, state, stage_no: 1, stages_total: 4, stage_name: "建设用地规划许可",
    case_state: caseState,
  });
  const list = [p("XM-A-2026-00001", "active", "completed"), p("XM-A-2026-00002", "active", "accepted"),
    p("XM-A-2026-00003", "completed", "completed"), p("XM-A-2026-00004", "active", "delivered"),
    p("XM-A-2026-00005", "active", "completed", "other")];
  assert.deepEqual(readyProjects(list, "construction-project").map((x) => x.project_no),
    ["XM-A-2026-00001", "XM-A-2026-00004"]);
  assert.equal(projectLabel(list[0]), "XM-A-2026-00001 项目 · 第 1/4 阶段「建设用地规划许可」已办结");
});
