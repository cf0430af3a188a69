// Acceptance at the window without a DOM (node tests it): the applicant and 容缺 read from what
// the clerk typed (the ordinary 受理 dialog and the 联办受理 dialog share them), and the joint
// intake (多证联办, 一表通): the workflows a window's department leads, what a stage's intake asks
// for, the request body of case.accept, and the words the screen shows. Each check answers
// null or {message, field} (the server's field names, so the dialog marks the same input).
import { idNumberProblem, phoneProblem } from "../kiosk/identity.js";

export const PROJECT_NO = /^XM-[A-Z0-9_-]{1,40}-\d{4}-\d{5}$/;

/** A refusal the dialog shows in place: its Chinese message and the field it marks. */
export class IntakeError extends Error {
  constructor(message, field) {
    super(message);
    this.field = field;
  }
}

/** {name, phone?, id_number?} from the typed values; throws IntakeError. */
export function applicantOf({ name = "", phone = "", idNumber = "" }) {
  const n = name.trim();
  const p = phone.trim();
  const id = idNumber.trim().toUpperCase();
  if (!n) throw new IntakeError("请填写申请人姓名或单位名称", "applicant.name");
  if (p && phoneProblem(p)) throw new IntakeError(phoneProblem(p), "phone");
  if (id && idNumberProblem(id)) throw new IntakeError(idNumberProblem(id), "id_number");
  return { name: n, ...(p ? { phone: p } : {}), ...(id ? { id_number: id } : {}) };
}

/**
 * 容缺: {commitment_signed, due} when ticked, else null. The due date is required, typed as
 * dueDateOf reads it; `today` (the hall's date, "YYYY-MM-DD") gives a month and day its year.
 */
export function deficiencyOf(ticked, due, today = null) {
  if (!ticked) return null;
  if (!String(due ?? "").trim()) throw new IntakeError("请填写容缺材料的补交期限", "deficiency");
  return { commitment_signed: true, due: dueDateOf(due, today) };
}

const FULL_DATE = [/^(\d{4})(\d{2})(\d{2})$/, /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$/];
const MONTH_DAY = [/^(\d{2})(\d{2})$/, /^(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$/];

/**
 * A date typed at the keyboard, as the server takes it ("2026-12-11"): the whole date with
 * -, /, . or 年月日 between its parts, or none ("20261211"); or a month and day ("12-11",
 * "1211") of `today`'s year. A text field rather than the browser's date input, whose year
 * takes six digits by keyboard ("20261211" typed there was the year 61211). Throws IntakeError
 * (field "deficiency") for anything else or a day that does not exist; whether the day is too
 * early or too late is the server's to say (its clock, the case's deadline).
 */
export function dueDateOf(text, today = null) {
  const t = String(text ?? "").trim();
  let y, m, d;
  const full = FULL_DATE.map((re) => re.exec(t)).find(Boolean);
  const short = !full && today ? MONTH_DAY.map((re) => re.exec(t)).find(Boolean) : null;
  if (full) [, y, m, d] = full.map(Number);
  else if (short) [y, m, d] = [Number(today.slice(0, 4)), Number(short[1]), Number(short[2])];
  else throw new IntakeError("补交期限应为日期，例如 2026-12-11 或 20261211", "deficiency");
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) {
    throw new IntakeError(`没有这一天：${t}`, "deficiency");
  }
  return date.toISOString().slice(0, 10);
}

/** The materials as marked: [{position, status, problem}] (a problem only when not handed in). */
export function materialsOf(marked) {
  return marked.map(({ position, status, problem = "" }) => ({
    position, status, problem: status === "submitted" ? "" : problem.trim(),
  }));
}

/** The workflows whose intake is this department's (一审制 at the lead window). */
export function leadWorkflows(workflows, departmentCode) {
  if (!departmentCode) return [];
  return (workflows || []).filter((w) => w.definition && w.definition.lead_department === departmentCode);
}

export const KIND_NAMES = Object.freeze({ bundle: "多证联办", project: "一表通" });

/** GET …/workflows/{code}/intake[?project=]: what this intake asks for. */
export function intakeUrl(hall, code, projectNo = null) {
  const base = `/api/halls/${encodeURIComponent(hall)}/workflows/${encodeURIComponent(code)}/intake`;
  return projectNo ? `${base}?project=${encodeURIComponent(projectNo)}` : base;
}

