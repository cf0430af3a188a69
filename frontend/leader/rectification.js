// 整改 on the leader's page: the department's open rectification tasks (GET
// /api/halls/{hall}/rectifications?state=active, read on start, on each reconnect and when a
// rectification event of the department arrives), each with its review (level, reasons,
// comment: never the citizen's identity), its due time (overdue marked) and the actions the
// server allows now: verify → rectify → call back → close, or appeal. Each action is a small
// form in the task's row; the server's refusal is shown there as it words it.
import { $, api, coalesce, fill, formatDateTime, h, toast } from "../shared/api.js";
import { dueState, leaderActions, RECT_ACTIONS, rectRequest } from "./rectification-model.js";

const TICK_MS = 30000;

/** @param {{hall: () => {code}, department: () => {code}, toLogin: Function}} t */
export function createRectifications(t) {
  const s = { tasks: [], open: null, rate: null };
  const list = $("#rect-list");

  async function load() {
    let answer;
    try {
      answer = await api(`/api/halls/${encodeURIComponent(t.hall().code)}/rectifications?state=active`);
    } catch (err) {
      if (err.status === 401) return t.toLogin();
      toast(err.message, "error");
      return;
    }
    s.tasks = answer.tasks;
    s.rate = answer.callback_rate;
    render();
  }
  const refresh = coalesce(load, 80);

  function formOf(task, action) {
    const f = RECT_ACTIONS[action];
    const error = h("div", { class: "alert", role: "alert", hidden: true });
    const note = h("textarea", { class: "input", rows: "2", maxlength: "1000", placeholder: f.placeholder });
    const extra = [];
    let reached = null;
    let followup = null;
    if (action === "rectification.call_back") {
      reached = h("input", { type: "checkbox", checked: true });
      followup = h("select", { class: "input r-followup" },
        h("option", { value: "" }, "未评价"),
        ...[5, 4, 3, 2, 1].map((n) => h("option", { value: String(n) },
          ["", "非常不满意", "不满意", "基本满意", "满意", "非常满意"][n])));
      extra.push(h("label", { class: "r-check" }, reached, " 已联系上评价人"),
        h("label", { class: "r-check" }, "评价人对整改的评价 ", followup));
    }
    const submit = h("button", { type: "submit", class: "btn primary" }, `提交${f.label}`);
    const form = h("form", { class: "r-form", novalidate: true },
      h("label", { class: "field" }, h("span", {}, f.title), note), ...extra, error,
      h("div", { class: "r-form-foot" },
        h("button", { type: "button", class: "btn", onclick: () => close() }, "取消"), submit));
    form.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") { ev.preventDefault(); close(); }
    });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      let req;
      try {
        req = rectRequest(task, action, {
          note: note.value, reached: reached ? reached.checked : true, followup: followup ? followup.value : "",
        });
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
        return;
      }
      submit.disabled = true;
      try {
        await api(req.path, { method: "POST", body: req.body });
      } catch (err) {
        if (err.status === 401) return t.toLogin();
        error.textContent = err.message;
        error.hidden = false;
        submit.disabled = false;
        if (err.status === 409) refresh();
        return;
      }
      toast(`${f.done}：${task.window_no ? `${task.window_no} 号窗口` : "差评"}`, "ok");
      close();
      refresh();
    });
    setTimeout(() => note.focus(), 0);
    return form;
  }

  function close() {
    s.open = null;
    render();
  }

  function row(task, now) {
    const due = dueState(task, now);
    const r = task.rating;
    const actions = leaderActions(task).map((a) => h("button", {
      type: "button", class: `btn ${a === "rectification.appeal" ? "" : "primary"}`,
      onclick: () => { s.open = { id: task.rectification_id, action: a }; render(); },
    }, RECT_ACTIONS[a].label));
    const open = s.open && s.open.id === task.rectification_id ? s.open.action : null;
    return h("li", { class: `r-row${due.overdue ? " r-late" : ""}`, dataset: { task: String(task.rectification_id), state: task.state } },
      h("div", { class: "r-top" },
        h("span", { class: "r-level" }, r.level_name),
        h("span", { class: "r-what" }, [task.window_no ? `${task.window_no} 号窗口` : null, task.item_name || task.case_no]
          .filter(Boolean).join(" · ") || "窗口服务"),
        h("span", { class: "r-state" }, task.state_name),
        h("span", { class: `r-due${due.overdue ? " tone-late" : due.held ? " tone-paused" : ""}` },
          `期限 ${formatDateTime(task.due_at)}（${due.text}）`)),
      h("div", { class: "r-text" },
        r.reason_names.length ? `原因：${r.reason_names.join("、")}` : null,
        r.comment ? h("div", {}, h("b", {}, "意见："), r.comment) : null,
        task.verify_note ? h("div", {}, h("b", {}, "核实："), task.verify_note) : null,
        task.rectify_note ? h("div", {}, h("b", {}, "整改："), task.rectify_note) : null,
        task.callback_at ? h("div", {}, h("b", {}, "回访："), `${task.callback_reached ? "已联系上" : "未联系上"}${task.callback_note ? `，${task.callback_note}` : ""}`) : null,
        task.appeal.reason ? h("div", {}, h("b", {}, task.appeal.pending ? "申诉（待监察裁决）：" : "申诉："), task.appeal.reason) : null),
      open ? formOf(task, open) : h("div", { class: "r-btns" }, actions));
  }

  function render() {
    const now = Date.now();
    $("#rect-count").textContent = String(s.tasks.length);
    $("#rect-late").textContent = String(s.tasks.filter((x) => dueState(x, now).overdue).length);
    $("#rect-rate").textContent = s.rate && s.rate.rate !== null
      ? `实名差评回访率 ${(s.rate.rate * 100).toFixed(0)}%（${s.rate.reached}/${s.rate.real_name}）` : "";
    $("#rect-empty").hidden = s.tasks.length > 0;
    if (s.open && !s.tasks.some((x) => x.rectification_id === s.open.id && leaderActions(x).includes(s.open.action))) {
      s.open = null;   // done elsewhere meanwhile
    }
    // a form being written is not thrown away by a live update: its row is kept as it is
    const keep = s.open ? list.querySelector(`li[data-task="${s.open.id}"]`) : null;
    const rows = s.tasks.map((x) => (keep && x.rectification_id === s.open.id && keep.querySelector(".r-form") ? keep : row(x, now)));
    fill(list, ...rows);
  }

  setInterval(() => { if (s.tasks.length && !s.open) render(); }, TICK_MS);

  return {
    /** Reads the list (start, each reconnect, a rectification event of the department). */
    refresh: () => refresh(),
  };
}
