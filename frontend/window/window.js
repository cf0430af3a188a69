// Window terminal (窗口终端): a clerk signs in at a window of their department, opens it and
// serves the queue: call, recall, no-show, start, finish, transfer, park/resume, call a
// specific ticket, scan a notice's barcode. The board (GET .../board) is the truth; the live
// Socket.IO connection tells when to fetch it again, so the page never needs a reload. Cases
// (accept, work, print, the leader's sign-off) are the case panel's (cases.js).
import {
  $, api, coalesce, fill, formatWaitShort, h, hallOf, logOut, minutesSince, PRIORITY_LABEL, toast,
  toLogin, WINDOW_STATUS_LABEL,
} from "../shared/api.js";
import { connectTerminal } from "../shared/live.js";
import { signOutRefusal, statusChangeQuestion } from "../shared/ticket-state.js";
import { createAlarmPanel } from "./alarms.js";
import { createCasePanel } from "./cases.js";
import { checklist } from "./checklist.js";
import { reduceWindowEvent } from "./events.js";
import { createInboxPanel } from "./inbox.js";

const state = {
  actor: null,
  hall: null,
  departments: [],
  windows: new Map(),     // window_no -> window (status, clerk, queues), kept live
  queues: [],             // [{code, name, prefix, department_code}]
  windowNo: null,
  board: null,
  itemCodes: new Map(),   // item name -> code (a ticket carries the item's name)
  items: [],              // the hall's items (GET .../items)
  materials: new Map(),   // item code -> materials (GET .../items/{code}), cached
  checked: new Map(),     // ticket id -> Set of material positions the clerk ticked
  live: null,
  busy: false,
};

const base = () => `/api/halls/${encodeURIComponent(state.hall.code)}`;
const windowUrl = (verb) => `${base()}/windows/${state.windowNo}/${verb}`;

// ------------------------------------------------------------------ messages
function say(text, kind = "info") {
  const m = $("#message");
  m.textContent = text;
  m.className = `w-message ${kind}`;
}

function failed(err) {
  if (err.status === 401) return toLogin();
  say(err.message, "error");
  toast(err.message, "error");
}

const cases = createCasePanel({
  hall: () => state.hall,
  windowNo: () => state.windowNo,
  actor: () => state.actor,
  department: () => myDepartment(),
  departmentName: (code) => (state.departments.find((d) => d.code === code) || {}).name || code,
  items: () => {
    const dept = myDepartment();
    return state.items.filter((i) => dept && i.department_code === dept.code);
  },
  currentTicket: () => (state.board && state.board.current) || null,
  received: (ticketId) => state.checked.get(ticketId),
  // the case opened or changed: the current ticket's checklist may now be that case's
  caseShown: () => { if (state.board) renderMaterials(state.board.current); },
  say,
  failed,
  toLogin,
});
const isLeader = () => !!state.actor && state.actor.role === "leader";
const alarms = createAlarmPanel({
  hall: () => state.hall,
  windowNo: () => state.windowNo,
  openCase: (caseId) => cases.open(caseId),
  toLogin,
});
const inbox = createInboxPanel({
  hall: () => state.hall,
  windowNo: () => state.windowNo,
  actor: () => state.actor,
  department: () => myDepartment(),
  toLogin,
});

// ------------------------------------------------------------------ start
async function start() {
  let session;
  try {
    session = await api("/api/session");
  } catch (err) {
    if (err.status === 401) return toLogin();
    fill($("#loading"), h("div", { class: "alert" }, err.message));
    setTimeout(start, 5000);
    return;
  }
  state.actor = session.actor;
  if (state.actor.must_change_password) return toLogin(true);  // a one-time password: first
  // leaders sign off at a window of their department
  if (state.actor.role !== "clerk" && state.actor.role !== "leader") {
    fill($("#loading"), h("div", { class: "alert" }, "窗口终端仅供窗口工作人员和部门负责人使用，请使用相应账号登录。"));
    return;
  }
  state.hall = await hallOf(state.actor);
  const [{ departments }, { windows }, { queues }, { items }] = await Promise.all([
    api(`${base()}/departments`), api(`${base()}/windows`), api(`${base()}/queues`),
    api(`${base()}/items`),
  ]);
  state.itemCodes = new Map(items.map((i) => [i.name, i.code]));
  state.items = items;
  state.departments = departments;
  state.windows = new Map(windows.map((w) => [w.window_no, w]));
  state.queues = queues;
  if (state.actor.window_no) showTerminal(state.actor.window_no);
  else showPicker();
}

