// /track: a citizen follows their case (or, before it is accepted, their registration's place
// in the queue) by a code: the case's query code, or the registration notice's query code
// (?code= prefills and loads: both notices link here). Never the notice's barcode (reg_no):
// sequential, the server refuses it here as it refuses any wrong code.
//
// A case is shown as a live timeline (GET /api/track/{code}, masked). Live: an anonymous
// Socket.IO connection {track: code} brings the case's events only, as positions ({seq, type});
// on any of them the page reads the view again. A registration not yet a case keeps the queue
// view (GET /api/notice/{code}), polled, and becomes the case view once the window accepts.
import { $, api, ApiError, coalesce, fill, formatDateTime, h, limitText, param, waitPhrase } from "/static/shared/api.js";
import { connectTerminal } from "/static/shared/live.js";
import {
  adviceText, jointProgress, jointStages, pickupPoint, projectStages, remainingText, stepStatuses, timelineEntries,
} from "./timeline.js";

const QUEUE_STATE = {
  waiting: (t, n) => ["等候中", n.ahead ? `前面还有 ${n.ahead} 人，${waitPhrase(n.estimated_wait_seconds)}` : "即将叫号，请留意叫号屏"],
  called: (t) => [`请到 ${t.window_no} 号窗口办理`, "已叫号，请尽快前往"],
  serving: (t) => [`正在 ${t.window_no} 号窗口办理`, ""],
  parked: (t) => ["业务已挂起", `请补齐材料后回到 ${t.window_no} 号窗口`],
  done: (t) => [OUTCOME[t.outcome] || "已结束", ""],
};
const OUTCOME = {
  served: "窗口办理已完成", transferred: "已转办", no_show: "已过号，请到咨询台重新取号",
  cancelled: "已取消", parked_expired: "挂起已超时，请重新取号", closed_unserved: "当日未办理，请重新取号",
};
const QUEUE_POLL_MS = 10000;
const FALLBACK_POLL_MS = 30000;     // while the live connection is down
const CONN_TEXT = { online: "实时更新", connecting: "连接中", offline: "离线，稍后自动重试", unauthorized: "无法实时更新" };
const TRACKED_CLASSES = { done: "done", skipped: "skipped", current: "current", todo: "todo", void: "void" };

let current = null;     // the code shown
let timer = null;       // queue view polling
let live = null;        // the case's live connection
let liveState = null;
let refreshCase = null;

function stopFollowing() {
  clearTimeout(timer);
  timer = null;
  if (live) live.close();
  live = null;
  liveState = null;
  refreshCase = null;
  $("#conn").hidden = true;
}

function showError(message) {
  $("#case").hidden = true;
  $("#status").hidden = true;
  const error = $("#error");
  error.hidden = false;
  error.textContent = message;
  document.body.dataset.view = "error";
}

