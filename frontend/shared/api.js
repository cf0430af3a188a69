// Shared helpers of every screen: the HTTP API, small DOM builders, formatting, toasts.

/** An error answered by the server ({"error": {"code", "message", "field", ...}}), or a network
 * failure. `details` is the whole error object: some carry more (an import's refused `rows`). */
export class ApiError extends Error {
  constructor(status, code, message, field, details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
    this.details = details;
  }
}

/**
 * Calls the hallops HTTP API. The session cookie goes along (same origin); a device passes
 * its bearer `token`. Resolves with the JSON body; rejects with ApiError carrying the
 * server's Chinese `message`.
 */
export async function api(path, { method = "GET", body, token, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let resp;
  try {
    resp = await fetch(path, {
      method, headers, signal, credentials: "same-origin", cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    throw new ApiError(0, "network", "无法连接服务器，请检查网络后重试");
  }
  const text = await resp.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!resp.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(resp.status, e.code || `http_${resp.status}`,
      e.message || `请求失败（${resp.status}）`, e.field, e);
  }
  return data;
}

/** To the login page, which brings the visitor back here afterwards; `change`: to set a new
 * password first (one reset by the admin may be used for nothing else). */
export function toLogin(change = false) {
  const next = encodeURIComponent(location.pathname + location.search);
  location.assign(`/login?next=${next}${change ? "&change=1" : ""}`);
}

/** Ends the session and goes to the login page (leaving even when the server cannot answer). */
export async function logOut() {
  try { await api("/api/auth/logout", { method: "POST" }); } catch { /* leaving anyway */ }
  location.assign("/login");
}

/**
 * The signed-in staff member of a page for `role`, or null: a visitor goes to the login, another
 * role reads `refusal` in `box`, and a server that cannot answer is asked again in 5 s (`retry`).
 */
export async function pageActor(role, refusal, box, retry) {
  let actor;
  try {
    actor = (await api("/api/session")).actor;
  } catch (err) {
    if (err.status === 401) { toLogin(); return null; }
    fill(box, h("div", { class: "alert" }, err.message));
    setTimeout(retry, 5000);
    return null;
  }
  if (actor.must_change_password) { toLogin(true); return null; }
  if (actor.role !== role) {
    fill(box, h("div", { class: "alert" }, refusal));
    return null;
  }
  return actor;
}

/** The hall of an actor: {code, name} from GET /api/halls (the actor's own hall first). */
export async function hallOf(actor, token) {
  const { halls } = await api("/api/halls", { token });
  return halls.find((h) => h.id === actor.hall_id) || halls[0];
}

/** Query-string parameter. */
export function param(name, fallback = null) {
  const v = new URLSearchParams(location.search).get(name);
  return v === null || v === "" ? fallback : v;
}

/**
 * h("div", {class: "x", onclick: fn}, "text", child) — builds DOM without innerHTML, so text
 * from the server is never parsed as HTML.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "style" && typeof v === "object") Object.assign(el.style, v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);

/** "约 15 分钟", "约 1 小时 20 分钟", "无需等候" for a number of seconds. */
export function formatWait(seconds) {
  if (!seconds || seconds <= 0) return "无需等候";
  const minutes = Math.max(1, Math.round(seconds / 60));
  if (minutes < 60) return `约 ${minutes} 分钟`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `约 ${hours} 小时 ${rest} 分钟` : `约 ${hours} 小时`;
}

/** The wait to tell a citizen, as a phrase: "预计等候 约 5 分钟"; with no window of the queue
 * open (the estimate is null) no minutes are promised, and the phrase says why. */
export function waitPhrase(seconds) {
  if (seconds === null || seconds === undefined) return "当前没有窗口办理该业务，暂不能预计等候时间";
  return seconds > 0 ? `预计等候 ${formatWait(seconds)}` : "无需等候";
}

/** Minutes only, compact: "15分钟", "1时20分". */
export function formatWaitShort(seconds) {
  if (!seconds || seconds <= 0) return "0分钟";
  const minutes = Math.max(1, Math.round(seconds / 60));
  if (minutes < 60) return `${minutes}分钟`;
  return `${Math.floor(minutes / 60)}时${String(minutes % 60).padStart(2, "0")}分`;
}

const TZ = "Asia/Shanghai";

/** "09:42" in the hall's time zone. */
export function formatClock(iso, withSeconds = false) {
  if (!iso) return "";
  const d = typeof iso === "string" ? new Date(iso) : iso;
  return d.toLocaleTimeString("zh-CN", {
    timeZone: TZ, hour12: false, hour: "2-digit", minute: "2-digit",
    second: withSeconds ? "2-digit" : undefined,
  });
}

/** "2026年11月3日 星期二" */
export function formatDate(d = new Date()) {
  return d.toLocaleDateString("zh-CN", {
    timeZone: TZ, year: "numeric", month: "long", day: "numeric", weekday: "long",
  });
}

/** The hall's date now, "2026-11-05". */
export function hallDate(d = new Date()) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: TZ }).format(d);
}

/** "2026-11-05 17:00" */
export function formatDateTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const parts = Object.fromEntries(new Intl.DateTimeFormat("zh-CN", {
    timeZone: TZ, hour12: false, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit",
  }).formatToParts(d).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

/** Minutes since an ISO time, for "已等 12 分钟". */
export function minutesSince(iso, now = Date.now()) {
  if (!iso) return 0;
  return Math.max(0, Math.floor((now - new Date(iso).getTime()) / 60000));
}

/** [1,2,3,5,7,8] -> "1–3、5、7–8": window numbers, compact. */
export function ranges(numbers) {
  const out = [];
  const sorted = [...numbers].sort((a, b) => a - b);
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    out.push(j > i ? `${sorted[i]}–${sorted[j]}` : `${sorted[i]}`);
    i = j;
  }
  return out.join("、");
}

export const PRIORITY_LABEL = {
  normal: "普通", elderly: "老年人", disabled: "残疾人", appointment: "预约",
};

export const WINDOW_STATUS_LABEL = { open: "开放", paused: "暂停", closed: "关闭" };

/** Promised time limit in words: "即办件", "承诺 5 个工作日", "承诺 4 个工作小时". */
export function limitText(kind, promised, unit) {
  if (kind === "immediate" || !promised) return "即办";
  return unit === "working_hour" ? `承诺 ${promised} 个工作小时` : `承诺 ${promised} 个工作日`;
}

let toastHost = null;

/** A short message at the bottom of the screen; kind "error" | "ok" | "info". */
export function toast(message, kind = "info", ms = 4000) {
  if (!toastHost) {
    toastHost = h("div", { class: "toast-host", role: "status", "aria-live": "polite" });
    document.body.append(toastHost);
  }
  const el = h("div", { class: `toast ${kind}` }, message);
  toastHost.append(el);
  setTimeout(() => el.remove(), ms);
  return el;
}

/**
 * Coalesces bursts of calls: the first call schedules `fn` after `ms`; calls meanwhile join
 * it; a call while an (async) fn runs schedules one more run after it. So fn runs at most
 * once per `ms` and never misses the last change, even under a steady stream of calls.
 */
export function coalesce(fn, ms) {
  let timer = null;
  let running = false;
  let again = false;
  const run = async () => {
    timer = null;
    running = true;
    try { await fn(); } catch (err) { console.error(err); }
    running = false;
    if (again) { again = false; schedule(); }
  };
  const schedule = () => {
    if (running) { again = true; return; }
    if (timer === null) timer = setTimeout(run, ms);
  };
  return schedule;
}