function myDepartment() {
  return state.departments.find((d) => d.id === state.actor.department_id) || null;
}

function header() {
  const w = state.windows.get(state.windowNo);
  $("#head-no").textContent = state.windowNo ?? "—";
  $("#head-name").textContent = w ? w.name : "窗口终端";
  const dept = myDepartment();
  $("#head-who").textContent = [state.hall.name, dept && dept.name, state.actor.name].filter(Boolean).join(" · ");
  $("#status-switch").hidden = !w || isLeader();   // opening the window is the clerks'
  $("#sign-out").hidden = !w;
  for (const b of $("#status-switch").querySelectorAll("button")) {
    b.setAttribute("aria-pressed", String(!!w && w.status === b.dataset.status));
  }
  document.title = w ? `${w.name} · 窗口终端` : "窗口终端";
}

// ------------------------------------------------------------------ picker
function showPicker(message) {
  state.windowNo = null;
  state.board = null;
  cases.hide();
  alarms.hide();
  inbox.hide();
  followWindow();
  $("#loading").hidden = true;
  $("#terminal").hidden = true;
  $("#picker").hidden = false;
  header();
  const dept = myDepartment();
  $("#picker-dept").textContent = dept ? `${dept.name} 的窗口；签到后请点击“开放”开始叫号。` : "";
  const mine = [...state.windows.values()].filter((w) => dept && w.department === dept.code);
  fill($("#picker-grid"), mine.map((w) => {
    const taken = w.clerk && w.clerk.id !== state.actor.id;
    return h("button", {
      type: "button", class: "w-tile", disabled: taken, dataset: { window: w.window_no },
      onclick: () => signIn(w.window_no),
    }, h("b", { class: "num" }, `${w.window_no}号`), h("span", {}, w.name),
    h("span", {}, taken ? `${w.clerk.name} 已签到` : `当前${WINDOW_STATUS_LABEL[w.status] || w.status}`));
  }));
  const error = $("#picker-error");
  error.hidden = !message;
  error.textContent = message || "";
}

async function signIn(windowNo, move = false) {
  try {
    await api(`${base()}/windows/${windowNo}/sign-in${move ? "?move=true" : ""}`, { method: "POST" });
    state.actor = (await api("/api/session")).actor;
    const { windows } = await api(`${base()}/windows`);
    state.windows = new Map(windows.map((w) => [w.window_no, w]));
    showTerminal(windowNo);
  } catch (err) {
    if (err.status === 401) return toLogin();
    if (err.code === "signed_in_elsewhere") return askToMove(windowNo, err.message);
    showPicker(err.message);
  }
}

// Signed in at another window: moving ends that sign-in and closes that window, so the clerk
// says so first (the server's question, and a button that answers it).
function askToMove(windowNo, question) {
  showPicker(question);
  $("#picker-error").append(" ", h("button", {
    type: "button", class: "btn primary", id: "picker-move", onclick: () => signIn(windowNo, true),
  }, `改到 ${windowNo} 号窗口`));
}

$("#sign-out").addEventListener("click", async () => {
  if (state.board && state.board.current) {
    say(signOutRefusal(state.board.current), "error");
    return;
  }
  try {
    await api(windowUrl("sign-out"), { method: "POST" });
    state.actor = (await api("/api/session")).actor;
    const { windows } = await api(`${base()}/windows`);
    state.windows = new Map(windows.map((w) => [w.window_no, w]));
    showPicker();
  } catch (err) { failed(err); }
});

