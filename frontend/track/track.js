// /track: a citizen follows their registration by its query code (public, polled).
import { api, ApiError, $, h, fill, param, formatWait, formatDateTime, limitText } from "/static/shared/api.js";

const STATE = {
  waiting: (t, n) => [`等候中`, n.ahead ? `前面还有 ${n.ahead} 人，预计等候 ${formatWait(n.estimated_wait_seconds)}` : "即将叫号，请留意叫号屏"],
  called: (t) => [`请到 ${t.window_no} 号窗口办理`, "已叫号，请尽快前往"],
  serving: (t) => [`正在 ${t.window_no} 号窗口办理`, ""],
  parked: (t) => [`业务已挂起`, `请补齐材料后回到 ${t.window_no} 号窗口`],
  done: (t) => [OUTCOME[t.outcome] || "已结束", ""],
};
const OUTCOME = {
  served: "窗口办理已完成", transferred: "已转办", no_show: "已过号，请到咨询台重新取号",
  cancelled: "已取消", parked_expired: "挂起已超时，请重新取号", closed_unserved: "当日未办理，请重新取号",
};

let timer = null;

async function show(code) {
  clearTimeout(timer);
  const error = $("#error");
  try {
    const n = await api(`/api/notice/${encodeURIComponent(code)}`);
    error.hidden = true;
    const t = n.ticket || {};
    const [state, detail] = (STATE[t.status] || STATE.done)(t, n);
    $("#hall-name").textContent = n.hall.name;
    const box = $("#status");
    box.hidden = false;
    fill(box,
      h("div", { class: "t-ticket num" }, t.ticket_no || "—"),
      h("div", { class: `t-state ${t.status === "called" ? "called" : t.status === "done" ? "done" : ""}` }, state),
      detail ? h("div", {}, detail) : "",
      h("dl", { class: "t-rows" },
        h("dt", {}, "办理事项"), h("dd", {}, n.item.name),
        h("dt", {}, "办理部门"), h("dd", {}, n.department),
        h("dt", {}, "承诺时限"), h("dd", {}, n.promised_due ? `${limitText(n.item_kind, n.promised_limit, n.limit_unit)}，${formatDateTime(n.promised_due)} 前` : "即办件，当场办结"),
        h("dt", {}, "登记号"), h("dd", { class: "num" }, n.reg_no),
        h("dt", {}, "登记时间"), h("dd", {}, formatDateTime(n.created_at))));
    history.replaceState(null, "", `?code=${encodeURIComponent(code)}`);
    if (t.status !== "done") timer = setTimeout(() => show(code), 10000);
  } catch (e) {
    $("#status").hidden = true;
    error.hidden = false;
    error.textContent = e instanceof ApiError ? e.message : "网络异常，请稍后再试";
  }
}

$("#form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const code = $("#code").value.trim().toUpperCase();
  if (code) show(code);
});
const initial = param("code");
if (initial) { $("#code").value = initial; show(initial.toUpperCase()); }
