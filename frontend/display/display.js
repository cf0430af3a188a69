// Lobby status screen (1920 × 1080) and compact LED layout (?layout=led), on the plain
// WebSocket feed with a display device token (?device=display-01 setup, or ?token=).
//
// State comes from the feed: a snapshot replaces everything (so a call is never shown as
// current from stale state after a resync), events after it are applied in order. 正在呼叫
// shows the calls being made now (a ticket still called at its window), 最近叫号 the recent
// ones. Voice call in Mandarin: the browser's zh voice when it has one, else the server's audio
// (GET /api/voice/call, espeak-ng), switchable per display (localStorage). Calls missed during a
// cut are read out after the catch-up only if still current (see announcer.js). "离线" after
// more than 3 s without the server (the feed's heartbeat notices a silently dead link);
// reconnects by itself from the last seq.
import { $, fill, formatClock, formatDate, formatWaitShort, h, param } from "../shared/api.js";
import { deviceLogin, forgetDevice } from "../shared/device.js";
import { HallState } from "../shared/hallstate.js";
import { connectFeed } from "../shared/live.js";
import { CallAnnouncer } from "./announcer.js";

const QUEUES_PER_PAGE = 26;
const RECENT_ROWS = 7;                      // rows the lobby's 最近叫号 panel has room for
const LED = param("layout") === "led";
const ZONE = param("zone");                 // optional: only the windows of one zone
const VOICE_KEY = "hallops.display.voice";
const SAY_TIMEOUT_MS = 15_000;              // an announcement that never reports its end

const hall = new HallState();
const state = {
  flashKey: null,
};

// what was announced (text, and how: "speech" | "audio"), for tests and diagnostics
window.hallopsSpoken = [];
window.hallopsVoice = [];

// ------------------------------------------------------------------ layout and scale
document.body.classList.toggle("led-mode", LED);
document.body.classList.toggle("lobby", !LED);
$("#lobby").hidden = LED;
$("#led").hidden = !LED;

function fit() {
  if (LED) return;
  const s = Math.min(window.innerWidth / 1920, window.innerHeight / 1080);
  const screen = $("#lobby");
  screen.style.transform = `scale(${s})`;
  screen.style.left = `${Math.max(0, (window.innerWidth - 1920 * s) / 2)}px`;
  screen.style.top = `${Math.max(0, (window.innerHeight - 1080 * s) / 2)}px`;
}
window.addEventListener("resize", fit);
fit();

function tick() {
  const now = new Date();
  $("#clock-time").textContent = formatClock(now, true);
  $("#clock-date").textContent = formatDate(now);
  if (!LED && hall.queues.size > QUEUES_PER_PAGE && now.getSeconds() % 10 === 0) render();  // next page
}
tick();
setInterval(tick, 1000);

// ------------------------------------------------------------------ state from the feed
function inZone(windowNo) {
  if (!ZONE) return true;
  const w = hall.windows.get(windowNo);
  return !!w && w.zone === ZONE;
}

const announcer = new CallAnnouncer({
  isCurrent: (call) => hall.isCurrent(call),
  speak: (call) => announce(call),
  wanted: (call) => inZone(call.window_no),
});

function applySnapshot(snap) {
  const before = hall.current;
  hall.applySnapshot(snap);
  announcer.snapshot(before, hall.current);
  state.flashKey = null;
  // how many times the state was replaced (a resumed connection adds none): for diagnostics
  document.body.dataset.snapshots = String(Number(document.body.dataset.snapshots || 0) + 1);
  render();
}

function applyEvent(ev, { backlog }) {
  const changed = hall.applyEvent(ev);
  if (!changed) return;
  if (changed.call) {
    state.flashKey = `${ev.seq}`;
    announcer.call(changed.call, { backlog });
  }
  render();
}

// ------------------------------------------------------------------ rendering (once per frame)
let renderPending = false;
function render() {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    if (LED) renderLed(); else renderLobby();
  });
}

/** The newest call being made now, and the recent calls besides it (newest first). */
function visibleCalls() {
  const [newest] = hall.current.filter((c) => inZone(c.window_no));
  const same = (c) => newest && c.ticket_no === newest.ticket_no && c.window_no === newest.window_no;
  return { newest, older: hall.recent.filter((c) => inZone(c.window_no) && !same(c)) };
}

