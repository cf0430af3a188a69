// 联办成效: a workflow's figures (GET /api/halls/{hall}/workflows/{code}/figures) in words, one
// row of the supervision wall's small panel per workflow the hall runs. No DOM (node tests it).

/** One decimal, "—" for none: 7.33 -> "7.3". */
export function oneDecimal(value) {
  if (value === null || value === undefined) return "—";
  return (Math.round(value * 10) / 10).toFixed(1);
}

/** A share as a percentage, "—" for none: 0.6667 -> "66.7%". */
export function shareText(share) {
  if (share === null || share === undefined) return "—";
  return `${(Math.round(share * 1000) / 10).toFixed(1)}%`;
}

/** The visits now against the baseline: "由 7 次减为 1.3 次"; without a baseline "1.3 次". */
export function visitsText(visits) {
  const now = visits.avg;
  const base = visits.baseline;
  if (now === null || now === undefined) return base ? `原 ${base} 次 · 暂无办结` : "—";
  return base ? `由 ${base} 次减为 ${oneDecimal(now)} 次` : `${oneDecimal(now)} 次`;
}

/** The texts of one workflow's row. */
export function figuresRow(f) {
  const working = f.elapsed.working_hours;
  return {
    code: f.workflow.code,
    name: f.workflow.name,
    cases: `${f.cases.completed}/${f.cases.accepted}`,
    hours: working.avg === null ? "—" : `${oneDecimal(working.avg)} 小时`,
    hoursTitle: working.avg === null ? "" : `中位 ${oneDecimal(working.p50)} · P90 ${oneDecimal(working.p90)} · 最长 ${oneDecimal(working.max)} 个工作小时（时限 ${oneDecimal(f.workflow.limit_hours)}）`,
    onTime: shareText(f.elapsed.on_time_share),
    visits: visitsText(f.visits),
    materials: f.materials_requested.avg === null ? "—" : `${oneDecimal(f.materials_requested.avg)} 份`,
  };
}

/** The panel's note: the range the figures cover. */
export function figuresNote(list) {
  if (!list.length) return "";
  return `${list[0].from} 至 ${list[0].to} 受理`;
}
