// The kiosk's registration hours (issue 12): what GET …/registration-hours answers, turned into
// what the closed screen says and when the kiosk looks again. Pure (node --test).

const WEEKDAYS = "日一二三四五六";
export const RECHECK_MAX_MS = 10 * 60_000;   // a calendar edited meanwhile is seen within this

/** "2026-12-02T08:30:00+08:00" -> "12月2日（星期三）08:30", read in the instant's own offset
 * (the server writes the hall's zone), so the kiosk's own clock and zone play no part. */
export function whenText(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso || "");
  if (!m) return "";
  const [, y, mo, d, hh, mm] = m;
  const weekday = new Date(Date.UTC(+y, +mo - 1, +d)).getUTCDay();
  return `${+mo}月${+d}日（星期${WEEKDAYS[weekday]}）${hh}:${mm}`;
}

/** What the closed screen shows: the hours, and the next opening when one is known. */
export function closedView(status) {
  return {
    title: "现在不是取号时间",
    hours: status.hours.text,
    next: status.changes_at ? `下次取号：${whenText(status.changes_at)}` : "",
  };
}

/** How long until the kiosk asks again: just after the next opening or closing, at most
 * RECHECK_MAX_MS from now. */
export function recheckDelay(status, now = Date.now()) {
  const at = status.changes_at ? Date.parse(status.changes_at) : NaN;
  if (Number.isNaN(at)) return RECHECK_MAX_MS;
  return Math.min(RECHECK_MAX_MS, Math.max(1000, at - now + 1000));
}