$("#logout").addEventListener("click", logOut);

// ------------------------------------------------------------------ terminal
function showTerminal(windowNo) {
  state.windowNo = windowNo;
  $("#loading").hidden = true;
  $("#picker").hidden = true;
  $("#terminal").hidden = false;
  header();
  const w = state.windows.get(windowNo);
  const names = (w ? w.queues : []).map((code) => (state.queues.find((q) => q.code === code) || {}).name || code);
  $("#queue-names").textContent = names.length ? `本窗口服务：${names.join("、")}` : "";
  say(isLeader() ? "请在“待签批”中签批办件" : w && w.status !== "open" ? "窗口未开放：点击右上角“开放”后即可叫号" : "就绪", "info");
  refreshBoard();
  followWindow();
  cases.show();
  alarms.show();
  inbox.show();
}

const refreshBoard = coalesce(loadBoard, 120);

async function loadBoard() {
  if (!state.windowNo) return;
  try {
    state.board = await api(windowUrl("board"));
  } catch (err) {
    if (err.status === 401) return toLogin();
    if (err.status === 403 && err.code === "not_your_window") {
      // signed out elsewhere (another terminal, or an administrator)
      state.actor = (await api("/api/session")).actor;
      return showPicker("您已不在该窗口签到，请重新选择窗口");
    }
    say(err.message, "error");
    return;
  }
  renderBoard();
}

function ticketTags(t) {
  const tags = [];
  if (t.priority && t.priority !== "normal") tags.push(h("span", { class: "badge red" }, `${PRIORITY_LABEL[t.priority]}优先`));
  if (t.target_window_no === state.windowNo) tags.push(h("span", { class: "badge amber" }, "指定本窗口"));
  if (t.target_clerk_id && t.target_clerk_id === state.actor.id) tags.push(h("span", { class: "badge amber" }, "指定本人"));
  if (t.rank === 0) tags.push(h("span", { class: "badge amber" }, "优先办理"));
  if (t.note) tags.push(h("span", { class: "badge blue" }, t.note));
  return tags;
}

function renderBoard() {
  const b = state.board;
  if (!b) return;
  const cur = b.current;
  const card = $("#current");
  card.dataset.state = cur ? cur.status : "idle";
  $("#current-no").textContent = cur ? cur.ticket_no : "—";
  $("#current-state").textContent = !cur ? "空闲" : cur.status === "called" ? "已叫号 · 等待到场" : "办理中";
  $("#current-state").className = `badge ${!cur ? "" : cur.status === "called" ? "amber" : "green"}`;
  $("#current-item").textContent = cur ? (cur.item || "（无登记事项）") : "点击“叫号”呼叫下一位群众";
  const tags = cur ? ticketTags(cur) : [];
  if (cur && cur.recalls) tags.push(h("span", { class: "badge" }, `已重呼 ${cur.recalls} 次`));
  fill($("#current-tags"), tags);
  updateTimer();
  renderMaterials(cur);

  const waitingRows = b.waiting.map((t) => h("li", {
    class: t.target_window_no === state.windowNo || t.rank === 0 ? "incoming" : "", dataset: { ticket: t.ticket_no },
  },
  h("span", { class: "no num" }, t.ticket_no),
  h("span", { class: "info" },
    h("div", { class: "item" }, t.item || "（无登记事项）"),
    h("div", { class: "meta" }, `已等 ${minutesSince(t.queued_at)} 分钟`, ticketTags(t))),
  h("button", { class: "btn", type: "button", onclick: () => openCallTo(t.ticket_no) }, "提前叫号")));
  fill($("#waiting"), waitingRows.length ? waitingRows : h("li", { class: "empty" }, "暂无等候的群众"));

  const parkedRows = b.parked.map((t) => h("li", { dataset: { ticket: t.ticket_no } },
    h("span", { class: "no num" }, t.ticket_no),
    h("span", { class: "info" },
      h("div", { class: "item" }, t.item || "（无登记事项）"),
      h("div", { class: "meta" }, `挂起 ${minutesSince(t.parked_at)} 分钟`)),
    h("button", { class: "btn success", type: "button", disabled: !!cur, onclick: () => resume(t) }, "恢复办理")));
  fill($("#parked"), parkedRows.length ? parkedRows : h("li", { class: "empty" }, "无"));

  const c = b.counts || {};
  $("#count-served").textContent = c.served ?? 0;
  $("#count-transferred").textContent = c.transferred ?? 0;
  $("#count-noshow").textContent = c.no_show ?? 0;
  $("#count-avg").textContent = c.avg_service_seconds ? formatWaitShort(c.avg_service_seconds) : "—";
  $("#count-waiting").textContent = b.waiting.length;
  updateButtons();
  cases.ticketChanged();
}

