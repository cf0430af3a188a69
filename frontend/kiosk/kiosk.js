// Self-service kiosk (自助受理机): pick an item by department, category, keyword or pinyin
// initials; optional phone / ID number / priority; register (POST .../registrations with the
// device token); show the ticket and print the unified acceptance notice. Outside the opening
// hours it shows them instead (GET …/registration-hours), looks again when they change, and
// hears at once when the admin opens registration (registration.open_set on its live
// connection, which the server confines to that event).
import {
  $, api, fill, formatClock, formatDate, h, limitText, param, ranges, waitPhrase,
} from "../shared/api.js";
import { deviceLogin, forgetDevice } from "../shared/device.js";
import { connectTerminal } from "../shared/live.js";
import { closedView, recheckDelay } from "./hours.js";
import { idNumberProblem, phoneProblem } from "./identity.js";

const IDLE_MS = 90_000;          // back to the start after this long without a touch
const DONE_SECONDS = 60;         // the ticket screen stays this long
const LETTERS = "QWERTYUIOPASDFGHJKLZXCVBNM";

const state = {
  token: null,
  hall: null,
  departments: [],
  items: [],
  queues: new Map(),           // queue code -> {waiting, estimated_wait_seconds}
  department: null,            // selected department code, null = all
  category: null,
  item: null,                  // the chosen item (with materials)
  priority: "normal",
  busy: false,
  closed: false,               // outside the opening hours: the hours are shown
};

// ------------------------------------------------------------------ clock and idle reset
function tick() {
  const now = new Date();
  $("#clock-time").textContent = formatClock(now, false);
  $("#clock-date").textContent = formatDate(now);
}
tick();
setInterval(tick, 1000);

let idleTimer = null;
function touched() {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => showStep("browse", true), IDLE_MS);
}
for (const ev of ["pointerdown", "keydown"]) document.addEventListener(ev, touched, { passive: true });

function showStep(step, reset = false) {
  // closed: the hours instead of the catalogue (a ticket just taken stays on screen)
  if (state.closed && step !== "done") step = "closed";
  for (const id of ["browse", "item", "done", "closed"]) $(`#step-${id}`).hidden = id !== step;
  if (step !== "done") stopCountdown();
  if (reset) {
    $("#search").value = "";
    $("#search-clear").hidden = true;
    state.category = null;
    renderItems();
  }
}

// ------------------------------------------------------------------ opening hours
let hoursTimer = null;

async function loadHours() {
  clearTimeout(hoursTimer);
  let status = null;
  try {
    status = await api(`/api/halls/${encodeURIComponent(state.hall.code)}/registration-hours`);
  } catch { /* the server answers again later; the kiosk keeps what it shows */ }
  if (status) applyHours(status);
  hoursTimer = setTimeout(loadHours, status ? recheckDelay(status) : 30_000);
}

function applyHours(status) {
  const was = state.closed;
  state.closed = !status.open;
  document.body.dataset.registration = status.open ? "open" : "closed";
  if (state.closed) {
    const view = closedView(status);
    $("#closed-title").textContent = view.title;
    $("#closed-hours").textContent = view.hours;
    $("#closed-next").textContent = view.next;
    $("#closed-next").hidden = !view.next;
  }
  if (state.closed !== was && $("#step-done").hidden) showStep(state.closed ? "closed" : "browse", true);
}

function listenForHours() {
  connectTerminal({
    hall: state.hall.code,
    credential: async () => ({ token: state.token }),
    scoped: true,   // the server sends a kiosk the registration hours' changes only
    refusedCodes: ["unauthenticated"],
    onSnapshot: () => loadHours(),
    onEvent: (ev) => { if (ev.type === "registration.open_set") loadHours(); },
    onStatus: (s) => {
      if (s === "online") loadHours();   // what changed while it was away
      if (s === "unauthorized") deviceRefused();
    },
  });
}

// ------------------------------------------------------------------ catalogue
async function loadCatalogue() {
  const base = `/api/halls/${encodeURIComponent(state.hall.code)}`;
  const [{ departments }, { items }] = await Promise.all([
    api(`${base}/departments`, { token: state.token }),
    api(`${base}/items`, { token: state.token }),
  ]);
  state.departments = departments.filter((d) => d.items > 0)
    .sort((a, b) => a.name.localeCompare(b.name, "zh-CN"));   // by pinyin, like a directory
  state.items = items;
  renderDepartments();
  renderItems();
}

