// 日历: the hall calendar a year at a glance (twelve small months) with its statutory holidays,
// 调休 working weekends and the days set by hand, each with its note; a click on a day sets it
// working or not (every open case's deadline is recomputed: the confirmation says so); a
// year's official holiday notice loaded from its JSON file, previewed before it is sent; and
// the years the calendar holds official data for, with the warning (on every tab) when a year
// needed within 60 days is missing.
import { $, api, fill, formatDateTime, h, toast } from "../shared/api.js";
import {
  dayChangeEffect, dayDescription, dayKind, dayLabel, daysText, noticePreview, rangeLabel,
  SOURCE_LABEL, WEEKDAY_LABEL, yearLayout, yearSummary,
} from "./calendar-model.js";
import { base, ctx } from "./context.js";
import { confirmAction, failed, field, formDialog, input } from "./ui.js";

let panel = null;
let year = null;
let rows = [];          // calendar.list of the year shown
let coverage = null;    // calendar.years

const MARK = { holiday: "休", off: "休", adjusted: "班" };

/** calendar.years: the hall's day, the years loaded, and the warning banner shown above every
 * tab while a year needed within 60 days has no official holidays. */
export async function refreshCoverage() {
  coverage = await api(`${base()}/calendar/years`);
  ctx.today = coverage.today;
  const banner = $("#calendar-warning");
  banner.hidden = !coverage.missing.length;
  $("#calendar-warning-text").textContent = coverage.message;
  return coverage;
}

export async function show(el) {
  if (!panel) build(el);
  try {
    await refreshCoverage();
    if (year === null) year = Number(ctx.today.slice(0, 4));
    await loadYear();
  } catch (err) { failed(err); }
}

/** A live calendar event (another admin, or `run.py calendar-import`): redraw if shown. */
export function onEvent(ev) {
  if (!panel || panel.hidden) {
    if (ev.type === "calendar.year_loaded") refreshCoverage().catch(() => {});
    return;
  }
  show(panel);
}

function build(el) {
  panel = el;
  const file = h("input", {
    type: "file", accept: ".json,application/json", id: "notice-file", hidden: true,
    "aria-label": "选择节假日通知文件", onchange: (ev) => readNotice(ev.target),
  });
  fill(el,
    h("section", { class: "card a-section" },
      h("div", { class: "a-toolbar" },
        h("h2", {}, "日历"),
        h("button", { class: "btn a-small", type: "button", id: "cal-prev", onclick: () => goYear(-1) }),
        h("b", { class: "a-cal-year num", id: "cal-year", "aria-live": "polite" }),
        h("button", { class: "btn a-small", type: "button", id: "cal-next", onclick: () => goYear(1) }),
        h("button", { class: "btn a-small", type: "button", onclick: () => { year = Number(ctx.today.slice(0, 4)); loadYear(); } }, "今年"),
        h("span", { class: "a-cal-legend", "aria-hidden": "true" },
          h("i", { class: "a-key k-holiday" }, "休"), "法定节假日",
          h("i", { class: "a-key k-off" }, "休"), "手工设为休息",
          h("i", { class: "a-key k-adjusted" }, "班"), "调休上班",
          h("i", { class: "a-key k-weekend" }), "周末",
          h("i", { class: "a-key k-manual" }), "手工设置"),
        file,
        h("button", { class: "btn primary a-small", type: "button", id: "notice-import", onclick: () => { file.value = ""; file.click(); } }, "导入节假日通知…")),
      h("p", { class: "a-hint" }, "点击某一天，可设为上班或休息并填写备注（如 系统升级停办）。改变某天是否上班后，所有在办件的办理期限立即按新日历重新计算。每年年底国务院办公厅发布次年的节假日安排通知，请按 docs/calendar.md 的格式整理成 JSON 文件后导入。"),
      h("div", { class: "a-import-result", id: "import-result", "aria-live": "polite" }),
      h("div", { class: "a-year", id: "cal-months" })),
    h("div", { class: "a-two" },
      h("section", { class: "card a-section" }, h("h2", { id: "cal-summary-title" }, "本年安排"), h("div", { id: "cal-summary" })),
      h("section", { class: "card a-section" }, h("h2", {}, "已载入官方节假日的年份"), h("div", { id: "cal-years" }))));
}

function goYear(delta) {
  year += delta;
  loadYear();
}

async function loadYear() {
  try {
    ({ days: rows } = await api(`${base()}/calendar?from=${year}-01-01&to=${year}-12-31`));
  } catch (err) { failed(err); return; }
  draw();
}

function draw() {
  $("#cal-year").textContent = `${year} 年`;
  $("#cal-prev").textContent = `‹ ${year - 1}`;
  $("#cal-prev").setAttribute("aria-label", `上一年（${year - 1} 年）`);
  $("#cal-next").textContent = `${year + 1} ›`;
  $("#cal-next").setAttribute("aria-label", `下一年（${year + 1} 年）`);
  const loaded = coverage && coverage.years.find((y) => y.year === year);
  const months = yearLayout(year, rows, ctx.today);
  fill($("#cal-months"),
    loaded ? null : h("div", { class: "alert a-cal-missing" },
      `${year} 年尚未载入官方节假日安排：这一年的期限按周一至周五上班计算。`),
    months.map(drawMonth));
  drawSummary();
  drawYears();
}