/** The one-time list of materials of the current ticket's item, as a checklist for the clerk. */
async function renderMaterials(cur) {
  const box = $("#materials");
  const code = cur && state.itemCodes.get(cur.item);
  if (!code) { box.hidden = true; return; }
  if (!state.materials.has(code)) {
    try {
      state.materials.set(code, (await api(`${base()}/items/${encodeURIComponent(code)}`)).materials);
    } catch { box.hidden = true; return; }
    const now = state.board && state.board.current;
    if (!now || now.id !== cur.id) return;   // the ticket changed meanwhile
  }
  const materials = state.materials.get(code);
  if (!materials.length) { box.hidden = true; return; }
  if (!state.checked.has(cur.id)) state.checked.set(cur.id, new Set());
  const own = state.checked.get(cur.id);
  const accepted = cases.caseOfTicket(cur.id);
  const shown = checklist(materials, own, accepted);
  const foot = () => {
    const now = checklist(materials, own, accepted);
    const el = $("#materials-foot");
    el.className = `w-materials-foot${now.ok ? " ok" : ""}`;
    el.textContent = now.text;
  };
  fill($("#materials-list"), materials.map((m) => h("li", {}, h("label", {},
    h("input", {
      type: "checkbox", checked: shown.ticked.has(m.position), disabled: shown.locked,
      onchange: (ev) => { if (ev.target.checked) own.add(m.position); else own.delete(m.position); foot(); },
    }),
    h("span", {}, m.name, m.copies > 1 ? `（${m.copies}份）` : "", m.is_key ? h("b", { class: "key" }, "必备") : null,
      m.note ? h("small", {}, m.note) : null)))));
  foot();
  box.hidden = false;
}

function updateTimer() {
  const cur = state.board && state.board.current;
  const el = $("#current-timer");
  if (!cur) { el.textContent = ""; return; }
  const since = cur.status === "serving" ? cur.service_started_at : cur.called_at;
  if (!since) { el.textContent = ""; return; }
  const secs = Math.max(0, Math.floor((Date.now() - new Date(since).getTime()) / 1000));
  const label = cur.status === "serving" ? "办理" : "已叫";
  el.textContent = `${label} ${String(Math.floor(secs / 60)).padStart(2, "0")}:${String(secs % 60).padStart(2, "0")}`;
}
setInterval(updateTimer, 1000);
setInterval(() => { if (state.board) renderBoard(); }, 30_000);   // "已等 N 分钟"

function updateButtons() {
  const w = state.windows.get(state.windowNo);
  const open = !!w && w.status === "open";
  const cur = state.board && state.board.current;
  const called = !!cur && cur.status === "called";
  const serving = !!cur && cur.status === "serving";
  // a leader at the window signs off; the queue is the clerks'
  const set = (id, enabled) => { $(id).disabled = state.busy || isLeader() || !enabled; };
  set("#act-call", open && !cur);
  set("#act-recall", called);
  set("#act-noshow", called);
  set("#act-start", called);
  set("#act-finish", serving);
  // 好差评: the service being given, or the last one (the server names what is not rateable)
  set("#act-rate", open && (!cur || serving));
  set("#act-transfer", !!cur);
  set("#act-park", !!cur);
  set("#act-cancel", !!cur);
  $("#act-call").title = !open ? "窗口开放后才能叫号" : cur ? "请先完成当前业务" : "";
}

