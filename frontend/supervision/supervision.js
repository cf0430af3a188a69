// 电子监察: the supervision office's wall and desk. The hall live (GET /api/halls/{hall}/supervision,
// then the hall's whole event stream): open alarms by colour, overdue and near-due cases, the
// longest waits, windows' states, waiting sign-offs, today's rates; a city's supervisor sees its
// county halls in totals and drills into one. Drill-down: hall → department → window → case
// (its full timeline and alarms) → alarm (its timeline). Supervisors acknowledge and annotate
// alarms here (POST /api/alarms/{id}/acknowledge, /annotate). The month's tab: alarms per
// department and window, response times, outcomes, and each department's score with the formula.
import { $, api, coalesce, fill, formatClock, formatDateTime, h, hallOf, logOut, pageActor, param, toast, toLogin } from "../shared/api.js";
import { connectTerminal } from "../shared/live.js";
import { stateText } from "../shared/alarms.js";
import { levelChip, syncRows } from "../shared/alarm-view.js";
import { remainingText } from "../track/timeline.js";
import {
  caseTimeText, crumbs, departmentActive, issuedText, kindsText, monthOf, rateText, reduceWallEvent, responseText, scoreTone,
  secondsSince, sinceText, viewOf, visible, wallActions, wallModel, windowStateLabel,
} from "./wall.js";
import { figuresNote, figuresRow } from "./figures.js";
import { applyProjectChange, projectRow } from "./projects.js";
import { createAppeals } from "./appeals.js";

const NEW_FOR_MS = 20000;   // a new alarm stays marked this long
const TICK_MS = 15000;      // relative times move on
const FIGURES_MS = 5 * 60000; // 联办成效: the last 30 days move slowly, read again this often

const state = {
  actor: null,
  home: null,            // the supervisor's own hall {code, name}
  hall: null,            // the hall on the wall (own, or a county hall drilled into)
  model: null,
  view: viewOf(),
  tab: "wall",
  live: null,
  arrivedAt: new Map(),  // alarm_id -> when it arrived on this screen
  alarmRows: new Map(),
  windowCases: null,     // the drilled-into window's open cases
  month: null,
  allDepartments: false, // the departments' table: only those with something to see
  projects: [],          // 一表通: the hall's active projects (a city's with its county halls')
};

const hallPath = (suffix = "") => `/api/halls/${encodeURIComponent(state.hall)}${suffix}`;

// ------------------------------------------------------------------ reading
async function loadWall() {
  const snap = await api(hallPath("/supervision"));
  state.model = wallModel(snap);
  renderWall();
}

const refetch = coalesce(async () => {
  try {
    await loadWall();
  } catch (err) {
    if (err.status === 401) toLogin();
    else toast(err.message, "error");
  }
}, 800);

// 联办成效: each workflow the hall runs, its figures over the last 30 days (the panel hides
// when the hall runs none, or the figures cannot be read)
async function loadFigures() {
  const hall = state.hall;
  try {
    const { workflows } = await api(hallPath("/workflows"));
    const list = await Promise.all(workflows.map((w) => api(hallPath(`/workflows/${encodeURIComponent(w.code)}/figures`))));
    if (hall === state.hall) renderFigures(list);
  } catch (err) {
    if (err.status === 401) return toLogin();
    if (hall === state.hall) renderFigures([]);
  }
}

function renderFigures(list) {
  $("#figures-panel").hidden = !list.length;
  $("#figures-note").textContent = figuresNote(list);
  fill($("#figures"),
    h("tr", {}, ["联办事项", "办结/受理", "平均用时（工作）", "按时办结", "跑动次数", "申请材料"].map((t) => h("th", {}, t))),
    list.map(figuresRow).map((r) => h("tr", { dataset: { workflow: r.code } },
      h("td", {}, r.name),
      h("td", {}, r.cases),
      h("td", { title: r.hoursTitle }, r.hours),
      h("td", {}, r.onTime),
      h("td", {}, r.visits),
      h("td", {}, r.materials))));
}

// 一表通项目: the hall's active projects; project.changed moves a row at once (renderProjects),
// and the list is read again behind it (what the payload does not carry: when it was opened)
async function loadProjects() {
  const hall = state.hall;
  try {
    const { projects } = await api(hallPath("/projects?state=active"));
    if (hall === state.hall) {
      state.projects = projects;
      renderProjects();
    }
  } catch (err) {
    if (err.status === 401) toLogin();
  }
}

