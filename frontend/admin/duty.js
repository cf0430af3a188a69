// 带班: the leaders' duty roster (领导带班) a week at a time. Per day, the leaders on duty by
// department; a day's leaders picked from the hall's active leaders; the week before copied to
// this one. Only a leader on the day's roster may sign off their department's cases
// (server/domain/signoff.py), and a sign-off waiting too long alarms that day's leader, so a
// working day with a department uncovered is marked.
import { $, api, fill, h, toast } from "../shared/api.js";
import {
  addDays, copyWeekPlan, dayKind, dayLabel, leadersByDepartment, mondayOf, rosterRows,
  WEEKDAY_LABEL, weekLabel, weekOf,
} from "./calendar-model.js";
import { base, ctx } from "./context.js";
import { confirmAction, failed, formDialog } from "./ui.js";

let panel = null;
let monday = null;
let week = [];
let duty = {};           // day -> leaders on duty (duty.get)
let calendar = new Map(); // day -> calendar row
let leaders = new Map(); // department -> [{id, name, username}]
let staff = [];

export async function show(el) {
  if (!panel) build(el);
  if (monday === null) monday = mondayOf(ctx.today || (await api(`${base()}/duty`)).date);
  try {
    ({ staff } = await api(`${base()}/admin/staff`));
    leaders = leadersByDepartment(staff, ctx.departments);
    await loadWeek();
  } catch (err) { failed(err); }
}

/** duty.set (another admin's change) or a calendar change: redraw the week if it is shown. */
export function onEvent(ev) {
  if (!panel || panel.hidden) return;
  if (ev.type === "duty.set" && !week.includes(ev.data && ev.data.day)) return;
  loadWeek().catch(failed);
}

function build(el) {
  panel = el;
  fill(el, h("section", { class: "card a-section" },
    h("div", { class: "a-toolbar" },
      h("h2", {}, "带班领导值班表"),
      h("button", { class: "btn a-small", type: "button", onclick: () => goWeek(-7) }, "‹ 上一周"),
      h("b", { class: "a-week num", id: "duty-week", "aria-live": "polite" }),
      h("button", { class: "btn a-small", type: "button", onclick: () => goWeek(7) }, "下一周 ›"),
      h("button", { class: "btn a-small", type: "button", onclick: () => { monday = mondayOf(ctx.today); loadWeek(); } }, "本周"),
      h("button", { class: "btn primary a-small", type: "button", id: "duty-copy", onclick: copyLastWeek }, "复制上一周的安排")),
    h("p", { class: "a-hint" }, "只有当天值班表上的带班领导才能签批本部门的申请；签批等候过久的提醒也发给当天的带班领导。点击某一天（或表中的格子）修改当天的带班领导，人选来自“人员”中在岗的带班领导。"),
    h("table", { class: "a-table a-duty", id: "duty-table" })));
}

function goWeek(delta) {
  monday = addDays(monday, delta);
  loadWeek().catch(failed);
}

async function loadWeek() {
  const days = weekOf(monday);
  const [answers, cal] = await Promise.all([
    Promise.all(days.map((d) => api(`${base()}/duty?date=${d}`))),
    api(`${base()}/calendar?from=${days[0]}&to=${days[6]}`),
  ]);
  week = days;
  duty = Object.fromEntries(answers.map((a) => [a.date, a.leaders]));
  calendar = new Map(cal.days.map((r) => [r.day, r]));
  draw();
}

function draw() {
  $("#duty-week").textContent = weekLabel(monday);
  const rows = rosterRows(week, duty, leaders.keys(), ctx.departments);
  const kinds = week.map((d) => dayKind(d, calendar.get(d)));
  fill($("#duty-table"),
    h("thead", {}, h("tr", {}, h("th", {}, "部门"), week.map((d, i) => h("th", { class: `a-duty-day${kinds[i].working ? "" : " rest"}${d === ctx.today ? " today" : ""}`, dataset: { day: d } },
      h("button", { class: "btn ghost-dark a-small", type: "button", onclick: () => editDay(d), "aria-label": `修改 ${dayLabel(d, { week: true })} 的带班领导` },
        `周${WEEKDAY_LABEL[i]} ${dayLabel(d)}`),
      h("small", {}, kinds[i].working ? (kinds[i].kind === "adjusted" ? "调休上班" : "") : (kinds[i].note || "休息")))))),
    h("tbody", {}, rows.length ? rows.map((r) => h("tr", { dataset: { department: r.department } },
      h("th", { scope: "row" }, r.name),
      r.days.map((list, i) => {
        const uncovered = !list.length && kinds[i].working && leaders.has(r.department);
        return h("td", {
          class: `a-duty-cell${kinds[i].working ? "" : " rest"}${uncovered ? " uncovered" : ""}`,
          dataset: { day: week[i] },
          onclick: () => editDay(week[i]),
        }, list.length ? list.map((l) => h("span", { class: "a-chip a-leader", dataset: { staff: l.username } }, l.name))
          : h("span", { class: "none" }, uncovered ? "无人带班" : "—"));
      })))
      : h("tr", {}, h("td", { colspan: "8", class: "none" }, "本中心还没有带班领导：请先在“人员”中新增角色为带班领导的人员"))));
}

