// 联办待办 on the window terminal: the ready and claimed joint steps of the clerk's department,
// with their clocks; 认领 a ready step, 办结 one this clerk claimed (办理说明, 出具证照). Read on
// showing the terminal and after a reconnect (GET .../inbox), kept live from joint_step.* events
// of the department's room (window/events.js gives the reduced list). Rows are updated in
// place, so a live event never takes the focus from the form being typed in.
import { $, api, coalesce, h } from "../shared/api.js";
import { syncRows } from "../shared/alarm-view.js";
import {
  errorText, inboxFromAnswer, inboxUrl, isMine, isOverdue, parseIssued, sortInbox, stepStateText,
  timeLeftText,
} from "../shared/inbox.js";

/**
 * @param {{hall: () => {code}, windowNo: () => number|null, actor: () => object,
 *          department: () => {code}|null, toLogin: Function}} t  the terminal around the panel
 */
export function createInboxPanel(t) {
  const s = {
    shown: false,
    steps: [],
    rows: new Map(),         // step_id -> its row element
    events: 0,               // step events applied: a read begun before one is stale
    workflows: new Map(),    // workflow code -> its name
  };
  const panel = $("#inbox");
  const list = $("#inbox-list");
  const me = () => ({ windowNo: t.windowNo(), name: (t.actor() || {}).name || null });
  // syncRows keys rows by alarm_id; a step's id stands in for it
  const keyed = () => s.steps.map((x) => ({ ...x, alarm_id: x.step_id }));

  async function loadWorkflows() {
    if (s.workflows.size) return;
    try {
      const { workflows } = await api(`/api/halls/${encodeURIComponent(t.hall().code)}/workflows`);
      for (const w of workflows || []) s.workflows.set(w.code, w.name);
      render();
    } catch { /* the code stands in for the name */ }
  }

  async function load() {
    const windowNo = t.windowNo();
    if (!s.shown || !windowNo) return;
    const before = s.events;
    let answer;
    try {
      answer = await api(inboxUrl(t.hall().code));
    } catch (err) {
      if (err.status === 401) return t.toLogin();
      if (err.status !== 403) console.error(err);
      return;
    }
    if (!s.shown || t.windowNo() !== windowNo) return;
    if (s.events !== before) { refresh(); return; }   // an event came meanwhile: read again
    s.steps = inboxFromAnswer(answer, me());
    render();
  }
  const refresh = coalesce(load, 100);

  function stepById(row) {
    return s.steps.find((x) => x.step_id === Number(row.dataset.alarm));
  }

  function showError(row, err) {
    const box = row.querySelector(".i-error");
    box.textContent = errorText(err);
    box.hidden = false;
  }

  async function claim(row) {
    const step = stepById(row);
    if (!step) return;
    row.querySelector(".i-error").hidden = true;
    try {
      const answer = await api(`/api/joint-steps/${step.step_id}/claim`, { method: "POST" });
      s.steps = sortInbox(s.steps.map((x) => (x.step_id === step.step_id
        ? { ...x, state: "claimed", claimed_by: answer.claimed_by ?? me().name, window_no: answer.window_no ?? me().windowNo }
        : x)), me());
      render();
    } catch (err) {
      if (err.status === 401) return t.toLogin();
      showError(row, err);
      refresh();
    }
  }

  async function complete(row, form) {
    const step = stepById(row);
    if (!step) return;
    row.querySelector(".i-error").hidden = true;
    const body = {
      note: form.querySelector(".i-note").value.trim(),
      issued: parseIssued(form.querySelector(".i-issued").value),
    };
    try {
      await api(`/api/joint-steps/${step.step_id}/complete`, { method: "POST", body });
      s.steps = s.steps.filter((x) => x.step_id !== step.step_id);
      render();
    } catch (err) {
      if (err.status === 401) return t.toLogin();
      showError(row, err);
      refresh();
    }
  }

  function build() {
    const claimBtn = h("button", { type: "button", class: "btn primary i-claim", hidden: true }, "认领");
    const doneBtn = h("button", { type: "button", class: "btn success i-done", hidden: true }, "办结");
    const form = h("form", { class: "i-form", hidden: true, autocomplete: "off" },
      h("label", {}, "办理说明 ", h("input", { class: "input i-note", maxlength: "500" })),
      h("label", {}, "出具证照 ", h("input", { class: "input i-issued", placeholder: "多个用逗号分隔" })),
      h("button", { type: "submit", class: "btn primary i-submit" }, "确认办结"),
      h("button", { type: "button", class: "btn i-cancel" }, "取消"));
    const row = h("li", { class: "i-row" },
      h("span", { class: "i-name" }),
      h("span", { class: "i-case num" }),
      h("span", { class: "i-flow" }),
      h("span", { class: "i-state" }),
      h("span", { class: "i-left num" }),
      h("span", { class: "i-btns" }, claimBtn, doneBtn),
      form,
      h("div", { class: "alert i-error", role: "alert", hidden: true }));
    claimBtn.addEventListener("click", () => claim(row));
    doneBtn.addEventListener("click", () => {
      form.hidden = false;
      form.querySelector(".i-note").focus();
    });
    form.querySelector(".i-cancel").addEventListener("click", () => { form.hidden = true; });
    form.addEventListener("submit", (e) => { e.preventDefault(); complete(row, form); });
    return row;
  }

  function update(row, step) {
    const mine = isMine(step, me());
    row.dataset.step = String(step.step_id);
    row.dataset.state = step.state;
    row.dataset.mine = mine ? "1" : "";
    row.querySelector(".i-name").textContent = step.name;
    row.querySelector(".i-case").textContent = step.case_no;
    row.querySelector(".i-flow").textContent = step.workflow ? s.workflows.get(step.workflow) || step.workflow : "";
    row.querySelector(".i-state").textContent = stepStateText(step);
    const left = row.querySelector(".i-left");
    left.textContent = timeLeftText(step);
    left.classList.toggle("i-late", isOverdue(step));
    row.querySelector(".i-claim").hidden = step.state !== "ready";
    row.querySelector(".i-done").hidden = !mine;
    if (!mine) row.querySelector(".i-form").hidden = true;
  }

  function render() {
    panel.hidden = !s.shown;
    if (!s.shown) return;
    $("#inbox-count").textContent = String(s.steps.length);
    $("#inbox-empty").hidden = s.steps.length > 0;
    syncRows(list, s.rows, keyed(), build, update);
  }

  // the clocks' words move on by themselves
  setInterval(() => { if (s.shown && s.steps.length) render(); }, 30000);

  return {
    show() {
      s.shown = true;
      render();
      loadWorkflows();
      refresh();
    },
    hide() {
      s.shown = false;
      s.steps = [];
      syncRows(list, s.rows, [], build, update);
      render();
    },
    /** After a reconnect: what happened meanwhile. */
    refresh() {
      if (s.shown) refresh();
    },
    /** What window/events.js reduces a step event on. */
    view: () => ({ steps: s.steps, department: (t.department() || {}).code || null, me: me() }),
    /** A step event's effect (shared/inbox.js reduceInbox). */
    apply(effect) {
      if (!effect || !s.shown) return;
      s.events += 1;
      s.steps = effect.steps;
      render();
    },
  };
}
