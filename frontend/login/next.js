// Where a login may send the browser on: only a path of this site (?next=/window). Browsers
// read "/\evil.example" and "/<TAB>/evil.example" as "//evil.example", another site, so a next
// is accepted only as a plain path and only if it resolves to this very origin.

// ASCII controls, DEL, C1 controls, and every kind of space or line break
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\s\\]/u;

/** The same-origin path to go to, or null for anything else. */
export function safeNext(next, origin) {
  if (typeof next !== "string" || !next.startsWith("/") || next.startsWith("//")) return null;
  if (UNSAFE.test(next)) return null;
  let url;
  try {
    url = new URL(next, origin);
  } catch {
    return null;
  }
  if (url.origin !== origin) return null;
  return url.pathname + url.search + url.hash;
}
