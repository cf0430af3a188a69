// 好差评 (issue 11), without a DOM so node can test it: the national five levels and the
// reasons, what a choice sends, what the window's rating device (评价器) shows after a live
// event, and what the ballot box's batch screen makes of a keyed slip.

/** The national scale, best first (server/domain/ratings.py LEVELS); 1 and 2 are 差评. */
export const LEVELS = Object.freeze([
  { level: 5, name: "非常满意" },
  { level: 4, name: "满意" },
  { level: 3, name: "基本满意" },
  { level: 2, name: "不满意" },
  { level: 1, name: "非常不满意" },
]);
export const REASONS = Object.freeze([
  { code: "attitude", name: "服务态度" },
  { code: "efficiency", name: "办事效率" },
  { code: "service", name: "服务水平" },
  { code: "fees", name: "收费" },
  { code: "other", name: "其他" },
]);

export const isBad = (level) => level === 1 || level === 2;
export const levelName = (level) => (LEVELS.find((l) => l.level === level) || {}).name || "";

/** The body of a rating: the level, the reasons ticked (known ones, once, in the scale's order)
 * and the comment trimmed (at most 500 characters, as the server takes it). */
export function verdictBody(level, reasons = [], comment = "") {
  const ticked = new Set(reasons);
  return {
    level,
    reasons: REASONS.map((r) => r.code).filter((c) => ticked.has(c)),
    comment: String(comment || "").trim().slice(0, 500),
  };
}

/**
 * The rating device's screen after a live event: "ask" (show the buttons) on its window's
 * rating.requested, "idle" once its window's rating is given (by this device or another
 * channel), otherwise null (nothing changes). The server sends it nothing else; the window is
 * checked all the same.
 */
export function raterScreen(ev, windowNo) {
  const d = (ev && ev.data) || {};
  if (d.window_no !== windowNo) return null;
  if (ev.type === "rating.requested") return "ask";
  if (ev.type === "rating.given" && d.channel === "device") return "idle";
  return null;
}

/**
 * What the clerk's terminal shows of a rating.given event at its window: {text, bad} —
 * the level's name, 差评 marked; never who rated (the event carries no one).
 */
export function ratingNotice(data) {
  const bad = !!data.bad || isBad(data.level);
  const name = data.level_name || levelName(data.level);
  const via = { device: "评价器", sms: "短信评价", ballot: "评议箱" }[data.channel] || "";
  return { bad, text: `群众评价：${name}${bad ? "（差评）" : ""}${via ? ` · ${via}` : ""}` };
}

// ------------------------------------------------------------------ the ballot box batch

/** The keys of the batch screen: 1–5 picks a level; the reasons by their initial. */
export const REASON_KEYS = Object.freeze({ a: "attitude", e: "efficiency", s: "service", f: "fees", o: "other" });

/** A scanned barcode as the server takes it (a scanner may add spaces), or null if it is not
 * one (4–40 letters, digits or dashes). */
export function slipOf(text) {
  const s = String(text || "").trim();
  return /^[A-Za-z0-9-]{4,40}$/.test(s) ? s : null;
}

/** One row of the running list from the server's answer to a keyed slip. */
export function ballotResult(slip, level, status, body) {
  if (status === 201) return { slip, level, result: "counted", text: `已计入：${levelName(level)}` };
  const code = body && body.error && body.error.code;
  if (code === "slip_counted") return { slip, level, result: "duplicate", text: "已计入（重复，未再计）" };
  if (code === "already_rated") return { slip, level, result: "duplicate", text: "已评价过（其他渠道），未计入" };
  if (code === "unknown_slip") return { slip, level, result: "not_found", text: "查无此单" };
  const message = (body && body.error && body.error.message) || `失败（${status}）`;
  return { slip, level, result: "error", text: message };
}

/** Totals of the session's list: counted per level, duplicates, not found (and in flight). */
export function ballotTotals(rows) {
  const t = { pending: 0, counted: 0, duplicate: 0, not_found: 0, error: 0, levels: { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 } };
  for (const r of rows) {
    t[r.result] += 1;
    if (r.result === "counted") t.levels[r.level] += 1;
  }
  return t;
}