// ------------------------------------------------------------------ the case
function renderCase(v) {
  document.body.dataset.view = "case";
  $("#error").hidden = true;
  $("#status").hidden = true;
  $("#hall-name").textContent = v.hall_name;
  const box = $("#case");
  box.hidden = false;
  box.dataset.state = v.state;
  const advice = adviceText(v);
  const remaining = remainingText(v.clock, v);
  const deadline = v.clock && v.clock.deadline;
  fill(box,
    h("div", { class: "c-top" },
      h("div", {},
        h("div", { class: "c-item" }, v.item_name),
        h("div", { class: "c-meta" }, `${v.department_name} · ${v.window_no} 号窗口受理 · 申请人 ${v.applicant}`)),
      h("div", { class: "c-no num" }, v.case_no)),
    h("div", { class: `c-state s-${v.state}`, id: "case-state" }, v.state_name),
    advice ? h("div", { class: "c-advice", id: "case-advice" }, advice) : null,
    v.supplement ? h("ul", { class: "c-missing", id: "case-missing" },
      v.supplement.materials.map((m) => h("li", {},
        h("b", {}, m.name), m.status === "faulty" ? h("span", { class: "badge amber" }, "有误") : h("span", { class: "badge red" }, "缺少"),
        m.problem ? h("small", {}, m.problem) : null))) : null,
    h("ol", { class: "c-steps", id: "case-steps" },
      stepStatuses(v.steps, v.state, v.timeline).map((s) =>
        h("li", { class: TRACKED_CLASSES[s.status], dataset: { step: s.state } },
          h("i", {}), h("span", {}, s.status === "skipped" ? `${s.name}（无需）` : s.name)))),
    h("dl", { class: "c-rows" },
      h("dt", {}, "受理时间"), h("dd", {}, formatDateTime(v.accepted_at)),
      h("dt", {}, "办结期限"), h("dd", { id: "case-deadline" },
        v.kind === "immediate" ? "即办件" : deadline ? `${formatDateTime(deadline)} 前` : "暂停计时中"),
      h("dt", {}, "剩余时间"), h("dd", { class: `tone-${remaining.tone}`, id: "case-remaining" }, remaining.text)),
    v.project ? renderProject(v.project) : null,
    v.joint ? renderJoint(v.joint) : null,
    h("h2", {}, "办理进程"),
    h("ol", { class: "c-timeline", id: "case-timeline" },
      timelineEntries(v.timeline).map((t, i) => h("li", { class: i === 0 ? "latest" : "" },
        h("time", { class: "num" }, formatDateTime(t.at)),
        h("b", {}, t.label),
        h("span", {}, [t.state_name, t.where].filter(Boolean).join(" · "))))));
}

/** 一表通: the project this case is a stage of, its stages in a row (this one marked). */
function renderProject(project) {
  const p = projectStages(project);
  return h("section", { class: "c-project", id: "case-project" },
    h("h2", {}, p.title),
    h("p", { class: "p-no" }, "项目编号 ", h("span", { class: "num" }, p.number), " · ", p.progress),
    h("ol", { class: "p-line" }, p.stages.map((s) => h("li", {
      class: `p-stage ${s.status}${s.this ? " this" : ""}`, dataset: { stage: s.no, state: s.status },
    },
    h("i", {}),
    h("b", {}, s.name),
    h("span", {}, s.this ? `${s.state_name} · 本件` : s.state_name)))));
}

/** A joint case's internal steps: a vertical line of rounds (one step, or several departments
 * side by side), stage by stage, ending at the one pick-up window. */
function renderJoint(joint) {
  const stages = jointStages(joint, formatDateTime);
  const many = stages.length > 1;
  const pickup = pickupPoint(joint.pickup);
  return h("section", { class: "c-joint", id: "case-joint" },
    h("h2", {}, `联办环节 · ${joint.name}`),
    h("p", { class: "j-progress" }, jointProgress(joint)),
    h("ol", { class: "j-line" },
      stages.flatMap((stage) => [
        many ? h("li", { class: "j-stage" }, `第 ${stage.no} 阶段 · ${stage.name}`) : null,
        ...stage.rounds.map((round) => h("li", { class: `j-round ${round.status}` },
          round.parallel ? h("div", { class: "j-par" }, `${round.steps.length} 个部门同时办理`) : null,
          h("ul", { class: "j-steps" }, round.steps.map((s) => h("li", {
            class: `j-step t-${s.tone}`, dataset: { step: s.code, state: s.state },
          },
          h("div", { class: "j-head" },
            h("b", { class: "j-name" }, s.name),
            h("span", { class: "j-state" }, s.state_name)),
          h("div", { class: "j-dept" }, s.department_name),
          s.time ? h("div", { class: "j-time" }, s.time) : null))))),
      ]),
      pickup ? h("li", { class: `j-round j-pickup ${pickup.status}`, id: "case-pickup" },
        h("b", {}, pickup.title), h("div", { class: "j-time" }, pickup.text)) : null));
}

