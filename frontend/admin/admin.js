// 大厅管理 (hall admin): tabs for the live windows (the lobby's notice line with its templates,
// every window's state grouped by department with open / pause / close, a forced sign-out,
// adding and configuring windows; each queue's waiting count), staff, devices, the item
// catalogue, the hall calendar, the leaders' duty roster, the hall's settings, and the
// spreadsheets. The windows table reads the hall's Socket.IO stream
// (the same state model as the lobby display): a window the admin adds or re-configures
// appears from its `window.configured` event, on every admin screen, without a reload.
import { $, api, fill, formatWaitShort, h, hallOf, logOut, pageActor, toast, toLogin, WINDOW_STATUS_LABEL } from "../shared/api.js";
import { HallState } from "../shared/hallstate.js";
import { currentTicketPhrase } from "../shared/ticket-state.js";
import { connectTerminal } from "../shared/live.js";
import { base, ctx, loadSettings, loadStructure, queueNames, saveSettings } from "./context.js";
import {
  groupSummary, groupWindows, hashOfTab, tabAfterKey, tabFromHash, TABS, TEMPLATES_MAX, templateLabel,
} from "./model.js";
import { confirmAction, failed } from "./ui.js";
import { editWindow } from "./windows-edit.js";
import * as staffTab from "./staff.js";
import * as devicesTab from "./devices.js";
import * as itemsTab from "./items.js";
import * as calendarTab from "./calendar.js";
import * as dutyTab from "./duty.js";
import * as settingsTab from "./settings.js";
import * as sheetsTab from "./sheets.js";

const NOTICE_MAX = 500;
const COLUMNS = 7;
const COLLAPSED_KEY = "hallops.admin.collapsed";
const hall = new HallState();
const priorityOnly = new Set();   // window numbers of 爱心窗口 (priority_only), from the admin list
let renderPending = false;
let collapsed = new Set(JSON.parse(localStorage.getItem(COLLAPSED_KEY) || "[]"));

const PANELS = {
  staff: staffTab, devices: devicesTab, items: itemsTab, calendar: calendarTab, duty: dutyTab,
  settings: settingsTab, sheets: sheetsTab,
};
// live events a tab redraws from (the windows tab reads every event through HallState)
const TAB_EVENTS = {
  "calendar.day_set": [calendarTab, dutyTab],
  "calendar.year_loaded": [calendarTab, dutyTab],
  "duty.set": [dutyTab],
};

// ------------------------------------------------------------------ tabs
function showTab(name, { focus = false } = {}) {
  for (const tab of TABS) {
    const button = $(`#tab-${tab}`);
    const active = tab === name;
    button.setAttribute("aria-selected", String(active));
    button.tabIndex = active ? 0 : -1;
    $(`#panel-${tab}`).hidden = !active;
  }
  if (focus) $(`#tab-${name}`).focus();
  if (PANELS[name]) PANELS[name].show($(`#panel-${name}`));
  else {
    render();
    loadTemplates();
  }
  const title = $(`#tab-${name}`).textContent;
  document.title = `大厅管理 · ${title} · ${ctx.hall ? ctx.hall.name : ""}`;
}

function selectTab(name, focus) {
  if (location.hash !== hashOfTab(name)) history.replaceState(null, "", hashOfTab(name));
  showTab(name, { focus });
}

for (const button of document.querySelectorAll("[role=tab]")) {
  button.addEventListener("click", () => selectTab(button.dataset.tab, false));
  button.addEventListener("keydown", (ev) => {
    const next = tabAfterKey(button.dataset.tab, ev.key);
    if (!next) return;
    ev.preventDefault();
    selectTab(next, true);
  });
}
window.addEventListener("hashchange", () => showTab(tabFromHash(location.hash)));

// ------------------------------------------------------------------ rendering
function render() {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    renderNotice();
    renderStats();
    renderWindows();
    renderQueues();
  });
}

function renderNotice() {
  $("#notice-current").textContent = hall.notice || "（默认欢迎语）";
  $("#notice-current").dataset.text = hall.notice;
}