async function loadQueues() {
  try {
    const { queues } = await api(`/api/halls/${encodeURIComponent(state.hall.code)}/queue-status`);
    state.queues = new Map(queues.map((q) => [q.code, q]));
    if (!$("#step-browse").hidden) renderItems();
  } catch { /* the waiting counts are a nicety */ }
}

function shortName(name) {
  return name.replace(/（.*?）/g, "");
}

function renderDepartments() {
  const buttons = [
    deptButton(null, "全部事项", state.items.length),
    ...state.departments.map((d) => deptButton(d.code, shortName(d.name), d.items)),
  ];
  fill($("#departments"), buttons);
}

function deptButton(code, label, count) {
  return h("button", {
    type: "button", "aria-pressed": String(state.department === code),
    onclick: () => {
      state.department = code;
      state.category = null;
      renderDepartments();
      renderItems();
      $("#items").scrollTop = 0;
    },
  }, h("span", {}, label), h("small", { class: "num" }, count));
}

function matches(item, query) {
  if (!query) return true;
  const q = query.trim();
  if (/^[a-z]+$/i.test(q)) {
    return (item.pinyin_initials || "").includes(q.toUpperCase()) || item.code.toLowerCase() === q.toLowerCase();
  }
  return item.name.includes(q) || (item.category || "").includes(q)
    || item.department_name.includes(q) || item.code.toLowerCase() === q.toLowerCase();
}

function renderItems() {
  const query = $("#search").value;
  const searching = query.trim() !== "";
  // a search looks through every department
  const inDept = state.items.filter((i) => searching || !state.department || i.department_code === state.department);
  const categories = [...new Set(inDept.map((i) => i.category).filter(Boolean))];
  const shown = inDept.filter((i) => (searching || !state.category || i.category === state.category)
    && matches(i, query));

  fill($("#categories"), searching || !state.department || categories.length < 2 ? [] : [
    catButton(null, "全部"), ...categories.map((c) => catButton(c, c)),
  ]);
  if (!shown.length) {
    fill($("#items"), h("div", { class: "k-empty" },
      searching ? `没有找到与“${query.trim()}”相关的事项，请换个关键词或到咨询台咨询` : "暂无可办理的事项"));
    return;
  }
  fill($("#items"), shown.map(itemCard));
}

function catButton(value, label) {
  return h("button", {
    type: "button", "aria-pressed": String(state.category === value),
    onclick: () => { state.category = value; renderItems(); },
  }, label);
}

function itemCard(item) {
  const queue = state.queues.get(item.queue_code);
  const tags = [
    item.kind === "immediate"
      ? h("span", { class: "badge green" }, "即办件")
      : h("span", { class: "badge blue" }, limitText(item.kind, item.promised_limit, item.limit_unit)),
    item.category ? h("span", { class: "badge" }, item.category) : null,
    !item.queue_code ? h("span", { class: "badge amber" }, "请到咨询台")
      : queue && queue.waiting ? h("span", { class: "badge amber" }, `等候 ${queue.waiting} 人`) : null,
  ];
  return h("button", {
    type: "button", class: `k-card${item.queue_code ? "" : " disabled"}`, dataset: { code: item.code },
    onclick: () => chooseItem(item),
  }, h("span", { class: "name" }, item.name), h("span", { class: "dept" }, item.department_name),
  h("span", { class: "tags" }, tags));
}

// ------------------------------------------------------------------ search and letter keyboard
const search = $("#search");
search.addEventListener("input", () => {
  $("#search-clear").hidden = !search.value;
  renderItems();
});
$("#search-clear").addEventListener("click", () => {
  search.value = "";
  $("#search-clear").hidden = true;
  renderItems();
});
$("#kbd-toggle").addEventListener("click", () => {
  const kbd = $("#letter-keyboard");
  kbd.hidden = !kbd.hidden;
  $("#kbd-toggle").setAttribute("aria-expanded", String(!kbd.hidden));
});
fill($("#letter-keyboard"), [
  ...[...LETTERS].map((ch) => h("button", { type: "button", onclick: () => typeLetter(ch) }, ch)),
  h("button", { type: "button", class: "wide", onclick: () => typeLetter("back") }, "⌫ 退格"),
]);
function typeLetter(ch) {
  search.value = ch === "back" ? search.value.slice(0, -1) : search.value + ch;
  $("#search-clear").hidden = !search.value;
  renderItems();
}

