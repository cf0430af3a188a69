// What /track shows of a case, without a DOM (node tests it): where the case stands on the
// steps the citizen cares about, and the promised time left in words. Everything comes from
// GET /api/track/{code}; the remaining time is the server's (its clock and the hall's
// calendar), never counted in the browser.

/** Where each state stands on the steps (accepted, in progress, sign-off, completed, delivered).
 * approved / refused sit on the sign-off step: decided, whether or not a leader had to sign. */
const STEP_OF_STATE = {
  accepted: 0, in_progress: 1, awaiting_signoff: 2, approved: 2, refused: 2, completed: 3, delivered: 4,
};

/** States after which nothing more happens to the case. */
const ENDED = new Set(["not_accepted", "withdrawn"]);

/**
 * Each step with its status: "done", "skipped" (passed without it, e.g. no sign-off needed),
 * "current", "todo", or "void" (the case ended before it: not accepted, withdrawn).
 * @param {{state: string, name: string}[]} steps   the view's steps, in order
 * @param {string} state                            the case's state
 * @param {{state: string}[]} timeline              the view's timeline (states it went through)
 */
export function stepStatuses(steps, state, timeline = []) {
  const visited = new Set(timeline.map((t) => t.state));
  visited.add(state);
  const ended = ENDED.has(state);
  let reached = STEP_OF_STATE[state];
  if (reached === undefined) {
    // ended: as far as the states it went through reach
    reached = Math.max(-1, ...[...visited].map((s) => STEP_OF_STATE[s] ?? -1));
  }
  const decided = state === "approved" || state === "refused";
  return steps.map((step, i) => {
    let status;
    if (i < reached) status = visited.has(step.state) ? "done" : "skipped";
    else if (i > reached) status = ended ? "void" : "todo";
    else if (ended) status = visited.has(step.state) ? "done" : "skipped";
    else if (decided) status = visited.has(step.state) ? "done" : "skipped";
    else status = state === "delivered" ? "done" : "current";
    return { ...step, status };
  });
}

/** "3 小时 20 分钟", "45 分钟", "不到 1 分钟"; calendar time of days: "2 天 3 小时"; a
 * working-day limit, given the hall's working day in seconds: "9 个工作日 6 小时". */
export function durationText(seconds, unit = "working_hour", workingDay = 0) {
  const s = Math.max(0, Math.floor(seconds || 0));
  if (s < 60) return "不到 1 分钟";
  if (unit === "working_day" && workingDay > 0 && s >= workingDay) {
    const days = Math.floor(s / workingDay);
    const hours = Math.floor((s - days * workingDay) / 3600);
    return hours ? `${days} 个工作日 ${hours} 小时` : `${days} 个工作日`;
  }
  const minutes = Math.floor(s / 60);
  if (unit === "calendar_day" && minutes >= 24 * 60) {
    const days = Math.floor(minutes / (24 * 60));
    const hours = Math.floor((minutes % (24 * 60)) / 60);
    return hours ? `${days} 天 ${hours} 小时` : `${days} 天`;
  }
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (!hours) return `${rest} 分钟`;
  return rest ? `${hours} 小时 ${rest} 分钟` : `${hours} 小时`;
}

/**
 * The promised time in words: {text, tone} where tone is "ok" | "late" | "paused" | "done"
 * | "none". Working units count working time only (the hall's hours, its calendar).
 * @param {object|null} clock   the view's clock: {status, remaining_s, overdue_s, unit, limit}
 * @param {{kind?: string, state?: string, supplement?: object|null}} view
 */