const refetchProjects = coalesce(loadProjects, 500);

// 差评申诉: the appeals waiting for a supervisor's decision (appeals.js)
const appeals = createAppeals({ hall: () => state.hall, toLogin });

function hallNames() {
  const snap = state.model && state.model.snap;
  const names = {};
  if (snap) {
    names[snap.hall.code] = snap.hall.name;
    for (const c of snap.counties || []) names[c.code] = c.name;
  }
  return names;
}

function renderProjects() {
  const list = state.projects;
  $("#projects-note").textContent = `在办 ${list.length} 个`;
  fill($("#projects"),
    h("tr", {}, ["项目", "大厅", "阶段", "阶段办件"].map((t) => h("th", {}, t))),
    list.length ? list.map((p) => projectRow(p, state.hall)).map((r) => h("tr", { dataset: { project: r.no } },
      h("td", { class: "wrap" }, h("a", { href: r.href }, r.name), h("br", {}), h("small", { class: "num" }, r.no)),
      h("td", {}, r.hall || "本大厅"),
      h("td", { class: "wrap" }, r.stage),
      h("td", {}, r.caseState)))
      : h("tr", {}, h("td", { colspan: "4", class: "none" }, "没有在办的一表通项目")));
}

async function loadWindowCases() {
  const v = state.view;
  state.windowCases = null;
  if (v.window_no === null) return;
  try {
    const res = await api(hallPath(`/windows/${v.window_no}/cases`));
    state.windowCases = res.cases.filter((c) => c.window_no === v.window_no);
  } catch (err) {
    toast(err.message, "error");
  }
  renderWall();
}

function connect() {
  if (state.live) state.live.close();
  const conn = $("#conn");
  state.live = connectTerminal({
    hall: state.hall,
    // a (re)connect: whatever happened meanwhile is in the snapshot as read now
    onSnapshot: () => { refetch(); refetchProjects(); appeals.refresh(); },
    onLive: () => { refetch(); refetchProjects(); appeals.refresh(); },
    onEvent: (ev) => {
      if (!state.model) return;
      const effect = reduceWallEvent(state.model, ev);
      if (!effect) return;
      if (effect.arrived !== null) state.arrivedAt.set(effect.arrived, Date.now());
      if (effect.project) {
        state.projects = applyProjectChange(state.projects, effect.project, hallNames());
        renderProjects();
        refetchProjects();
      }
      if (effect.appeals) appeals.refresh();
      if (effect.render) renderWall();
      // alarms too: a snapshot read while this event was on its way must not win over it
      if (effect.refetch || ev.type.startsWith("alarm.")) refetch();
    },
    onStatus: (s, message) => {
      conn.dataset.state = s;
      conn.textContent = { online: "实时", connecting: "连接中", offline: "离线", unauthorized: "登录失效" }[s] || s;
      if (s === "unauthorized") toLogin();
      if (message) toast(message, "error");
    },
  });
}

// ------------------------------------------------------------------ navigating
function keepUrl() {
  const q = new URLSearchParams();
  if (state.hall !== state.home.code) q.set("hall", state.hall);
  if (state.view.department !== null) q.set("department", state.view.department);
  if (state.view.window_no !== null) q.set("window", String(state.view.window_no));
  if (state.tab === "month") q.set("tab", "month");
  if (document.body.classList.contains("wall-mode")) q.set("wall", "1");
  const s = q.toString();
  history.replaceState(null, "", `${location.pathname}${s ? `?${s}` : ""}`);
  // the ballot box's batch screen of the hall in view (评议箱计票)
  $("#ballots-link").href = `/ballots?hall=${encodeURIComponent(state.hall)}`;
}

function go(view) {
  state.view = view;
  state.windowCases = null;
  keepUrl();
  renderWall();
  if (view.window_no !== null) loadWindowCases();
}

async function switchHall(code) {
  state.hall = code;
  state.view = viewOf();
  state.model = null;
  state.alarmRows.clear();
  state.projects = [];
  fill($("#alarms"));
  keepUrl();
  if (state.tab === "month") await loadMonth();
  await loadWall();
  connect();
  loadFigures();
  loadProjects();
}

