// /reports: a hall's report over a month or any range (leaders, supervision, admin): key
// figures, charts (Apache ECharts from frontend/node_modules), the table with ranks, the
// formal-talk flag, CSV / Excel export and a print stylesheet for the monthly report.
import { $, api, fill, h, hallOf, logOut, param, toLogin } from "../shared/api.js";
import {
  BY_NAMES, WEEKDAYS, columns, exportUrl, heatCells, minutes, monthRange, pct, presets, ranking,
  totals, trendSeries, waitBuckets,
} from "./format.js";

const READERS = new Set(["leader", "supervisor", "admin"]);
const state = { hall: null, halls: [], charts: [], last: null };

function today() {
  // the hall's day (Asia/Shanghai), whatever the browser's zone
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date());
}

function query() {
  return { from: $("#from").value, to: $("#to").value, by: $("#by").value };
}

function setRange(from, to, month = null) {
  $("#from").value = from;
  $("#to").value = to;
  $("#month").value = month || "";
}

function chart(id, option) {
  if (!window.echarts) return; // npm not installed: the tables still show
  const el = $(id);
  const c = window.echarts.init(el, null, { renderer: "canvas" });
  c.setOption({ animation: false, textStyle: { fontFamily: "inherit" }, ...option });
  state.charts.push(c);
}

function drawCharts(rep) {
  state.charts.forEach((c) => c.dispose());
  state.charts = [];
  const t = trendSeries(rep.series.trend);
  chart("#chart-trend", {
    tooltip: { trigger: "axis" },
    legend: { top: 0, data: ["取号", "办结", "平均等候(分)", "满意率(%)"] },
    grid: { left: 48, right: 48, bottom: 28, top: 36 },
    xAxis: { type: "category", data: t.days },
    yAxis: [{ type: "value", name: "人次" }, { type: "value", name: "分/%" }],
    series: [
      { name: "取号", type: "line", data: t.arrivals },
      { name: "办结", type: "line", data: t.served },
      { name: "平均等候(分)", type: "line", yAxisIndex: 1, data: t.wait, connectNulls: true },
      { name: "满意率(%)", type: "line", yAxisIndex: 1, data: t.satisfaction, connectNulls: true },
    ],
  });
  const r = ranking(rep.groups, rep.by);
  chart("#chart-rank", {
    tooltip: { trigger: "axis" },
    legend: { top: 0, data: ["满意率(%)", "按时办结率(%)"] },
    grid: { left: 110, right: 24, bottom: 24, top: 36 },
    xAxis: { type: "value", max: 100 },
    yAxis: { type: "category", inverse: true, data: r.labels },
    series: [
      { name: "满意率(%)", type: "bar", data: r.satisfaction },
      { name: "按时办结率(%)", type: "bar", data: r.onTime },
    ],
  });
  const w = waitBuckets(rep.series.waits);
  chart("#chart-waits", {
    tooltip: {},
    grid: { left: 48, right: 16, bottom: 40, top: 24 },
    xAxis: { type: "category", data: w.labels, axisLabel: { rotate: 30 } },
    yAxis: { type: "value", name: "人次" },
    series: [{ type: "bar", data: w.counts, itemStyle: { color: "#1460b0" } }],
  });
  const hm = heatCells(rep.series.heatmap);
  chart("#chart-heat", {
    tooltip: { position: "top" },
    grid: { left: 48, right: 16, bottom: 64, top: 16 },
    xAxis: { type: "category", data: hm.hours, splitArea: { show: true } },
    yAxis: { type: "category", data: WEEKDAYS, inverse: true, splitArea: { show: true } },
    visualMap: { min: 0, max: hm.max, calculable: true, orient: "horizontal", left: "center", bottom: 0 },
    series: [{ type: "heatmap", data: hm.cells, label: { show: false } }],
  });
  const many = rep.by === "hall" && rep.halls.length > 1;
  $("#halls-figure").hidden = !many;
  if (many) {
    const labels = rep.groups.map((g) => g.label || g.key);
    const series = [
      ["满意率(%)", (g) => (g.satisfaction_rate === null ? 0 : +(g.satisfaction_rate * 100).toFixed(1))],
      ["即办率(%)", (g) => (g.immediate_rate === null ? 0 : +(g.immediate_rate * 100).toFixed(1))],
      ["按时办结率(%)", (g) => (g.on_time_rate === null ? 0 : +(g.on_time_rate * 100).toFixed(1))],
      ["平均等候(分)", (g) => (g.avg_wait_s === null ? 0 : +(g.avg_wait_s / 60).toFixed(1))],
    ];
    chart("#chart-halls", {
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: series.map(([n]) => n) },
      grid: { left: 48, right: 16, bottom: 28, top: 36 },
      xAxis: { type: "category", data: labels },
      yAxis: { type: "value" },
      series: series.map(([name, f]) => ({ name, type: "bar", data: rep.groups.map(f) })),
    });
  }
}

function keyFigure(label, value) {
  return h("div", { class: "card r-key" }, h("span", {}, label), h("b", { class: "num" }, value));
}