function drawMonth(m) {
  return h("section", { class: "a-month", dataset: { month: m.month } },
    h("h3", {}, m.title),
    h("table", { class: "a-cal" },
      h("thead", {}, h("tr", {}, WEEKDAY_LABEL.map((w, i) => h("th", { class: i >= 5 ? "we" : "" }, w)))),
      h("tbody", {}, m.weeks.map((week) => h("tr", {}, week.map((c) => h("td", {}, c ? dayButton(c) : null)))))),
    m.notes.length ? h("ul", { class: "a-month-notes" }, m.notes.map((n) =>
      h("li", { class: n.working ? "w" : "o" }, h("span", { class: "num" }, n.label), " ", n.note))) : null);
}

function dayButton(c) {
  const text = `${dayLabel(c.day, { year: true, week: true })}，${dayDescription(c)}${c.bridge ? `（${c.bridge}假期中的周末）` : ""}`;
  return h("button", {
    type: "button",
    class: `a-day k-${c.kind}${c.bridge ? " bridge" : ""}${c.source === "manual" ? " manual" : ""}${c.today ? " today" : ""}`,
    dataset: { day: c.day, kind: c.kind },
    title: text,
    "aria-label": text,
    onclick: () => editDay(c.day),
  }, c.date, MARK[c.kind] ? h("i", { "aria-hidden": "true" }, MARK[c.kind]) : null);
}

function drawSummary() {
  const s = yearSummary(rows);
  $("#cal-summary-title").textContent = `${year} 年安排`;
  fill($("#cal-summary"),
    s.holidays.length || s.adjusted.length ? h("table", { class: "a-table a-cal-summary" },
      h("thead", {}, h("tr", {}, h("th", {}, "节假日"), h("th", {}, "放假的工作日"), h("th", {}, "天数"))),
      h("tbody", {}, s.holidays.map((x) => h("tr", {}, h("td", {}, x.note), h("td", { class: "num" }, rangeLabel(x.from, x.to)), h("td", { class: "num" }, `${x.days} 天`))))) : h("p", { class: "none" }, "这一年没有法定节假日安排"),
    s.adjusted.length ? h("p", {}, h("b", {}, "调休上班："), daysText(s.adjusted, 30)) : null,
    s.manual.length ? h("div", {}, h("b", {}, "手工设置："),
      h("ul", { class: "a-manual-days" }, s.manual.map((m) => h("li", {},
        `${dayLabel(m.day, { week: true })} ${m.is_working ? "上班" : "休息"}${m.note ? `（${m.note}）` : ""}`)))) : null);
}

function drawYears() {
  if (!coverage) return;
  fill($("#cal-years"),
    coverage.years.length ? h("table", { class: "a-table" },
      h("thead", {}, h("tr", {}, ["年份", "来源", "通知", "载入"].map((t) => h("th", {}, t)))),
      h("tbody", {}, [...coverage.years].reverse().map((y) => h("tr", { dataset: { year: y.year } },
        h("td", { class: "num nw" }, y.year),
        h("td", { class: "nw" }, SOURCE_LABEL[y.source] || y.source),
        h("td", { class: y.title && y.title.includes("示例") ? "a-example" : "" }, y.title || h("span", { class: "none" }, "—")),
        h("td", { class: "num nw" }, y.loaded_at ? `${formatDateTime(y.loaded_at)}${y.loaded_by_name ? ` ${y.loaded_by_name}` : ""}` : "—"))))) : h("p", { class: "none" }, "尚未载入任何年份"),
    coverage.missing.length ? h("p", { class: "a-field-err" }, `缺少：${coverage.missing.join("、")} 年（未来 ${coverage.horizon_days} 天内要用到）`) : null);
}

// ------------------------------------------------------------------ a day

async function editDay(day) {
  const info = dayKind(day, rows.find((r) => r.day === day));
  const done = await formDialog({
    title: `设置 ${dayLabel(day, { year: true, week: true })}`,
    id: "day-dialog",
    build: () => [
      h("p", { class: "a-lead" }, "现在：", h("b", {}, dayDescription(info))),
      h("fieldset", { class: "a-radios a-inline", "data-field": "is_working" },
        h("legend", {}, "这一天"),
        h("label", { class: "a-check" }, h("input", { type: "radio", name: "is_working", value: "1", checked: info.working }), "上班（工作日）"),
        h("label", { class: "a-check" }, h("input", { type: "radio", name: "is_working", value: "0", checked: !info.working }), "不上班（休息日）")),
      field("备注", input("note", info.note, { maxlength: 100, placeholder: "如 元旦、系统升级停办、调休上班" }), "显示在日历上；最多 100 字"),
      h("p", { class: "a-hint" }, "改变是否上班后，所有在办件的办理期限立即按新日历重新计算。"),
    ],
    submit: async (form) => {
      const isWorking = form.querySelector("input[name=is_working]:checked").value === "1";
      const note = form.elements.note.value.trim();
      const effect = dayChangeEffect(day, info, isWorking, note);
      if (!effect) return "unchanged";
      if (effect.reprices && !await confirmAction(`${isWorking ? "设为工作日" : "设为休息日"}：${dayLabel(day, { year: true })}`,
        effect.text, "确认修改", { danger: false })) throw { message: "已取消，未保存" };
      await api(`${base()}/calendar/${day}`, { method: "PUT", body: { is_working: isWorking, note } });
      return effect;
    },
  });
  if (!done) return;
  if (done === "unchanged") { toast("没有修改", "info"); return; }
  await loadYear();
  const now = dayKind(day, rows.find((r) => r.day === day));
  toast(`已保存：${dayLabel(day, { year: true })}为${dayDescription(now)}${done.reprices ? "，在办件期限已重新计算" : ""}`, "ok");
}