function renderLobby() {
  if (hall.hall) {
    $("#hall-name").textContent = hall.hall.name;
    document.title = `叫号信息 · ${hall.hall.name}`;
  }
  if (ZONE) { $("#zone-name").hidden = false; $("#zone-name").textContent = ZONE; }

  const { newest, older } = visibleCalls();
  const current = $("#current-call");
  if (newest) {
    fill($("#current-body"),
      h("div", { class: "d-current-no num", id: "current-ticket" }, newest.ticket_no),
      h("div", { class: "d-current-to" }, "请到 ", h("b", { class: "num" }, newest.window_no), " 号窗口"),
      h("div", { class: "d-current-name" }, newest.window_name || ""),
      newest.recalled ? h("div", { class: "d-current-recall" }, "重复呼叫") : null);
  } else {
    fill($("#current-body"), h("div", { class: "d-idle" }, "请留意叫号，过号请到原窗口咨询"));
  }
  if (state.flashKey) {
    current.classList.remove("flash");
    void current.offsetWidth;   // restart the animation
    current.classList.add("flash");
    state.flashKey = null;
  }
  fill($("#recent-calls"), older.length
    ? older.slice(0, RECENT_ROWS).map((c) => h("li", { class: hall.isCurrent(c) ? "calling" : "" },
      h("span", { class: "no num" }, c.ticket_no), h("span", { class: "win num" }, `${c.window_no}号窗口`)))
    : h("li", { class: "empty" }, "暂无"));

  const windowsShown = [...hall.windows.values()].filter((w) => inZone(w.window_no));
  const served = new Set(windowsShown.flatMap((w) => w.queues));
  const queues = [...hall.queues.values()].filter((q) => !ZONE || served.has(q.code));
  let total = 0;
  const rows = queues.map((q) => {
    total += q.waiting;
    // the figures are the server's (the estimated wait is never computed in the browser)
    const open = q.open_windows > 0;
    return h("div", { class: `d-q${q.waiting ? "" : " none"}${open ? "" : " closed"}`, dataset: { queue: q.code } },
      h("span", { class: "name" }, h("i", {}, q.prefix), q.name.replace(/业务$/, "")),
      h("span", { class: "waiting num" }, q.waiting),
      h("span", { class: "eta" }, open ? (q.waiting ? formatWaitShort(q.estimated_wait_seconds) : "随到随办") : "暂停"));
  });
  // 13 rows × 2 columns a page, filled top to bottom; more queues turn pages every 10 s
  const pages = Math.max(1, Math.ceil(rows.length / QUEUES_PER_PAGE));
  const page = Math.floor(Date.now() / 10_000) % pages;
  const shown = rows.slice(page * QUEUES_PER_PAGE, (page + 1) * QUEUES_PER_PAGE);
  const half = Math.ceil(shown.length / 2);
  const cells = [];
  for (let i = 0; i < half; i++) cells.push(shown[i], shown[i + half] || h("div", { class: "d-q" }));
  fill($("#queues"), cells);
  $("#queue-page").hidden = pages === 1;
  $("#queue-page").textContent = `第 ${page + 1} / ${pages} 页`;
  $("#queue-total").textContent = `共 ${total} 人等候`;

  fill($("#window-board"), windowsShown.map((w) => {
    const t = w.ticket;
    const cls = t ? (t.status === "called" ? "t-called" : "t-serving") : `t-${w.status}`;
    const label = t ? t.ticket_no : { open: "空闲", paused: "暂停", closed: "关闭" }[w.status] || "";
    return h("div", { class: `d-tile ${cls}`, title: w.name, dataset: { window: w.window_no } },
      h("b", { class: "num" }, w.window_no), h("span", { class: "num" }, label));
  }));

  setTicker($("#notice-line"), hall.notice || "欢迎来到政务服务中心，请按叫号顺序到窗口办理。");
}

