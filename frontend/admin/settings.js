// 设置: the hall's opening hours (working periods, the time unserved tickets close), the queue's
// rules (recalls, parking), the limits of sign-off, supplement notices and rectification; the
// notice line's templates (offered on the 窗口 tab's notice card); and the hall's departments
// and queues, added or renamed.
import { $, api, fill, h, toast } from "../shared/api.js";
import { base, ctx, departmentOptions, loadSettings, loadStructure, saveSettings } from "./context.js";
import {
  addTemplate, moveItem, removeAt, setTemplate, settingsPayload, TEMPLATE_MAX_CHARS, TEMPLATES_MAX,
  templatesPayload,
} from "./model.js";
import { clearErrors, confirmAction, failed, field, formDialog, input, select, showError, values } from "./ui.js";

let panel = null;
let settings = null;
let periods = [];
let templates = [];
let templatesDirty = false;   // unsaved template edits survive saving the opening hours

const NUMBERS = [
  ["registration_lead_minutes", "提前取号（分钟）", "工作日第一个工作时段开始前多少分钟起可以取号", 0, 240],
  ["no_show_recalls", "过号前重呼次数", "呼叫无人应答时，再呼叫几次后记为过号", 0, 10],
  ["park_minutes", "暂离保留（分钟）", "群众暂离（挂起）后保留其号的时间", 1, 600],
  ["signoff_wait_minutes", "签批等候提醒（分钟）", "签批请求等候超过此时间即显示为等候过久", 1, 600],
  ["supplement_notice_days", "补正告知期限（工作日）", "收件后须在此期限内一次性告知补正", 1, 30],
  ["supplement_warn_days", "补正告知提前提醒（工作日）", "期限前几个工作日提醒窗口人员；须小于告知期限", 0, 30],
  ["rectification_days", "差评整改期限（工作日）", "部门答复差评整改的期限", 1, 60],
];

export async function show(el) {
  if (!panel) build(el);
  await reload();
}

function build(el) {
  panel = el;
  const form = h("form", { class: "a-form", id: "settings-form", novalidate: true, onsubmit: save },
    h("div", { class: "field", "data-field": "work_periods" },
      h("span", {}, "工作时段（以工作小时计的时限只在这些时段内计时）"),
      h("div", { id: "periods" })),
    h("div", { class: "a-grid-3" },
      field("关门时间", input("closes_at", "", { type: "time", required: true }), "此时仍在等候的号当天关闭；不早于最后一个工作时段的结束"),
      ...NUMBERS.slice(0, 2).map(([name, label, hint, min, max]) => field(label, input(name, "", { type: "number", min, max }), hint))),
    h("div", { class: "a-grid-4" },
      NUMBERS.slice(2).map(([name, label, hint, min, max]) => field(label, input(name, "", { type: "number", min, max }), hint))),
    h("div", { class: "a-form-foot" },
      h("div", { class: "alert a-form-error", role: "alert", hidden: true }),
      h("button", { class: "btn primary", type: "submit", id: "settings-save" }, "保存设置")));
  const templatesForm = h("form", { class: "a-form", id: "templates-form", novalidate: true, onsubmit: saveTemplates },
    h("ol", { class: "a-template-list", id: "templates", "data-field": "notice_templates" }),
    h("div", { class: "a-form-foot" },
      h("div", { class: "alert a-form-error", role: "alert", hidden: true }),
      h("button", { class: "btn", type: "button", id: "template-add", onclick: () => editTemplates(addTemplate(templates), true) }, "添加模板"),
      h("button", { class: "btn primary", type: "submit", id: "templates-save" }, "保存模板")));
  fill(el,
    h("section", { class: "card a-section" }, h("h2", {}, "开放时间与办理规则"), form),
    h("section", { class: "card a-section", id: "templates-card" },
      h("h2", {}, "大厅滚动公告模板", h("small", {}, `最多 ${TEMPLATES_MAX} 条，每条最多 ${TEMPLATE_MAX_CHARS} 字`)),
      h("p", { class: "a-hint" }, "常用的公告（如 午间延时服务、系统维护暂停办理）存为模板后，在“窗口”页的大厅滚动公告中点一下即可填入，再按“发布公告”发布。"),
      templatesForm),
    h("div", { class: "a-two" },
      h("section", { class: "card a-section" },
        h("div", { class: "a-toolbar" }, h("h2", {}, "部门"),
          h("button", { class: "btn primary a-small", type: "button", onclick: () => editDepartment(null) }, "新增部门")),
        h("table", { class: "a-table", id: "departments-table" },
          h("thead", {}, h("tr", {}, ["编码", "名称", "窗口", "事项", ""].map((t) => h("th", {}, t)))), h("tbody", {}))),
      h("section", { class: "card a-section" },
        h("div", { class: "a-toolbar" }, h("h2", {}, "队列"),
          h("button", { class: "btn primary a-small", type: "button", onclick: () => editQueue(null) }, "新增队列")),
        h("table", { class: "a-table", id: "queues-table" },
          h("thead", {}, h("tr", {}, ["前缀", "编码", "名称", "部门", "服务时长标准", ""].map((t) => h("th", {}, t)))), h("tbody", {})))));
}

