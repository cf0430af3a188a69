// The case panel of the window terminal (办件): accept the ticket being served (F8), work the
// open case by the actions its detail allows (Alt + letter), print its notices (F9), the
// window's open cases, the supplements due back and the results waiting to be picked up, a
// case found by scanning the applicant's receipt or notice (F7), and for a leader the
// sign-offs waiting.
// The detail (GET /api/cases/{id}) is the truth; live case events say when to fetch it again,
// and the clock counts down here every second from the last view the server sent.
import { $, api, coalesce, fill, formatDateTime, h, limitText, toast } from "../shared/api.js";
import { createWaitClock, waitBadge } from "../shared/signoff-wait.js";
import { createAcceptDialog } from "./accept.js";
import { acceptedMessage } from "./intake-model.js";
import { createJointIntake } from "./joint-intake.js";
import { buildForm, enterSubmits, FormError } from "./case-forms.js";
import {
  actionForKey, applyCaseEvent, applyPickupEvent, decisionText, KIND_NAMES, MATERIAL_STATUS_NAMES,
  openSupplement, scannedCaseCode, STATE_NAMES, visibleActions, yuan,
} from "./case-model.js";
import { clockAt, countsFrom, describeClock, makeCalendar, PAUSE_KIND_NAMES } from "./clock.js";

const NOTICE_PAGE = "/static/notice/case.html";

/** Where to print a case's notice: the acceptance receipt, or its one-time supplement notice. */
export function noticeUrl(caseId, doc = "acceptance", paper = "receipt") {
  const q = new URLSearchParams({ case: String(caseId) });
  if (doc !== "acceptance") q.set("doc", doc);
  if (paper !== "receipt") q.set("paper", paper);
  return `${NOTICE_PAGE}?${q}`;
}

/**
 * @param {{hall: () => {code}, windowNo: () => number|null, actor: () => object,
 *          department: () => {code, name}|null, departmentName: (code) => string,
 *          items: () => Array, currentTicket: () => object|null,
 *          received: (ticketId) => Set|undefined, say: Function, failed: Function,
 *          toLogin: Function}} t  the terminal around the panel
 */
