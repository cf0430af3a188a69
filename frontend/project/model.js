// The project page's logic, without a DOM (node tests it): which live events concern the
// project shown, a stage's place on the progression, its clock, its steps' states in words
// (超时默许, 等待补交材料), the material store's rows, fees, and the overall clock (the
// government's working time across the stages against the flow's limit). Every time comes from
// GET /api/projects/{no}: the server's clock and the hall's calendar, never the browser's.
import { durationText } from "../track/timeline.js";

/** Event types whose case_id, when it is one of the project's stage cases, changes the page. */
export const CASE_EVENTS = Object.freeze([
  "case.accepted",
  "case.changed",
  "case.fee_collected",
  "joint_step.ready",
  "joint_step.claimed",
  "joint_step.done",
  "joint_step.consented",
]);

/** The project's stage cases' ids. */
export function caseIds(project) {
  return new Set((project && project.stages ? project.stages : [])
    .filter((s) => s.case).map((s) => s.case.case_id));
}

/** Does a frame of the hall's stream concern the project shown? project.changed of its number
 * (a later stage's new case too), or a case or step event of one of its stage cases. */
export function concerns(project, ev) {
  if (!project || !ev) return false;
  const d = ev.data || {};
  if (ev.type === "project.changed") return d.project_no === project.project_no;
  if (!CASE_EVENTS.includes(ev.type)) return false;
  return caseIds(project).has(d.case_id);
}

export const CASE_STATE_NAMES = Object.freeze({
  accepted: "已受理", in_progress: "办理中", awaiting_signoff: "待领导签批", approved: "已批准",
  refused: "不予许可", completed: "已办结", delivered: "已领取", not_accepted: "不予受理", withdrawn: "已撤回",
});

export const STEP_STATE_NAMES = Object.freeze({
  waiting: "等待前序环节", ready: "待办理", claimed: "办理中", done: "已办结", consented: "超时默许",
});

const STAGE_DONE = new Set(["completed", "delivered"]);
const STEP_SETTLED = new Set(["done", "consented"]);

/** The working day's length in seconds, from a clock with a working-day limit (its limit is
 * elapsed + remaining − overdue); 0 when it cannot be told. */
export function workingDayOf(clock) {
  if (!clock || !clock.limit || clock.limit.unit !== "working_day" || !clock.limit.amount) return 0;
  const limit = (clock.elapsed_s || 0) + (clock.remaining_s || 0) - (clock.overdue_s || 0);
  return limit > 0 ? limit / clock.limit.amount : 0;
}

/** Working seconds as days to a tenth: "2.5 个工作日", "0 个工作日"; what rounds to no tenth
 * in minutes ("20 分钟"), so a stage just begun does not read as none. */
export function daysText(seconds, workingDay) {
  const s = Math.max(0, seconds || 0);
  if (!workingDay) return durationText(s, "working_hour");
  const days = Math.round((s / workingDay) * 10) / 10;
  if (s > 0 && days === 0) return durationText(s, "working_hour");
  return `${Number.isInteger(days) ? days : days.toFixed(1)} 个工作日`;
}

/** A limit in words: "60 个工作日", "4 个工作小时", "5 天". */
export function limitText(limit) {
  if (!limit) return "";
  const unit = { working_day: "个工作日", working_hour: "个工作小时", calendar_day: "天" }[limit.unit] || limit.unit;
  return `${limit.amount} ${unit}`;
}

/** The overall clock: {used, limit, text, tone} — "用时 2.5 个工作日 / 总时限 60 个工作日". */
export function overallClock(clock) {
  if (!clock) return { used: "", limit: "", text: "", tone: "none" };
  const day = workingDayOf(clock);
  const used = `用时 ${daysText(clock.elapsed_s, day)}`;
  const limit = `总时限 ${limitText(clock.limit)}`;
  const late = (clock.overdue_s || 0) > 0;
  return {
    used,
    limit,
    text: `${used} / ${limit}${late ? `，已超出 ${daysText(clock.overdue_s, day)}` : ""}`,
    tone: late ? "late" : "ok",
  };
}

/** A stage's place on the progression: "done" | "current" | "todo". */
export function stageStatus(stage) {
  if (!stage.case) return "todo";
  return STAGE_DONE.has(stage.case.state) ? "done" : "current";
}

/** The stage case's clock in words: {text, tone}. `workingDay` words day-unit time. */
export function stageClock(stage, workingDay = 0) {
  if (!stage.case) return { text: `时限 ${limitText(stage.limit)}`, tone: "none" };
  const c = stage.case.clock || {};
  const unit = c.unit || (stage.limit && stage.limit.unit) || "working_day";
  const span = (s) => {
    const t = durationText(s, unit, workingDay);
    return unit !== "calendar_day" && !t.includes("工作日") ? `${t}（工作时间）` : t;
  };
  if (c.status === "stopped") {
    return c.overdue_s > 0
      ? { text: `已办结，超出时限 ${span(c.overdue_s)}`, tone: "late" }
      : { text: "已在时限内办结", tone: "done" };
  }
  if (c.status === "paused") return { text: "暂停计时", tone: "paused" };
  if (c.overdue_s > 0) return { text: `已超时 ${span(c.overdue_s)}`, tone: "late" };
  return { text: `剩余 ${span(c.remaining_s)}`, tone: "ok" };
}

/** A step as the page shows it: {state_name, tone, note}: 等待补交材料 when it waits for a
 * material the applicant left under 容缺; 超时默许 when a joint review went unanswered; late
 * when open past its due instant (`now` the page's reading of the server's answer). */
export function stepView(step, now = Date.now()) {
  const blocked = step.state === "waiting" && (step.blocked_by || []).length > 0;
  const open = step.state === "ready" || step.state === "claimed";
  const late = open && step.due_at && Date.parse(step.due_at) <= Number(now);
  let note = "";
  if (blocked) note = `待补交：${step.blocked_by.join("、")}`;
  else if (step.state === "consented") note = "逾期未答复，视为同意";
  return {
    state_name: blocked ? "等待补交材料" : STEP_STATE_NAMES[step.state] || (step.state ? step.state : "未开始"),
    tone: blocked ? "blocked" : late ? "late" : step.state || "todo",
    note,
    late: !!late,
  };
}

/** "已办结 2/3 个环节" of a stage's steps. */
export function stepsProgress(steps) {
  const settled = steps.filter((s) => STEP_SETTLED.has(s.state)).length;
  return `已办结 ${settled}/${steps.length} 个环节`;
}

/** A material of the store: {status, tone} — 已收取, 容缺待补 (deferred, not yet handed in). */
export function materialStatus(m) {
  if (m.on_file) return { status: "已收取", tone: "done" };
  if (m.deferred) return { status: "容缺待补", tone: "deferred" };
  return { status: m.status === "faulty" ? "有误待补正" : "缺少", tone: "missing" };
}

/** "¥32,000.00" from cents. */
export function moneyText(cents) {
  const n = (cents || 0) / 100;
  return `¥${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** "第 2/4 阶段 · 建设工程规划许可" of a project (or of a list row: stage_no, stages_total). */
export function stageLabel(stageNo, total, name) {
  if (!stageNo) return "未受理";
  return `第 ${stageNo}/${total} 阶段${name ? ` · ${name}` : ""}`;
}

/** The stage standing now: the last accepted (or null before the first). */
export function currentStage(project) {
  const taken = project.stages.filter((s) => s.case);
  return taken.length ? taken[taken.length - 1] : null;
}
