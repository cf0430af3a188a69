// How long the sign-off requests have waited, for the screens a leader signs at (/leader and a
// leader's window terminal): the server's figures at the last read of the list (each request's
// waited_seconds and waiting_too_long, the hall's wait_limit_minutes) moved on by the screen's
// own clock, and shown again every WAIT_TICK_MS, so a request that passes the hall's limit turns
// red without the list being read again. No DOM: node tests it with its own clock.

/** How often the waits are shown again. */
export const WAIT_TICK_MS = 15000;

/** How long a request has waited now, and whether that is longer than the hall allows: the
 * server's figures at the last read, moved on by the time since (`elapsedMs`). */
export function waitState(request, limitMinutes, elapsedMs = 0) {
  const seconds = Math.max(0, Math.floor((request.waited_seconds || 0) + elapsedMs / 1000));
  const tooLong = !!request.waiting_too_long || (limitMinutes > 0 && seconds > limitMinutes * 60);
  return { seconds, tooLong };
}

/** "刚刚", "已等 12 分钟", "已等 1 小时 5 分钟". */
export function waitedText(seconds) {
  const minutes = Math.floor(Math.max(0, seconds) / 60);
  if (minutes < 1) return "刚刚";
  if (minutes < 60) return `已等 ${minutes} 分钟`;
  const rest = minutes % 60;
  return rest ? `已等 ${Math.floor(minutes / 60)} 小时 ${rest} 分钟` : `已等 ${Math.floor(minutes / 60)} 小时`;
}

/** A wait's badge on the window terminal: {text, className}; past the limit red, and saying so. */
export function waitBadge(wait) {
  return wait.tooLong
    ? { text: `${wait.text} · 等候超时`, className: "badge red" }
    : { text: wait.text, className: "badge" };
}

const everyInterval = (fn, ms) => {
  const id = setInterval(fn, ms);
  return () => clearInterval(id);
};

/**
 * The waits of the list last read, against `now()` (the page's clock; a test passes its own).
 * read(answer) when GET …/signoffs answers; of(request): {seconds, tooLong, text} now;
 * every(fn): fn each WAIT_TICK_MS through `schedule(fn, ms)` (setInterval by default), returns
 * what stops it.
 */
export function createWaitClock({ now = () => Date.now(), schedule = everyInterval } = {}) {
  let readAt = now();
  let limit = 0;
  return {
    read(answer) {
      readAt = now();
      limit = Number(answer && answer.wait_limit_minutes) || 0;
    },
    get limit() { return limit; },
    of(request) {
      const wait = waitState(request, limit, now() - readAt);
      return { ...wait, text: waitedText(wait.seconds) };
    },
    every(fn) { return schedule(fn, WAIT_TICK_MS); },
  };
}
