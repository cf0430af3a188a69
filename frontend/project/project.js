// 一表通 project page (/project?no=XM-…), for the hall's staff: the project's stages as a
// progression (each stage's case, state, clock, and its steps at their departments), the one
// material store, the fees, the overall clock (the government's working time against the flow's
// limit) and what the next stage will ask for. GET /api/projects/{no}; live: the project's
// hall stream, read again (coalesced) on any event that concerns the project (model.js).
import { $, api, ApiError, coalesce, fill, formatDateTime, h, param, toLogin } from "../shared/api.js";
import { connectTerminal } from "../shared/live.js";
import {
  CASE_STATE_NAMES, concerns, currentStage, limitText, materialStatus, moneyText, overallClock, stageClock,
  stageLabel, stageStatus, stepsProgress, stepView, workingDayOf,
} from "./model.js";

const CONN_TEXT = { online: "实时", connecting: "连接中", offline: "离线", unauthorized: "登录失效" };
const STAFF = new Set(["clerk", "leader", "supervisor", "admin"]);

const state = { no: null, project: null, departments: {}, live: null, readAt: Date.now() };

function fail(message) {
  $("#loading").hidden = false;
  $("#project").hidden = true;
  fill($("#loading"), h("div", { class: "alert", id: "error" }, message));
}

async function load() {
  const p = await api(`/api/projects/${encodeURIComponent(state.no)}`);
  state.readAt = Date.now();
  const first = state.project === null;
  state.project = p;
  if (first) {
    try {
      const { departments } = await api(`/api/halls/${encodeURIComponent(p.hall)}/departments`);
      state.departments = Object.fromEntries(departments.map((d) => [d.code, d.name]));
    } catch { /* codes stand in for names */ }
  }
  render();
  return p;
}

const reload = coalesce(async () => {
  try {
    await load();
  } catch (err) {
    if (err.status === 401) toLogin();
  }
}, 100);

function dept(code) {
  return state.departments[code] || code;
}

// ------------------------------------------------------------------ drawing
function renderSummary(p) {
  const clock = overallClock(p.clock);
  const cur = currentStage(p);
  fill($("#summary"),
    h("div", { class: "p-name" },
      h("h1", {}, p.name),
      h("span", { class: `badge ${p.state === "completed" ? "green" : ""}`, id: "project-state" },
        p.state === "completed" ? "已全部办结" : "在办")),
    h("dl", { class: "p-facts" },
      h("dt", {}, "项目编号"), h("dd", { class: "num" }, p.project_no),
      h("dt", {}, "流程"), h("dd", {}, `${p.workflow_name}（第 ${p.version} 版）`),
      h("dt", {}, "建设单位"), h("dd", {}, p.applicant),
      h("dt", {}, "受理大厅"), h("dd", {}, `${p.hall_name} · ${p.window_no} 号窗口`),
      h("dt", {}, "立项时间"), h("dd", {}, formatDateTime(p.opened_at)),
      h("dt", {}, "当前阶段"), h("dd", { id: "project-stage" },
        p.state === "completed" ? `${formatDateTime(p.completed_at)} 全部办结`
          : cur ? stageLabel(cur.stage_no, p.stages.length, cur.name) : "未受理")),
    h("div", { class: `p-clock tone-${clock.tone}`, id: "project-clock" },
      h("b", {}, clock.used), h("span", {}, ` / ${clock.limit}`),
      clock.tone === "late" ? h("div", {}, clock.text.split("，")[1]) : null,
      h("small", {}, "各阶段政府办理用时合计（不含申请人准备下一阶段的时间）")));
}

function renderStep(s, now) {
  const v = stepView(s, now);
  return h("li", { class: `p-step t-${v.tone}`, dataset: { step: s.code, state: s.state || "" } },
    h("div", { class: "p-step-head" },
      h("b", {}, s.name),
      h("span", { class: "p-step-state" }, v.state_name)),
    h("div", { class: "p-step-dept" }, dept(s.department)),
    v.note ? h("div", { class: "p-step-note" }, v.note) : null,
    s.state === "done" || s.state === "consented"
      ? h("div", { class: "p-step-time" }, `${formatDateTime(s.done_at)} ${s.state === "done" ? "办结" : "默许"}`)
      : s.due_at && (s.state === "ready" || s.state === "claimed")
        ? h("div", { class: "p-step-time" }, `${v.late ? "已超时，" : ""}应于 ${formatDateTime(s.due_at)} 前办结`) : null);
}

