// 整改 on the leader's page, without a DOM (node tests it): which live events touch the
// department's rectification tasks, how a task's due time reads (overdue marked), and what each
// action the server allows sends. The server's `allowed` list is the truth of what may be done;
// the page only offers those.

/** The events of a task's life (no citizen identity in either). */
export const RECTIFICATION_EVENTS = Object.freeze(["rectification.opened", "rectification.changed"]);

/** The leader's actions on a task, in the loop's order, with their form's words. */
export const RECT_ACTIONS = Object.freeze({
  "rectification.verify": { verb: "verify", label: "核实", title: "核实情况", placeholder: "调查核实的经过与结论", required: true, done: "已核实" },
  "rectification.rectify": { verb: "rectify", label: "整改", title: "整改措施", placeholder: "针对差评所做的整改", required: true, done: "已整改" },
  "rectification.call_back": { verb: "call-back", label: "回访", title: "回访情况", placeholder: "回访经过（未联系上时必填）", required: false, done: "已回访" },
  "rectification.close": { verb: "close", label: "办结", title: "办结说明（可不填）", placeholder: "", required: false, done: "已办结" },
  "rectification.appeal": { verb: "appeal", label: "申诉", title: "申诉理由", placeholder: "说明该差评为恶意或误评的理由", required: true, done: "申诉已提交" },
});

/** Does `ev` change the department's task list? (Another department's task: no.) */
export function touchesTasks(ev, department) {
  return RECTIFICATION_EVENTS.includes(ev.type) && (ev.data || {}).department === department;
}

/** The due time as the list shows it at `nowMs`: overdue when past and not held by an appeal. */
export function dueState(task, nowMs) {
  const due = Date.parse(task.due_at);
  const held = !!(task.appeal && task.appeal.pending);
  const active = !["closed", "excluded"].includes(task.state);
  const overdue = active && !held && nowMs >= due;
  const left = due - nowMs;
  let text;
  if (!active) text = task.state === "closed" ? "已办结" : "不计入";
  else if (held) text = "申诉待裁决，计时暂停";
  else if (overdue) text = "已逾期";
  else if (left < 86400000) text = `剩 ${Math.max(1, Math.ceil(left / 3600000))} 小时`;
  else text = `剩 ${Math.ceil(left / 86400000)} 天`;
  return { overdue, held, text };
}

/** The leader's actions the server allows on the task now, in the loop's order. */
export function leaderActions(task) {
  const allowed = task.allowed || [];
  return Object.keys(RECT_ACTIONS).filter((a) => allowed.includes(a));
}

/**
 * The request of `action` on `task` from the form's fields ({note, reached, followup});
 * throws an Error worded for the form when a required field is missing.
 */
export function rectRequest(task, action, { note = "", reached = true, followup = "" } = {}) {
  const f = RECT_ACTIONS[action];
  if (!f) throw new Error("未知操作");
  const text = note.trim();
  const path = `/api/rectifications/${task.rectification_id}/${f.verb}`;
  if (action === "rectification.call_back") {
    if (!reached && !text) throw new Error("未联系上评价人时请填写回访情况");
    const body = { reached: !!reached, note: text };
    if (reached && followup !== "" && followup !== null) body.followup_level = Number(followup);
    return { path, body };
  }
  if (f.required && !text) throw new Error(`请填写${f.title}`);
  if (action === "rectification.appeal") return { path, body: { reason: text } };
  return { path, body: { note: text } };
}