function setTab(tab) {
  state.tab = tab;
  $("#tab-wall").setAttribute("aria-selected", String(tab === "wall"));
  $("#tab-month").setAttribute("aria-selected", String(tab === "month"));
  $("#wall").hidden = tab !== "wall";
  $("#month").hidden = tab !== "month";
  keepUrl();
  if (tab === "month") loadMonth();
}

// ------------------------------------------------------------------ the wall
function renderCrumbs() {
  const items = [];
  if (state.hall !== state.home.code) {
    items.push({ label: state.home.name, onclick: () => switchHall(state.home.code) });
  }
  const list = crumbs(state.model, state.view);
  list.forEach((c, i) => items.push({
    label: c.label, current: i === list.length - 1, onclick: () => go(c.view),
  }));
  fill($("#crumbs"), items.map((c, i) => [
    i ? h("span", { class: "sep", "aria-hidden": "true" }, "›") : null,
    h("button", { type: "button", "aria-current": c.current ? "page" : null, onclick: c.current ? null : c.onclick }, c.label),
  ]));
}

function kpi(label, value, tone, id) {
  return h("div", { class: `s-kpi k-${tone}`, id }, h("b", { class: "num" }, value), h("span", {}, label));
}

function renderKpis(vis) {
  const s = state.model.snap;
  const c = vis.counts;
  const dept = state.view.department !== null ? s.departments.find((d) => d.code === state.view.department) : null;
  const rates = dept ? dept.rates : s.rates;
  const atHall = state.view.department === null && state.view.window_no === null;
  fill($("#kpis"),
    kpi("红牌", c.red, "red", "kpi-red"),
    kpi("黄牌", c.yellow, "yellow", "kpi-yellow"),
    kpi("预警", c.warning, "amber", "kpi-warning"),
    kpi("未签收告警", c.unacknowledged, c.unacknowledged ? "red" : "green", "kpi-unack"),
    kpi("超期办件", atHall ? s.cases.overdue_total : vis.overdue.length, "red", "kpi-overdue"),
    kpi("临近到期", atHall ? s.cases.near_due_total : vis.near_due.length, "amber", "kpi-near"),
    kpi(`排队等候（超时 ${s.waits.over_limit}）`, s.waits.waiting, s.waits.over_limit ? "red" : "blue", "kpi-waiting"),
    kpi("今日即办率", rateText(rates && rates.immediate_rate), "blue", "kpi-immediate"),
    kpi("今日按时办结率", rateText(rates && rates.on_time_rate), "green", "kpi-ontime"),
    kpi("今日提前办结率", rateText(rates && rates.early_share), "green", "kpi-early"));
}

function buildAlarmRow(alarm) {
  const li = h("li", { class: "s-alarm" });
  li.append(
    h("span", { class: "lvl" }),
    h("span", { class: "s-alarm-sum", role: "button", tabindex: "0",
      onclick: () => openAlarm(Number(li.dataset.alarm)),
      onkeydown: (ev) => { if (ev.key === "Enter") openAlarm(Number(li.dataset.alarm)); } }),
    h("span", { class: "s-alarm-btns" }),
    h("span", { class: "s-alarm-meta" }));
  return li;
}