function renderStats() {
  let open = 0; let busy = 0; let staffed = 0;
  for (const w of hall.windows.values()) {
    if (w.status === "open") open += 1;
    if (w.ticket) busy += 1;
    if (w.clerk) staffed += 1;
  }
  $("#stat-open").textContent = open;
  $("#stat-serving").textContent = busy;
  $("#stat-staffed").textContent = staffed;
  $("#stat-waiting").textContent = hall.totalWaiting();
}

// Rows and group bodies are kept and replaced only when what they show changed, so a live
// event does not rebuild 130 rows nor take the keyboard focus away from a button.
const rowCache = new Map();     // window_no -> {sig, tr}
const groupCache = new Map();   // department -> {tbody, head}

function rowOf(w) {
  const t = w.ticket;
  const only = priorityOnly.has(w.window_no);
  const sig = JSON.stringify([w.name, w.zone, w.status, w.clerk && w.clerk.name, t && t.ticket_no,
    t && t.status, w.queues, only]);
  const cached = rowCache.get(w.window_no);
  if (cached && cached.sig === sig) return cached.tr;
  const names = queueNames();
  const switches = ["open", "paused", "closed"].filter((s) => s !== w.status).map((s) =>
    h("button", { class: "btn", type: "button", onclick: () => setStatus(w.window_no, s) }, WINDOW_STATUS_LABEL[s]));
  const signOut = w.clerk
    ? h("button", { class: "btn danger", type: "button", onclick: () => forceSignOut(w.window_no) }, "强制签退")
    : null;
  const tr = h("tr", { dataset: { window: w.window_no } },
    h("td", { class: "no num" }, w.window_no),
    h("td", {}, w.name || "", only ? h("span", { class: "badge amber a-only" }, "爱心窗口") : null,
      w.zone ? h("span", { class: "wname" }, w.zone) : null),
    h("td", { class: "a-qs" }, (w.queues || []).map((c) => names.get(c) || c).join("、") || h("span", { class: "none" }, "—")),
    h("td", {}, h("span", { class: `badge s-${w.status}` }, WINDOW_STATUS_LABEL[w.status] || w.status)),
    h("td", { class: w.clerk ? "" : "none" }, w.clerk ? w.clerk.name : "未签到"),
    h("td", {}, t ? h("span", { class: `badge num t-${t.status}` },
      `${t.ticket_no} ${t.status === "called" ? "已呼叫" : "办理中"}`) : h("span", { class: "none" }, "—")),
    h("td", {}, h("div", { class: "a-actions" }, ...switches, signOut,
      h("button", { class: "btn ghost-dark", type: "button", onclick: () => openEditor(w.window_no) }, "编辑"))));
  rowCache.set(w.window_no, { sig, tr });
  return tr;
}

function groupOf(g) {
  let gc = groupCache.get(g.department);
  if (!gc) {
    const toggle = h("button", {
      class: "a-dept-toggle", type: "button",
      onclick: () => toggleGroup(g.department),
    }, h("span", { class: "a-caret", "aria-hidden": "true" }), h("b", {}), h("span", { class: "a-dept-sum" }));
    const add = h("button", {
      class: "btn a-small", type: "button",
      onclick: () => openEditor(null, g.department),
    }, "在此部门新增窗口");
    const head = h("tr", { class: "a-dept" }, h("th", { colspan: String(COLUMNS), scope: "rowgroup" },
      h("div", { class: "a-dept-line" }, toggle, add)));
    const tbody = h("tbody", { class: "a-group", dataset: { dept: g.department } }, head);
    gc = { tbody, head, toggle };
    groupCache.set(g.department, gc);
  }
  const filtering = Boolean($("#filter").value.trim() || $("#filter-status").value);
  gc.toggle.setAttribute("aria-expanded", String(!g.collapsed));
  gc.toggle.querySelector("b").textContent = g.name;
  gc.toggle.querySelector(".a-dept-sum").textContent = groupSummary(g, filtering);
  const rows = g.windows.map(rowOf);
  const current = [...gc.tbody.children].slice(1);
  if (current.length !== rows.length || current.some((r, i) => r !== rows[i])) {
    gc.tbody.replaceChildren(gc.head, ...rows);
  }
  return gc.tbody;
}

let emptyBody = null;

