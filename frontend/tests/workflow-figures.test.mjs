// 联办成效: a workflow's figures as the supervision wall's panel writes them.
import assert from "node:assert/strict";
import { test } from "node:test";

import { figuresNote, figuresRow, oneDecimal, shareText, visitsText } from "../supervision/figures.js";

const figures = (extra = {}) => ({
  hall: "rizhao",
  from: "2026-11-12",
  to: "2026-12-11",
  workflow: { code: "company-setup", name: "企业开办多证联办", kind: "bundle", version: 1, limit: { amount: 2, unit: "working_day" }, limit_hours: 14, baseline_visits: 7 },
  cases: { accepted: 4, completed: 3, delivered: 2, open: 1, withdrawn: 0, refused: 0 },
  elapsed: {
    working_hours: { avg: 7.33, p50: 3, p90: 15.8, max: 19, histogram: [] },
    calendar_hours: { avg: 25, p50: 4, p90: 56, max: 69, histogram: [] },
    on_time: 2, on_time_share: 0.6667,
  },
  steps: [],
  visits: { avg: 1.33, distribution: { 1: 2, 2: 1 }, baseline: 7 },
  materials_requested: { avg: 9, distribution: { 9: 4 } },
  ...extra,
});

test("a workflow's row: hours, on-time share, visits against the baseline, materials", () => {
  assert.deepEqual(figuresRow(figures()), {
    code: "company-setup",
    name: "企业开办多证联办",
    cases: "3/4",
    hours: "7.3 小时",
    hoursTitle: "中位 3.0 · P90 15.8 · 最长 19.0 个工作小时（时限 14.0）",
    onTime: "66.7%",
    visits: "由 7 次减为 1.3 次",
    materials: "9.0 份",
  });
  assert.equal(figuresNote([figures()]), "2026-11-12 至 2026-12-11 受理");
  assert.equal(figuresNote([]), "");
});

test("nothing completed yet: dashes, and the baseline alone", () => {
  const empty = figures({
    cases: { accepted: 0, completed: 0, delivered: 0, open: 0, withdrawn: 0, refused: 0 },
    elapsed: {
      working_hours: { avg: null, p50: null, p90: null, max: null, histogram: [] },
      calendar_hours: { avg: null, p50: null, p90: null, max: null, histogram: [] },
      on_time: 0, on_time_share: null,
    },
    visits: { avg: null, distribution: {}, baseline: 7 },
    materials_requested: { avg: null, distribution: {} },
  });
  const row = figuresRow(empty);
  assert.deepEqual([row.cases, row.hours, row.hoursTitle, row.onTime, row.visits, row.materials],
    ["0/0", "—", "", "—", "原 7 次 · 暂无办结", "—"]);
});

test("numbers in words", () => {
  assert.equal(oneDecimal(2), "2.0");
  assert.equal(oneDecimal(null), "—");
  assert.equal(shareText(1), "100.0%");
  assert.equal(shareText(undefined), "—");
  assert.equal(visitsText({ avg: 2, baseline: null }), "2.0 次");
  assert.equal(visitsText({ avg: null, baseline: null }), "—");
});