export function remainingText(clock, { kind = "promised", state = "", supplement = null, working_day_s = 0 } = {}) {
  if (kind === "immediate" || !clock || !clock.limit) {
    return { text: "即办件，当场办结", tone: "none" };
  }
  const working = clock.unit !== "calendar_day";
  const span = (s) => {
    const text = durationText(s, clock.unit, working_day_s);
    return working && !text.includes("工作日") ? `${text}（工作时间）` : text;
  };
  if (ENDED.has(state)) return { text: "已终止，不再计时", tone: "none" };
  if (clock.status === "stopped") {
    return clock.overdue_s > 0
      ? { text: `已办结，超出承诺时限 ${span(clock.overdue_s)}`, tone: "late" }
      : { text: "已在承诺时限内办结", tone: "done" };
  }
  if (clock.status === "paused") {
    return {
      text: supplement ? "补正材料期间暂停计时，材料补齐后继续" : "暂停计时（报批或特别程序，不计入办理时限）",
      tone: "paused",
    };
  }
  if (clock.overdue_s > 0) return { text: `已超过承诺时限 ${span(clock.overdue_s)}`, tone: "late" };
  return { text: `剩余 ${span(clock.remaining_s)}`, tone: "ok" };
}

/** The one line under the state: what the citizen should do now, or null. */
export function adviceText(view) {
  // a joint case: everything its steps issued, at the bundle's pick-up window
  const pickup = view.joint && view.state === "completed" ? pickupText(view.joint.pickup) : null;
  if (pickup) return pickup;
  if (view.ready_for_pickup) return `已办结，请携带告知单到 ${view.window_no} 号窗口领取`;
  if (view.supplement) return `请补齐以下材料后到 ${view.window_no} 号窗口一次提交`;
  if (view.state === "awaiting_signoff") return "窗口已提交带班领导签批，请耐心等候";
  if (view.reason && ENDED.has(view.state)) return `原因：${view.reason}`;
  if (view.state === "refused" && view.reason) return `原因：${view.reason}`;
  return null;
}

/** The timeline newest first, each with its window ("1 号窗口") when there was one. */
export function timelineEntries(timeline = []) {
  return [...timeline].reverse().map((t) => ({
    at: t.at,
    label: t.label,
    state_name: t.state_name,
    where: t.window_no ? `${t.window_no} 号窗口` : "",
  }));
}

// ------------------------------------------------------------------ a joint case's steps (联办)
// GET /api/track/{code}'s `joint` block: the case's internal steps, each at its department,
// stage by stage. Within a stage a step waits for the steps in its `after`; the steps that
// wait for the same ones run side by side (并联), shown as one round of the timeline.

/** A step's state in plain words. */
export const JOINT_STATE_NAMES = {
  waiting: "等待前序环节", ready: "待办理", claimed: "办理中", done: "已办结", consented: "超时默许",
};
const SETTLED = new Set(["done", "consented"]);

/** The step's time in words: its due time while open, when it was settled once it is, what it
 * waits for while waiting. `fmt` words an ISO instant (the page passes its date format). */
export function stepTime(step, fmt = (iso) => iso, names = {}) {
  if (step.state === "done") return step.done_at ? `${fmt(step.done_at)} 办结` : "";
  if (step.state === "consented") return step.done_at ? `${fmt(step.done_at)} 未答复，视为同意` : "未答复，视为同意";
  if (step.state === "waiting") {
    const before = (step.after || []).map((c) => names[c]).filter(Boolean);
    return before.length ? `待${before.map((n) => `「${n}」`).join("")}办结后开始` : "待上一阶段办结后开始";
  }
  if (!step.due_at) return "";
  return step.overdue ? `已超过办理时限（${fmt(step.due_at)}）` : `应于 ${fmt(step.due_at)} 前办结`;
}

/**
 * The joint block as the page draws it: the stages in order, each with its rounds (a round: the
 * steps that run side by side, in the definition's order), each step with its state in words,
 * a tone for its colour, and its time in words; a round's own status ("done" | "current" |
 * "todo") for its marker on the line.
 * @param {{stages: {no: number, name: string}[], steps: object[]}|null} joint
 */
