// The inbox of internal work (联办待办) as the window terminal holds it, without a DOM (so node
// can test it): the ready and claimed joint steps of the clerk's department, the reducer that
// keeps them live from joint_step.* events, their order and their words.

/** The live events the inbox is kept from (room "department"). */
export const INBOX_EVENTS = Object.freeze([
  "joint_step.ready",
  "joint_step.claimed",
  "joint_step.done",
  "joint_step.consented",
]);

const OPEN_STATES = new Set(["ready", "claimed"]);

/** Chinese words for the refusals a clerk meets here; otherwise the API's own message. */
const ERROR_TEXT = {
  step_claimed: "该环节已被其他窗口认领",
  step_not_ready: "该环节还在等待前序环节",
  not_claimer: "该环节由其他工作人员认领，只有认领人可以办结",
  step_state: "该环节不在办理中，请先认领",
  case_state: "联办件已不在办理中",
  unknown_step: "联办环节不存在",
};

export function inboxUrl(hallCode) {
  return `/api/halls/${encodeURIComponent(hallCode)}/inbox`;
}

/** A step as the inbox holds it, from an event's payload or a read's row. */
export function stepOf(d) {
  return {
    step_id: d.step_id,
    case_id: d.case_id,
    case_no: d.case_no,
    workflow: d.workflow ?? null,
    code: d.code,
    name: d.name,
    department: d.department,
    mode: d.mode,
    state: d.state,
    due_at: d.due_at ?? null,
    claimed_by: d.claimed_by ?? null,
    window_no: d.window_no ?? null,
  };
}

/** Claimed by the clerk at this terminal (the events name the claimer and their window). */
export function isMine(step, me = {}) {
  return step.state === "claimed" && me.windowNo != null && step.window_no === me.windowNo
    && (!me.name || step.claimed_by === me.name);
}

function dueMs(step) {
  const t = step.due_at ? Date.parse(step.due_at) : NaN;
  return Number.isNaN(t) ? Number.POSITIVE_INFINITY : t;
}

/** Claimed by me first, then the ready ones, then others' claims; each by due_at. */
export function sortInbox(steps, me = {}) {
  const rank = (s) => (isMine(s, me) ? 0 : s.state === "ready" ? 1 : 2);
  return [...steps].sort((a, b) => rank(a) - rank(b) || dueMs(a) - dueMs(b) || a.step_id - b.step_id);
}

/** The read's answer (GET .../inbox) as the inbox's list. */
export function inboxFromAnswer(answer, me = {}) {
  return sortInbox((answer.steps || []).filter((s) => OPEN_STATES.has(s.state)).map(stepOf), me);
}

/**
 * Applies a joint_step.* event to `steps` (not changed in place) for the terminal of department
 * `department` (null: any) and clerk `me` ({windowNo, name}): a ready or claimed step is put in
 * or replaced, a done or consented one taken out. Returns {steps, arrived: the step_id newly
 * listed or null, removed: the step_id taken out or null}; null for another type.
 */
export function reduceInbox(steps, ev, { department = null, me = {} } = {}) {
  if (!INBOX_EVENTS.includes(ev.type)) return null;
  const d = ev.data || {};
  const unchanged = { steps, arrived: null, removed: null };
  if (department && d.department !== department) return unchanged;
  const known = steps.some((s) => s.step_id === d.step_id);
  const rest = steps.filter((s) => s.step_id !== d.step_id);
  if (!OPEN_STATES.has(d.state) || ev.type === "joint_step.done" || ev.type === "joint_step.consented") {
    return known ? { steps: rest, arrived: null, removed: d.step_id } : unchanged;
  }
  return { steps: sortInbox([...rest, stepOf(d)], me), arrived: known ? null : d.step_id, removed: null };
}

/** 待认领, or 已认领·by whom (and at which window). */
export function stepStateText(step) {
  if (step.state === "ready") return "待认领";
  if (step.state === "claimed") {
    const where = step.window_no ? `（${step.window_no}号窗口）` : "";
    return `已认领·${step.claimed_by || "其他工作人员"}${where}`;
  }
  return { done: "已办结", consented: "超时默许", waiting: "等待前序环节" }[step.state] || step.state;
}

function spanText(ms) {
  const minutes = Math.floor(ms / 60000);
  if (minutes < 1) return "不到1分钟";
  if (minutes < 60) return `${minutes}分钟`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours}小时${minutes % 60}分` : `${hours}小时`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days}天${hours % 24}小时` : `${days}天`;
}

/** The time left to the step's due instant as text: 剩余…, or 已超时…. */
export function timeLeftText(step, now = Date.now()) {
  const due = dueMs(step);
  if (!Number.isFinite(due)) return "无时限";
  const left = due - now;
  return left > 0 ? `剩余${spanText(left)}` : `已超时${spanText(-left)}`;
}

export function isOverdue(step, now = Date.now()) {
  return dueMs(step) <= now;
}

/** What the clerk reads when a claim or a completion is refused. */
export function errorText(err) {
  return (err && ERROR_TEXT[err.code]) || (err && err.message) || "操作失败";
}

/** 出具证照 typed comma-separated (either comma, or 、) as the completion's list. */
export function parseIssued(text) {
  return String(text || "").split(/[,，、]/).map((s) => s.trim()).filter(Boolean);
}