function nameOf(l) {
  return `${l.name}（${l.username}）`;
}

async function editDay(day) {
  const onDuty = new Set((duty[day] || []).map((l) => l.staff_id));
  const deptName = new Map(ctx.departments.map((d) => [d.code, d.name]));
  // leaders on duty who may no longer be (disabled since): shown, ticked, so nobody vanishes
  // from the roster unseen
  const extra = (duty[day] || []).filter((l) => ![...leaders.values()].some((list) => list.some((x) => x.id === l.staff_id)));
  const done = await formDialog({
    title: `${dayLabel(day, { year: true, week: true })} 的带班领导`,
    id: "duty-dialog",
    wide: true,
    build: () => [
      leaders.size || extra.length ? h("div", { class: "a-duty-pick", "data-field": "staff_ids" },
        [...leaders.entries()].map(([dept, list]) => h("fieldset", { class: "a-radios", dataset: { department: dept } },
          h("legend", {}, deptName.get(dept) || dept),
          list.map((l) => h("label", { class: "a-check" },
            h("input", { type: "checkbox", name: "leader", value: String(l.id), checked: onDuty.has(l.id) }), nameOf(l))))),
        extra.length ? h("fieldset", { class: "a-radios" }, h("legend", {}, "已停用或已不是带班领导"),
          extra.map((l) => h("label", { class: "a-check" },
            h("input", { type: "checkbox", name: "leader", value: String(l.staff_id), checked: true }), `${nameOf(l)} · ${l.department_name}`))) : null)
        : h("p", { class: "none" }, "本中心还没有在岗的带班领导"),
      h("p", { class: "a-hint" }, "不勾选任何人即清空当天的值班安排。"),
    ],
    submit: async (form) => {
      const ids = [...form.querySelectorAll("input[name=leader]:checked")].map((el) => Number(el.value));
      return api(`${base()}/duty/${day}`, { method: "PUT", body: { staff_ids: ids } });
    },
  });
  if (!done) return;
  toast(done.leaders.length ? `${dayLabel(day)} 带班：${done.leaders.map((l) => l.name).join("、")}` : `${dayLabel(day)} 的带班安排已清空`, "ok");
  await loadWeek();
}

async function copyLastWeek() {
  const lastWeek = weekOf(addDays(monday, -7));
  let lastDuty;
  try {
    const answers = await Promise.all(lastWeek.map((d) => api(`${base()}/duty?date=${d}`)));
    lastDuty = Object.fromEntries(answers.map((a) => [a.date, a.leaders]));
  } catch (err) { failed(err); return; }
  const active = [...leaders.values()].flat().map((l) => l.id);
  const { plan, dropped, empty } = copyWeekPlan(lastWeek, week, lastDuty, duty, active);
  if (empty) { toast(`上一周（${weekLabel(lastWeek[0])}）没有带班安排，无可复制`, "info"); return; }
  const todo = plan.filter((p) => !p.unchanged);
  if (!todo.length) { toast("本周的安排已与上一周相同", "info"); return; }
  const lines = plan.map((p, i) => h("li", { class: p.unchanged ? "none" : "" },
    h("b", {}, `周${WEEKDAY_LABEL[i]} ${dayLabel(p.day)}：`),
    p.unchanged ? "不变" : p.clears ? "清空（上一周当天无人带班）" : p.names.join("、")));
  const body = [
    h("p", {}, `${weekLabel(monday)} 的带班安排将与上一周（${weekLabel(lastWeek[0])}）相同，本周已有的安排被替换：`),
    h("ul", { class: "a-copy-plan" }, lines),
    dropped.length ? h("p", { class: "a-field-err" }, `不再是在岗带班领导、未复制：${[...new Set(dropped.map((d) => d.name))].join("、")}`) : null,
  ];
  if (!await confirmAction("复制上一周的带班安排", body, `复制 ${todo.length} 天`, { danger: false })) return;
  let saved = 0;
  try {
    for (const p of todo) {
      await api(`${base()}/duty/${p.day}`, { method: "PUT", body: { staff_ids: p.staff_ids } });
      saved += 1;
    }
    toast(`已复制上一周的安排（${saved} 天）`, "ok");
  } catch (err) {
    failed({ ...err, status: err.status, message: `已复制 ${saved} 天，之后出错：${err.message}` });
  } finally {
    await loadWeek().catch(failed);
  }
}