// ------------------------------------------------------------------ commands
async function command(verb, body, okText) {
  if (state.busy) return null;
  state.busy = true;
  updateButtons();
  try {
    const res = await api(windowUrl(verb), { method: "POST", body });
    if (okText) say(typeof okText === "function" ? okText(res) : okText, "ok");
    return res;
  } catch (err) {
    failed(err);
    return null;
  } finally {
    state.busy = false;
    updateButtons();
    refreshBoard();
  }
}

const ticketNo = (res) => (res && res.ticket && res.ticket.ticket_no) || "";

const actions = {
  call: () => command("call-next", undefined, (r) => `已呼叫 ${ticketNo(r)} 号`),
  recall: () => command("recall", undefined, (r) => `已重呼 ${ticketNo(r)} 号（第 ${r.ticket.recalls} 次）`),
  start: () => command("start", undefined, (r) => `${ticketNo(r)} 号开始办理`),
  finish: () => command("finish", undefined, (r) => `${ticketNo(r)} 号已办结，可按 F6 请群众评价`),
  rate: () => command("rating-request", {}, "已请群众在评价器上评价"),
  noshow: () => {
    const requeue = $("#noshow-requeue").checked;
    return command("no-show", { requeue }, (r) => {
      $("#noshow-requeue").checked = false;
      const no = r.events[0] && r.events[0].data.ticket_no;
      return requeue ? `${no} 号已过号，重新排到队尾` : `${no} 号已过号`;
    });
  },
  park: () => command("park", undefined, (r) => `${ticketNo(r)} 号已挂起`),
  transfer: () => openTransfer(),
};

$("#act-call").addEventListener("click", actions.call);
$("#act-recall").addEventListener("click", actions.recall);
$("#act-start").addEventListener("click", actions.start);
$("#act-finish").addEventListener("click", actions.finish);
$("#act-rate").addEventListener("click", actions.rate);
$("#act-noshow").addEventListener("click", actions.noshow);
$("#act-park").addEventListener("click", actions.park);
$("#act-transfer").addEventListener("click", actions.transfer);
$("#act-cancel").addEventListener("click", () => {
  $("#cancel-reason").value = "";
  $("#cancel-reason-pick").value = "";
  $("#cancel-error").hidden = true;
  $("#cancel-dialog").showModal();
});
$("#cancel-reason-pick").addEventListener("change", () => { $("#cancel-reason").value = $("#cancel-reason-pick").value; });
$("#cancel-close").addEventListener("click", () => $("#cancel-dialog").close());
$("#cancel-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const reason = $("#cancel-reason").value.trim();
  if (!reason) {
    $("#cancel-error").textContent = "请填写取消的原因";
    $("#cancel-error").hidden = false;
    return;
  }
  try {
    const res = await api(windowUrl("cancel"), { method: "POST", body: { reason } });
    $("#cancel-dialog").close();
    say(`${ticketNo(res)} 号已取消`, "ok");
  } catch (err) {
    if (err.status === 401) return toLogin();
    $("#cancel-error").textContent = err.message;
    $("#cancel-error").hidden = false;
  } finally {
    refreshBoard();
  }
});

const KEYS = { F1: ["#act-call", actions.call], F2: ["#act-recall", actions.recall],
  F3: ["#act-start", actions.start], F4: ["#act-finish", actions.finish],
  F6: ["#act-rate", actions.rate] };
document.addEventListener("keydown", (ev) => {
  if (document.querySelector("dialog[open]") || $("#terminal").hidden) return;
  const key = KEYS[ev.key];
  if (key) {
    ev.preventDefault();
    if (!$(key[0]).disabled) key[1]();
    return;
  }
  // a barcode scanner types like a keyboard: send stray typing to the scan field
  const el = document.activeElement;
  const typing = el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT");
  if (!typing && ev.key.length === 1 && /[0-9A-Za-z]/.test(ev.key) && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
    $("#scan").focus();
  }
});

