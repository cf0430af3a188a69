// 带班签批: the department's leader on duty sees, live, the sign-off requests the windows send
// (GET /api/halls/{hall}/signoffs: the case's materials, history, clock and the clerk's note),
// and approves or rejects each with a comment (POST /api/cases/{id}/signoff). The list follows
// the department's room of the hall stream: a request appears as the clerk sends it, a decision
// (here or at a window the leader signed in at) takes it away.
// Keyboard: ↑/↓ between requests, A approve, R reject, Enter confirms, Esc cancels.
import { $, api, coalesce, fill, formatDateTime, h, hallOf, logOut, pageActor, toast, toLogin } from "../shared/api.js";
import { connectTerminal } from "../shared/live.js";
import { createWaitClock } from "../shared/signoff-wait.js";
import { remainingText } from "../track/timeline.js";
import { createLeaderAlarms } from "./alarms.js";
import { createRectifications } from "./rectification.js";
import { keepSelection, moveSelection, reduceLeaderEvent } from "./events.js";

const NEW_FOR_MS = 15000;        // a new arrival stays highlighted this long
const MATERIAL = {
  submitted: ["已提交", "green"], missing: ["缺少", "red"], faulty: ["有误", "amber"], supplemented: ["已补正", "blue"],
};
const KIND = { immediate: "即办件", promised: "承诺件", escalated: "报批件", urgent: "急办件" };
const PURPOSE = { decision: "审批签批", extension: "延期审批" };

const state = {
  hall: null,
  department: null,     // {id, code, name}
  requests: [],
  onDuty: false,
  selected: null,
  loaded: false,
  arrivedAt: new Map(),  // signoff_id -> when it appeared on this screen
  deciding: null,        // {request, decision} while the dialog is open
};

const waits = createWaitClock();
const alarms = createLeaderAlarms({ hall: () => state.hall, department: () => state.department, toLogin });
const rectifications = createRectifications({ hall: () => state.hall, department: () => state.department, toLogin });

const selectedRequest = () => state.requests.find((r) => r.signoff_id === state.selected) || null;

// ------------------------------------------------------------------ reading
async function load() {
  const dept = encodeURIComponent(state.department.code);
  const res = await api(`/api/halls/${encodeURIComponent(state.hall.code)}/signoffs?department=${dept}`);
  const known = new Set(state.requests.map((r) => r.signoff_id));
  const previousIndex = state.requests.findIndex((r) => r.signoff_id === state.selected);
  waits.read(res);
  for (const r of res.requests) {
    if (state.loaded && !known.has(r.signoff_id) && !state.arrivedAt.has(r.signoff_id)) {
      state.arrivedAt.set(r.signoff_id, Date.now());
    }
  }
  const wasEmpty = !state.requests.length;
  state.requests = res.requests;
  state.onDuty = res.on_duty;
  state.loaded = true;
  state.selected = keepSelection(state.requests, state.selected, previousIndex);
  // the first request to arrive on an empty screen is the one to look at
  if (wasEmpty && state.requests.length) state.selected = state.requests[0].signoff_id;
  render();
}

const refetch = coalesce(async () => {
  try {
    await load();
  } catch (err) {
    if (err.status === 401) toLogin();
    else toast(err.message, "error");
  }
}, 30);

// ------------------------------------------------------------------ rendering
function render() {
  $("#loading").hidden = true;
  $("#leader").hidden = false;
  const duty = $("#duty");
  duty.hidden = false;
  duty.className = `badge ${state.onDuty ? "green" : "red"}`;
  duty.textContent = state.onDuty ? "今日带班" : "今日不在带班值班";
  $("#count").textContent = state.requests.length;
  $("#limit-note").textContent = waits.limit ? `超过 ${waits.limit} 分钟未签批标为等候超时` : "";
  document.title = `${state.requests.length ? `(${state.requests.length}) ` : ""}带班签批 · ${state.hall.name}`;
  renderList();
  renderDetail();
}

function renderList() {
  const now = Date.now();
  $("#empty").hidden = state.requests.length > 0;
  fill($("#requests"), state.requests.map((r) => {
    const wait = waits.of(r);
    const arrived = state.arrivedAt.get(r.signoff_id);
    const fresh = arrived !== undefined && now - arrived < NEW_FOR_MS;
    const classes = [fresh ? "new" : "", wait.tooLong ? "waiting" : ""].filter(Boolean).join(" ");
    return h("li", {
      class: classes, role: "option", "aria-selected": String(r.signoff_id === state.selected),
      dataset: { signoff: r.signoff_id, case: r.case.case_id },
      onclick: () => select(r.signoff_id),
    },
    h("span", { class: "w-no num" }, r.window_no ?? "—"),
    h("span", { class: "w-item" }, r.case.item_name),
    h("span", { class: "w-badges" },
      fresh ? h("span", { class: "badge amber" }, "新请求") : null,
      wait.tooLong ? h("span", { class: "badge red" }, "等候超时") : null,
      r.purpose === "extension" ? h("span", { class: "badge blue" }, `延期 ${r.extension}`) : null,
      h("span", { class: "w-wait" }, wait.text)),
    h("span", { class: "w-meta" }, `${r.requested_by} · ${r.case.case_no}`));
  }));
}