function renderWindows() {
  const groups = groupWindows(hall.windows.values(), {
    text: $("#filter").value, status: $("#filter-status").value, collapsed,
  });
  const table = $("#windows");
  const bodies = groups.map(groupOf);
  if (!bodies.length) {
    emptyBody = emptyBody || h("tbody", {}, h("tr", {}, h("td", { colspan: String(COLUMNS), class: "none" }, "没有符合条件的窗口")));
    bodies.push(emptyBody);
  }
  const current = [...table.tBodies];
  if (current.length !== bodies.length || current.some((b, i) => b !== bodies[i])) {
    for (const b of current) if (!bodies.includes(b)) b.remove();
    for (const b of bodies) table.append(b);   // append moves: the order follows `bodies`
  }
}

function toggleGroup(department) {
  if (collapsed.has(department)) collapsed.delete(department);
  else collapsed.add(department);
  localStorage.setItem(COLLAPSED_KEY, JSON.stringify([...collapsed]));
  render();
}

function renderQueues() {
  fill($("#queues"), [...hall.queues.values()].map((q) => {
    // the figures are the server's (the estimated wait is never computed in the browser)
    const open = q.open_windows > 0;
    return h("div", { class: "a-q", dataset: { queue: q.code } },
      h("i", {}, q.prefix), h("span", { class: "name" }, q.name),
      h("b", { class: "num" }, q.waiting),
      h("small", {}, open ? (q.waiting ? formatWaitShort(q.estimated_wait_seconds) : "随到随办") : "无窗口"));
  }));
}

// ------------------------------------------------------------------ commands
async function setStatus(windowNo, status) {
  const w = hall.windows.get(windowNo);
  if (!w) return;
  const label = WINDOW_STATUS_LABEL[status];
  if (status !== "open" && w.ticket) {
    const what = currentTicketPhrase(w.ticket);  // called is not serving: said the same everywhere
    const after = status === "closed" ? "关闭后该窗口不再叫号，" : "暂停后该窗口暂不叫号，";
    if (!await confirmAction(`${label} ${windowNo} 号窗口`,
      `${windowNo} 号窗口${what}。${after}当前这位群众仍留在窗口，由工作人员继续处理。确定要${label}吗？`, label)) return;
  }
  try {
    await api(`${base()}/windows/${windowNo}/status`, { method: "POST", body: { status } });
    toast(`${windowNo} 号窗口已${label}`, "ok");
  } catch (err) { failed(err); }
}

async function forceSignOut(windowNo) {
  const w = hall.windows.get(windowNo);
  if (!w || !w.clerk) return;
  if (!await confirmAction(`强制签退 ${windowNo} 号窗口`,
    `${w.clerk.name} 将从 ${windowNo} 号窗口签退，窗口随之关闭，需重新签到后才能叫号。`, "强制签退")) return;
  const name = w.clerk.name;
  try {
    await api(`${base()}/windows/${windowNo}/sign-out`, { method: "POST" });
    toast(`${name} 已从 ${windowNo} 号窗口签退`, "ok");
  } catch (err) { failed(err); }
}

async function openEditor(windowNo, department) {
  try {
    const saved = await editWindow(windowNo, {
      department,
      liveWindow: windowNo === null ? null : hall.windows.get(windowNo),
      windowNos: [...hall.windows.keys()],
    });
    if (saved) toast(saved, "ok");
  } catch (err) { failed(err); }
}

async function loadPriorityRules() {
  const { windows } = await api(`${base()}/admin/windows`);
  priorityOnly.clear();
  for (const w of windows) if (w.priority_rule === "priority_only") priorityOnly.add(w.window_no);
}

function countNotice() {
  $("#notice-count").textContent = `${$("#notice-text").value.length} / ${NOTICE_MAX}`;
}

async function publishNotice(text) {
  const button = $("#notice-save");
  button.disabled = true;
  try {
    const res = await api(`${base()}/notice`, { method: "PUT", body: { text } });
    $("#notice-text").value = res.text;
    countNotice();
    toast(res.text ? "公告已发布到大厅显示屏" : "公告已清空，显示屏恢复默认欢迎语", "ok");
  } catch (err) { failed(err); } finally { button.disabled = false; }
}

// the templates kept on 设置, offered on the notice card: one click fills the text box, the
// admin reads it and publishes with the button as before
async function loadTemplates() {
  try {
    await loadSettings();
  } catch (err) { failed(err); return; }
  drawTemplates();
}