async function loadCase(code) {
  const v = await api(`/api/track/${encodeURIComponent(code)}`);
  if (code === current) renderCase(v);
  return v;
}

function follow(code) {
  // one reading per burst of events (a command may bring two: the change and the sign-off)
  refreshCase = coalesce(async () => {
    if (code !== current) return;
    try {
      await loadCase(code);
    } catch (e) {
      if (e instanceof ApiError && e.status === 429) return;  // the next event or poll retries
      console.error(e);
    }
  }, 100);
  const conn = $("#conn");
  conn.hidden = false;
  live = connectTerminal({
    credential: async () => ({ track: code }),
    scoped: true,
    refusedCodes: ["unknown_query_code"],
    onSnapshot: () => refreshCase(),
    onEvent: () => refreshCase(),
    onLive: () => refreshCase(),   // what happened while (re)connecting
    onStatus: (s) => {
      liveState = s;
      conn.dataset.state = s;
      conn.textContent = CONN_TEXT[s] || s;
    },
  });
  const poll = () => {
    if (code !== current) return;
    if (liveState !== "online" && refreshCase) refreshCase();
    timer = setTimeout(poll, FALLBACK_POLL_MS);
  };
  timer = setTimeout(poll, FALLBACK_POLL_MS);
}

// ------------------------------------------------------------------ the registration
function renderQueue(n) {
  document.body.dataset.view = "queue";
  $("#error").hidden = true;
  $("#case").hidden = true;
  const t = n.ticket || {};
  const [state, detail] = (QUEUE_STATE[t.status] || QUEUE_STATE.done)(t, n);
  $("#hall-name").textContent = n.hall.name;
  const box = $("#status");
  box.hidden = false;
  fill(box,
    h("div", { class: "t-ticket num" }, t.ticket_no || "—"),
    h("div", { class: `t-state ${t.status === "called" ? "called" : t.status === "done" ? "done" : ""}` }, state),
    detail ? h("div", {}, detail) : "",
    h("dl", { class: "t-rows" },
      h("dt", {}, "办理事项"), h("dd", {}, n.item.name),
      h("dt", {}, "办理部门"), h("dd", {}, n.department),
      h("dt", {}, "承诺时限"), h("dd", {}, n.promised_due ? `${limitText(n.item_kind, n.promised_limit, n.limit_unit)}，${formatDateTime(n.promised_due)} 前` : "即办件，当场办结"),
      h("dt", {}, "登记号"), h("dd", { class: "num" }, n.reg_no),
      h("dt", {}, "登记时间"), h("dd", {}, formatDateTime(n.created_at))));
  return t.status !== "done";
}

// ------------------------------------------------------------------ either
/** The case if the code leads to one, else the registration's queue view. */
async function show(code) {
  current = code;
  try {
    await loadCase(code);
    history.replaceState(null, "", `?code=${encodeURIComponent(code)}`);
    follow(code);
    return;
  } catch (e) {
    if (code !== current) return;
    if (!(e instanceof ApiError) || e.code !== "unknown_query_code") {
      showError(e instanceof ApiError ? e.message : "网络异常，请稍后再试");
      return;
    }
  }
  try {
    const n = await api(`/api/notice/${encodeURIComponent(code)}`);
    if (code !== current) return;
    history.replaceState(null, "", `?code=${encodeURIComponent(code)}`);
    // polled: a registration has no live view of its own; once accepted it is a case
    if (renderQueue(n)) timer = setTimeout(() => { if (code === current) show(code); }, QUEUE_POLL_MS);
  } catch (e) {
    if (code !== current) return;
    showError(e instanceof ApiError ? e.message : "网络异常，请稍后再试");
  }
}

function start(code) {
  stopFollowing();
  show(code);
}

$("#form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const code = $("#code").value.trim().toUpperCase();
  if (code) start(code);
});
const initial = param("code");
if (initial) { $("#code").value = initial.toUpperCase(); start(initial.trim().toUpperCase()); }