function updateAlarmRow(li, alarm) {
  const now = Date.now();
  const arrived = state.arrivedAt.get(alarm.alarm_id);
  li.dataset.level = alarm.level;
  li.dataset.acknowledged = String(!!alarm.acknowledged);
  li.classList.toggle("a-new", arrived !== undefined && now - arrived < NEW_FOR_MS);
  const chip = levelChip(alarm);
  chip.classList.add("lvl");
  li.querySelector(".lvl").replaceWith(chip);
  li.querySelector(".s-alarm-sum").textContent = alarm.summary || alarm.kind_name;
  const where = [alarm.department_name || alarm.department, alarm.window_no ? `${alarm.window_no} 号窗口` : null]
    .filter(Boolean).join(" · ");
  fill(li.querySelector(".s-alarm-meta"),
    h("span", {}, alarm.kind_name),
    where ? h("span", {}, where) : null,
    h("span", {}, `发出 ${issuedText(alarm.issued_at, now)}（${sinceText(secondsSince(alarm.issued_at, now))}前）`),
    alarm.acknowledged
      ? h("span", { class: "ack" }, `已签收${alarm.acknowledged_by ? `（${alarm.acknowledged_by}）` : ""}`)
      : h("span", { class: "unack" }, "未签收"),
    alarm.state !== "issued" || alarm.appeal_pending ? h("span", {}, stateText(alarm)) : null);
  const btns = li.querySelector(".s-alarm-btns");
  const actions = wallActions(alarm);
  const key = actions.join(",");
  if (btns.dataset.actions !== key) {
    btns.dataset.actions = key;
    fill(btns, actions.map((a) => a === "acknowledge"
      ? h("button", { class: "btn success", type: "button", dataset: { act: "acknowledge" },
        onclick: () => acknowledge(Number(li.dataset.alarm)) }, "签收")
      : h("button", { class: "btn", type: "button", dataset: { act: "annotate" },
        onclick: () => openNote(Number(li.dataset.alarm)) }, "批注")));
  }
}

function renderAlarms(vis) {
  $("#alarm-count").textContent = vis.alarms.length;
  $("#alarm-note").textContent = state.model.truncated ? `仅列出最近 ${state.model.alarms.length} 条` : "按红牌、黄牌、预警排列，未签收在前";
  $("#alarms-empty").hidden = vis.alarms.length > 0;
  syncRows($("#alarms"), state.alarmRows, vis.alarms, buildAlarmRow, updateAlarmRow);
}

function row(main, meta, side, { tone = "", onclick = null, data = null } = {}) {
  return h("li", { class: onclick ? "clickable" : "", onclick, dataset: data },
    h("span", { class: "r-main" }, main),
    h("span", { class: `r-side ${tone}` }, side),
    h("span", { class: "r-meta" }, meta));
}

function caseRow(c, wd) {
  const t = caseTimeText(c, wd, Date.parse(state.model.snap.now));
  return row(`${c.case_no} ${c.item_name}`,
    [c.department_name, `${c.window_no} 号窗口`, c.clerk_name].filter(Boolean).join(" · "),
    t.text, { tone: t.tone, onclick: () => openCase(c.case_id), data: { case: c.case_id } });
}

function renderCases(vis) {
  const s = state.model.snap;
  const wd = s.working_day_s;
  const items = [...vis.overdue.map((c) => caseRow(c, wd)), ...vis.near_due.map((c) => caseRow(c, wd))];
  if (state.view.window_no !== null && state.windowCases) {
    const shown = new Set([...vis.overdue, ...vis.near_due].map((c) => c.case_id));
    for (const c of state.windowCases) {
      if (shown.has(c.case_id)) continue;
      const clock = remainingText(c.clock, c);
      items.push(row(`${c.case_no} ${c.item_name}`, `${c.state_name} · ${c.clerk_name}`, clock.text,
        { tone: clock.tone === "late" ? "late" : "", onclick: () => openCase(c.case_id), data: { case: c.case_id } }));
    }
  }
  $("#cases-note").textContent = state.view.window_no !== null ? "本窗口在办办件，超期与临近到期在前" : `超期 ${vis.overdue.length} · 临近到期 ${vis.near_due.length}`;
  fill($("#cases"), items.length ? items : h("li", { class: "none" }, "没有超期或临近到期的办件"));
}

function renderWaits(vis) {
  const s = state.model.snap;
  $("#waits-note").textContent = `超过 ${s.limits.ticket_wait_minutes} 分钟为超时`;
  fill($("#waits"), vis.waits.length
    ? vis.waits.map((t) => row(`${t.ticket_no} 号 · ${t.queue_name}`, `取号 ${formatClock(t.queued_at)}`,
      `已等 ${sinceText(t.waited_s)}${t.over_limit ? "（超时）" : ""}`, { tone: t.over_limit ? "late" : "" }))
    : h("li", { class: "none" }, "当前无人排队等候"));
}