async function resume(t) {
  await command("resume", { ticket_id: t.id }, `${t.ticket_no} 号恢复办理`);
}

/** A question in the terminal's own dialog; resolves true when the clerk confirms. */
function confirmDialog(title, body, okLabel) {
  const dlg = $("#confirm-dialog");
  $("#confirm-title").textContent = title;
  $("#confirm-body").textContent = body;
  $("#confirm-ok").textContent = okLabel;
  dlg.returnValue = "";
  dlg.showModal();
  return new Promise((resolve) => dlg.addEventListener("close", () => resolve(dlg.returnValue === "ok"), { once: true }));
}

for (const b of $("#status-switch").querySelectorAll("button")) {
  b.addEventListener("click", async () => {
    const status = b.dataset.status;
    // pausing or closing with a citizen called or at the counter: asked first, truthfully
    const cur = state.board && state.board.current;
    const label = WINDOW_STATUS_LABEL[status];
    if (status !== "open" && cur
        && !await confirmDialog(`${label} ${state.windowNo} 号窗口`, statusChangeQuestion(state.windowNo, cur, label), label)) {
      return;
    }
    try {
      await api(windowUrl("status"), { method: "POST", body: { status } });
      const w = state.windows.get(state.windowNo);
      if (w) w.status = status;
      header();
      updateButtons();
      say(`窗口已${WINDOW_STATUS_LABEL[status]}`, "ok");
    } catch (err) { failed(err); }
  });
}

// ------------------------------------------------------------------ transfer dialog
const transfer = { kind: "window", front: true };

function openTransfer() {
  const cur = state.board && state.board.current;
  if (!cur) return;
  $("#transfer-ticket").textContent = cur.ticket_no;
  const others = [...state.windows.values()].filter((w) => w.window_no !== state.windowNo);
  others.sort((a, b) => (a.status === "open" ? 0 : 1) - (b.status === "open" ? 0 : 1) || a.window_no - b.window_no);
  fill($("#transfer-window"), others.map((w) => h("option", { value: w.window_no },
    `${w.name}（${WINDOW_STATUS_LABEL[w.status] || w.status}${w.clerk ? ` · ${w.clerk.name}` : ""}）`)));
  fill($("#transfer-queue"), state.queues.map((q) => h("option", { value: q.code }, `${q.prefix} · ${q.name}`)));
  const clerks = [...state.windows.values()].filter((w) => w.clerk && w.clerk.id !== state.actor.id);
  fill($("#transfer-clerk"), clerks.length
    ? clerks.map((w) => h("option", { value: w.clerk.id }, `${w.clerk.name}（${w.name}）`))
    : h("option", { value: "" }, "暂无其他已签到的工作人员"));
  $("#transfer-note").value = "";
  $("#transfer-error").hidden = true;
  setTransferKind("window");
  setTransferFront(true);
  $("#transfer-dialog").showModal();
}

function setTransferKind(kind) {
  transfer.kind = kind;
  for (const b of $("#transfer-kind").querySelectorAll("button")) b.setAttribute("aria-checked", String(b.dataset.kind === kind));
  for (const f of $("#transfer-form").querySelectorAll("[data-for]")) f.hidden = f.dataset.for !== kind;
}
function setTransferFront(front) {
  transfer.front = front;
  for (const b of $("#transfer-pos").querySelectorAll("button")) b.setAttribute("aria-checked", String((b.dataset.front === "1") === front));
}
$("#transfer-kind").addEventListener("click", (ev) => { const b = ev.target.closest("button"); if (b) setTransferKind(b.dataset.kind); });
$("#transfer-pos").addEventListener("click", (ev) => { const b = ev.target.closest("button"); if (b) setTransferFront(b.dataset.front === "1"); });
$("#transfer-cancel").addEventListener("click", () => $("#transfer-dialog").close());