async function reload() {
  try {
    const [s] = await Promise.all([loadSettings(), loadStructure()]);
    settings = s;
    periods = s.work_periods.map((p) => [...p]);
    if (!templatesDirty) editTemplates([...s.notice_templates], false);
    const form = $("#settings-form");
    clearErrors(form);
    form.elements.closes_at.value = s.closes_at;
    for (const [name] of NUMBERS) form.elements[name].value = s[name];
    drawPeriods();
    drawStructure();
  } catch (err) { failed(err); }
}

function drawPeriods() {
  fill($("#periods"), h("div", { class: "a-periods" },
    periods.map((p, i) => h("div", { class: "a-period", dataset: { period: i } },
      h("input", { class: "input", type: "time", name: `work_periods.${i}`, value: p[0], "aria-label": `时段 ${i + 1} 开始`, oninput: (ev) => { p[0] = ev.target.value; } }),
      h("span", {}, "至"),
      h("input", { class: "input", type: "time", value: p[1], "aria-label": `时段 ${i + 1} 结束`, oninput: (ev) => { p[1] = ev.target.value; } }),
      h("button", { class: "btn a-small", type: "button", disabled: periods.length === 1, "aria-label": `删除时段 ${i + 1}`, onclick: () => { periods.splice(i, 1); drawPeriods(); } }, "删除"))),
    periods.length < 6 ? h("button", { class: "btn a-small", type: "button", onclick: () => { periods.push(["", ""]); drawPeriods(); } }, "添加时段") : null));
}

async function save(ev) {
  ev.preventDefault();
  const form = $("#settings-form");
  clearErrors(form);
  const v = values(form);
  const { body, error } = settingsPayload({ ...v, work_periods: periods });
  if (error) { showError(form, error.field, error.message); return; }
  const periodsChanged = JSON.stringify(body.work_periods) !== JSON.stringify(settings.work_periods);
  if (periodsChanged && !await confirmAction("修改工作时段",
    `工作时段将改为 ${body.work_periods.map((p) => p.join("–")).join("、")}。保存后，所有在办件中以工作小时计的期限立即按新时段重新计算。`, "保存", { danger: false })) return;
  const button = $("#settings-save");
  button.disabled = true;
  try {
    const res = await saveSettings(body);
    const n = Object.keys(res.changes || {}).length;
    toast(n ? `设置已保存（${n} 项修改）` : "设置没有变化", "ok");
    await reload();
  } catch (err) {
    if (err.status === 401) failed(err);
    else showError(form, err.field, err.message);
  } finally { button.disabled = false; }
}

// ------------------------------------------------------------------ notice-line templates

function editTemplates(list, dirty) {
  templates = list;
  templatesDirty = dirty;
  const last = templates.length - 1;
  const row = (t, i) => h("li", { class: "a-template", dataset: { template: i } },
    h("textarea", {
      class: "input", name: `notice_templates.${i}`, rows: 2, maxlength: TEMPLATE_MAX_CHARS,
      "aria-label": `模板 ${i + 1}`, placeholder: "公告内容",
      oninput: (ev) => { templates = setTemplate(templates, i, ev.target.value); templatesDirty = true; },
    }, t),
    h("div", { class: "a-order-acts" },
      h("button", { class: "btn a-small", type: "button", disabled: i === 0, "aria-label": `模板 ${i + 1} 上移`, onclick: () => editTemplates(moveItem(templates, i, -1), true) }, "上移"),
      h("button", { class: "btn a-small", type: "button", disabled: i === last, "aria-label": `模板 ${i + 1} 下移`, onclick: () => editTemplates(moveItem(templates, i, 1), true) }, "下移"),
      h("button", { class: "btn a-small", type: "button", "aria-label": `删除模板 ${i + 1}`, onclick: () => editTemplates(removeAt(templates, i), true) }, "删除")));
  fill($("#templates"), templates.length ? templates.map(row) : h("li", { class: "none a-template-none" }, "还没有模板"));
  $("#template-add").disabled = templates.length >= TEMPLATES_MAX;
  const fresh = $("#templates").querySelector(`textarea[name="notice_templates.${last}"]`);
  if (dirty && fresh && !fresh.value) fresh.focus();
}

async function saveTemplates(ev) {
  ev.preventDefault();
  const form = $("#templates-form");
  clearErrors(form);
  const { templates: list, error } = templatesPayload(templates);
  if (error) { showError(form, error.field, error.message); return; }
  const button = $("#templates-save");
  button.disabled = true;
  try {
    const res = await saveSettings({ notice_templates: list });
    templatesDirty = false;
    editTemplates([...res.notice_templates], false);
    toast(res.changes && res.changes.notice_templates ? `公告模板已保存（${list.length} 条）` : "公告模板没有变化", "ok");
  } catch (err) {
    if (err.status === 401) failed(err);
    else showError(form, err.field, err.message);
  } finally { button.disabled = false; }
}