function materialRow(m) {
  const [label, tone] = MATERIAL[m.status] || [m.status, ""];
  return h("li", {},
    h("span", {}, `${m.position}. ${m.name}${m.copies > 1 ? `（${m.copies} 份）` : ""}`),
    m.is_key ? h("span", { class: "badge" }, "关键") : null,
    m.deferred ? h("span", { class: "badge amber" }, "容缺") : null,
    h("span", { class: `badge ${tone}` }, label));
}

function renderDetail() {
  const box = $("#detail");
  const r = selectedRequest();
  if (!r) {
    fill(box, h("div", { class: "d-none" }, state.requests.length ? "请选择一条请求" : "暂无待签批的请求"));
    return;
  }
  const c = r.case;
  const wait = waits.of(r);
  const clock = remainingText(c.clock, c);
  const deadline = c.clock && c.clock.deadline;
  fill(box,
    h("div", { class: "d-top" },
      h("div", {},
        h("div", { class: "d-item", id: "detail-item" }, c.item_name),
        h("div", { class: "d-meta" },
          `${c.case_no} · ${KIND[c.kind] || c.kind} · ${c.state_name} · ${r.window_no ?? "—"} 号窗口 ${r.requested_by}`)),
      h("div", { class: "d-actions" },
        h("button", { class: "btn success", type: "button", id: "approve", onclick: () => openDecision("approve") }, "同意（A）"),
        h("button", { class: "btn danger", type: "button", id: "reject", onclick: () => openDecision("reject") }, "不同意（R）"))),
    h("div", { class: "d-note" },
      h("b", {}, `${PURPOSE[r.purpose] || r.purpose}${r.purpose === "extension" ? `：延长 ${r.extension} 个时限单位` : ""} · 窗口说明 · ${formatDateTime(r.requested_at)} · ${wait.text}${wait.tooLong ? "（等候超时）" : ""}`),
      h("p", { id: "detail-note" }, r.note || "（无说明）")),
    h("div", { class: "d-grid" },
      h("div", {},
        h("h3", {}, "办件信息"),
        h("dl", { class: "d-rows" },
          h("dt", {}, "申请人"), h("dd", {}, [c.applicant.name, c.applicant.phone].filter(Boolean).join(" ")),
          h("dt", {}, "受理时间"), h("dd", {}, formatDateTime(c.accepted_at)),
          h("dt", {}, "办结期限"), h("dd", {}, c.kind === "immediate" ? "即办件" : deadline ? formatDateTime(deadline) : "暂停计时中"),
          h("dt", {}, "剩余时间"), h("dd", { class: `tone-${clock.tone}`, id: "detail-clock" }, clock.text),
          h("dt", {}, "来回次数"), h("dd", {}, `${c.visits} 次`)),
        h("h3", { style: { marginTop: "18px" } }, "申请材料"),
        h("ul", { class: "d-materials", id: "detail-materials" }, c.materials.map(materialRow))),
      h("div", {},
        h("h3", {}, "办理过程"),
        h("ol", { class: "d-history", id: "detail-history" }, c.history.map((e) => h("li", {},
          h("time", { class: "num" }, formatDateTime(e.at)),
          h("b", {}, e.label),
          h("small", {}, [e.actor, e.window_no ? `${e.window_no} 号窗口` : "", e.reason].filter(Boolean).join(" · ")))))),
    ));
}

function select(id) {
  state.selected = id;
  renderList();
  renderDetail();
  const el = document.querySelector(`#requests li[data-signoff="${id}"]`);
  if (el) el.scrollIntoView({ block: "nearest" });
}

// ------------------------------------------------------------------ deciding
function openDecision(decision) {
  const r = selectedRequest();
  if (!r) return;
  state.deciding = { request: r, decision };
  const dlg = $("#decide-dialog");
  const reject = decision === "reject";
  dlg.classList.toggle("reject", reject);
  $("#decide-title").textContent = reject ? "不同意" : "同意签批";
  $("#decide-case").textContent = `${r.case.item_name} · ${r.case.case_no} · ${r.window_no ?? "—"} 号窗口`;
  $("#decide-label").textContent = reject ? "不同意的理由（必填）" : "签批意见（可不填）";
  const comment = $("#decide-comment");
  comment.value = "";
  comment.placeholder = reject ? "请写明理由" : "同意";
  $("#decide-error").hidden = true;
  $("#decide-ok").className = `btn ${reject ? "danger" : "success"}`;
  $("#decide-ok").disabled = false;
  dlg.showModal();
  comment.focus();
}

function closeDecision() {
  state.deciding = null;
  const dlg = $("#decide-dialog");
  if (dlg.open) dlg.close();
}

function decisionError(message) {
  const error = $("#decide-error");
  error.textContent = message;
  error.hidden = false;
}

