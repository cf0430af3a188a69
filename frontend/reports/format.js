// Pure logic of /reports (no DOM, no ECharts): ranges, number formats, the table's columns and
// the chart series built from GET /api/halls/{hall}/reports. Tested under node --test.

export const BY_NAMES = { hall: "服务中心", department: "部门", window: "窗口", clerk: "工作人员" };
export const LEVELS = [
  ["5", "非常满意"], ["4", "满意"], ["3", "基本满意"], ["2", "不满意"], ["1", "非常不满意"],
];
export const WEEKDAYS = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];

const pad = (n) => String(n).padStart(2, "0");
const iso = (y, m, d) => `${y}-${pad(m)}-${pad(d)}`;

/** The first and last day of month "YYYY-MM": {from, to}. */
export function monthRange(ym) {
  const [y, m] = ym.split("-").map(Number);
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return { from: iso(y, m, 1), to: iso(y, m, last) };
}

/** "YYYY-MM" of the month `back` months before the one of `today` ("YYYY-MM-DD"). */
export function monthBefore(today, back = 1) {
  const [y, m] = today.split("-").map(Number);
  const idx = y * 12 + (m - 1) - back;
  return `${Math.floor(idx / 12)}-${pad((idx % 12) + 1)}`;
}

/** The range presets: this month (to today), last month, this year (to today). */
export function presets(today) {
  const ym = today.slice(0, 7);
  const last = monthBefore(today, 1);
  return [
    { key: "this-month", label: "本月", from: `${ym}-01`, to: today, month: ym },
    { key: "last-month", label: "上月", ...monthRange(last), month: last },
    { key: "this-year", label: "本年", from: `${today.slice(0, 4)}-01-01`, to: today, month: null },
  ];
}

/** A rate (0..1) as "93.5%", or "—". */
export function pct(rate, digits = 1) {
  return rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(digits)}%`;
}

/** Seconds as minutes "12.5 分", or "—". */
export function minutes(seconds) {
  return seconds === null || seconds === undefined ? "—" : `${(seconds / 60).toFixed(1)} 分`;
}

/** A number or "—". */
export function num(v, digits = null) {
  if (v === null || v === undefined) return "—";
  return digits === null ? String(v) : Number(v).toFixed(digits);
}

/** The groups table's columns: [header, (row) => text]. */
export function columns(by, kindNames, groups) {
  const kinds = [...new Set(groups.flatMap((g) => Object.keys(g.alarms_by_kind)))].sort();
  return [
    ["排名", (r) => num(r.rank)],
    [BY_NAMES[by], (r) => (by === "window" ? `${r.key}号` : r.key)],
    ["名称", (r) => r.label],
    ["评价数", (r) => num(r.ratings)],
    ...LEVELS.map(([lv, name]) => [name, (r) => num(r.levels[lv])]),
    ["满意率", (r) => pct(r.satisfaction_rate)],
    ["差评", (r) => num(r.bad_reviews)],
    ["整改中/逾期/办结", (r) =>
      `${r.rectification.open + r.rectification.rectified + r.rectification.called_back}/${r.rectification.overdue}/${r.rectification.closed}`],
    ["申诉剔除", (r) => num(r.excluded)],
    ["受理", (r) => num(r.cases)],
    ["办结", (r) => num(r.completed)],
    ["即办率", (r) => pct(r.immediate_rate)],
    ["按时率", (r) => pct(r.on_time_rate)],
    ["提前办结率", (r) => pct(r.early_share)],
    ["平均节省工时", (r) => (r.avg_saved_hours === null ? "—" : `${r.avg_saved_hours} 时`)],
    ["件均跑动", (r) => num(r.avg_visits)],
    ["叫号", (r) => num(r.tickets)],
    ["平均等候", (r) => minutes(r.avg_wait_s)],
    ["平均到窗", (r) => minutes(r.avg_walk_s)],
    ["平均办理", (r) => minutes(r.avg_service_s)],
    ["日均空闲", (r) => minutes(r.avg_idle_s)],
    ["联办件/平均工时", (r) =>
      `${r.joint_cases}/${r.joint_avg_working_hours === null ? "—" : r.joint_avg_working_hours}`],
    ["告警", (r) => num(r.alarms)],
    ...kinds.map((k) => [kindNames[k] || k, (r) => num(r.alarms_by_kind[k] || 0)]),
  ];
}

/** Key figures over the whole report (the sum of its rows; rates recomputed from counts). */
export function totals(groups) {
  const sum = (f) => groups.reduce((s, g) => s + (f(g) || 0), 0);
  const ratings = sum((g) => g.ratings);
  const satisfied = sum((g) => g.levels["5"] + g.levels["4"] + g.levels["3"]);
  const called = sum((g) => g.tickets);
  const waitTotal = sum((g) => (g.avg_wait_s === null ? 0 : g.avg_wait_s * g.tickets));
  return {
    ratings,
    satisfaction_rate: ratings ? satisfied / ratings : null,
    bad_reviews: sum((g) => g.bad_reviews),
    cases: sum((g) => g.cases),
    completed: sum((g) => g.completed),
    tickets: called,
    avg_wait_s: called ? waitTotal / called : null,
    alarms: sum((g) => g.alarms),
  };
}

/** The trend chart's data: days and series (arrivals, served, avg wait in minutes, satisfaction %). */
export function trendSeries(trend) {
  return {
    days: trend.map((d) => d.day.slice(5)),
    arrivals: trend.map((d) => d.arrivals),
    served: trend.map((d) => d.served),
    wait: trend.map((d) => (d.avg_wait_s === null ? null : +(d.avg_wait_s / 60).toFixed(1))),
    satisfaction: trend.map((d) =>
      d.satisfaction_rate === null ? null : +(d.satisfaction_rate * 100).toFixed(1)),
  };
}

/** The waiting-time buckets' labels ("0–5 分", …, "60 分以上") and counts. */
export function waitBuckets(waits) {
  return {
    labels: waits.map((b) => (b.to_min === null ? `${b.from_min} 分以上` : `${b.from_min}–${b.to_min} 分`)),
    counts: waits.map((b) => b.count),
  };
}

/** The heat map: hours shown (the span with arrivals, at least 8–18), cells [hourIdx, dow-1, n]. */
export function heatCells(heatmap) {
  const hours = heatmap.map((c) => c.hour);
  const lo = Math.min(8, ...hours);
  const hi = Math.max(18, ...hours);
  const labels = [];
  for (let hr = lo; hr <= hi; hr++) labels.push(`${pad(hr)}时`);
  return {
    hours: labels,
    cells: heatmap.map((c) => [c.hour - lo, c.dow - 1, c.arrivals]),
    max: Math.max(1, ...heatmap.map((c) => c.arrivals)),
  };
}

/** The ranking chart: rows with a rank, best first, labelled and with satisfaction in %. */
export function ranking(groups, by) {
  const ranked = groups.filter((g) => g.rank !== null);
  return {
    labels: ranked.map((g) => (by === "window" ? `${g.key}号` : g.label || g.key)),
    satisfaction: ranked.map((g) =>
      g.satisfaction_rate === null ? 0 : +(g.satisfaction_rate * 100).toFixed(1)),
    onTime: ranked.map((g) => (g.on_time_rate === null ? 0 : +(g.on_time_rate * 100).toFixed(1))),
  };
}

/** The export URL of the report shown. */
export function exportUrl(hall, q, format, table = null) {
  const p = new URLSearchParams({ from: q.from, to: q.to, by: q.by, format });
  if (table) p.set("table", table);
  return `/api/halls/${encodeURIComponent(hall)}/reports/export?${p}`;
}