// An LED row keeps the size its CSS gives it (a share of the screen) unless its text is wider
// than the screen: then it shrinks, whole, to fit (a window number cut off at the edge sends a
// citizen to the wrong window: "130号" at 1920 px, with three-digit windows).
function fitLedRow(row) {
  row.style.setProperty("--fit", "1");
  const parts = [...row.children].filter((c) => c.getClientRects().length);
  if (!parts.length) return;
  const gap = parseFloat(getComputedStyle(row).columnGap) || 0;
  const text = parts.reduce((w, c) => w + c.getBoundingClientRect().width, 0);
  const room = row.clientWidth * 0.96 - gap * (parts.length - 1);
  if (text > room) row.style.setProperty("--fit", String(Math.max(0.05, room / text)));
}

function fitLed() {
  if (!LED) return;
  fitLedRow($("#led-call"));
  fitLedRow($("#led-prev"));
}
window.addEventListener("resize", fitLed);
if (document.fonts) {   // the widths are the real font's, loaded when a glyph first shows
  document.fonts.ready.then(fitLed);
  document.fonts.addEventListener("loadingdone", fitLed);
}

function renderLed() {
  const { newest, older } = visibleCalls();
  $("#led-no").textContent = newest ? newest.ticket_no : "----";
  $("#led-win").textContent = newest ? `${newest.window_no}号` : "";
  const total = hall.totalWaiting();
  $("#led-prev").replaceChildren(...(older.length
    ? older.slice(0, 2).map((c) => h("span", {}, `${c.ticket_no}→${c.window_no}号`))
    : [h("span", {}, `等候 ${total} 人`)]));
  fitLed();
  if (state.flashKey) {
    const led = $("#led");
    led.classList.remove("flash");
    void led.offsetWidth;
    led.classList.add("flash");
    state.flashKey = null;
  }
  setTicker($("#led-notice"), `${hall.notice ? `${hall.notice}　　` : ""}当前共 ${total} 人等候`);
}

function setTicker(el, text) {
  if (el.textContent === text) return;
  el.textContent = text;
  // enters from the right edge, leaves on the left, at a constant speed (~120 px/s lobby)
  const track = el.parentElement.clientWidth || 1800;
  const distance = track + el.scrollWidth;
  const speed = LED ? Math.max(30, track / 6) : 120;
  el.style.setProperty("--ticker-from", `${track}px`);
  el.style.setProperty("--ticker-seconds", `${Math.max(6, Math.round(distance / speed))}s`);
}

// ------------------------------------------------------------------ voice call
const voice = {
  enabled: localStorage.getItem(VOICE_KEY) !== "off",
  blocked: false,
  context: null,     // AudioContext for the chime, once the browser allows one
  queue: [],         // calls waiting to be read out, in order
  playing: false,
  audio: null,       // the <audio> element reading the server's rendering
};

function renderVoiceToggle() {
  const b = $("#voice-toggle");
  b.setAttribute("aria-pressed", String(voice.enabled));
  b.textContent = voice.enabled ? "语音播报：开" : "语音播报：关";
}
renderVoiceToggle();
$("#voice-toggle").addEventListener("click", () => {
  voice.enabled = !voice.enabled;
  localStorage.setItem(VOICE_KEY, voice.enabled ? "on" : "off");
  renderVoiceToggle();
  if (!voice.enabled) {
    voice.queue = [];
    if ("speechSynthesis" in window) speechSynthesis.cancel();
    if (voice.audio) voice.audio.pause();
  }
});
document.addEventListener("pointerdown", () => {
  voice.blocked = false;
  $("#voice-hint").hidden = true;
  if (!voice.context && window.AudioContext) voice.context = new AudioContext();
}, { passive: true });
// a kiosk-mode browser started with --autoplay-policy=no-user-gesture-required allows sound at once
if (window.AudioContext) {
  const ctx = new AudioContext();
  if (ctx.state === "running") voice.context = ctx; else ctx.close();
}

const DIGITS = "零一二三四五六七八九";

/** "A012" read digit by digit: "A零一二" (a TTS voice would otherwise say "A十二"). */
function spell(ticketNo) {
  return [...ticketNo].map((ch) => (/\d/.test(ch) ? DIGITS[Number(ch)] : `${ch} `)).join("").trim();
}