async function confirmDecision() {
  const d = state.deciding;
  if (!d) return;
  const comment = $("#decide-comment").value.trim();
  if (d.decision === "reject" && !comment) {
    decisionError("不同意时请填写理由");
    $("#decide-comment").focus();
    return;
  }
  const ok = $("#decide-ok");
  ok.disabled = true;
  try {
    await api(`/api/cases/${d.request.case.case_id}/signoff`, {
      method: "POST", body: { decision: d.decision, comment },
    });
    closeDecision();
    toast(d.decision === "approve" ? `已同意：${d.request.case.item_name}` : `已不同意：${d.request.case.item_name}`, "ok");
    // the decision's event removes it as well; not waiting for it keeps the keys going
    const i = state.requests.findIndex((r) => r.signoff_id === d.request.signoff_id);
    if (i >= 0) state.requests.splice(i, 1);
    state.selected = keepSelection(state.requests, null, i);
    render();
  } catch (err) {
    if (err.status === 401) return toLogin();
    decisionError(err.message);   // e.g. 403 not_on_duty: 您今天不在带班值班，不能签批
    ok.disabled = false;
    if (err.status === 409) refetch();  // decided meanwhile (at a window): the list is stale
  }
}

$("#decide-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  confirmDecision();
});
$("#decide-cancel").addEventListener("click", closeDecision);
$("#decide-dialog").addEventListener("close", () => {
  // the close event of a dialog shut by Esc can come after the next decision opened it again
  if ($("#decide-dialog").open) return;
  state.deciding = null;
  // the keys work on the list again (a closed dialog's textarea may keep the focus)
  if ($("#decide-dialog").contains(document.activeElement)) document.activeElement.blur();
});
$("#decide-comment").addEventListener("keydown", (ev) => {
  // Enter confirms; Shift+Enter is a new line in the comment
  if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    confirmDecision();
  }
});

document.addEventListener("keydown", (ev) => {
  if ($("#decide-dialog").open || ev.ctrlKey || ev.metaKey || ev.altKey || ev.isComposing) return;
  // a field of the page takes its keys; the closed dialog's comment may still hold the focus for
  // a moment after Esc (its close event comes later), and then the keys are the list's
  const field = ev.target instanceof HTMLElement && ev.target.matches("input, textarea, select");
  if (field && !$("#decide-dialog").contains(ev.target)) return;
  // the alarm and 整改 lists' buttons and forms keep their keys
  if (ev.target instanceof HTMLElement && ev.target.closest("#alarms, #rect")) return;
  const key = ev.key;
  if (key === "ArrowDown" || key === "ArrowUp") {
    ev.preventDefault();
    const next = moveSelection(state.requests, state.selected, key === "ArrowDown" ? 1 : -1);
    if (next !== null) select(next);
  } else if (key === "a" || key === "A") {
    ev.preventDefault();
    openDecision("approve");
  } else if (key === "r" || key === "R") {
    ev.preventDefault();
    openDecision("reject");
  }
});

$("#logout").addEventListener("click", logOut);

// ------------------------------------------------------------------ start
async function start() {
  const actor = await pageActor("leader", "带班签批仅供部门带班领导使用，请使用带班领导账号登录。", $("#loading"), start);
  if (!actor) return;
  state.hall = await hallOf(actor);
  const { departments } = await api(`/api/halls/${encodeURIComponent(state.hall.code)}/departments`);
  state.department = departments.find((d) => d.id === actor.department_id);
  if (!state.department) {
    fill($("#loading"), h("div", { class: "alert" }, "未找到您所在的部门，请联系大厅管理员。"));
    return;
  }
  $("#who").textContent = actor.name;
  $("#hall-name").textContent = state.hall.name;
  $("#dept-name").textContent = state.department.name;
  const conn = $("#conn");
  connectTerminal({
    hall: state.hall.code,
    rooms: [`department:${state.department.code}`],
    // a (re)connect: whatever happened meanwhile is in the list as read now
    onSnapshot: () => { refetch(); alarms.refresh(); rectifications.refresh(); },
    onLive: () => { refetch(); alarms.refresh(); rectifications.refresh(); },
    onEvent: (ev) => {
      const effect = reduceLeaderEvent(state.requests, ev, { department: state.department.code, alarms: alarms.list() });
      if (!effect) return;
      if (effect.alarms) { alarms.apply(effect.alarms); return; }
      if ("rectifications" in effect) { if (effect.rectifications) rectifications.refresh(); return; }
      if (effect.removed !== null) {
        state.selected = keepSelection(state.requests, state.selected);
        render();
      }
      if (effect.refetch) refetch();
    },
    onStatus: (s, message) => {
      conn.dataset.state = s;
      conn.textContent = { online: "实时", connecting: "连接中", offline: "离线", unauthorized: "登录失效" }[s] || s;
      if (s === "unauthorized") toLogin();
      if (message) toast(message, "error");
    },
  });
  waits.every(() => { if (state.loaded) renderList(); });
}

start();
