// /reports' pure logic: ranges, formats, the table's columns and the chart series.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  columns, exportUrl, heatCells, minutes, monthBefore, monthRange, pct, presets, ranking, totals,
  trendSeries, waitBuckets,
} from "../reports/format.js";

const row = (over = {}) => ({
  key: "2", label: "2号窗口", rank: 2, ratings: 2, excluded: 1,
  levels: { 5: 0, 4: 1, 3: 0, 2: 0, 1: 1 }, satisfaction_rate: 0.5, bad_reviews: 1,
  rectification: { open: 1, rectified: 0, called_back: 0, closed: 0, overdue: 1 },
  cases: 2, completed: 2, immediate_rate: 0, on_time_rate: 0.5, early_share: 0.5,
  avg_saved_hours: 7, avg_visits: 1.5, tickets: 2, served: 1, avg_wait_s: 1800, avg_walk_s: 120,
  avg_service_s: 1200, idle_s: 5700, avg_idle_s: 2850, joint_cases: 0, joint_completed: 0,
  joint_avg_working_hours: null, alarms: 2, alarms_by_kind: { ticket_wait: 1, case_deadline: 1 },
  ...over,
});

test("month ranges, including February of a leap year and December", () => {
  assert.deepEqual(monthRange("2026-12"), { from: "2026-12-01", to: "2026-12-31" });
  assert.deepEqual(monthRange("2028-02"), { from: "2028-02-01", to: "2028-02-29" });
  assert.equal(monthBefore("2026-01-15"), "2025-12");
  assert.equal(monthBefore("2026-12-07", 1), "2026-11");
});

test("presets: this month to today, last month whole, this year", () => {
  const [thisMonth, last, year] = presets("2026-12-07");
  assert.deepEqual([thisMonth.from, thisMonth.to, thisMonth.month], ["2026-12-01", "2026-12-07", "2026-12"]);
  assert.deepEqual([last.from, last.to], ["2026-11-01", "2026-11-30"]);
  assert.deepEqual([year.from, year.to, year.month], ["2026-01-01", "2026-12-07", null]);
});

test("formats: percent and minutes, a missing figure as a dash", () => {
  assert.equal(pct(0.6667), "66.7%");
  assert.equal(pct(null), "—");
  assert.equal(minutes(1800), "30.0 分");
  assert.equal(minutes(undefined), "—");
});

test("the table's columns: one per alarm kind present, named", () => {
  const cols = columns("window", { ticket_wait: "排队等候超时", case_deadline: "办件超期" }, [row()]);
  const names = cols.map(([n]) => n);
  assert.deepEqual(names.slice(0, 3), ["排名", "窗口", "名称"]);
  assert.deepEqual(names.slice(-2), ["办件超期", "排队等候超时"]);
  const text = Object.fromEntries(cols.map(([n, f]) => [n, f(row())]));
  assert.equal(text["窗口"], "2号");
  assert.equal(text["满意率"], "50.0%");
  assert.equal(text["整改中/逾期/办结"], "1/1/0");
  assert.equal(text["平均等候"], "30.0 分");
  assert.equal(text["联办件/平均工时"], "0/—");
});

test("totals recompute rates from counts, waits weighted by tickets", () => {
  const a = row({ levels: { 5: 1, 4: 0, 3: 0, 2: 0, 1: 0 }, ratings: 1, tickets: 1, avg_wait_s: 600 });
  const t = totals([a, row()]);
  assert.equal(t.ratings, 3);
  assert.equal(t.satisfaction_rate, 2 / 3);
  assert.equal(t.avg_wait_s, (600 + 2 * 1800) / 3);
  assert.equal(totals([]).satisfaction_rate, null);
});

test("chart series: trend, buckets, heat cells, ranking, export URL", () => {
  const tr = trendSeries([{ day: "2026-12-07", arrivals: 2, served: 2, avg_wait_s: 900, ratings: 1, satisfaction_rate: 1 },
    { day: "2026-12-08", arrivals: 0, served: 0, avg_wait_s: null, ratings: 0, satisfaction_rate: null }]);
  assert.deepEqual(tr, { days: ["12-07", "12-08"], arrivals: [2, 0], served: [2, 0], wait: [15, null], satisfaction: [100, null] });
  const w = waitBuckets([{ from_min: 0, to_min: 5, count: 3 }, { from_min: 60, to_min: null, count: 1 }]);
  assert.deepEqual(w, { labels: ["0–5 分", "60 分以上"], counts: [3, 1] });
  const hm = heatCells([{ dow: 1, hour: 9, arrivals: 2 }, { dow: 2, hour: 14, arrivals: 1 }]);
  assert.equal(hm.hours[0], "08时");
  assert.equal(hm.hours.at(-1), "18时");
  assert.deepEqual(hm.cells, [[1, 0, 2], [6, 1, 1]]);
  assert.equal(hm.max, 2);
  const r = ranking([row({ rank: 1, key: "1", satisfaction_rate: 1 }), row(), row({ rank: null, key: "9" })], "window");
  assert.deepEqual(r.labels, ["1号", "2号"]);
  assert.deepEqual(r.satisfaction, [100, 50]);
  assert.equal(exportUrl("rizhao", { from: "2026-12-01", to: "2026-12-31", by: "window" }, "xlsx"),
    "/api/halls/rizhao/reports/export?from=2026-12-01&to=2026-12-31&by=window&format=xlsx");
});