// ------------------------------------------------------------------ step 2: the item
async function chooseItem(item) {
  if (!item.queue_code) {
    fill($("#items"), h("div", { class: "k-empty" }, `“${item.name}”暂不支持自助取号，请到咨询台办理`));
    setTimeout(renderItems, 4000);
    return;
  }
  let detail = item;
  try {
    detail = await api(`/api/halls/${encodeURIComponent(state.hall.code)}/items/${encodeURIComponent(item.code)}`,
      { token: state.token });
  } catch (err) {
    if (err.status === 401) return deviceRefused();
  }
  state.item = { ...item, ...detail };
  state.priority = "normal";
  $("#phone").value = "";
  $("#id-number").value = "";
  $("#reg-error").hidden = true;
  clearFieldErrors();
  renderPriority();
  renderItem();
  showStep("item");
  activeField = $("#phone");
}

function renderItem() {
  const item = state.item;
  $("#item-name").textContent = item.name;
  const queue = state.queues.get(item.queue_code);
  fill($("#item-meta"),
    h("span", { class: "badge blue" }, item.department_name),
    item.kind === "immediate" ? h("span", { class: "badge green" }, "即办件 · 当场办结")
      : h("span", { class: "badge blue" }, limitText(item.kind, item.promised_limit, item.limit_unit)),
    queue ? h("span", { class: "badge amber" }, `当前等候 ${queue.waiting} 人 · ${waitPhrase(queue.estimated_wait_seconds)}`) : null);
  const materials = item.materials || [];
  fill($("#item-materials"), materials.length ? materials.map((m) => h("li", { class: m.is_key ? "key" : "" },
    m.name, m.copies > 1 ? `（${m.copies} 份）` : "",
    m.is_key ? h("span", { class: "tag" }, "必备") : null,
    m.note ? h("div", { class: "note" }, m.note) : null)) : h("li", {}, "无需提交材料"));
  const fees = item.fees || [];
  fill($("#item-fees"), fees.length
    ? `收费：${fees.map((f) => `${f.name} ${(f.amount_cents / 100).toFixed(2)} 元`).join("；")}`
    : "本事项不收费");
}

function renderPriority() {
  for (const b of $("#priority").querySelectorAll("button")) {
    b.setAttribute("aria-checked", String(b.dataset.value === state.priority));
  }
}
$("#priority").addEventListener("click", (ev) => {
  const b = ev.target.closest("button[data-value]");
  if (!b) return;
  state.priority = b.dataset.value;
  renderPriority();
});

let activeField = null;
for (const input of [$("#phone"), $("#id-number")]) {
  input.addEventListener("focus", () => { activeField = input; });
  input.addEventListener("input", () => fieldError(input, null));
}

// The API's field names -> the inputs; an error is shown next to its field.
const FIELDS = { phone: "#phone", id_number: "#id-number" };

