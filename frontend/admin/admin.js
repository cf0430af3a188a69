// 大厅管理 (hall admin): the lobby's scrolling notice line, every window's state with open /
// pause / close and a forced sign-out, and each queue's waiting count, all live on the hall's
// Socket.IO stream (the same state model as the lobby display, so both show the same thing).
import { $, api, fill, formatWaitShort, h, hallOf, logOut, pageActor, toast, toLogin, WINDOW_STATUS_LABEL } from "../shared/api.js";
import { HallState } from "../shared/hallstate.js";
import { connectTerminal } from "../shared/live.js";

const NOTICE_MAX = 500;
const hall = new HallState();
let hallCode = null;
let renderPending = false;

const base = () => `/api/halls/${encodeURIComponent(hallCode)}`;

function failed(err) {
  if (err.status === 401) return toLogin();
  toast(err.message, "error");
}

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

function matches(w, text, status) {
  if (status && w.status !== status) return false;
  if (!text) return true;
  return String(w.window_no) === text || [w.name, w.department_name, w.clerk && w.clerk.name]
    .some((s) => s && s.includes(text));
}

function renderWindows() {
  const text = $("#filter").value.trim();
  const status = $("#filter-status").value;
  const rows = [...hall.windows.values()].filter((w) => matches(w, text, status)).map((w) => {
    const t = w.ticket;
    const switches = ["open", "paused", "closed"].filter((s) => s !== w.status).map((s) =>
      h("button", { class: "btn", type: "button", onclick: () => setStatus(w, s) }, WINDOW_STATUS_LABEL[s]));
    const signOut = w.clerk
      ? h("button", { class: "btn danger", type: "button", onclick: () => forceSignOut(w) }, "强制签退")
      : null;
    return h("tr", { dataset: { window: w.window_no } },
      h("td", { class: "no num" }, w.window_no),
      h("td", {}, w.department_name || "", h("div", { class: "wname" }, w.name)),
      h("td", {}, h("span", { class: `badge s-${w.status}` }, WINDOW_STATUS_LABEL[w.status] || w.status)),
      h("td", { class: w.clerk ? "" : "none" }, w.clerk ? w.clerk.name : "未签到"),
      h("td", {}, t ? h("span", { class: `badge num t-${t.status}` },
        `${t.ticket_no} ${t.status === "called" ? "已呼叫" : "办理中"}`) : h("span", { class: "none" }, "—")),
      h("td", {}, h("div", { class: "a-actions" }, ...switches, signOut)));
  });
  fill($("#windows"), rows.length ? rows
    : h("tr", {}, h("td", { colspan: "6", class: "none" }, "没有符合条件的窗口")));
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
function confirm(title, body, okLabel) {
  const dlg = $("#confirm");
  $("#confirm-title").textContent = title;
  $("#confirm-body").textContent = body;
  $("#confirm-ok").textContent = okLabel;
  dlg.returnValue = "";
  dlg.showModal();
  return new Promise((resolve) => dlg.addEventListener("close", () => resolve(dlg.returnValue === "ok"), { once: true }));
}

async function setStatus(w, status) {
  if (status !== "open" && w.ticket
      && !await confirm(`${WINDOW_STATUS_LABEL[status]} ${w.window_no} 号窗口`,
        `${w.window_no} 号窗口正在办理 ${w.ticket.ticket_no} 号，确定要${WINDOW_STATUS_LABEL[status]}吗？`, "确定")) return;
  try {
    await api(`${base()}/windows/${w.window_no}/status`, { method: "POST", body: { status } });
    toast(`${w.window_no} 号窗口已${WINDOW_STATUS_LABEL[status]}`, "ok");
  } catch (err) { failed(err); }
}

async function forceSignOut(w) {
  if (!await confirm(`强制签退 ${w.window_no} 号窗口`,
    `${w.clerk.name} 将从 ${w.window_no} 号窗口签退，需重新签到后才能叫号。`, "强制签退")) return;
  try {
    await api(`${base()}/windows/${w.window_no}/sign-out`, { method: "POST" });
    toast(`${w.clerk ? w.clerk.name : ""} 已从 ${w.window_no} 号窗口签退`, "ok");
  } catch (err) { failed(err); }
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

$("#notice-text").addEventListener("input", countNotice);
$("#notice-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  publishNotice($("#notice-text").value);
});
$("#notice-clear").addEventListener("click", () => publishNotice(""));
$("#filter").addEventListener("input", render);
$("#filter-status").addEventListener("change", render);
$("#logout").addEventListener("click", logOut);

// ------------------------------------------------------------------ start
async function start() {
  const actor = await pageActor("admin", "大厅管理仅供管理员使用，请使用管理员账号登录。", $("#loading"), start);
  if (!actor) return;
  const own = await hallOf(actor);
  hallCode = own.code;
  $("#who").textContent = actor.name;
  $("#hall-name").textContent = own.name;
  document.title = `大厅管理 · ${own.name}`;
  let firstSnapshot = true;
  const conn = $("#conn");
  connectTerminal({
    hall: hallCode,
    onSnapshot: (snap) => {
      hall.applySnapshot(snap);
      if (firstSnapshot) {
        firstSnapshot = false;
        $("#notice-text").value = hall.notice;
        countNotice();
        $("#loading").hidden = true;
        $("#admin").hidden = false;
      }
      render();
    },
    onEvent: (ev) => { if (hall.applyEvent(ev)) render(); },
    onStatus: (s, message) => {
      conn.dataset.state = s;
      conn.textContent = { online: "实时", connecting: "连接中", offline: "离线", unauthorized: "登录失效" }[s] || s;
      if (s === "unauthorized") toLogin();
      if (message) toast(message, "error");
    },
  });
}

start();