export function createCasePanel(t) {
  const s = {
    shown: false,
    cal: makeCalendar(),
    items: new Map(),          // item code -> GET .../items/{code} (materials, fees, urgent_limit)
    list: { cases: [], supplements_due: [], ready_for_pickup: [] },
    listAt: Date.now(),
    tab: "cases",
    signoffs: null,            // leader: GET .../signoffs
    open: null,                // the open case's detail
    openAt: Date.now(),        // when its clock view was received
    decision: null,            // the last leader's decision on the open case, shown prominently
    ticketCases: new Map(),    // ticket id -> case id accepted from it
    printHint: null,           // "acceptance" | "supplement": offer that print first
    focusPrint: null,          // the print button to focus once it is shown
    pendingKey: null,          // an Alt key pressed while the case was loading
    action: null,              // the action whose dialog is open
  };
  const waits = createWaitClock();   // how long the sign-offs have waited, moving on between reads
  const base = () => `/api/halls/${encodeURIComponent(t.hall().code)}`;
  const leader = () => t.actor().role === "leader";
  const role = () => (leader() ? "leader" : "clerk");

  const accept = createAcceptDialog({
    base,
    items: t.items,
    itemDetail,
    onAuthLost: t.toLogin,
    onDone: (res, refused) => {
      const ticket = t.currentTicket();
      if (ticket) s.ticketCases.set(ticket.id, res.case_id);
      t.say(refused ? `已登记不予受理：${res.case_no}`
        : `已受理 ${res.case_no}，办结期限 ${res.clock.deadline ? formatDateTime(res.clock.deadline) : "当场办结"}`, "ok");
      s.printHint = "acceptance";
      s.focusPrint = "#print-acceptance";
      openCase(res.case_id, res);
      refreshList();
    },
  });

  // 联办受理 at a lead window: the case opens here behind the dialog's summary; no print button
  // takes the focus later (a live event's redraw would move it while the clerk types)
  const joint = createJointIntake({
    hall: t.hall,
    department: t.department,
    departmentName: t.departmentName || ((code) => code),
    currentTicket: t.currentTicket,
    ticketTaken: (ticketId) => s.ticketCases.has(ticketId),
    onAuthLost: t.toLogin,
    onDone: (res, ticket) => {
      if (ticket) s.ticketCases.set(ticket.id, res.case_id);
      t.say(acceptedMessage(res), "ok");
      s.printHint = "acceptance";
      openCase(res.case_id, res);
      refreshList();
    },
  });

  async function itemDetail(code) {
    if (!s.items.has(code)) s.items.set(code, await api(`${base()}/items/${encodeURIComponent(code)}`));
    return s.items.get(code);
  }

  // ---------------------------------------------------------------- loading
  async function loadCalendar() {
    try {
      const hall = await api(base());
      const from = new Date(Date.now() - 7 * 86400e3).toISOString().slice(0, 10);
      const to = new Date(Date.now() + 400 * 86400e3).toISOString().slice(0, 10);
      const { days } = await api(`${base()}/calendar?from=${from}&to=${to}`);
      s.cal = makeCalendar({ workPeriods: hall.work_periods, overrides: days });
    } catch (err) {
      console.error(err);   // the default Mon–Fri calendar counts on meanwhile
    }
  }

  async function loadList() {
    const windowNo = t.windowNo();
    if (!s.shown || !windowNo) return;
    try {
      s.list = { ready_for_pickup: [], ...(await api(`${base()}/windows/${windowNo}/cases`)) };
      s.listAt = Date.now();
    } catch (err) {
      if (err.status === 401) return t.toLogin();
      if (err.status !== 403) t.say(err.message, "error");
      return;
    }
    renderLists();
  }

  async function loadSignoffs() {
    if (!s.shown || !leader()) return;
    try {
      s.signoffs = await api(`${base()}/signoffs`);
      waits.read(s.signoffs);
    } catch (err) {
      if (err.status === 401) return t.toLogin();
      t.say(err.message, "error");
      return;
    }
    renderLists();
  }

  async function loadOpen() {
    if (!s.open) return;
    const id = s.open.case_id;
    let detail;
    try {
      detail = await api(`/api/cases/${id}`);
    } catch (err) {
      if (err.status === 401) return t.toLogin();
      t.say(err.message, "error");
      return;
    }
    if (!s.open || s.open.case_id !== id) return;   // another case was opened meanwhile
    s.open = detail;
    s.openAt = Date.now();
    renderOpen();
    if (s.pendingKey && !document.querySelector("dialog[open]")) {
      // a key pressed while the case was loading: its action, if the case allows it now
      const act = actionForKey(visibleActions(detail, role()), s.pendingKey);
      s.pendingKey = null;
      if (act) run(act);
    }
  }

  const refreshList = coalesce(loadList, 150);
  const refreshSignoffs = coalesce(loadSignoffs, 150);
  const refreshOpen = coalesce(loadOpen, 80);

  /** Opens case `id` in the panel; `known` (a command's answer) shows at once meanwhile. */
  async function openCase(id, known = null) {
    if (!s.open || s.open.case_id !== id) {
      s.decision = null;
      s.pendingKey = null;
      if (!known) s.printHint = null;
    }
    s.open = known ? { ...(s.open && s.open.case_id === id ? s.open : {}), ...known, case_id: id } : { case_id: id };
    s.openAt = Date.now();
    renderOpen();
    await loadOpen();
    if (s.open && s.open.item) itemDetail(s.open.item).catch(() => {});
  }

  function closeCase() {
    s.open = null;
    s.decision = null;
    s.printHint = null;
    renderOpen();
  }

  // ---------------------------------------------------------------- rendering
  function clockOf(c, at) {
    if (!c || !c.clock || !c.clock.unit) return null;
    return clockAt(c.clock, at, Date.now(), s.cal, countsFrom(c.accepted_at, c.clock.unit));
  }

  function renderClock() {
    const c = s.open;
    if (!c || !c.clock || !c.clock.unit) return;
    const now = clockOf(c, s.openAt);
    const d = describeClock(now, c.clock_paused_kind, s.cal);
    const box = $("#case-clock");
    box.dataset.tone = d.tone;
    $("#case-remaining").textContent = d.main;
    $("#case-clock-sub").textContent = d.sub;
    $("#case-deadline").textContent = c.clock.deadline ? `办结期限 ${formatDateTime(c.clock.deadline)}`
      : c.clock.status === "paused" ? "暂停期间无期限，恢复计时后顺延" : "";
  }

  const listed = () => [...s.list.cases, ...s.list.supplements_due, ...s.list.ready_for_pickup];

  function tickLists() {
    for (const el of document.querySelectorAll("#case-list [data-clock-case]")) {
      const c = listed().find((x) => String(x.case_id) === el.dataset.clockCase);
      if (c) el.textContent = describeClock(clockOf(c, s.listAt), null, s.cal).main;
    }
  }

  function renderOpen() {
    const c = s.open;
    if (t.caseShown) t.caseShown();
    $("#case-empty").hidden = !!c;
    $("#case-open").hidden = !c;
    renderEmpty();
    if (!c) { renderKeys([]); return; }
    $("#case-no").textContent = c.case_no || "…";
    const state = $("#case-state");
    state.textContent = c.state_name || STATE_NAMES[c.state] || "";
    state.className = `badge c-state s-${c.state || ""}`;
    $("#case-kind").textContent = KIND_NAMES[c.kind] || "";
    $("#case-item").textContent = [c.item_name, c.department_name,
      c.limit ? limitText(c.kind === "immediate" ? "immediate" : "promised", c.limit.amount, c.limit.unit) : null,
      c.requires_signoff ? "须领导签批" : null].filter(Boolean).join(" · ");
    const a = c.applicant && typeof c.applicant === "object" ? c.applicant : null;
    fill($("#case-applicant"), a ? [h("b", {}, a.name), a.phone ? ` · ${a.phone}` : "", a.id_number ? ` · ${a.id_number}` : "",
      c.window_no ? ` · ${c.window_no} 号窗口 ${c.clerk_name || ""}` : ""] : "");

    const dec = s.decision && s.decision.case_id === c.case_id ? decisionText(s.decision) : null;
    const banner = $("#case-decision");
    banner.hidden = !dec;
    if (dec) {
      banner.dataset.tone = dec.tone;
      fill(banner, h("b", {}, dec.title), h("span", {}, dec.text));
    }
    const reason = c.reason && ["refused", "not_accepted", "withdrawn"].includes(c.state);
    $("#case-reason").hidden = !reason;
    $("#case-reason").textContent = reason ? `理由：${c.reason}` : "";
    const warn = c.supplement_warning;
    $("#case-warning").hidden = !warn;
    $("#case-warning").textContent = warn ? warn.message : "";
    $("#case-warning").dataset.overdue = warn && warn.overdue ? "1" : "0";
    $("#case-deficiency").hidden = !c.deficiency_due;
    $("#case-deficiency").textContent = c.deficiency_due ? `容缺受理：缺项材料须在 ${formatDateTime(c.deficiency_due)} 前补交` : "";
    renderClock();

    const actions = c.actions ? visibleActions(c, role()) : [];
    fill($("#case-actions"), actions.length ? actions.map((act) => h("button", {
      type: "button", class: `btn c-act ${act.style || ""}`, dataset: { action: act.id },
      onclick: () => run(act),
    }, act.label, h("kbd", {}, `Alt+${act.hotkey}`))) : h("span", { class: "c-hint" }, c.actions ? "此状态下没有可办理的操作" : "正在加载…"));

    const supp = openSupplement(c) || (c.supplements || []).at(-1);
    const printButtons = [
      h("button", { type: "button", class: `btn ${s.printHint === "acceptance" ? "primary" : ""}`, id: "print-acceptance",
        onclick: () => print("acceptance") }, c.state === "not_accepted" ? "打印不予受理告知书" : "打印受理回执", h("kbd", {}, "F9")),
      supp ? h("button", { type: "button", class: `btn ${s.printHint === "supplement" ? "primary" : ""}`, id: "print-supplement",
        onclick: () => print("supplement") }, "打印一次性告知书") : null,
      h("label", { class: "c-check" }, h("input", { type: "checkbox", id: "print-a4" }), "A4 纸"),
    ];
    fill($("#case-print"), printButtons);

    fill($("#case-materials"), (c.materials || []).map((m) => h("li", { class: `c-m m-${m.status}` },
      h("span", { class: "c-m-name" }, `${m.position}. ${m.name}`, m.is_key ? h("b", { class: "key" }, "必备") : null),
      h("span", { class: `badge ${m.status === "submitted" || m.status === "supplemented" ? "green" : "red"}` },
        MATERIAL_STATUS_NAMES[m.status] || m.status),
      m.deferred ? h("span", { class: "badge amber" }, "容缺") : null,
      m.problem ? h("small", {}, m.problem) : null)));
    fill($("#case-fees"), (c.fees || []).length ? c.fees.map((f) => h("li", {},
      `${f.name} ${yuan(f.amount_cents)} · 票据 ${f.receipt_no} · ${formatDateTime(f.paid_at)}`)) : h("li", { class: "c-hint" }, "无"));
    fill($("#case-signoffs"), (c.signoffs || []).length ? c.signoffs.map((x) => h("li", {},
      h("b", {}, x.purpose === "extension" ? `延期 ${x.extension}` : "审批"),
      ` · ${x.requested_by} ${formatDateTime(x.requested_at)}`, x.note ? `：${x.note}` : "",
      h("div", { class: x.decision ? `c-so ${x.decision}` : "c-so" }, x.decision
        ? `${x.decided_by}：${x.decision === "approved" ? "同意" : "不同意"}${x.comment ? `（${x.comment}）` : ""} ${formatDateTime(x.decided_at)}`
        : "等待领导签批"))) : h("li", { class: "c-hint" }, "无"));
    fill($("#case-history"), (c.history || []).map((x) => h("li", {},
      h("span", { class: "num" }, formatDateTime(x.at)), " ", h("b", {}, x.label), ` ${x.actor || ""}`,
      x.reason ? h("small", {}, `：${x.reason}`) : null,
      x.clock && x.clock.op === "pause" ? h("small", {}, `（暂停计时：${PAUSE_KIND_NAMES[x.clock.kind] || ""}）`) : null)));
    renderKeys(actions);
    if (s.focusPrint && $(s.focusPrint) && !document.querySelector("dialog[open]")) {
      $(s.focusPrint).focus();   // Enter prints the notice just issued
      s.focusPrint = null;
    }
  }

  function renderEmpty() {
    const ticket = t.currentTicket();
    const btn = $("#case-accept");
    const existing = ticket && s.ticketCases.get(ticket.id);
    btn.hidden = leader();
    btn.disabled = !ticket;
    fill(btn, existing ? `打开 ${ticket.ticket_no} 的办件` : ticket ? `受理 ${ticket.ticket_no}` : "受理（先叫号，或扫码）", h("kbd", {}, "F8"));
    $("#case-empty-text").textContent = leader()
      ? "在右侧“待签批”中选择办件签批。"
      : ticket ? "核对材料后受理；也可扫描告知单条码受理。" : "叫号后受理当前群众的申请，或在右上扫描告知单条码受理。";
  }

  function renderKeys(actions) {
    const keys = [!leader() ? "F8 受理" : null, !leader() && !$("#joint-accept").hidden ? "Shift+F8 联办受理" : null, s.open ? "F9 打印回执" : null, "F7 扫描回执", "Alt+O 办件列表",
      ...actions.map((a) => `Alt+${a.hotkey} ${a.label}`), "Enter 确认", "Esc 取消"].filter(Boolean);
    fill($("#case-keys"), keys.map((k) => h("span", {}, k)));
  }

  function renderLists() {
    const counts = {
      cases: s.list.cases.length,
      supplements: s.list.supplements_due.length,
      pickup: s.list.ready_for_pickup.length,
      signoffs: s.signoffs ? s.signoffs.requests.length : 0,
    };
    for (const b of $("#case-tabs").querySelectorAll("button")) {
      b.setAttribute("aria-selected", String(b.dataset.tab === s.tab));
      b.hidden = b.dataset.tab === "signoffs" && !leader();
      b.querySelector("b").textContent = counts[b.dataset.tab];
    }
    // a live event re-renders the list: the row the clerk is on keeps the focus (Enter opens it)
    const focused = document.activeElement && document.activeElement.closest &&
      document.activeElement.closest("#case-list") ? document.activeElement.dataset.case : null;
    let rows;
    if (s.tab === "signoffs") rows = signoffRows();
    else rows = { cases: s.list.cases, supplements: s.list.supplements_due, pickup: s.list.ready_for_pickup }[s.tab].map(caseRow);
    fill($("#case-list"), rows.length ? rows : h("li", { class: "empty" }, {
      cases: "暂无在办件", supplements: "暂无待补正或容缺的办件", pickup: "暂无待领取的办件", signoffs: "暂无待签批的办件",
    }[s.tab]));
    if (focused) {
      const again = $("#case-list").querySelector(`button.c-row[data-case="${focused}"]`);
      if (again) again.focus();
    }
    tickLists();
  }

  function caseRow(c) {
    const warn = c.supplement_warning;
    return h("li", { class: warn ? (warn.overdue ? "c-row-late" : "c-row-warn") : "" },
      h("button", { type: "button", class: "c-row", dataset: { case: c.case_id }, onclick: () => openCase(c.case_id) },
        h("span", { class: "c-row-top" }, h("b", { class: "num" }, c.case_no),
          h("span", { class: `badge c-state s-${c.state}` }, c.state_name || STATE_NAMES[c.state])),
        h("span", { class: "c-row-item" }, `${c.item_name} · ${c.applicant ? c.applicant.name : ""}`,
          c.window_no !== t.windowNo() ? ` · ${c.window_no} 号窗口` : ""),
        h("span", { class: "c-row-meta" },
          h("span", { class: "num", dataset: { clockCase: c.case_id } }),
          c.missing ? h("span", { class: "badge red" }, `缺 ${c.missing} 项`) : null,
          c.supplement_issued_at ? h("span", { class: "badge amber" }, `补正告知 ${formatDateTime(c.supplement_issued_at)}`) : null,
          c.deficiency_due ? h("span", { class: "badge amber" }, `容缺补交 ${formatDateTime(c.deficiency_due)}`) : null),
        warn ? h("span", { class: "c-row-warning" }, warn.message) : null));
  }

  function signoffRows() {
    const so = s.signoffs;
    if (!so) return [];
    const rows = so.requests.map((r) => signoffRow(r, so.on_duty));
    if (!so.on_duty) rows.unshift(h("li", { class: "empty" }, "您今天不在带班值班，不能签批"));
    return rows;
  }

  function signoffRow(r, onDuty) {
    const wait = waits.of(r);
    const badge = waitBadge(wait);
    return h("li", { class: wait.tooLong ? "c-row-late" : "", dataset: { waitSignoff: r.signoff_id } },
      h("button", { type: "button", class: "c-row", dataset: { case: r.case.case_id }, onclick: () => openCase(r.case.case_id) },
        h("span", { class: "c-row-top" }, h("b", { class: "num" }, r.case.case_no),
          h("span", { class: "badge amber" }, r.purpose === "extension" ? `延期 ${r.extension}` : "审批")),
        h("span", { class: "c-row-item" }, `${r.case.item_name} · ${r.requested_by} · ${r.window_no} 号窗口`),
        h("span", { class: "c-row-meta" }, r.note ? `说明：${r.note}` : "",
          h("span", { class: badge.className, dataset: { wait: "" } }, badge.text))),
      h("div", { class: "c-row-btns" },
        h("button", { type: "button", class: "btn success", disabled: !onDuty,
          onclick: () => signoff(r.case, "approve") }, "同意"),
        h("button", { type: "button", class: "btn warn", disabled: !onDuty,
          onclick: () => signoff(r.case, "reject") }, "不同意")));
  }

  // the waits move on in place: a redraw would take the focus off a row's buttons
  function tickWaits() {
    if (!s.shown || !s.signoffs) return;
    for (const li of document.querySelectorAll("#case-list li[data-wait-signoff]")) {
      const r = s.signoffs.requests.find((x) => String(x.signoff_id) === li.dataset.waitSignoff);
      if (!r) continue;
      const wait = waits.of(r);
      const badge = waitBadge(wait);
      li.className = wait.tooLong ? "c-row-late" : "";
      const mark = li.querySelector("[data-wait]");
      mark.className = badge.className;
      mark.textContent = badge.text;
    }
  }

  // ---------------------------------------------------------------- actions
  async function signoff(c, decision) {
    s.open = c;
    s.openAt = Date.now();
    renderOpen();
    openForm({ id: "signoff", label: "签批" }, { decision });
    loadOpen();
  }

  async function run(act) {
    const c = s.open;
    if (!c || !c.actions) return;
    if (!act.form) return send(act, { method: "POST", path: `/api/cases/${c.case_id}/${act.id}`,
      body: act.id === "resume" ? {} : undefined });
    return openForm(act);
  }

  async function openForm(act, extra = {}) {
    const c = s.open;
    let item = null;
    if (act.id === "fee" && c.item) {
      try { item = await itemDetail(c.item); } catch (err) { t.failed(err); return; }
    }
    const f = buildForm(act.id, c, { hall: t.hall().code, item, role: role(), ...extra });
    if (!f) return;
    s.action = { act, form: f };
    $("#case-dialog-title").textContent = f.title;
    fill($("#case-dialog-body"), f.body);
    $("#case-dialog-error").hidden = true;
    const submit = $("#case-dialog-submit");
    submit.hidden = !f.submit;
    fill(submit, f.submit || "", h("kbd", {}, "Enter"));
    $("#case-dialog").showModal();
    const body = $("#case-dialog-body");
    const first = body.querySelector("textarea:enabled, input:not([type=checkbox]):enabled, select:enabled")
      || body.querySelector("input:enabled, button");
    (first || (f.submit ? submit : $("#case-dialog-cancel"))).focus();
  }

  async function send(act, req) {
    const c = s.open;
    let res;
    try {
      res = await api(req.path, { method: req.method, body: req.body });
    } catch (err) {
      if (err.status === 401) return t.toLogin();
      if ($("#case-dialog").open) {
        $("#case-dialog-error").textContent = err.message;
        $("#case-dialog-error").hidden = false;
      } else {
        t.failed(err);
      }
      return;
    }
    if ($("#case-dialog").open) $("#case-dialog").close();
    t.say(`${c.case_no}：${act.label}完成，当前${STATE_NAMES[res.state] || res.state}`, "ok");
    if (act.id === "supplement") {
      s.printHint = "supplement";
      s.focusPrint = "#print-supplement";
    }
    if (s.open && s.open.case_id === c.case_id && res.clock) {
      s.open = { ...s.open, state: res.state, state_name: STATE_NAMES[res.state], clock: res.clock, actions: null };
      s.openAt = Date.now();
      renderOpen();
    }
    refreshOpen();
    refreshList();
    if (leader()) refreshSignoffs();
  }

  const dialog = $("#case-dialog");
  enterSubmits($("#case-form"));
  $("#case-dialog-cancel").addEventListener("click", () => dialog.close());
  $("#case-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (!s.action) return;
    const { act, form } = s.action;
    let req;
    try {
      req = form.request();
    } catch (err) {
      if (!(err instanceof FormError)) throw err;
      $("#case-dialog-error").textContent = err.message;
      $("#case-dialog-error").hidden = false;
      return;
    }
    send(act, req);
  });
  $("#case-form").addEventListener("keydown", (ev) => {
    const keys = s.action && s.action.form.keys;
    if (keys && ev.altKey && keys[ev.key.toLowerCase()]) { ev.preventDefault(); keys[ev.key.toLowerCase()](); }
  });
  // the close event of a dialog shut by Esc can come after the next one opened: that one's
  // action stays
  dialog.addEventListener("close", () => { if (!dialog.open) s.action = null; });

  function print(doc) {
    if (!s.open) return;
    const a4 = $("#print-a4") && $("#print-a4").checked;
    window.open(noticeUrl(s.open.case_id, doc, a4 ? "a4" : "receipt") + "&print=1", "_blank");
    if (s.printHint === doc) s.printHint = null;
  }

  function startAccept(regNo = null, itemCode = null) {
    if (leader() || accept.isOpen) return;
    const ticket = t.currentTicket();
    if (!regNo && ticket && s.ticketCases.has(ticket.id)) return openCase(s.ticketCases.get(ticket.id));
    const code = itemCode || (ticket && t.items().find((i) => i.name === ticket.item) || {}).code || null;
    accept.open({ ticket: regNo ? null : ticket, regNo, itemCode: code, received: ticket && !regNo ? t.received(ticket.id) : null });
  }

  // 扫描回执/告知单: the applicant's paper (the receipt's case number or QR, the registration
  // notice's barcode or QR) opens their case, to hand over the result or take materials
  async function findCase(text) {
    const error = $("#case-find-error");
    const code = scannedCaseCode(text);
    if (!code) {
      error.textContent = "请扫描回执或告知单上的条码、二维码，或输入办件编号";
      error.hidden = false;
      return;
    }
    let found;
    try {
      found = await api(`${base()}/cases/find?code=${encodeURIComponent(code)}`);
    } catch (err) {
      if (err.status === 401) return t.toLogin();
      error.textContent = err.message;
      error.hidden = false;
      return;
    }
    error.hidden = true;
    $("#case-find-code").value = "";
    t.say(`${found.case_no}：${found.state_name || STATE_NAMES[found.state] || ""}`, "ok");
    await openCase(found.case_id, found);
  }

  $("#case-find").addEventListener("submit", (ev) => {
    ev.preventDefault();
    findCase($("#case-find-code").value);
  });
  $("#case-find-code").addEventListener("input", () => { $("#case-find-error").hidden = true; });

  $("#case-accept").addEventListener("click", () => startAccept());
  $("#case-close").addEventListener("click", closeCase);
  $("#case-tabs").addEventListener("click", (ev) => {
    const b = ev.target.closest("button");
    if (!b) return;
    s.tab = b.dataset.tab;
    renderLists();
  });
  // up / down between the list's rows, Enter (a button's own) opens one
  $("#case-list").addEventListener("keydown", (ev) => {
    if (ev.key !== "ArrowDown" && ev.key !== "ArrowUp") return;
    const rows = [...$("#case-list").querySelectorAll("button.c-row")];
    const i = rows.indexOf(document.activeElement);
    const next = rows[Math.max(0, Math.min(rows.length - 1, i + (ev.key === "ArrowDown" ? 1 : -1)))];
    if (next) { ev.preventDefault(); next.focus(); }
  });

  document.addEventListener("keydown", (ev) => {
    if (!s.shown || document.querySelector("dialog[open]")) return;
    if (ev.key === "F8" && !ev.shiftKey) {
      ev.preventDefault();
      if (!$("#case-accept").disabled) startAccept();
      return;
    }
    if (ev.key === "F7") {
      ev.preventDefault();   // else Chromium offers caret browsing
      $("#case-find-code").focus();
      $("#case-find-code").select();
      return;
    }
    if (ev.key === "F9") {
      ev.preventDefault();
      print(s.printHint === "supplement" ? "supplement" : "acceptance");
      return;
    }
    if (!ev.altKey || ev.ctrlKey || ev.metaKey || !/^Key[A-Z]$/.test(ev.code)) return;
    const letter = ev.code.slice(3);
    if (letter === "O") {
      ev.preventDefault();
      const row = $("#case-list button.c-row");
      if (row) row.focus();
      return;
    }
    if (!s.open) return;
    if (!s.open.actions) {   // still loading after a command: the key waits for the case
      ev.preventDefault();
      s.pendingKey = letter;
      return;
    }
    const act = actionForKey(visibleActions(s.open, role()), letter);
    if (act) { ev.preventDefault(); run(act); }
  });

  setInterval(() => {
    if (!s.shown) return;
    renderClock();
    tickLists();
  }, 1000);
  waits.every(tickWaits);

  // ---------------------------------------------------------------- the terminal's hooks
  return {
    /** The terminal is shown at a window. */
    show() {
      const first = !s.shown;
      s.shown = true;
      if (leader() && first) s.tab = "signoffs";
      if (first) loadCalendar();
      if (leader()) joint.hide();
      else joint.show();
      renderOpen();
      refreshList();
      if (leader()) refreshSignoffs();
    },
    hide() {
      s.shown = false;
      joint.hide();
      closeCase();
    },
    /** After a reconnect: what happened meanwhile. */
    refresh() {
      if (!s.shown) return;
      refreshList();
      refreshOpen();
      if (leader()) refreshSignoffs();
    },
    /** The board changed: the ticket F8 accepts may be another one. */
    ticketChanged() {
      renderEmpty();
    },
    /** The case accepted from ticket `ticketId`, when it is the one open here (with its
     * materials once loaded): the ticket's checklist shows it instead of the clerk's ticks. */
    caseOfTicket(ticketId) {
      return s.open && s.open.ticket_id === ticketId ? s.open : null;
    },
    /** Opens case `caseId` in the panel (an alarm's case, from the alarm strip). */
    open(caseId) {
      if (s.shown) openCase(caseId);
    },
    /** Accept from a scanned registration (the scan result's button). */
    acceptRegistration(reg) {
      startAccept(reg.reg_no, reg.item && reg.item.code);
    },
    /** What window/events.js needs to judge a case event. */
    liveView() {
      const dept = t.department();
      return {
        department: dept ? dept.code : null,
        openCaseId: s.open ? s.open.case_id : null,
        shownCaseIds: new Set(listed().map((c) => c.case_id)),
        leader: leader(),
      };
    },
    /** A case event's effect (case-model.js reduceCaseEvent). */
    apply(effect, ev) {
      if (!effect || !s.shown) return;
      if (applyCaseEvent(s.list.cases, ev) | applyCaseEvent(s.list.supplements_due, ev)
        | applyPickupEvent(s.list.ready_for_pickup, ev)) renderLists();
      if (effect.decision) {
        const dec = decisionText(effect.decision);
        if (s.open && s.open.case_id === effect.decision.case_id) {
          s.decision = effect.decision;
          renderOpen();
        }
        toast(`${effect.decision.case_no} ${dec.title}（${dec.text}）`, dec.tone === "ok" ? "ok" : "error", 8000);
      }
      if (effect.refreshCase) {
        if (s.open && ev.data && ev.data.clock && ev.data.case_id === s.open.case_id && ev.type !== "signoff.decided") {
          s.open = { ...s.open, state: ev.data.state, state_name: STATE_NAMES[ev.data.state], clock: ev.data.clock };
          s.openAt = Date.now();
          renderClock();
        }
        refreshOpen();
      }
      if (effect.refreshList) refreshList();
      if (effect.refreshSignoffs) refreshSignoffs();
    },
  };
}