function sleep(ms) {
  return new Promise((resolve) => { setTimeout(resolve, ms); });
}

/** Two tones before each call; resolves when they have sounded. */
function chime() {
  const ctx = voice.context;
  if (!ctx || ctx.state !== "running") return Promise.resolve();
  const t0 = ctx.currentTime + 0.02;
  [[880, 0], [659, 0.45]].forEach(([freq, at]) => {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, t0 + at);
    gain.gain.exponentialRampToValueAtTime(0.3, t0 + at + 0.03);
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + at + 0.8);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t0 + at);
    osc.stop(t0 + at + 0.85);
  });
  return sleep(1000);
}

/** The browser's Mandarin voice, if it has one (Debian's Chromium has none). */
function zhVoice() {
  if (!("speechSynthesis" in window)) return null;
  const voices = speechSynthesis.getVoices();
  return voices.find((v) => /^zh[-_]CN/i.test(v.lang)) || voices.find((v) => /^zh/i.test(v.lang)) || null;
}

function blockedByBrowser() {
  if (voice.blocked) return;
  voice.blocked = true;
  $("#voice-hint").hidden = false;   // the browser wants a touch first
}

function sayWithBrowser(call, zh) {
  return new Promise((resolve) => {
    const u = new SpeechSynthesisUtterance(`请 ${spell(call.ticket_no)} 号，到 ${call.window_no} 号窗口办理`);
    u.lang = "zh-CN";
    u.rate = 0.85;
    u.voice = zh;
    const timer = setTimeout(resolve, SAY_TIMEOUT_MS);
    const done = () => { clearTimeout(timer); resolve(); };
    u.onend = done;
    u.onerror = (ev) => {
      if (ev.error === "not-allowed") blockedByBrowser();
      done();
    };
    speechSynthesis.speak(u);
  });
}

/** The server's rendering of the call (espeak-ng's Mandarin voice), played in an <audio>. */
function sayWithServerAudio(call) {
  return new Promise((resolve) => {
    const params = new URLSearchParams({ ticket_no: call.ticket_no, window_no: String(call.window_no) });
    const audio = voice.audio || (voice.audio = new Audio());
    const timer = setTimeout(done, SAY_TIMEOUT_MS);
    function done() {
      clearTimeout(timer);
      audio.onended = null;
      audio.onerror = null;
      resolve();
    }
    audio.onended = done;
    audio.onerror = done;   // 503 without espeak-ng on the server: the screen still shows the call
    audio.src = `/api/voice/call?${params}`;
    audio.play().catch((err) => {
      if (err && err.name === "NotAllowedError") blockedByBrowser();
      done();
    });
  });
}

async function playQueue() {
  if (voice.playing) return;
  voice.playing = true;
  try {
    while (voice.queue.length) {
      const call = voice.queue.shift();
      // the citizen may have arrived while earlier calls were read out
      if (!voice.enabled || !hall.isCurrent(call)) continue;
      await chime();
      const zh = zhVoice();
      window.hallopsVoice.push(zh ? "speech" : "audio");
      await (zh ? sayWithBrowser(call, zh) : sayWithServerAudio(call));
    }
  } finally {
    voice.playing = false;
  }
}

function announce(call) {
  if (!voice.enabled) return;
  window.hallopsSpoken.push(`请 ${call.ticket_no} 号到 ${call.window_no} 号窗口办理`);
  voice.queue.push(call);
  playQueue();
}

// ------------------------------------------------------------------ connection status
function showStatus(s) {
  const offline = s === "offline";
  $("#offline").hidden = !offline;
  $("#led-offline").hidden = !offline;
  document.body.dataset.connection = s;
}

// ------------------------------------------------------------------ start
(async function start() {
  const device = await deviceLogin("display");
  hall.hall = device.hall;
  render();
  connectFeed({
    hall: device.hall.code,
    token: device.token,
    onSnapshot: applySnapshot,
    onEvent: applyEvent,
    onLive: () => announcer.live(),
    onStatus: (s) => {
      if (s === "unauthorized") {
        forgetDevice("display");
        location.reload();
        return;
      }
      showStatus(s);
    },
  });
})();