function render(rep) {
  const k = totals(rep.groups);
  fill($("#title"), `${rep.hall.name} 政务服务运行报表`);
  fill($("#period"), `统计期间：${rep.from} 至 ${rep.to} · 按${BY_NAMES[rep.by]}`);
  fill($("#keys"),
    keyFigure("参评数", String(k.ratings)),
    keyFigure("满意率", pct(k.satisfaction_rate)),
    keyFigure("差评", String(k.bad_reviews)),
    keyFigure("受理 / 办结", `${k.cases} / ${k.completed}`),
    keyFigure("叫号", String(k.tickets)),
    keyFigure("平均等候", minutes(k.avg_wait_s)),
    keyFigure("告警", String(k.alarms)));
  fill($("#rank-caption"), `${BY_NAMES[rep.by]}排名（满意率、按时办结率）`);
  fill($("#table-title"), `综合报表（按${BY_NAMES[rep.by]}）`);
  const cols = columns(rep.by, rep.kind_names, rep.groups);
  const head = h("thead", {}, h("tr", {}, ...cols.map(([name]) => h("th", {}, name))));
  const body = h("tbody", {}, ...(rep.groups.length
    ? rep.groups.map((g) => h("tr", { class: g.rank === 1 ? "r-first" : null },
      ...cols.map(([, f]) => h("td", {}, f(g)))))
    : [h("tr", {}, h("td", { colspan: String(cols.length) }, "该期间没有数据"))]));
  fill($("#groups"), head, body);
  $("#report").hidden = false;
  drawCharts(rep);
}

async function renderTalks(q) {
  const card = $("#talks-card");
  // a month's report: the windows ranked last this month and the month before
  const month = $("#month").value;
  if (!month || q.from !== monthRange(month).from) { card.hidden = true; return; }
  const t = await api(`/api/halls/${state.hall}/reports/talks?month=${month}`);
  card.hidden = false;
  fill($("#talks"), t.talks.length
    ? h("ul", {}, ...t.talks.map((x) => h("li", { class: "r-talk" },
      `${x.label}：${t.previous_month} 排名 ${x.previous_rank}/${x.previous_of}，${t.month} 排名 ${x.rank}/${x.of}，满意率 ${pct(x.satisfaction_rate)}，建议约谈`)))
    : h("p", {}, `${t.month} 没有连续两个月排名末位的窗口。`));
}

async function run() {
  const q = query();
  $("#csv").href = exportUrl(state.hall, q, "csv");
  $("#xlsx").href = exportUrl(state.hall, q, "xlsx");
  const p = new URLSearchParams(q);
  history.replaceState(null, "", `/reports?hall=${state.hall}&${p}`);
  try {
    const rep = await api(`/api/halls/${encodeURIComponent(state.hall)}/reports?${p}`);
    state.last = rep;
    render(rep);
    await renderTalks(q);
  } catch (err) {
    fill($("#keys"), h("div", { class: "alert" }, err.message));
    $("#report").hidden = false;
  }
}

async function start() {
  let actor;
  try {
    actor = (await api("/api/session")).actor;
  } catch (err) {
    if (err.status === 401) { toLogin(); return; }
    fill($("#loading"), h("div", { class: "alert" }, err.message));
    return;
  }
  if (actor.must_change_password) { toLogin(true); return; }
  if (!READERS.has(actor.role)) {
    fill($("#loading"), h("div", { class: "alert" }, "统计报表仅供带班领导、监察人员和管理员使用。"));
    return;
  }
  fill($("#who"), actor.name);
  $("#logout").addEventListener("click", logOut);
  const home = await hallOf(actor);
  const { halls } = await api("/api/halls");
  state.halls = halls;
  state.hall = param("hall", home.code);
  fill($("#hall"), ...halls.map((x) => h("option", { value: x.code, selected: x.code === state.hall }, x.name)));
  const day = today();
  const ps = presets(day);
  fill($("#presets"), ...ps.map((p) => h("button", {
    class: "btn ghost", type: "button", dataset: { preset: p.key },
    onclick: () => { setRange(p.from, p.to, p.month); run(); },
  }, p.label)));
  setRange(param("from", ps[0].from), param("to", ps[0].to), param("from") ? null : ps[0].month);
  if (param("from") && param("from").endsWith("-01")) {
    const ym = param("from").slice(0, 7);
    if (monthRange(ym).to === param("to")) $("#month").value = ym;
  }
  $("#by").value = param("by", actor.role === "supervisor" ? "hall" : "department");
  $("#month").addEventListener("change", () => {
    if (!$("#month").value) return;
    const r = monthRange($("#month").value);
    setRange(r.from, r.to, $("#month").value);
    run();
  });
  $("#hall").addEventListener("change", () => { state.hall = $("#hall").value; run(); });
  $("#by").addEventListener("change", run);
  $("#controls").addEventListener("submit", (e) => { e.preventDefault(); run(); });
  $("#print").addEventListener("click", () => window.print());
  window.addEventListener("resize", () => state.charts.forEach((c) => c.resize()));
  // charts re-laid out for the printed page's width, and back
  window.addEventListener("beforeprint", () => state.charts.forEach((c) => c.resize()));
  window.addEventListener("afterprint", () => state.charts.forEach((c) => c.resize()));
  $("#loading").hidden = true;
  $("#controls").hidden = false;
  await run();
  document.body.dataset.ready = "1";
}

start();