function fieldError(input, message) {
  const note = $(`#${input.id}-error`);
  note.textContent = message || "";
  note.hidden = !message;
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

function clearFieldErrors() {
  for (const sel of Object.values(FIELDS)) fieldError($(sel), null);
}
fill($("#keypad"), ["1", "2", "3", "⌫", "4", "5", "6", "X", "7", "8", "9", "清空", "", "0", "", "下一项"].map((k) => {
  if (!k) return h("span");
  return h("button", { type: "button", class: k.length > 1 ? "fn" : "", onclick: () => keypad(k) }, k);
}));
function keypad(k) {
  const field = activeField || $("#phone");
  if (k === "⌫") field.value = field.value.slice(0, -1);
  else if (k === "清空") field.value = "";
  else if (k === "下一项") activeField = field === $("#phone") ? $("#id-number") : $("#phone");
  else if (k === "X" && field !== $("#id-number")) return;
  else if (field.value.length < Number(field.maxLength)) field.value += k;
  fieldError(field, null);
  (activeField || field).focus({ preventScroll: true });
}

$("#back").addEventListener("click", () => showStep("browse"));

$("#reg-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (state.busy) return;
  const phone = $("#phone").value.trim();
  const idNumber = $("#id-number").value.trim().toUpperCase();
  const error = $("#reg-error");
  // checked here first, with the server's rules, so a typo is shown before anything is sent
  const problems = [
    [$("#phone"), phone && phoneProblem(phone)],
    [$("#id-number"), idNumber && idNumberProblem(idNumber)],
  ];
  for (const [input, problem] of problems) fieldError(input, problem || null);
  const wrong = problems.find(([, problem]) => problem);
  if (wrong) {
    activeField = wrong[0];
    wrong[0].focus({ preventScroll: true });
    return;
  }
  error.hidden = true;
  state.busy = true;
  $("#submit").disabled = true;
  $("#submit").textContent = "正在取号…";
  try {
    const notice = await api(`/api/halls/${encodeURIComponent(state.hall.code)}/registrations`, {
      method: "POST", token: state.token,
      body: { item: state.item.code, priority: state.priority, phone: phone || null, id_number: idNumber || null },
    });
    showDone(notice);
  } catch (err) {
    if (err.status === 401) return deviceRefused();
    if (err.code === "hall_closed") {   // closed meanwhile: the hours
      showError(err.message);
      loadHours();
      return;
    }
    if (FIELDS[err.field]) {
      fieldError($(FIELDS[err.field]), err.message);
      activeField = $(FIELDS[err.field]);
    } else {
      showError(err.message);   // 429: the server's "too many requests" message, as it is
    }
  } finally {
    state.busy = false;
    $("#submit").disabled = false;
    $("#submit").textContent = "确认取号";
  }
});

function showError(message) {
  const error = $("#reg-error");
  error.textContent = message;
  error.hidden = false;
}

// ------------------------------------------------------------------ step 3: done, print
let countdownTimer = null;
let current = null;

function showDone(notice) {
  current = notice;
  const ticket = notice.ticket || {};
  $("#done-ticket").textContent = ticket.ticket_no || "";
  $("#done-item").textContent = notice.item.name;
  $("#done-wait").textContent = notice.ahead > 0
    ? `前面还有 ${notice.ahead} 人 · ${waitPhrase(notice.estimated_wait_seconds)}`
    : "前面没有等候的群众，请留意叫号";
  const open = (notice.windows || []).filter((w) => w.status === "open");
  const numbers = (open.length ? open : notice.windows || []).map((w) => w.window_no);
  $("#done-windows").textContent = numbers.length
    ? `请到 ${ranges(numbers)} 号窗口附近等候叫号` : "请留意大厅叫号屏";
  $("#done-barcode").src = `/api/barcode/${encodeURIComponent(notice.reg_no)}.svg`;
  $("#done-code").textContent = notice.query_code;
  showStep("done");
  startCountdown();
  if (param("autoprint") === "1") printNotice();
}

function startCountdown() {
  let left = DONE_SECONDS;
  const show = () => { $("#countdown").textContent = `${left} 秒后返回首页`; };
  show();
  stopCountdown();
  countdownTimer = setInterval(() => {
    left -= 1;
    if (left <= 0) showStep("browse", true);
    else show();
  }, 1000);
}
function stopCountdown() {
  clearInterval(countdownTimer);
  countdownTimer = null;
}

function printNotice() {
  if (!current) return;
  const frame = $("#print-frame");
  frame.onload = () => {
    // the notice page signals when its content (and barcode) is in place
    const win = frame.contentWindow;
    const go = () => { try { win.focus(); win.print(); } catch (err) { console.error(err); } };
    if (win.noticeReady) win.noticeReady.then(go);
    else go();
  };
  frame.src = `/notice?code=${encodeURIComponent(current.query_code)}&embed=1`;
}

$("#print").addEventListener("click", printNotice);
$("#again").addEventListener("click", () => showStep("browse", true));

function deviceRefused() {
  forgetDevice("kiosk");
  location.reload();
}

// ------------------------------------------------------------------ start
(async function start() {
  const device = await deviceLogin("kiosk");
  state.token = device.token;
  state.hall = device.hall;
  $("#hall-name").textContent = device.hall.name;
  document.title = `自助取号 · ${device.hall.name}`;
  try {
    await loadCatalogue();
  } catch (err) {
    if (err.status === 401) return deviceRefused();
    fill($("#items"), h("div", { class: "k-empty" }, err.message));
    setTimeout(start, 5000);
    return;
  }
  await loadHours();
  listenForHours();
  loadQueues();
  setInterval(loadQueues, 30_000);
  document.body.dataset.ready = "1";
})();
