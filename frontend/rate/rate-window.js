// The window's rating device (评价器, issue 11): a tablet at the counter, logged in as a device
// of kind "rater" bound to its window (the setup form of shared/device.js, like a kiosk's).
// Idle it shows the hall and the window; when the clerk asks for a rating (rating.requested on
// its live connection, which the server confines to its window's rating events) or on load and
// reconnect (GET …/rating-request) it shows the five levels; a tap sends the rating, thanks the
// citizen and goes back to idle. It shows nothing about the citizen.
import { $, api, fill, h } from "../shared/api.js";
import { deviceLogin, forgetDevice } from "../shared/device.js";
import { connectTerminal } from "../shared/live.js";
import { LEVELS, REASONS, isBad, levelName, raterScreen, verdictBody } from "./model.js";

const THANKS_MS = 4000;
const windowNo = Number((location.pathname.match(/\/rate\/window\/(\d+)/) || [])[1]) || null;
const state = { token: null, hall: null, busy: false, reasons: new Set(), thanksTimer: null };

const url = () => `/api/halls/${encodeURIComponent(state.hall.code)}/windows/${windowNo}`;

function show(screen) {
  for (const id of ["idle", "ask", "thanks"]) $(`#${id}`).hidden = id !== screen;
  document.body.dataset.screen = screen;
}

function resetAsk() {
  state.reasons.clear();
  for (const b of $("#reasons").children) b.setAttribute("aria-pressed", "false");
  $("#comment").value = "";
  $("#ask-error").hidden = true;
}

function ask() {
  if (document.body.dataset.screen !== "ask") resetAsk();
  clearTimeout(state.thanksTimer);
  show("ask");
}

async function loadPending() {
  try {
    const view = await api(`${url()}/rating-request`, { token: state.token });
    $("#hall-name").textContent = view.hall_name;
    $("#window-name").textContent = `${view.window_name} · 服务评价`;
    if (view.pending) ask();
    else if (document.body.dataset.screen === "ask") show("idle");
  } catch (err) {
    if (err.status === 401) { forgetDevice("rater"); location.reload(); return; }
    fill($("#idle"), h("div", { class: "alert", role: "alert" },
      err.status === 403 ? `本评价器不属于 ${windowNo} 号窗口，请管理员核对` : err.message));
  }
}

async function rate(level) {
  if (state.busy) return;
  state.busy = true;
  $("#ask-error").hidden = true;
  try {
    await api(`${url()}/rating`, {
      method: "POST", token: state.token,
      body: verdictBody(level, [...state.reasons], $("#comment").value),
    });
    $("#thanks-level").textContent = `您的评价：${levelName(level)}${isBad(level) ? "。我们将认真整改，感谢您的监督。" : ""}`;
    show("thanks");
    state.thanksTimer = setTimeout(() => show("idle"), THANKS_MS);
  } catch (err) {
    if (err.status === 409 && err.code === "no_request") { show("idle"); return; }
    $("#ask-error").textContent = err.message;
    $("#ask-error").hidden = false;
  } finally {
    state.busy = false;
  }
}

const SVG = "http://www.w3.org/2000/svg";

/** A face drawn for the level (no emoji font needed on the tablet): the mouth curves from a
 * broad smile (5) to a frown (1). */
function face(level) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 48 48");
  svg.setAttribute("class", "r-face");
  svg.setAttribute("aria-hidden", "true");
  const bend = (level - 3) * 6;  // control point below (smile) or above (frown) the mouth line
  for (const [tag, attrs] of [
    ["circle", { cx: 24, cy: 24, r: 21 }],
    ["circle", { cx: 17, cy: 19, r: 2.6, fill: "currentColor", stroke: "none" }],
    ["circle", { cx: 31, cy: 19, r: 2.6, fill: "currentColor", stroke: "none" }],
    ["path", { d: `M14 ${31 - bend / 3} Q24 ${31 + bend} 34 ${31 - bend / 3}` }],
  ]) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries({ fill: "none", stroke: "currentColor", "stroke-width": 3, "stroke-linecap": "round", ...attrs })) {
      el.setAttribute(k, String(v));
    }
    svg.append(el);
  }
  return svg;
}

function build() {
  fill($("#levels"), ...LEVELS.map((l) => h("button", {
    class: `r-level r-level-${l.level}`, type: "button", "data-level": String(l.level),
    onclick: () => rate(l.level),
  }, face(l.level), h("span", { class: "r-name" }, l.name))));
  fill($("#reasons"), ...REASONS.map((r) => h("button", {
    class: "r-chip", type: "button", "aria-pressed": "false",
    onclick: (ev) => {
      const on = !state.reasons.has(r.code);
      if (on) state.reasons.add(r.code); else state.reasons.delete(r.code);
      ev.currentTarget.setAttribute("aria-pressed", String(on));
    },
  }, r.name)));
}

async function start() {
  if (!windowNo) {
    fill($("#idle"), h("div", { class: "alert", role: "alert" }, "地址应为 /rate/window/窗口号"));
    return;
  }
  $("#idle-no").textContent = `${windowNo}号窗口`;
  build();
  show("idle");
  const dev = await deviceLogin("rater");
  state.token = dev.token;
  state.hall = dev.hall;
  $("#hall-name").textContent = dev.hall.name;
  await loadPending();
  const conn = $("#conn");
  connectTerminal({
    hall: state.hall.code,
    credential: async () => ({ token: state.token }),
    scoped: true,  // the server sends it its window's rating events only
    refusedCodes: ["unauthenticated", "wrong_role"],
    onSnapshot: () => loadPending(),
    onEvent: (ev) => {
      const next = raterScreen(ev, windowNo);
      if (next === "ask") ask();
      else if (next === "idle" && document.body.dataset.screen === "ask") show("idle");
    },
    onStatus: (s) => {
      conn.dataset.state = s;
      conn.textContent = { online: "实时", connecting: "连接中", offline: "离线", unauthorized: "登录失效" }[s] || s;
      if (s === "online") loadPending();
      if (s === "unauthorized") { forgetDevice("rater"); location.reload(); }
    },
  });
}

start().catch((err) => {
  console.error(err);
  fill($("#idle"), h("div", { class: "alert", role: "alert" }, err.message || "加载失败"));
});