function renderWindows(vis) {
  const s = state.model.snap;
  $("#windows-note").textContent = `暂停超过 ${s.limits.window_pause_minutes} 分钟为暂停超时`;
  fill($("#windows"), vis.windows.map((w) => {
    const st = windowStateLabel(w);
    const extra = w.state === "paused" || w.state === "paused_too_long"
      ? `已暂停 ${sinceText(w.paused_s)}` : w.clerk_name || (w.state === "closed" ? "" : "无人");
    return h("button", {
      type: "button", class: `s-win t-${st.tone}`, dataset: { window: w.window_no, state: w.state },
      "aria-current": state.view.window_no === w.window_no ? "true" : null,
      title: `${w.window_no} 号窗口 · ${w.department_name} · ${st.label}`,
      onclick: () => go(viewOf({ department: w.department, window_no: w.window_no })),
    }, h("b", { class: "num" }, `${w.window_no}号`), h("span", {}, st.label), h("small", {}, extra));
  }));
}

function renderSignoffs(vis) {
  const s = state.model.snap;
  $("#signoffs-note").textContent = `超过 ${s.limits.signoff_wait_minutes} 分钟为等候超时`;
  fill($("#signoffs"), vis.signoffs.length
    ? vis.signoffs.map((x) => row(`${x.case_no} ${x.item_name}`,
      `${x.department_name} · ${x.window_no} 号窗口 · ${x.requested_by}`,
      `已等 ${sinceText(x.waited_s)}${x.too_long ? "（超时）" : ""}`,
      { tone: x.too_long ? "late" : "", onclick: () => openCase(x.case_id) }))
    : h("li", { class: "none" }, "没有等候签批的办件"));
}

function renderDepartments() {
  const s = state.model.snap;
  const all = state.allDepartments;
  const shown = all ? s.departments : s.departments.filter((d) => departmentActive(d) || d.code === state.view.department);
  $("#departments-all").textContent = all ? "只显示有情况的部门" : "显示全部部门";
  $("#departments-all").setAttribute("aria-pressed", String(all));
  $("#departments-note").textContent = all ? `共 ${s.departments.length} 个部门` : `${shown.length} 个部门有告警、超期或窗口异常，其余 ${s.departments.length - shown.length} 个正常`;
  fill($("#departments"),
    h("tr", {}, ["部门", "红牌", "黄牌", "预警", "超期", "临近", "在岗窗口", "开放无人"].map((t) => h("th", {}, t))),
    shown.map((d) => h("tr", {
      class: "clickable", dataset: { department: d.code },
      "aria-current": state.view.department === d.code ? "true" : null,
      onclick: () => go(viewOf({ department: d.code })),
    },
    h("td", {}, d.name),
    h("td", { class: d.alarms.red ? "red" : "" }, d.alarms.red),
    h("td", {}, d.alarms.yellow),
    h("td", {}, d.alarms.warning),
    h("td", { class: d.overdue ? "red" : "" }, d.overdue),
    h("td", {}, d.near_due),
    h("td", {}, d.windows_open),
    h("td", { class: d.windows_unattended ? "red" : "" }, d.windows_unattended))));
}

function renderCounties() {
  const counties = state.model.snap.counties || [];
  $("#counties-panel").hidden = !counties.length;
  if (!counties.length) return;
  fill($("#counties"),
    h("tr", {}, ["大厅", "红牌", "黄牌", "预警", "未签收", "超期", "等候", "开放窗口", "开放无人"].map((t) => h("th", {}, t))),
    counties.map((c) => h("tr", { class: "clickable", dataset: { hall: c.code }, onclick: () => switchHall(c.code) },
      h("td", {}, c.name),
      h("td", { class: c.red ? "red" : "" }, c.red),
      h("td", {}, c.yellow),
      h("td", {}, c.warning),
      h("td", { class: c.unacknowledged ? "red" : "" }, c.unacknowledged),
      h("td", { class: c.overdue ? "red" : "" }, c.overdue),
      h("td", {}, c.waiting),
      h("td", {}, c.windows_open),
      h("td", { class: c.windows_unattended ? "red" : "" }, c.windows_unattended))));
}

function renderWall() {
  if (!state.model) return;
  $("#loading").hidden = true;
  if (state.tab === "wall") $("#wall").hidden = false;
  const vis = visible(state.model, state.view);
  document.title = `${vis.counts.unacknowledged ? `(${vis.counts.unacknowledged}) ` : ""}电子监察 · ${state.model.snap.hall.name}`;
  renderCrumbs();
  renderKpis(vis);
  renderAlarms(vis);
  renderCounties();
  renderDepartments();
  renderCases(vis);
  renderWaits(vis);
  renderWindows(vis);
  renderSignoffs(vis);
}

