// The ballot box's batch screen (评议箱计票, issue 11): at the month's opening of the box a
// supervisor scans each slip's barcode (the notice's reg_no; a scanner types it and Enter),
// presses 5–1 for the level ticked (and letters for reasons), Enter: the slip is keyed
// (POST …/ballots) and the next one can be scanned. Keyboard only; the running list says per
// slip whether it was counted, was already (已计入), or is not found. A slip counts once.
import { $, api, fill, h, hallOf, logOut, pageActor, param, toLogin } from "../shared/api.js";
import { LEVELS, REASONS, REASON_KEYS, ballotResult, ballotTotals, isBad, levelName, slipOf } from "../rate/model.js";

const state = { hall: null, slip: null, level: null, reasons: new Set(), rows: [] };
const input = $("#slip");

function note(text, kind = "info") {
  const n = $("#entry-note");
  n.textContent = text;
  n.className = `alert ${kind}`;
  n.hidden = !text;
}

function renderChoice() {
  for (const b of $("#levels").children) b.setAttribute("aria-pressed", String(Number(b.dataset.level) === state.level));
  for (const b of $("#reasons").children) b.setAttribute("aria-pressed", String(state.reasons.has(b.dataset.reason)));
}

function reset() {
  state.slip = null;
  state.level = null;
  state.reasons.clear();
  input.readOnly = false;
  input.value = "";
  renderChoice();
  input.focus();
}

function renderList() {
  const t = ballotTotals(state.rows);
  fill($("#totals"),
    h("span", {}, "已计入 ", h("b", { class: "num" }, String(t.counted))),
    ...LEVELS.map((l) => h("span", {}, `${l.name} `, h("b", { class: "num" }, String(t.levels[l.level])))),
    h("span", {}, "重复 ", h("b", { class: "num" }, String(t.duplicate))),
    h("span", {}, "查无 ", h("b", { class: "num" }, String(t.not_found))));
  fill($("#rows"), ...state.rows.map((r, i) => h("tr", { "data-result": r.result },
    h("td", { class: "num" }, String(state.rows.length - i)),
    h("td", { class: "num" }, r.slip),
    h("td", {}, levelName(r.level)),
    h("td", {}, r.text))));
}

// The entry is cleared at once and the slip sent in the background, so a scanner's next code
// is never lost while the answer is on its way; its row says 提交中… until the answer comes.
async function submit() {
  if (!state.slip || !state.level) return;
  const body = { slip: state.slip, level: state.level, reasons: REASONS.map((r) => r.code).filter((c) => state.reasons.has(c)) };
  const row = { slip: body.slip, level: body.level, result: "pending", text: "提交中…" };
  state.rows.unshift(row);
  renderList();
  reset();
  let answer;
  try {
    await api(`/api/halls/${encodeURIComponent(state.hall.code)}/ballots`, { method: "POST", body });
    answer = ballotResult(body.slip, body.level, 201, {});
  } catch (err) {
    if (err.status === 401) return toLogin();
    answer = ballotResult(body.slip, body.level, err.status, { error: { code: err.code, message: err.message } });
  }
  Object.assign(row, answer);
  renderList();
  note(`${row.slip}：${row.text}`, row.result === "counted" ? "info" : "");
}

function takeSlip() {
  const slip = slipOf(input.value);
  if (!slip) { note("条码不正确，请重新扫描", ""); input.select(); return; }
  state.slip = slip;
  input.value = slip;
  input.readOnly = true;
  note(`评议单 ${slip}：请按 5–1 选择等级，回车计入`);
}

document.addEventListener("keydown", (ev) => {
  if (ev.ctrlKey || ev.metaKey || ev.altKey || $("#screen").hidden) return;
  if (!state.slip) {
    if (ev.key === "Enter" && document.activeElement === input) { ev.preventDefault(); takeSlip(); }
    else if (document.activeElement !== input && ev.key.length === 1) input.focus();
    return;
  }
  ev.preventDefault();
  if (ev.key === "Escape") { note("已放弃本张"); reset(); return; }
  if (ev.key === "Enter") { if (state.level) submit(); else note(`评议单 ${state.slip}：请先按 5–1 选择等级`); return; }
  if (/^[1-5]$/.test(ev.key)) { state.level = Number(ev.key); renderChoice(); return; }
  const reason = REASON_KEYS[ev.key.toLowerCase()];
  if (reason) {
    if (state.reasons.has(reason)) state.reasons.delete(reason); else state.reasons.add(reason);
    renderChoice();
  }
});

function build() {
  fill($("#levels"), ...LEVELS.map((l) => h("button", {
    class: `btn${isBad(l.level) ? " bad" : ""}`, type: "button", tabindex: -1, "data-level": String(l.level),
    onclick: () => { if (state.slip) { state.level = l.level; renderChoice(); } input.focus(); },
  }, h("kbd", {}, String(l.level)), " ", l.name)));
  const keyOf = Object.fromEntries(Object.entries(REASON_KEYS).map(([k, v]) => [v, k.toUpperCase()]));
  fill($("#reasons"), ...REASONS.map((r) => h("button", {
    class: "btn", type: "button", tabindex: -1, "data-reason": r.code,
    onclick: () => {
      if (state.slip) { if (state.reasons.has(r.code)) state.reasons.delete(r.code); else state.reasons.add(r.code); renderChoice(); }
      input.focus();
    },
  }, h("kbd", {}, keyOf[r.code]), " ", r.name)));
}

async function start() {
  const actor = await pageActor("supervisor", "评议箱计票仅供监察人员使用，请使用监察员账号登录。", $("#loading"), start);
  if (!actor) return;
  const home = await hallOf(actor);
  const code = param("hall", home.code);
  const { halls } = await api("/api/halls");
  state.hall = halls.find((x) => x.code === code) || home;
  $("#title").textContent = `评议箱计票 · ${state.hall.name}`;
  $("#back").href = `/supervision?hall=${encodeURIComponent(state.hall.code)}`;
  $("#who").textContent = actor.name;
  build();
  renderList();
  $("#loading").hidden = true;
  $("#screen").hidden = false;
  reset();
}

$("#logout").addEventListener("click", logOut);
start().catch((err) => {
  console.error(err);
  fill($("#loading"), h("div", { class: "alert" }, err.message || "加载失败"));
});
