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