/** A typed project number, as the server spells it ("xm-rizhao-2026-1" is not guessed at). */
export function projectNoOf(text) {
  return String(text || "").trim().toUpperCase();
}

/**
 * What the dialog shows for an intake answer: the stage line, whether the applicant is asked
 * (a later stage's is the project's), what is on file, what is asked, whether 容缺 can apply.
 */
export function intakeView(intake) {
  const project = intake.kind === "project";
  const later = project && intake.stage_no > 1;
  return {
    stage: project ? stageText(intake) : `${intake.name}（${KIND_NAMES.bundle}，一次收齐全部材料）`,
    asksApplicant: !later,
    asksProjectName: project && !later,
    onFile: intake.on_file || [],
    materials: intake.materials || [],
    deferrable: (intake.materials || []).some((m) => !m.is_key),
  };
}

/** "第 2 阶段 / 共 4 阶段 · 建设工程规划许可" */
export function stageText({ stage_no: no, stages_total: total, stage_name: name }) {
  return `第 ${no} 阶段 / 共 ${total} 阶段 · ${name}`;
}

/**
 * The case.accept body of a joint intake. `form`: {workflow, kind, mode: "new"|"later",
 * projectNo, projectName, applicant (typed values), ticketId, marked (materials), deficiency:
 * {ticked, due, today}}. Throws IntakeError with the field to mark.
 */
export function jointBody(form) {
  const body = { workflow: form.workflow };
  if (form.ticketId) body.ticket_id = form.ticketId;
  const later = form.kind === "project" && form.mode === "later";
  if (later) {
    const no = projectNoOf(form.projectNo);
    if (!no) throw new IntakeError("请填写或选择项目编号", "project");
    if (!PROJECT_NO.test(no)) throw new IntakeError("项目编号格式应为 XM-中心-年份-五位序号", "project");
    body.project = no;
  } else {
    if (form.kind === "project") {
      const name = (form.projectName || "").trim();
      if (!name) throw new IntakeError("请填写工程项目名称", "project_name");
      body.project_name = name;
    }
    body.applicant = applicantOf(form.applicant || {});
  }
  body.materials = materialsOf(form.marked || []);
  const d = form.deficiency ? deficiencyOf(form.deficiency.ticked, form.deficiency.due, form.deficiency.today) : null;
  if (d) body.deficiency = d;
  return body;
}

/**
 * What the clerk reads once the intake is accepted: the case number, the project and stage,
 * and where each step of the stage went. `steps`: GET /api/cases/{id}/steps' steps;
 * `departmentName(code)`.
 */
export function acceptedView(result, intake, steps, departmentName = (c) => c) {
  const lines = [`办件编号 ${result.case_no}`];
  if (result.project_no) {
    lines.push(`项目编号 ${result.project_no} · ${stageText({ ...intake, stage_no: result.stage_no || intake.stage_no })}`);
  }
  return {
    title: result.project_no ? "一表通已受理" : "多证联办已受理",
    lines,
    steps: (steps || []).map((s) => ({
      name: s.name,
      department: departmentName(s.department),
      text: s.state === "ready" ? "已推送，待认领" : s.state === "waiting" ? "待前序环节办结后推送"
        : s.state === "claimed" ? "已认领" : s.state === "done" ? "已办结" : s.state,
    })),
  };
}

/** The message line after acceptance. */
export function acceptedMessage(result) {
  const where = result.project_no ? `，项目 ${result.project_no} 第 ${result.stage_no} 阶段` : "";
  return `已联办受理 ${result.case_no}${where}，各环节已推送至相关部门`;
}

/** The hall's active projects this window can take the next stage of now (stage done). */
export function readyProjects(projects, workflow) {
  return (projects || []).filter((p) => p.workflow === workflow && p.state === "active"
    && (p.case_state === "completed" || p.case_state === "delivered"));
}

/** "XM-RIZHAO-2026-00001 日照市第一中学新校区 · 第 1 阶段已办结" */
export function projectLabel(p) {
  const done = p.stage_no ? ` · 第 ${p.stage_no}/${p.stages_total} 阶段「${p.stage_name}」已办结` : "";
  return `${p.project_no} ${p.name}${done}`;
}