// ------------------------------------------------------------------ departments and queues

function drawStructure() {
  const deptName = new Map(ctx.departments.map((d) => [d.code, d.name]));
  fill($("#departments-table tbody"), ctx.departments.map((d) => h("tr", { dataset: { department: d.code } },
    h("td", { class: "num" }, d.code), h("td", {}, d.name),
    h("td", { class: "num" }, d.windows), h("td", { class: "num" }, d.items),
    h("td", {}, h("button", { class: "btn a-small", type: "button", onclick: () => editDepartment(d) }, "改名")))));
  fill($("#queues-table tbody"), ctx.queues.map((q) => h("tr", { dataset: { queue: q.code } },
    h("td", { class: "num" }, q.prefix), h("td", { class: "num" }, q.code), h("td", {}, q.name),
    h("td", {}, deptName.get(q.department_code) || h("span", { class: "none" }, "—")),
    h("td", { class: "num" }, q.service_norm_minutes ? `${q.service_norm_minutes} 分钟` : "—"),
    h("td", {}, h("button", { class: "btn a-small", type: "button", onclick: () => editQueue(q) }, "修改")))));
}

const CODE = /^[a-z0-9_-]{1,40}$/;

async function editDepartment(d) {
  const done = await formDialog({
    title: d ? `部门改名：${d.name}` : "新增部门",
    id: "department-dialog",
    build: () => [
      d ? field("部门编码", h("div", { class: "a-static num" }, d.code))
        : field("部门编码", input("code", "", { required: true, maxlength: 40, placeholder: "如 amr" }), "小写字母、数字、_ 或 -；窗口、人员和事项以此编码指向部门，创建后不能修改"),
      field("部门名称", input("name", d ? d.name : "", { required: true, maxlength: 60 })),
    ],
    submit: async (form) => {
      const v = values(form);
      const code = d ? d.code : v.code.trim();
      if (!CODE.test(code)) throw { field: "code", message: "部门编码应为小写字母、数字、_ 或 -" };
      if (!d && ctx.departments.some((x) => x.code === code)) throw { field: "code", message: `部门 ${code} 已存在` };
      if (!v.name.trim()) throw { field: "name", message: "请填写部门名称" };
      return api(`${base()}/departments/${code}`, { method: "PUT", body: { name: v.name.trim() } });
    },
  });
  if (done) { toast(done.created ? `部门“${done.name}”已添加` : `部门已改名为“${done.name}”`, "ok"); await reload(); }
}

async function editQueue(q) {
  const done = await formDialog({
    title: q ? `修改队列：${q.name}` : "新增队列",
    id: "queue-dialog",
    build: () => [
      h("div", { class: "a-grid-2" },
        q ? field("队列编码", h("div", { class: "a-static num" }, q.code))
          : field("队列编码", input("code", "", { required: true, maxlength: 40, placeholder: "如 food" }), "小写字母、数字、_ 或 -，创建后不能修改"),
        field("号码前缀", input("prefix", q ? q.prefix : "", { required: true, maxlength: 2, placeholder: "如 A 或 GA" }), "1–2 个大写字母，票号以此开头，全中心唯一")),
      field("名称", input("name", q ? q.name : "", { required: true, maxlength: 60 })),
      h("div", { class: "a-grid-2" },
        field("部门", select("department", departmentOptions("（综合，不属于部门）"), q ? q.department_code || "" : "")),
        field("服务时长标准（分钟）", input("service_norm_minutes", q ? q.service_norm_minutes ?? 15 : 15, { type: "number", min: 1, max: 600, "data-field": "norm_minutes" }), "预计等候时间在没有实测数据时按此估算")),
    ],
    submit: async (form) => {
      const v = values(form);
      const code = q ? q.code : v.code.trim();
      if (!CODE.test(code)) throw { field: "code", message: "队列编码应为小写字母、数字、_ 或 -" };
      if (!q && ctx.queues.some((x) => x.code === code)) throw { field: "code", message: `队列 ${code} 已存在` };
      const prefix = v.prefix.trim().toUpperCase();
      if (!/^[A-Z]{1,2}$/.test(prefix)) throw { field: "prefix", message: "号码前缀应为 1–2 个大写字母" };
      if (!v.name.trim()) throw { field: "name", message: "请填写名称" };
      const norm = Number(v.service_norm_minutes);
      if (!Number.isInteger(norm) || norm < 1 || norm > 600) throw { field: "service_norm_minutes", message: "服务时长标准应为 1–600 分钟" };
      return api(`${base()}/queues/${code}`, {
        method: "PUT",
        body: { name: v.name.trim(), prefix, department: v.department || null, service_norm_minutes: norm },
      });
    },
  });
  if (done) { toast(done.created ? `队列“${done.name}”已添加` : `队列“${done.name}”已保存`, "ok"); await reload(); }
}