function drawTemplates() {
  const list = (ctx.settings && ctx.settings.notice_templates) || [];
  fill($("#notice-templates"), h("span", { class: "a-templates-label" }, "常用模板："),
    list.length ? list.map((t, i) => h("button", {
      class: "btn a-small a-template-pick", type: "button", title: t, dataset: { template: i },
      "aria-label": `填入模板：${t}`,
      onclick: () => {
        $("#notice-text").value = t;
        countNotice();
        $("#notice-text").focus();
      },
    }, templateLabel(t))) : h("span", { class: "none" }, "暂无，可在", h("a", { href: "#/settings" }, "设置"), "中添加，或把写好的公告“存为模板”"));
}

async function keepAsTemplate() {
  const text = $("#notice-text").value.trim();
  if (!text) { toast("请先填写公告内容", "error"); return; }
  try {
    const { notice_templates: list } = await loadSettings();
    if (list.includes(text)) { toast("这条公告已在模板中", "info"); return; }
    if (list.length >= TEMPLATES_MAX) { toast(`模板已满 ${TEMPLATES_MAX} 条，请先在“设置”中删除不用的模板`, "error"); return; }
    await saveSettings({ notice_templates: [...list, text] });
    toast("已存为公告模板", "ok");
  } catch (err) { failed(err); }
  drawTemplates();
}

$("#notice-keep").addEventListener("click", keepAsTemplate);
$("#notice-text").addEventListener("input", countNotice);
$("#notice-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  publishNotice($("#notice-text").value);
});
$("#notice-clear").addEventListener("click", () => publishNotice(""));
$("#filter").addEventListener("input", render);
$("#filter-status").addEventListener("change", render);
$("#expand-all").addEventListener("click", () => {
  collapsed = new Set();
  localStorage.setItem(COLLAPSED_KEY, "[]");
  render();
});
$("#collapse-all").addEventListener("click", () => {
  collapsed = new Set([...hall.windows.values()].map((w) => w.department || ""));
  localStorage.setItem(COLLAPSED_KEY, JSON.stringify([...collapsed]));
  render();
});
$("#window-add").addEventListener("click", () => openEditor(null));
$("#logout").addEventListener("click", logOut);

// ------------------------------------------------------------------ start
async function start() {
  const actor = await pageActor("admin", "大厅管理仅供管理员使用，请使用管理员账号登录。", $("#loading"), start);
  if (!actor) return;
  if (actor.must_change_password) {
    fill($("#loading"), h("div", { class: "alert" }, "首次登录或密码被重置后须先修改密码。",
      h("a", { href: "/login?next=%2Fadmin" }, "去修改密码")));
    return;
  }
  const own = await hallOf(actor);
  ctx.hall = own;
  ctx.actor = actor;
  $("#who").textContent = actor.name;
  $("#hall-name").textContent = own.name;
  try {
    await Promise.all([loadStructure(), loadPriorityRules(), calendarTab.refreshCoverage()]);
  } catch (err) {
    if (err.status === 401) return toLogin();
    fill($("#loading"), h("div", { class: "alert" }, err.message));
    setTimeout(start, 5000);
    return;
  }
  let firstSnapshot = true;
  const conn = $("#conn");
  connectTerminal({
    hall: ctx.hall.code,
    onSnapshot: (snap) => {
      hall.applySnapshot(snap);
      if (firstSnapshot) {
        firstSnapshot = false;
        $("#notice-text").value = hall.notice;
        countNotice();
        $("#loading").hidden = true;
        $("#admin").hidden = false;
        showTab(tabFromHash(location.hash));
      }
      render();
    },
    onEvent: (ev) => {
      if (ev.type === "window.configured") {
        const d = ev.data || {};
        if (d.priority_rule === "priority_only") priorityOnly.add(d.window_no);
        else priorityOnly.delete(d.window_no);
      }
      for (const tab of TAB_EVENTS[ev.type] || []) tab.onEvent(ev);
      if (hall.applyEvent(ev)) render();
    },
    onStatus: (s, message) => {
      conn.dataset.state = s;
      conn.textContent = { online: "实时", connecting: "连接中", offline: "离线", unauthorized: "登录失效" }[s] || s;
      if (s === "unauthorized") toLogin();
      if (message) toast(message, "error");
    },
  });
}

start();