$("#transfer-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const body = { front: transfer.front, note: $("#transfer-note").value.trim() };
  if (transfer.kind === "window") body.to_window_no = Number($("#transfer-window").value);
  if (transfer.kind === "queue") body.queue = $("#transfer-queue").value;
  if (transfer.kind === "clerk") {
    if (!$("#transfer-clerk").value) return showTransferError("请选择工作人员");
    body.to_clerk_id = Number($("#transfer-clerk").value);
  }
  $("#transfer-submit").disabled = true;
  try {
    const res = await api(windowUrl("transfer"), { method: "POST", body });
    $("#transfer-dialog").close();
    const t = res.ticket || {};
    const where = t.target_window_no ? `${t.target_window_no} 号窗口` : transfer.kind === "clerk"
      ? $("#transfer-clerk").selectedOptions[0].textContent : `${t.queue} 队列`;
    say(`${t.ticket_no} 号已转办至 ${where}`, "ok");
  } catch (err) {
    if (err.status === 401) return toLogin();
    showTransferError(err.message);
  } finally {
    $("#transfer-submit").disabled = false;
    refreshBoard();
  }
});
function showTransferError(message) {
  $("#transfer-error").textContent = message;
  $("#transfer-error").hidden = false;
}

// ------------------------------------------------------------------ call a specific ticket
function openCallTo(ticketNoValue = "") {
  $("#callto-ticket").value = ticketNoValue;
  $("#callto-reason").value = "";
  $("#callto-reason-pick").value = "";
  $("#callto-error").hidden = true;
  $("#callto-dialog").showModal();
  (ticketNoValue ? $("#callto-reason-pick") : $("#callto-ticket")).focus();
}
$("#callto-reason-pick").addEventListener("change", () => { $("#callto-reason").value = $("#callto-reason-pick").value; });
$("#callto-cancel").addEventListener("click", () => $("#callto-dialog").close());
$("#callto-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const body = { ticket_no: $("#callto-ticket").value.trim().toUpperCase(), reason: $("#callto-reason").value.trim() };
  if (!body.reason) {
    $("#callto-error").textContent = "请填写提前叫号的原因";
    $("#callto-error").hidden = false;
    return;
  }
  try {
    const res = await api(windowUrl("call"), { method: "POST", body });
    $("#callto-dialog").close();
    say(`已提前呼叫 ${ticketNo(res)} 号`, "ok");
  } catch (err) {
    if (err.status === 401) return toLogin();
    $("#callto-error").textContent = err.message;
    $("#callto-error").hidden = false;
  } finally {
    refreshBoard();
  }
});

// ------------------------------------------------------------------ barcode scan
$("#scan-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const regNo = $("#scan").value.trim().toUpperCase();
  if (!regNo) return;
  $("#scan").value = "";
  try {
    showRegistration(await api(`${base()}/registrations/${encodeURIComponent(regNo)}`));
  } catch (err) {
    if (err.status === 401) return toLogin();
    fill($("#scan-result"), h("div", { class: "alert" }, err.message));
  }
});

const TICKET_STATUS = { waiting: "等候中", called: "已叫号", serving: "办理中", parked: "挂起", done: "已结束" };

function showRegistration(r) {
  const t = r.ticket || {};
  const here = t.window_no === state.windowNo && (t.status === "called" || t.status === "serving");
  fill($("#scan-result"), h("div", { class: "w-reg" },
    h("div", { class: "row" }, h("b", { class: "num" }, t.ticket_no || "—"), h("b", {}, r.item.name)),
    h("div", { class: "row" },
      h("span", { class: "badge blue" }, TICKET_STATUS[t.status] || t.status || "无排队"),
      t.window_no ? h("span", { class: "badge" }, `${t.window_no}号窗口`) : null,
      r.priority !== "normal" ? h("span", { class: "badge red" }, `${PRIORITY_LABEL[r.priority]}优先`) : null,
      r.phone ? h("span", {}, `手机 ${r.phone}`) : null,
      isLeader() ? null : h("button", { class: "btn primary", type: "button", onclick: () => cases.acceptRegistration(r) }, "受理")),
    h("div", { class: "row" }, `登记号 ${r.reg_no} · 查询码 ${r.query_code}`,
      h("a", { href: `/notice?code=${encodeURIComponent(r.query_code)}`, target: "_blank" }, "查看告知单")),
    here ? h("div", {}, "该群众正在本窗口办理") : null,
    t.status === "waiting" ? h("button", { class: "btn primary", type: "button", onclick: () => openCallTo(t.ticket_no) }, `提前叫号 ${t.ticket_no}`) : null));
}