function renderStages(p) {
  const wd = workingDayOf(p.clock);
  // the page's reading of "now": the server answered at readAt (its clocks are as of then)
  const now = state.readAt;
  fill($("#stages"), p.stages.map((s) => {
    const status = stageStatus(s);
    const clock = stageClock(s, wd);
    return h("li", { class: `p-stage ${status}`, dataset: { stage: s.stage_no, status } },
      h("div", { class: "p-stage-no" }, `第 ${s.stage_no} 阶段`),
      h("div", { class: "p-stage-name" }, s.name),
      h("div", { class: "p-stage-case" },
        s.case ? [h("span", { class: "num" }, s.case.case_no), " ",
          h("span", { class: `p-case-state s-${s.case.state}` }, CASE_STATE_NAMES[s.case.state] || s.case.state)]
          : h("span", { class: "p-case-state" }, "未受理")),
      h("div", { class: `p-stage-clock tone-${clock.tone}` }, clock.text),
      s.case ? h("div", { class: "p-stage-meta" }, `${formatDateTime(s.case.accepted_at)} 受理 · 时限 ${limitText(s.limit)}`) : null,
      h("div", { class: "p-stage-progress" }, s.case ? stepsProgress(s.steps) : `${s.steps.length} 个环节`),
      h("ul", { class: "p-steps" }, s.steps.map((step) => renderStep(step, now))),
      s.issues.length ? h("div", { class: "p-stage-issues" }, `核发：${s.issues.join("、")}`) : null);
  }));
}

function renderMaterials(p) {
  const onFile = p.materials.filter((m) => m.on_file).length;
  $("#materials-note").textContent = `共 ${p.materials.length} 份，已收取 ${onFile} 份；一次提交，各阶段共用`;
  fill($("#materials"),
    h("tr", {}, ["材料", "收取阶段", "状态"].map((t) => h("th", {}, t))),
    p.materials.length ? p.materials.map((m) => {
      const st = materialStatus(m);
      return h("tr", { dataset: { material: m.name, status: st.tone } },
        h("td", {}, m.name),
        h("td", {}, `第 ${m.stage_no} 阶段 · `, h("span", { class: "num" }, m.case_no)),
        h("td", { class: `m-${st.tone}` }, st.status));
    }) : h("tr", {}, h("td", { colspan: "3", class: "none" }, "尚未收取材料")));
}

function renderFees(p) {
  fill($("#fees"),
    h("tr", {}, ["阶段", "项目", "金额", "票据号"].map((t) => h("th", {}, t))),
    p.fees.map((f) => h("tr", {},
      h("td", {}, `第 ${f.stage_no} 阶段`),
      h("td", {}, f.name),
      h("td", { class: "num" }, moneyText(f.amount_cents)),
      h("td", { class: "num" }, f.receipt_no))),
    h("tr", { class: "p-total" },
      h("td", { colspan: "2" }, p.fees.length ? "合计" : "暂无收费"),
      h("td", { class: "num", id: "fees-total" }, moneyText(p.fees_total_cents)),
      h("td", {})));
}

function renderNext(p) {
  const n = p.next_stage;
  $("#next-panel").hidden = !n;
  if (!n) return;
  fill($("#next"),
    h("p", { class: "p-next-name" }, `第 ${n.stage_no} 阶段 · ${n.name}`,
      h("small", {}, `（到 ${dept(p.lead_department)}窗口受理）`)),
    h("h3", {}, `需新提交 ${n.materials.length} 份`),
    n.materials.length ? h("ul", { class: "p-next-list", id: "next-materials" }, n.materials.map((m) => h("li", {},
      m.name, m.is_key ? null : h("span", { class: "badge" }, "可容缺")))) : h("p", {}, "无需新材料"),
    n.on_file.length ? [h("h3", {}, `已在材料库，无需再交 ${n.on_file.length} 份`),
      h("ul", { class: "p-next-list on-file" }, n.on_file.map((name) => h("li", {}, name)))] : null);
}

function render() {
  const p = state.project;
  $("#loading").hidden = true;
  $("#project").hidden = false;
  document.title = `${p.name} · 一表通项目`;
  $("#hall-name").textContent = p.hall_name;
  $("#project-no").textContent = p.project_no;
  renderSummary(p);
  renderStages(p);
  renderMaterials(p);
  renderFees(p);
  renderNext(p);
}

// ------------------------------------------------------------------ live
function connect(hall) {
  const conn = $("#conn");
  state.live = connectTerminal({
    hall,
    onSnapshot: () => reload(),   // a (re)connect: what happened meanwhile
    onLive: () => reload(),
    onEvent: (ev) => { if (concerns(state.project, ev)) reload(); },
    onStatus: (s) => {
      conn.dataset.state = s;
      conn.textContent = CONN_TEXT[s] || s;
      if (s === "unauthorized") toLogin();
    },
  });
}

async function start() {
  state.no = (param("no") || "").trim().toUpperCase();
  let actor;
  try {
    actor = (await api("/api/session")).actor;
  } catch (err) {
    if (err.status === 401) return toLogin();
    fail(err.message);
    setTimeout(start, 5000);
    return;
  }
  if (actor.must_change_password) return toLogin(true);
  if (!STAFF.has(actor.role)) return fail("项目页面仅供大厅工作人员使用，请使用工作人员账号登录。");
  $("#who").textContent = actor.name;
  if (!state.no) return fail("请从项目列表打开，或在地址中给出项目编号（?no=XM-…）");
  let p;
  try {
    p = await load();
  } catch (err) {
    if (err.status === 401) return toLogin();
    return fail(err instanceof ApiError ? err.message : "无法读取项目");
  }
  connect(p.hall);
}

start();