export function jointStages(joint, fmt = (iso) => iso) {
  if (!joint) return [];
  const names = Object.fromEntries(joint.steps.map((s) => [s.code, s.name]));
  const held = new Set(joint.steps.map((s) => s.stage_no));
  // a project's stage case holds its own stage's steps only: the other stages are the project
  // block's (projectStages), not empty headings here
  const known = joint.stages.length
    ? joint.stages.filter((stage) => !held.size || held.has(stage.no))
    : [...held].map((no) => ({ no, name: "" }));
  return known.map((stage) => {
    const steps = joint.steps.filter((s) => s.stage_no === stage.no);
    const inStage = new Map(steps.map((s) => [s.code, s]));
    const depth = new Map();
    // a step's round: one after the latest round of what it waits for (waits go no round: the
    // definition is checked for cycles when published; `seen` guards anyway)
    const roundOf = (s, seen = new Set()) => {
      if (depth.has(s.code)) return depth.get(s.code);
      seen.add(s.code);
      const before = (s.after || []).map((c) => inStage.get(c)).filter((o) => o && !seen.has(o.code));
      const d = before.length ? 1 + Math.max(...before.map((o) => roundOf(o, seen))) : 0;
      depth.set(s.code, d);
      return d;
    };
    const rounds = [];
    for (const s of steps) {
      const d = roundOf(s);
      (rounds[d] ||= []).push({
        ...s,
        state_name: JOINT_STATE_NAMES[s.state] || s.state,
        tone: s.overdue ? "late" : s.state,
        time: stepTime(s, fmt, names),
      });
    }
    return {
      no: stage.no,
      name: stage.name,
      rounds: rounds.filter(Boolean).map((round) => ({
        parallel: round.length > 1,
        status: round.every((s) => SETTLED.has(s.state)) ? "done"
          : round.some((s) => s.state !== "waiting") ? "current" : "todo",
        steps: round,
      })),
    };
  });
}

/** "共 5 个环节，已办结 1 个". */
export function jointProgress(joint) {
  if (!joint) return "";
  const settled = joint.steps.filter((s) => SETTLED.has(s.state)).length;
  return settled === joint.steps.length ? `共 ${settled} 个环节，已全部办结`
    : `共 ${joint.steps.length} 个环节，已办结 ${settled} 个`;
}

/** The pick-up line once every step is settled: where, and everything to take at once. */
export function pickupText(pickup) {
  if (!pickup || !pickup.ready) return null;
  const items = pickup.items.join("、");
  return pickup.delivered ? `已在 ${pickup.window_no} 号窗口领取：${items}`
    : `请到 ${pickup.window_no} 号窗口一次领取：${items}`;
}

/** The pick-up as the timeline's last point: {status, title, text}. */
export function pickupPoint(pickup) {
  if (!pickup) return null;
  const title = `一次领取 · ${pickup.window_no} 号窗口`;
  if (pickup.delivered) return { status: "done", title, text: "已领取" };
  if (pickup.ready) return { status: "current", title, text: "全部环节已办结，可以领取" };
  return { status: "todo", title, text: "全部环节办结后，凭告知单一次领取全部证照" };
}

// ------------------------------------------------------------------ a project's stages (一表通)
// GET /api/track/{code}'s `project` block: the project this case is a stage of, and each stage
// of its flow with its state (its case's, or "pending": not accepted yet).

/**
 * The project's stages as the page draws them: {no, name, state_name, status ("done" |
 * "current" | "todo"), this (the stage of the case being followed)}; and a heading.
 * @param {{project_no: string, name: string, stage_no: number, stages_total: number,
 *          stages: object[]}|null} project
 */
export function projectStages(project) {
  if (!project) return null;
  const stages = project.stages.map((s) => ({
    no: s.no,
    name: s.name,
    state_name: s.state_name,
    status: s.done ? "done" : s.state === "pending" ? "todo" : "current",
    this: !!s.this,
  }));
  const done = stages.filter((s) => s.status === "done").length;
  return {
    title: `工程建设项目 · ${project.name}`,
    number: project.project_no,
    progress: done === stages.length ? `共 ${stages.length} 个阶段，已全部办结`
      : `本件为第 ${project.stage_no}/${project.stages_total} 阶段，已办结 ${done} 个阶段`,
    stages,
  };
}
