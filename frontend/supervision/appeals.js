// 差评申诉 on the supervision wall: the appeals of bad reviews waiting for a decision (GET
// /api/halls/{hall}/rectifications?state=appealed), read on start, on a reconnect, on a hall
// switch and when a rectification.changed arrives; a supervisor decides each in its row: 申诉成立
// (upheld: the review is excluded from the statistics) or 驳回 (rejected: the department's task
// goes on), with the reason (POST /api/rectifications/{id}/decide-appeal).
import { $, api, coalesce, fill, formatDateTime, h, toast } from "../shared/api.js";

/** The request of a decision; throws an Error worded for the row without a reason. */
export function decisionRequest(task, decision, note) {
  const text = (note || "").trim();
  if (!text) throw new Error("请填写决定理由");
  if (!["upheld", "rejected"].includes(decision)) throw new Error("未知决定");
  return { path: `/api/rectifications/${task.rectification_id}/decide-appeal`, body: { decision, note: text } };
}

/** @param {{hall: () => string, toLogin: Function}} t */
export function createAppeals(t) {
  const s = { tasks: [], hall: null };

  async function load() {
    const hall = t.hall();
    let answer;
    try {
      answer = await api(`/api/halls/${encodeURIComponent(hall)}/rectifications?state=appealed`);
    } catch (err) {
      if (err.status === 401) return t.toLogin();
      return;   // the panel stays as it was; the next event or reconnect reads it again
    }
    if (hall !== t.hall()) return;
    s.tasks = answer.tasks;
    render();
  }
  const refresh = coalesce(load, 300);

  function row(task) {
    const note = h("input", { class: "input", maxlength: "500", placeholder: "决定理由", "aria-label": "决定理由" });
    const error = h("div", { class: "alert", role: "alert", hidden: true });
    async function decide(decision) {
      let req;
      try {
        req = decisionRequest(task, decision, note.value);
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
        note.focus();
        return;
      }
      try {
        await api(req.path, { method: "POST", body: req.body });
      } catch (err) {
        if (err.status === 401) return t.toLogin();
        error.textContent = err.message;
        error.hidden = false;
        if (err.status === 409) refresh();
        return;
      }
      toast(decision === "upheld" ? "申诉成立，该差评不计入统计" : "申诉已驳回，整改继续", "ok");
      refresh();
    }
    const r = task.rating;
    return h("li", { class: "s-appeal", dataset: { task: String(task.rectification_id) } },
      h("div", {}, h("b", {}, `${task.department_name}${task.window_no ? ` · ${task.window_no} 号窗口` : ""}`),
        ` · ${r.level_name}${r.reason_names.length ? `（${r.reason_names.join("、")}）` : ""}`),
      r.comment ? h("div", { class: "s-appeal-text" }, `评价意见：${r.comment}`) : null,
      h("div", { class: "s-appeal-text" }, `申诉理由：${task.appeal.reason}（${formatDateTime(task.appeal.appealed_at)}）`),
      h("div", { class: "s-appeal-act" }, note,
        h("button", { type: "button", class: "btn primary", onclick: () => decide("upheld") }, "申诉成立"),
        h("button", { type: "button", class: "btn", onclick: () => decide("rejected") }, "驳回")),
      error);
  }

  function render() {
    $("#appeals-note").textContent = `待裁决 ${s.tasks.length} 件`;
    $("#appeals-panel").hidden = s.tasks.length === 0;
    // a reason being typed is kept: the rows still waiting are not redrawn
    const list = $("#appeals");
    const kept = new Map([...list.children].map((li) => [Number(li.dataset.task), li]));
    fill(list, ...s.tasks.map((x) => kept.get(x.rectification_id) || row(x)));
  }

  return { refresh: () => refresh() };
}