// ------------------------------------------------------------------ acting on alarms
function findAlarm(id) {
  return state.model && state.model.alarms.find((a) => a.alarm_id === id);
}

async function acknowledge(id) {
  try {
    await api(`/api/alarms/${id}/acknowledge`, { method: "POST", body: {} });
    const a = findAlarm(id);
    if (a && !a.acknowledged) {
      // its alarm.changed says the same; not waiting for it keeps the button from a second press
      a.acknowledged = true;
      a.acknowledged_by = state.actor.name;
      renderWall();
    }
    toast("已签收告警", "ok");
    if ($("#detail-dialog").open && state.detailAlarm === id) openAlarm(id);
  } catch (err) {
    if (err.status === 401) return toLogin();
    toast(err.message, "error");
    refetch();
  }
}

function openNote(id) {
  state.noting = id;
  const a = findAlarm(id);
  $("#note-alarm").textContent = a ? `${a.level_name} · ${a.summary}` : `告警 ${id}`;
  $("#note-text").value = "";
  $("#note-error").hidden = true;
  $("#note-ok").disabled = false;
  $("#note-dialog").showModal();
  $("#note-text").focus();
}

async function saveNote() {
  const id = state.noting;
  const note = $("#note-text").value.trim();
  const error = $("#note-error");
  if (!note) {
    error.textContent = "请填写批注内容";
    error.hidden = false;
    return;
  }
  $("#note-ok").disabled = true;
  try {
    await api(`/api/alarms/${id}/annotate`, { method: "POST", body: { note } });
    $("#note-dialog").close();
    toast("批注已保存", "ok");
    if ($("#detail-dialog").open && state.detailAlarm === id) openAlarm(id);
  } catch (err) {
    if (err.status === 401) return toLogin();
    error.textContent = err.message;
    error.hidden = false;
    $("#note-ok").disabled = false;
  }
}

$("#note-form").addEventListener("submit", (ev) => { ev.preventDefault(); saveNote(); });
$("#note-cancel").addEventListener("click", () => $("#note-dialog").close());

// ------------------------------------------------------------------ details: a case, an alarm
function timeline(entries) {
  return h("ol", { class: "s-timeline" }, entries.map((e) => h("li", {},
    h("time", { class: "num" }, formatDateTime(e.at)),
    h("b", {}, e.label),
    e.by || e.note ? h("small", {}, [e.by, e.note].filter(Boolean).join(" · ")) : null)));
}

function openDetail(title) {
  $("#detail-title").textContent = title;
  fill($("#detail-body"), h("div", { class: "s-empty" }, "正在加载…"));
  if (!$("#detail-dialog").open) $("#detail-dialog").showModal();
}

async function openCase(caseId) {
  state.detailAlarm = null;
  openDetail("办件详情");
  try {
    const [c, alarms] = await Promise.all([
      api(`/api/cases/${caseId}`),
      api(hallPath(`/alarms?state=all&case_id=${caseId}`)),
    ]);
    const clock = remainingText(c.clock, c);
    $("#detail-title").textContent = `${c.case_no} ${c.item_name}`;
    fill($("#detail-body"),
      h("dl", { class: "s-facts", id: "case-facts" },
        h("dt", {}, "状态"), h("dd", {}, c.state_name),
        h("dt", {}, "部门 / 窗口"), h("dd", {}, `${c.department_name} · ${c.window_no} 号窗口 · ${c.clerk_name}`),
        h("dt", {}, "申请人"), h("dd", {}, c.applicant.name),
        h("dt", {}, "受理时间"), h("dd", {}, formatDateTime(c.accepted_at)),
        h("dt", {}, "办结时限"), h("dd", {}, c.clock && c.clock.deadline ? formatDateTime(c.clock.deadline) : "—"),
        h("dt", {}, "剩余时间"), h("dd", { class: `tone-${clock.tone}` }, clock.text)),
      h("h3", {}, `告警（${alarms.alarms.length}）`),
      alarms.alarms.length
        ? h("ol", { class: "s-rows", id: "case-alarms" }, alarms.alarms.map((a) => h("li", {
          class: "clickable", dataset: { alarm: a.alarm_id }, onclick: () => openAlarm(a.alarm_id),
        }, h("span", { class: "r-main" }, levelChip(a), " ", a.summary),
        h("span", { class: "r-side" }, a.state_name),
        h("span", { class: "r-meta" }, `${a.kind_name} · 发出 ${formatDateTime(a.issued_at)}${a.acknowledged ? " · 已签收" : " · 未签收"}`))))
        : h("p", {}, "该办件没有告警"),
      h("h3", {}, "办理过程"),
      timeline(c.history.map((e) => ({
        at: e.at, label: e.label,
        by: [e.actor, e.window_no ? `${e.window_no} 号窗口` : ""].filter(Boolean).join(" "), note: e.reason,
      }))));
  } catch (err) {
    if (err.status === 401) return toLogin();
    fill($("#detail-body"), h("div", { class: "alert" }, err.message));
  }
}

