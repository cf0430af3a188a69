// The SMS link's page (/rate/<token>, public, issue 11): what is rated (the hall, the item, the
// window, the completion date — no personal data), the five levels, reasons and a comment; once
// rated it says 已评价. An expired or unknown link, or a rating already given through another
// channel, is said plainly.
import { $, api, fill, h } from "../shared/api.js";
import { LEVELS, REASONS, isBad, levelName, verdictBody } from "./model.js";

const token = (location.pathname.match(/\/rate\/([A-Za-z0-9]{8,40})$/) || [])[1] || "";
const url = `/api/rate/${encodeURIComponent(token)}`;
const choice = { level: null, reasons: new Set() };

function done(title, text, ok = true) {
  fill($("#main"), h("section", { class: "card m-done", role: "status" },
    ok ? h("div", { class: "r-check", "aria-hidden": "true" }, "✓") : null,
    h("h2", {}, title), text ? h("p", {}, text) : null));
}

/** Says a refusal plainly (true), or leaves it to the caller (false). */
function failure(err) {
  if (err.status === 404) done("评价链接无效或已过期", "请核对短信中的链接；链接自办结起 30 日内有效。", false);
  else if (err.status === 429) done("操作过于频繁", "请稍后再试。", false);
  else if (err.status === 409) done("已评价", err.message);
  else return false;
  return true;
}

function what(inv) {
  const completed = inv.completed_at ? inv.completed_at.slice(0, 10) : "—";
  return h("section", { class: "card m-card", "aria-label": "评价的业务" },
    h("dl", { class: "m-what" },
      h("dt", {}, "办理大厅"), h("dd", {}, inv.hall_name),
      h("dt", {}, "办理事项"), h("dd", {}, inv.item_name),
      h("dt", {}, "办件编号"), h("dd", { class: "num" }, inv.case_no || "—"),
      h("dt", {}, "受理窗口"), h("dd", {}, inv.window_no ? `${inv.window_no}号窗口` : "—"),
      h("dt", {}, "办结日期"), h("dd", { class: "num" }, completed)));
}

function form(inv) {
  const error = h("div", { class: "alert", role: "alert", hidden: true });
  const submit = h("button", { class: "btn primary m-submit", type: "submit", disabled: true }, "提交评价");
  const levels = LEVELS.map((l) => h("button", {
    class: `m-level${isBad(l.level) ? " bad" : ""}`, type: "button", "aria-pressed": "false",
    "data-level": String(l.level),
    onclick: () => {
      choice.level = l.level;
      for (const b of levels) b.setAttribute("aria-pressed", String(b === levels[LEVELS.indexOf(l)]));
      submit.disabled = false;
    },
  }, l.name));
  const chips = REASONS.map((r) => h("button", {
    class: "r-chip", type: "button", "aria-pressed": "false",
    onclick: (ev) => {
      const on = !choice.reasons.has(r.code);
      if (on) choice.reasons.add(r.code); else choice.reasons.delete(r.code);
      ev.currentTarget.setAttribute("aria-pressed", String(on));
    },
  }, r.name));
  const comment = h("textarea", { class: "input", rows: 3, maxlength: 500, placeholder: "您的意见建议（可选）" });
  const f = h("form", { class: "card m-card", "aria-label": "评价" },
    h("div", { class: "m-levels", role: "group", "aria-label": "评价等级" }, ...levels),
    h("p", {}, "原因（可选）"), h("div", { class: "m-chips" }, ...chips),
    h("label", { class: "field" }, h("span", {}, "意见建议"), comment),
    error, submit);
  f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!choice.level) return;
    submit.disabled = true;
    error.hidden = true;
    try {
      await api(url, { method: "POST", body: verdictBody(choice.level, [...choice.reasons], comment.value) });
      done("感谢您的评价！", `您的评价：${levelName(choice.level)}${isBad(choice.level) ? "。我们将在规定时限内整改并回访。" : ""}`);
    } catch (err) {
      if (failure(err)) return;
      error.textContent = err.message;
      error.hidden = false;
      submit.disabled = false;
    }
  });
  return f;
}

async function start() {
  if (!token) return done("评价链接无效或已过期", "请核对短信中的链接。", false);
  let inv;
  try {
    inv = await api(url);
  } catch (err) {
    if (failure(err)) return;
    throw err;
  }
  $("#hall-name").textContent = `${inv.hall_name} · 服务评价`;
  if (inv.rated) {
    fill($("#main"), what(inv));
    $("#main").append(h("section", { class: "card m-done", role: "status" },
      h("div", { class: "r-check", "aria-hidden": "true" }, "✓"), h("h2", {}, "已评价"),
      h("p", {}, "此办件已经评价过，每件只能评价一次。感谢您的监督！")));
    return;
  }
  fill($("#main"), what(inv), form(inv));
}

start().catch((err) => {
  console.error(err);
  done("加载失败", err.message || "请稍后再试", false);
});