// ------------------------------------------------------------------ live
/** One live event: window changes kept here, the board fetched again when it is touched. */
function onLiveEvent(ev) {
  const effect = reduceWindowEvent(state.windows, ev, {
    windowNo: state.windowNo, clerkId: state.actor.id, cases: cases.liveView(), alarms: alarms.list(),
    inbox: inbox.view(),
  });
  if (!effect) return;
  if (effect.cases) { cases.apply(effect.cases, ev); return; }
  if ("alarms" in effect) { alarms.apply(effect.alarms); return; }
  if ("inbox" in effect) { inbox.apply(effect.inbox); return; }
  if ("rating" in effect) { if (effect.rating) showRating(effect.rating); return; }
  if (effect.signedOutHere) {
    api("/api/session").then((s) => { state.actor = s.actor; showPicker("您已在其他终端签退或被管理员签退"); }).catch(() => {});
    return;
  }
  if (effect.notice) say(effect.notice, "notice");
  if (effect.window !== null) {
    if (effect.window === state.windowNo) { header(); updateButtons(); }
    if (!$("#picker").hidden) showPicker();
  }
  if (effect.refreshBoard) refreshBoard();
}

/** The window's rating line: waiting for the citizen, or the level given (差评 in red). It is a
 * status region: read out, never focused, so typing in a form goes on undisturbed. */
function showRating({ pending, bad, text }) {
  const line = $("#rating-line");
  line.textContent = text;
  line.dataset.state = pending ? "pending" : bad ? "bad" : "good";
  line.hidden = false;
}

// Signed in at a window, the terminal listens to that window's room (its own events, its
// queues, transfers to it, every window change) and its department's (the joint steps of the
// 联办待办 inbox; a leader's sign-off requests); at the picker, to the whole hall.
function followWindow() {
  const want = state.windowNo || null;
  if (state.live && state.liveWindow === want) return;
  if (state.live) state.live.close();
  state.liveWindow = want;
  connectLive(want);
}

function roomsOf(windowNo) {
  if (!windowNo) return null;
  const dept = myDepartment();
  return dept ? [`window:${windowNo}`, `department:${dept.code}`] : [`window:${windowNo}`];
}

function connectLive(windowNo) {
  const conn = $("#conn");
  state.live = connectTerminal({
    hall: state.hall.code,
    rooms: roomsOf(windowNo),
    onSnapshot: (snap) => {
      for (const w of snap.windows) {
        const known = state.windows.get(w.window_no);
        state.windows.set(w.window_no, { ...(known || {}), ...w });
      }
      if (state.windowNo) { header(); refreshBoard(); }
      else if (!$("#picker").hidden) showPicker();
    },
    onEvent: onLiveEvent,
    onStatus: (s, message) => {
      conn.dataset.state = s;
      conn.textContent = { online: "实时", connecting: "连接中", offline: "离线", unauthorized: "登录失效" }[s] || s;
      if (s === "unauthorized") toLogin();
      if (s === "online" && state.windowNo) { refreshBoard(); cases.refresh(); alarms.refresh(); inbox.refresh(); }
      if (message) say(message, "error");
    },
  });
}

start().catch((err) => {
  console.error(err);
  fill($("#loading"), h("div", { class: "alert" }, err.message || "加载失败"));
});