// ------------------------------------------------------------------ a year's notice

async function readNotice(fileInput) {
  const out = $("#import-result");
  const file = fileInput.files && fileInput.files[0];
  if (!file) return;
  let notice;
  try {
    notice = JSON.parse(await file.text());
  } catch {
    fill(out, h("div", { class: "alert" }, `“${file.name}”不是有效的 JSON 文件，请按 docs/calendar.md 的格式整理通知。`));
    return;
  }
  let current = [];
  if (Number.isInteger(notice && notice.year)) {
    try {
      ({ days: current } = await api(`${base()}/calendar?from=${notice.year}-01-01&to=${notice.year}-12-31`));
    } catch (err) { failed(err); return; }
  }
  const p = noticePreview(notice, current);
  if (p.error) {
    fill(out, h("div", { class: "alert" }, `“${file.name}”不能作为节假日通知导入：${p.error}`));
    return;
  }
  fill(out);
  const result = await formDialog({
    title: `导入 ${p.year} 年节假日安排`,
    id: "notice-dialog",
    wide: true,
    submitLabel: "导入",
    build: () => previewContent(p, file.name),
    submit: () => api(`${base()}/calendar/notice`, { method: "POST", body: notice }),
  });
  if (!result) return;
  showImported(result);
  year = result.year;
  await refreshCoverage().catch(() => {});
  await loadYear();
}

function previewContent(p, filename) {
  const example = p.title.includes("示例");
  return [
    h("p", { class: "a-lead" }, `文件 ${filename}：`, h("b", {}, p.title)),
    example ? h("div", { class: "alert" }, "标题注明这是示例，日期并非官方安排。请导入国务院办公厅的正式通知。") : null,
    h("table", { class: "a-table a-notice-preview" },
      h("thead", {}, h("tr", {}, ["节假日", "放假", "共", "调休上班"].map((t) => h("th", {}, t)))),
      h("tbody", {}, p.holidays.map((x) => h("tr", {},
        h("td", {}, x.name || h("span", { class: "none" }, "（无名称）")),
        h("td", { class: "num" }, rangeLabel(x.from, x.to)),
        h("td", { class: "num" }, `${x.total} 天`),
        h("td", { class: "num" }, x.working_days.length ? daysText(x.working_days) : "—"))))),
    h("ul", { class: "a-preview-effects" },
      h("li", {}, `${p.days_off.length} 个工作日设为休息（备注为节假日名称），${p.working_days.length} 个周末设为调休上班。`),
      p.replaces ? h("li", {}, `${p.year} 年已有节假日安排：导入后以本通知为准，旧通知或内置库中本通知未列出的 ${p.removed.length} 天恢复为周一至周五上班的常规${p.removed.length ? `（${daysText(p.removed)}）` : ""}。`) : null,
      p.kept_manual.length ? h("li", {}, `手工设置且本通知未涉及的 ${p.kept_manual.length} 天保持不变，请导入后核对：${daysText(p.kept_manual)}。`) : null,
      h("li", { class: p.changed.length ? "a-strong" : "" }, p.changed.length
        ? `与现在的日历相比，${p.changed.length} 天是否上班将改变；导入后所有在办件的办理期限立即重新计算。`
        : "与现在的日历相比，没有哪一天是否上班会改变。")),
    h("p", { class: "a-hint" }, "服务器会完整检查通知（日期、区间、调休日须为周末、不得重复）；有任何错误则不导入任何内容，并指出出错的一项。"),
  ];
}

function showImported(r) {
  fill($("#import-result"), h("div", { class: "alert ok a-imported" },
    h("b", {}, `已导入 ${r.year} 年节假日安排：`),
    `休息的工作日 ${r.days_off.length} 天，调休上班 ${r.working_days.length} 天；`,
    r.changed.length ? `${r.changed.length} 天是否上班改变，在办件的办理期限已重新计算。` : "没有哪一天是否上班改变。",
    r.removed.length ? h("div", {}, `已移除旧安排 ${r.removed.length} 天：${daysText(r.removed)}。`) : null,
    r.kept_manual.length ? h("div", {}, `保留手工设置 ${r.kept_manual.length} 天，请核对：${daysText(r.kept_manual)}。`) : null));
}