async function openAlarm(id) {
  state.detailAlarm = id;
  openDetail("告警详情");
  try {
    const a = await api(`/api/alarms/${id}`);
    $("#detail-title").textContent = `${a.level_name} · ${a.kind_name}`;
    const actions = wallActions(a);
    fill($("#detail-body"),
      h("div", {}, levelChip(a), " ", h("b", {}, a.summary)),
      h("dl", { class: "s-facts", id: "alarm-facts" },
        h("dt", {}, "状态"), h("dd", {}, stateText(a)),
        h("dt", {}, "部门 / 窗口"), h("dd", {}, [a.department_name, a.window_no ? `${a.window_no} 号窗口` : ""].filter(Boolean).join(" · ") || "—"),
        h("dt", {}, "应处理时间"), h("dd", {}, formatDateTime(a.due_at)),
        h("dt", {}, "发出时间"), h("dd", {}, formatDateTime(a.issued_at)),
        h("dt", {}, "签收"), h("dd", {}, a.acknowledged ? `${formatDateTime(a.acknowledged_at)} ${a.acknowledged_by || ""}` : "未签收"),
        a.rectify_due_at ? [h("dt", {}, "答复期限"), h("dd", {}, formatDateTime(a.rectify_due_at))] : null,
        a.answer ? [h("dt", {}, "部门答复"), h("dd", {}, a.answer)] : null,
        a.appeal ? [h("dt", {}, "申诉"), h("dd", {}, a.appeal)] : null,
        h("dt", {}, "规则版本"), h("dd", {}, a.rule_version ? `第 ${a.rule_version} 版` : "默认规则")),
      actions.length || a.case_id ? h("div", { class: "s-alarm-btns" },
        actions.includes("acknowledge") ? h("button", { class: "btn success", type: "button", onclick: () => acknowledge(id) }, "签收") : null,
        actions.includes("annotate") ? h("button", { class: "btn", type: "button", onclick: () => openNote(id) }, "批注") : null,
        a.case_id ? h("button", { class: "btn", type: "button", onclick: () => openCase(a.case_id) }, `查看办件 ${a.case_no}`) : null) : null,
      h("h3", {}, "处理过程"),
      timeline(a.timeline));
  } catch (err) {
    if (err.status === 401) return toLogin();
    fill($("#detail-body"), h("div", { class: "alert" }, err.message));
  }
}

$("#detail-close").addEventListener("click", () => $("#detail-dialog").close());

// ------------------------------------------------------------------ the month
async function loadMonth() {
  const pick = $("#month-pick");
  if (!pick.value) pick.value = monthOf();
  try {
    state.month = await api(hallPath(`/supervision/month?month=${encodeURIComponent(pick.value)}`));
    renderMonth();
  } catch (err) {
    if (err.status === 401) return toLogin();
    toast(err.message, "error");
  }
}

