// Public queue status (no login): each queue's waiting count and estimated wait, polled every
// 10 s from GET /api/halls/{hall}/queue-status. /queue?hall=<code> (default: the demo city hall).
import { $, api, fill, formatClock, formatWait, h, param } from "../shared/api.js";

const HALL = param("hall", "rizhao");
const POLL_MS = 10_000;
let data = null;

function level(q) {
  if (!q.open_windows) return "off";
  if (q.estimated_wait_seconds >= 45 * 60) return "long";
  if (q.estimated_wait_seconds >= 15 * 60) return "mid";
  return "";
}

function render() {
  if (!data) return;
  const filter = $("#filter").value.trim();
  const queues = data.queues.filter((q) => !filter || q.name.includes(filter) || q.prefix === filter.toUpperCase());
  $("#hall-name").textContent = data.hall.name;
  document.title = `实时排队情况 · ${data.hall.name}`;
  $("#total").textContent = data.queues.reduce((n, q) => n + q.waiting, 0);
  $("#served").textContent = data.queues.reduce((n, q) => n + q.served_today, 0);
  fill($("#queues"), queues.length ? queues.map((q) => h("article", { class: `card q-card ${level(q)}`, dataset: { queue: q.code } },
    h("div", { class: "q-name" }, h("i", { class: "num" }, q.prefix), q.name),
    h("div", { class: "q-waiting" }, h("b", { class: "num" }, q.waiting), h("span", {}, "人等候")),
    h("div", { class: "q-eta" }, !q.open_windows ? "暂无窗口开放"
      : q.waiting ? ["预计等候 ", h("b", {}, formatWait(q.estimated_wait_seconds)), `（${q.open_windows} 个窗口）`]
        : `随到随办（${q.open_windows} 个窗口）`)))
    : h("p", { class: "q-note" }, "没有找到该业务"));
}

async function poll() {
  try {
    const res = await api(`/api/halls/${encodeURIComponent(HALL)}/queue-status`);
    data = res;
    $("#updated").textContent = `更新于 ${formatClock(new Date(), true)}`;
    $("#error").hidden = true;
    render();
  } catch (err) {
    $("#error").textContent = err.status ? err.message : "网络异常，显示的可能不是最新数据，稍后自动重试";
    $("#error").hidden = false;
  }
}

$("#filter").addEventListener("input", render);
poll();
setInterval(poll, POLL_MS);
