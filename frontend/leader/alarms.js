// 监察提醒 on the leader's page: the department's open alarms (GET .../alarms?state=open
// &department=code, read on start and after each reconnect, then kept live from alarm.issued /
// alarm.changed through leader/events.js), and what the department's leader does with one:
// answer a 督办 (POST /api/alarms/{id}/answer {"answer"}) or appeal it (POST .../appeal
// {"reason"}), each in a small form inside the alarm's row; the server's refusal is shown there
// as it words it.
import { $, api, coalesce, fill, formatDateTime, h, toast } from "../shared/api.js";
import { levelChip, syncRows } from "../shared/alarm-view.js";
import {
  ACTION_FORMS, actionRequest, alarmsUrl, announcement, answerOverdue, leaderActions, openAlarms, stateText,
} from "../shared/alarms.js";

const NEW_FOR_MS = 15000;

/** @param {{hall: () => {code}, department: () => {code, name}, toLogin: Function}} t */
export function createLeaderAlarms(t) {
  const s = {
    alarms: [],
    loaded: false,
    rows: new Map(),
    arrivedAt: new Map(),
    events: 0,
  };
  const list = $("#alarm-list");

  async function load() {
    const before = s.events;
    let answer;
    try {
      answer = await api(alarmsUrl(t.hall().code, { department: t.department().code }));
    } catch (err) {
      if (err.status === 401) return t.toLogin();
      toast(err.message, "error");
      render();   // live alarms still come; the next reconnect reads the list again
      return;
    }
    if (s.events !== before) { refresh(); return; }
    s.alarms = openAlarms(answer);
    s.loaded = true;
    render();
  }
  const refresh = coalesce(load, 60);

  function openForm(row, action) {
    const form = row.querySelector(".a-form");
    form.hidden = false;
    form.dataset.action = action;
    const f = ACTION_FORMS[action];
    form.querySelector(".a-form-title").textContent = f.title;
    const text = form.querySelector("textarea");
    text.placeholder = f.placeholder;
    text.value = "";
    form.querySelector(".alert").hidden = true;
    form.querySelector(".a-submit").textContent = `提交${f.label}`;
    form.querySelector(".a-submit").disabled = false;
    text.focus();
  }

  function closeForm(row, refocus = true) {
    const form = row.querySelector(".a-form");
    const action = form.dataset.action;
    form.hidden = true;
    delete form.dataset.action;
    if (!refocus) return;
    const back = row.querySelector(`.a-btns button[data-action="${action}"]:not([hidden])`);
    (back || row).focus();
  }

  async function submit(row) {
    const form = row.querySelector(".a-form");
    const action = form.dataset.action;
    const alarm = s.alarms.find((a) => a.alarm_id === Number(row.dataset.alarm));
    if (!alarm || !action) return;
    const error = form.querySelector(".alert");
    let req;
    try {
      req = actionRequest(alarm, action, form.querySelector("textarea").value);
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
      form.querySelector("textarea").focus();
      return;
    }
    const button = form.querySelector(".a-submit");
    button.disabled = true;
    try {
      await api(req.path, { method: "POST", body: req.body });
    } catch (err) {
      if (err.status === 401) return t.toLogin();
      error.textContent = err.message;
      error.hidden = false;
      button.disabled = false;
      if (err.status === 409) refresh();   // the alarm moved on meanwhile: the list is stale
      return;
    }
    toast(`${ACTION_FORMS[action].done}：${alarm.case_no || alarm.kind_name}`, "ok");
    closeForm(row);
    refresh();   // its alarm.changed comes as well; the read has the answer's own words
  }

  function build() {
    const row = h("li", { class: "a-row", tabindex: "-1" });
    const buttons = Object.entries(ACTION_FORMS).map(([action, f]) => h("button", {
      type: "button", class: `btn ${action === "answer" ? "primary" : ""}`, dataset: { action },
      onclick: () => openForm(row, action),
    }, f.label));
    const form = h("form", { class: "a-form", hidden: true, novalidate: true },
      h("label", { class: "field" }, h("span", { class: "a-form-title" }),
        h("textarea", { class: "input", rows: "3", maxlength: "1000" })),
      h("div", { class: "alert", role: "alert", hidden: true }),
      h("div", { class: "a-form-foot" },
        h("button", { type: "button", class: "btn a-cancel", onclick: () => closeForm(row) }, "取消"),
        h("button", { type: "submit", class: "btn primary a-submit" }, "提交")));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      submit(row);
    });
    form.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") { ev.preventDefault(); closeForm(row); }
      // Ctrl+Enter sends; Enter is a new line of the text
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); submit(row); }
    });
    row.append(
      h("span", { class: "a-chip" }),
      h("span", { class: "a-summary" }),
      h("span", { class: "a-btns" }, buttons),
      h("span", { class: "a-meta" }),
      h("span", { class: "a-text" }),
      form);
    return row;
  }

  function update(row, a) {
    const arrived = s.arrivedAt.get(a.alarm_id);
    row.classList.toggle("a-new", arrived !== undefined && Date.now() - arrived < NEW_FOR_MS);
    row.dataset.level = a.level;
    row.dataset.state = a.state;
    fill(row.querySelector(".a-chip"), levelChip(a));
    row.querySelector(".a-summary").textContent = a.summary;
    const late = answerOverdue(a);
    fill(row.querySelector(".a-meta"), [
      a.kind_name,
      a.window_no ? `${a.window_no} 号窗口` : null,
      h("span", { class: late ? "a-late a-state" : "a-state" }, stateText(a) + (late ? "（已逾期）" : "")),
      `发出 ${formatDateTime(a.issued_at)}`,
    ].filter(Boolean).flatMap((x, i) => (i ? [" · ", x] : [x])));
    fill(row.querySelector(".a-text"),
      a.answer ? h("div", {}, h("b", {}, "答复："), a.answer) : null,
      a.appeal ? h("div", {}, h("b", {}, a.appeal_pending ? "申诉（待裁决）：" : "申诉："), a.appeal) : null);
    const allowed = leaderActions(a);
    for (const b of row.querySelectorAll(".a-btns button")) b.hidden = !allowed.includes(b.dataset.action);
    // a form whose action the alarm no longer allows (answered elsewhere) closes
    const form = row.querySelector(".a-form");
    if (!form.hidden && !allowed.includes(form.dataset.action)) closeForm(row, form.contains(document.activeElement));
  }

  function render() {
    $("#alarm-count").textContent = String(s.alarms.length);
    $("#alarms").dataset.top = s.alarms.length ? s.alarms[0].level : "";
    $("#alarm-empty").hidden = s.alarms.length > 0;
    syncRows(list, s.rows, s.alarms, build, update);
  }

  setInterval(() => {
    if (!s.arrivedAt.size) return;
    for (const [id, when] of s.arrivedAt) if (Date.now() - when >= NEW_FOR_MS) s.arrivedAt.delete(id);
    render();
  }, 5000);

  return {
    /** Reads the list (start, and each reconnect). */
    refresh: () => refresh(),
    /** The list leader/events.js reduces an alarm event on. */
    list: () => s.alarms,
    /** An alarm event's effect (shared/alarms.js reduceAlarms). */
    apply(effect) {
      if (!effect) return;
      s.events += 1;
      s.alarms = effect.alarms;
      if (effect.arrived !== null) {
        s.arrivedAt.set(effect.arrived, Date.now());
        const a = s.alarms.find((x) => x.alarm_id === effect.arrived);
        if (a) $("#alarm-announce").textContent = announcement(a);
      }
      render();
      // the read has what the event does not carry (the answer's own words)
      if (effect.refetch || effect.updated !== null) refresh();
    },
  };
}