function renderMonth() {
  const m = state.month;
  $("#loading").hidden = true;
  $("#formula").textContent = `${m.hall.name} ${m.month} · 评分公式：${m.formula}`;
  fill($("#month-departments"),
    h("tr", {}, ["部门", "得分", "预警", "黄牌", "红牌", "督办逾期", "扣分", "加分", "告警合计（按类型）",
      "平均签收用时", "平均答复用时", "关闭/撤销/作废/未结", "按时办结率", "提前办结率"].map((t) => h("th", {}, t))),
    m.departments.map((d) => h("tr", { dataset: { department: d.code } },
      h("td", {}, d.name),
      h("td", { class: `score t-${scoreTone(d.score)}` }, d.score),
      h("td", {}, d.counted.warning),
      h("td", {}, d.counted.yellow),
      h("td", { class: d.counted.red ? "red" : "" }, d.counted.red),
      h("td", { class: d.overdue_answers ? "red" : "" }, d.overdue_answers),
      h("td", {}, `−${Object.values(d.deductions).reduce((x, y) => x + y, 0)}`),
      h("td", {}, `+${d.bonus}`),
      h("td", { class: "wrap" }, `${d.alarms}：${kindsText(d.by_kind, m.kind_names)}`),
      h("td", {}, responseText(d.avg_ack_s)),
      h("td", {}, responseText(d.avg_answer_s)),
      h("td", {}, `${d.outcomes.closed}/${d.outcomes.withdrawn}/${d.outcomes.cancelled}/${d.outcomes.open}`),
      h("td", {}, rateText(d.on_time_rate)),
      h("td", {}, rateText(d.early_share)))));
  fill($("#month-windows"),
    h("tr", {}, ["窗口", "部门", "告警（按类型）", "预警/黄牌/红牌", "督办逾期", "平均签收用时", "平均答复用时", "关闭/撤销/作废/未结"].map((t) => h("th", {}, t))),
    m.windows.length ? m.windows.map((w) => h("tr", {},
      h("td", {}, `${w.window_no} 号 ${w.name}`),
      h("td", {}, w.department),
      h("td", { class: "wrap" }, `${w.alarms}：${kindsText(w.by_kind, m.kind_names)}`),
      h("td", {}, `${w.by_level.warning}/${w.by_level.yellow}/${w.by_level.red}`),
      h("td", {}, w.overdue_answers),
      h("td", {}, responseText(w.avg_ack_s)),
      h("td", {}, responseText(w.avg_answer_s)),
      h("td", {}, `${w.outcomes.closed}/${w.outcomes.withdrawn}/${w.outcomes.cancelled}/${w.outcomes.open}`)))
      : h("tr", {}, h("td", { colspan: "8" }, "本月没有窗口告警")));
}

$("#departments-all").addEventListener("click", () => {
  state.allDepartments = !state.allDepartments;
  renderDepartments();
});
$("#month-pick").addEventListener("change", loadMonth);
$("#tab-wall").addEventListener("click", () => setTab("wall"));
$("#tab-month").addEventListener("click", () => setTab("month"));
$("#wall-mode").addEventListener("click", () => {
  const on = document.body.classList.toggle("wall-mode");
  $("#wall-mode").setAttribute("aria-pressed", String(on));
  keepUrl();
});
$("#logout").addEventListener("click", logOut);

// ------------------------------------------------------------------ start
async function start() {
  const actor = await pageActor("supervisor", "电子监察仅供监察人员使用，请使用监察员账号登录。", $("#loading"), start);
  if (!actor) return;
  state.actor = actor;
  state.home = await hallOf(actor);
  state.hall = param("hall", state.home.code);
  const dept = param("department");
  const win = param("window");
  state.view = viewOf({ department: dept, window_no: win === null ? null : Number(win) });
  if (param("wall") === "1") {
    document.body.classList.add("wall-mode");
    $("#wall-mode").setAttribute("aria-pressed", "true");
  }
  $("#who").textContent = actor.name;
  try {
    await loadWall();
  } catch (err) {
    if (err.status === 401) return toLogin();
    fill($("#loading"), h("div", { class: "alert" }, err.message));
    return;
  }
  if (state.view.window_no !== null) loadWindowCases();
  connect();
  loadFigures();
  loadProjects();
  setInterval(loadFigures, FIGURES_MS);
  if (param("tab") === "month") setTab("month");
  const tickClock = () => { $("#clock").textContent = formatClock(new Date(), true); };
  tickClock();
  setInterval(tickClock, 1000);
  setInterval(() => { if (state.model && state.tab === "wall") renderWall(); }, TICK_MS);
}

start();
