// Lobby status screen (1920 × 1080) and compact LED layout (?layout=led), on the plain
// WebSocket feed with a display device token (?device=display-01 setup, or ?token=).
//
// State comes from the feed: a snapshot replaces everything (so a call is never shown as
// current from stale state after a resync), events after it are applied in order. Voice call
// in Mandarin (speechSynthesis, zh-CN), switchable per display (localStorage). "离线" after
// more than 3 s without the server; reconnects by itself from the last seq.
import { $, fill, formatClock, formatDate, formatWaitShort, h, param } from "../shared/api.js";
import { deviceLogin, forgetDevice } from "../shared/device.js";
import { HallState } from "../shared/hallstate.js";
import { connectFeed } from "../shared/live.js";

const QUEUES_PER_PAGE = 26;
const LED = param("layout") === "led";
const ZONE = param("zone");                 // optional: only the windows of one zone
const VOICE_KEY = "hallops.display.voice";
const ANNOUNCE_BACKLOG_MS = 30_000;         // calls missed while reconnecting: still announce if this fresh

const hall = new HallState();
const state = {
  live: false,
  flashKey: null,
};

// what was announced, for tests and diagnostics
window.hallopsSpoken = [];

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

function applySnapshot(snap) {
  hall.applySnapshot(snap);
  state.flashKey = null;
  // how many times the state was replaced (a resumed connection adds none): for diagnostics
  document.body.dataset.snapshots = String(Number(document.body.dataset.snapshots || 0) + 1);
  render();
}

function applyEvent(ev) {
  const changed = hall.applyEvent(ev);
  if (!changed) return;
  if (changed.call) {
    state.flashKey = `${ev.seq}`;
    if (inZone(changed.call.window_no)) announce(changed.call, ev.at);
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

function visibleCalls() {
  return hall.calls.filter((c) => inZone(c.window_no));
}

function renderLobby() {
  if (hall.hall) {
    $("#hall-name").textContent = hall.hall.name;
    document.title = `叫号信息 · ${hall.hall.name}`;
  }
  if (ZONE) { $("#zone-name").hidden = false; $("#zone-name").textContent = ZONE; }

  const calls = visibleCalls();
  const [newest, ...older] = calls;
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
    ? older.slice(0, 7).map((c) => h("li", {}, h("span", { class: "no num" }, c.ticket_no),
      h("span", { class: "win num" }, `${c.window_no}号窗口`)))
    : h("li", { class: "empty" }, "暂无"));

  const windowsShown = [...hall.windows.values()].filter((w) => inZone(w.window_no));
  const served = new Set(windowsShown.flatMap((w) => w.queues));
  const queues = [...hall.queues.values()].filter((q) => !ZONE || served.has(q.code));
  let total = 0;
  const rows = queues.map((q) => {
    total += q.waiting;
    const { open, seconds } = hall.estimatedWait(q);
    return h("div", { class: `d-q${q.waiting ? "" : " none"}${open ? "" : " closed"}`, dataset: { queue: q.code } },
      h("span", { class: "name" }, h("i", {}, q.prefix), q.name.replace(/业务$/, "")),
      h("span", { class: "waiting num" }, q.waiting),
      h("span", { class: "eta" }, open ? (q.waiting ? formatWaitShort(seconds) : "随到随办") : "暂停"));
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

function renderLed() {
  const [newest, ...older] = visibleCalls();
  $("#led-no").textContent = newest ? newest.ticket_no : "----";
  $("#led-win").textContent = newest ? `${newest.window_no}号` : "";
  const total = hall.totalWaiting();
  $("#led-prev").replaceChildren(...(older.length
    ? older.slice(0, 2).map((c) => h("span", {}, `${c.ticket_no}→${c.window_no}号`))
    : [h("span", {}, `等候 ${total} 人`)]));
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
  audio: null,
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
  if (!voice.enabled && "speechSynthesis" in window) speechSynthesis.cancel();
});
document.addEventListener("pointerdown", () => {
  voice.blocked = false;
  $("#voice-hint").hidden = true;
  if (!voice.audio && window.AudioContext) voice.audio = new AudioContext();
}, { passive: true });

const DIGITS = "零一二三四五六七八九";

/** "A012" read digit by digit: "A零一二" (a TTS voice would otherwise say "A十二"). */
function spell(ticketNo) {
  return [...ticketNo].map((ch) => (/\d/.test(ch) ? DIGITS[Number(ch)] : `${ch} `)).join("").trim();
}

function chime() {
  const ctx = voice.audio;
  if (!ctx || ctx.state !== "running") return 0;
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
  return 1000;
}

function announce(call, at) {
  if (!voice.enabled) return;
  if (!state.live && Date.now() - new Date(at).getTime() > ANNOUNCE_BACKLOG_MS) return;  // old backlog
  const text = `请 ${call.ticket_no} 号到 ${call.window_no} 号窗口办理`;
  window.hallopsSpoken.push(text);
  if (!("speechSynthesis" in window)) return;
  const u = new SpeechSynthesisUtterance(`请 ${spell(call.ticket_no)} 号，到 ${call.window_no} 号窗口办理`);
  u.lang = "zh-CN";
  u.rate = 0.85;
  const zh = speechSynthesis.getVoices().find((v) => /^zh[-_]CN/i.test(v.lang))
    || speechSynthesis.getVoices().find((v) => /^zh/i.test(v.lang));
  if (zh) u.voice = zh;
  u.onerror = (ev) => {
    if (ev.error === "not-allowed" && !voice.blocked) {
      voice.blocked = true;
      $("#voice-hint").hidden = false;   // the browser wants a touch first
    }
  };
  const delay = chime();
  setTimeout(() => speechSynthesis.speak(u), delay);
}

// ------------------------------------------------------------------ connection status
function showStatus(s) {
  const offline = s === "offline";
  $("#offline").hidden = !offline;
  $("#led-offline").hidden = !offline;
  document.body.dataset.connection = s;
  state.live = s === "online";
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
