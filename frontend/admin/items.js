// 事项: the item catalogue. A list with search; the editor of an item's whole definition (name,
// department, queue, 即办/承诺, limits and their unit, the urgent limit, materials with 容缺,
// copies and notes, fees in yuan, sign-off, service-time norm, active). Saving publishes a new
// version: cases already accepted keep the version they were accepted under. The history lists
// every version and what it changed.
import { $, api, fill, formatDateTime, h, toast } from "../shared/api.js";
import { base, ctx, departmentOptions } from "./context.js";
import {
  blankFee, blankMaterial, centsToYuan, itemMatches, itemPayload, itemState, KIND_LABEL, limitSummary,
  moveItem, removeAt, UNIT_LABEL, versionChanges,
} from "./model.js";
import { checkbox, failed, field, formDialog, infoDialog, input, select, values } from "./ui.js";

let panel = null;
let items = [];
let search = null;
let deptFilter = null;

export async function show(el) {
  if (!panel) build(el);
  else fill(deptFilter, h("option", { value: "" }, "全部部门"), ctx.departments.map((d) => h("option", { value: d.code, selected: d.code === deptFilter.value }, d.name)));
  await reload();
}

function build(el) {
  panel = el;
  search = h("input", { class: "input a-filter", type: "search", placeholder: "搜索：事项编码、名称或类别", "aria-label": "搜索事项", oninput: draw });
  deptFilter = h("select", { class: "input a-filter-status", "aria-label": "按部门筛选", onchange: draw },
    h("option", { value: "" }, "全部部门"), ctx.departments.map((d) => h("option", { value: d.code }, d.name)));
  fill(el, h("section", { class: "card a-section" },
    h("div", { class: "a-toolbar" }, h("h2", {}, "事项"), search, deptFilter,
      h("span", { class: "a-count", id: "items-count" }),
      h("button", { class: "btn primary a-small", type: "button", id: "item-add", onclick: () => edit(null) }, "新增事项")),
    h("p", { class: "a-hint" }, "保存即发布新版本；已受理的办件保留受理时的版本（时限、材料不随之改变）。"),
    h("table", { class: "a-table", id: "items-table" },
      h("thead", {}, h("tr", {}, ["编码", "名称", "部门", "时限", "材料", "收费", "签批", "版本", "状态", "操作"].map((t) => h("th", {}, t)))),
      h("tbody", {}))));
}

async function reload() {
  try {
    ({ items } = await api(`${base()}/admin/items`));
    draw();
  } catch (err) { failed(err); }
}

function draw() {
  const shown = items.filter((i) => itemMatches(i, search.value, deptFilter.value));
  $("#items-count").textContent = `${shown.length} / ${items.length} 项`;
  fill($("#items-table tbody"), shown.length ? shown.map((i) => h("tr", { dataset: { item: i.code } },
    h("td", { class: "num" }, i.code),
    h("td", {}, i.name, i.category ? h("span", { class: "wname" }, i.category) : null),
    h("td", { class: "nw" }, i.department_name),
    h("td", { class: "nw" }, limitSummary(i)),
    h("td", { class: "num nw" }, `${i.materials.length} 项${i.materials.some((m) => !m.is_key) ? `（容缺 ${i.materials.filter((m) => !m.is_key).length}）` : ""}`),
    h("td", { class: "num" }, i.fees.length ? i.fees.map((f) => `${f.name} ¥${centsToYuan(f.amount_cents)}`).join("；") : h("span", { class: "none" }, "不收费")),
    h("td", { class: "nw" }, i.requires_signoff ? "需签批" : h("span", { class: "none" }, "—")),
    h("td", { class: "num" }, `v${i.version}`),
    h("td", {}, i.active ? h("span", { class: "badge green" }, "启用") : h("span", { class: "badge" }, "停用")),
    h("td", {}, h("div", { class: "a-actions" },
      h("button", { class: "btn", type: "button", onclick: () => edit(i) }, "编辑"),
      h("button", { class: "btn", type: "button", onclick: () => history(i) }, "版本")))))
    : h("tr", {}, h("td", { colspan: "10", class: "none" }, "没有符合条件的事项")));
}

// ------------------------------------------------------------------ the editor

function materialsEditor(state) {
  const el = h("div", { class: "a-rows", "data-field": "materials" });
  const draw = () => {
    el.replaceChildren(
      state.materials.length ? h("table", { class: "a-table a-edit" },
        h("thead", {}, h("tr", {}, h("th", {}, "#"), h("th", {}, "材料名称"), h("th", {}, "类别"), h("th", {}, "份数"), h("th", {}, "说明"), h("th", {}, ""))),
        h("tbody", {}, state.materials.map((m, i) => h("tr", { dataset: { material: i } },
          h("td", { class: "num" }, i + 1),
          h("td", { class: "a-cell" }, h("input", { class: "input", name: `materials.${i}.name`, value: m.name, maxlength: 100, "aria-label": `材料 ${i + 1} 名称`, oninput: (ev) => { m.name = ev.target.value; } })),
          h("td", { class: "a-cell" }, h("select", { class: "input", name: `materials.${i}.is_key`, "aria-label": `材料 ${i + 1} 类别`, onchange: (ev) => { m.is_key = ev.target.value === "key"; } },
            h("option", { value: "key", selected: m.is_key }, "必备"),
            h("option", { value: "deferrable", selected: !m.is_key }, "容缺（可后补）"))),
          h("td", { class: "a-cell a-narrow" }, h("input", { class: "input", name: `materials.${i}.copies`, type: "number", min: 1, max: 99, value: m.copies, "aria-label": `材料 ${i + 1} 份数`, oninput: (ev) => { m.copies = ev.target.value; } })),
          h("td", { class: "a-cell" }, h("input", { class: "input", name: `materials.${i}.note`, value: m.note, maxlength: 200, "aria-label": `材料 ${i + 1} 说明`, oninput: (ev) => { m.note = ev.target.value; } })),
          h("td", {}, h("div", { class: "a-actions" },
            h("button", { class: "btn a-small", type: "button", disabled: i === 0, "aria-label": `材料 ${i + 1} 上移`, onclick: () => { state.materials = moveItem(state.materials, i, -1); draw(); } }, "↑"),
            h("button", { class: "btn a-small", type: "button", disabled: i === state.materials.length - 1, "aria-label": `材料 ${i + 1} 下移`, onclick: () => { state.materials = moveItem(state.materials, i, 1); draw(); } }, "↓"),
            h("button", { class: "btn a-small", type: "button", "aria-label": `删除材料 ${i + 1}`, onclick: () => { state.materials = removeAt(state.materials, i); draw(); } }, "删除")))))))
        : h("div", { class: "a-hint" }, "尚无材料"),
      h("button", { class: "btn a-small", type: "button", onclick: () => {
        state.materials = [...state.materials, blankMaterial()];
        draw();
        el.querySelector(`[name="materials.${state.materials.length - 1}.name"]`).focus();
      } }, "添加材料"));
  };
  draw();
  return el;
}

function feesEditor(state) {
  const el = h("div", { class: "a-rows", "data-field": "fees" });
  const draw = () => {
    el.replaceChildren(
      state.fees.length ? h("table", { class: "a-table a-edit" },
        h("thead", {}, h("tr", {}, h("th", {}, "收费名称"), h("th", {}, "金额（元）"), h("th", {}, "收费依据"), h("th", {}, ""))),
        h("tbody", {}, state.fees.map((f, i) => h("tr", { dataset: { fee: i } },
          h("td", { class: "a-cell" }, h("input", { class: "input", name: `fees.${i}.name`, value: f.name, maxlength: 100, "aria-label": `收费 ${i + 1} 名称`, oninput: (ev) => { f.name = ev.target.value; } })),
          h("td", { class: "a-cell a-narrow" }, h("input", { class: "input num", name: `fees.${i}.amount_cents`, value: f.yuan, inputmode: "decimal", "aria-label": `收费 ${i + 1} 金额（元）`, oninput: (ev) => { f.yuan = ev.target.value; } })),
          h("td", { class: "a-cell" }, h("input", { class: "input", name: `fees.${i}.basis`, value: f.basis, maxlength: 200, "aria-label": `收费 ${i + 1} 依据`, oninput: (ev) => { f.basis = ev.target.value; } })),
          h("td", {}, h("button", { class: "btn a-small", type: "button", "aria-label": `删除收费 ${i + 1}`, onclick: () => { state.fees = removeAt(state.fees, i); draw(); } }, "删除"))))))
        : h("div", { class: "a-hint" }, "不收费"),
      h("button", { class: "btn a-small", type: "button", onclick: () => {
        state.fees = [...state.fees, blankFee()];
        draw();
        el.querySelector(`[name="fees.${state.fees.length - 1}.name"]`).focus();
      } }, "添加收费"));
  };
  draw();
  return el;
}

async function edit(item) {
  const creating = item === null;
  const state = itemState(item || {});
  const saved = await formDialog({
    title: creating ? "新增事项" : `编辑事项 ${item.code}（当前 v${item.version}）`,
    id: "item-dialog",
    wide: true,
    submitLabel: creating ? "发布" : "发布新版本",
    build: () => {
      const promised = input("promised_limit", state.promised_limit, { type: "number", min: 0, max: 3650 });
      const kindRadios = h("fieldset", { class: "a-radios a-inline", "data-field": "kind" }, h("legend", {}, "办理类型"),
        Object.entries(KIND_LABEL).map(([value, label]) => h("label", { class: "a-check" },
          h("input", {
            type: "radio", name: "kind", value, checked: state.kind === value,
            onchange: () => { state.kind = value; promised.disabled = value === "immediate"; if (promised.disabled) promised.value = 0; },
          }), h("span", {}, label))));
      promised.disabled = state.kind === "immediate";
      const queueOptions = [["", "（不取号）"], ...ctx.queues.map((q) => [q.code, `${q.prefix} ${q.name}`])];
      return [
        h("div", { class: "a-grid-3" },
          creating
            ? field("事项编码", input("code", "", { required: true, maxlength: 40, placeholder: "如 amr-101" }), "字母、数字或 . _ -，发布后不能修改")
            : field("事项编码", h("div", { class: "a-static num" }, item.code)),
          field("事项名称", input("name", state.name, { required: true, maxlength: 200 })),
          field("类别", input("category", state.category, { maxlength: 40, placeholder: "如：许可、登记" }))),
        h("div", { class: "a-grid-3" },
          field("部门", select("department", departmentOptions("请选择部门"), state.department)),
          field("取号队列", select("queue", queueOptions, state.queue)),
          field("服务时长标准（分钟）", input("service_norm_minutes", state.service_norm_minutes, { type: "number", min: 1, max: 600, placeholder: "可不填" }))),
        kindRadios,
        h("div", { class: "a-grid-4" },
          field("时限单位", select("limit_unit", Object.entries(UNIT_LABEL), state.limit_unit)),
          field("法定时限", input("statutory_limit", state.statutory_limit, { type: "number", min: 0, max: 3650 })),
          field("承诺时限", promised, "即办件为 0"),
          field("急办时限", input("urgent_limit", state.urgent_limit, { type: "number", min: 0, max: 3650, placeholder: "无急办可不填" }), "绿色通道，须短于承诺时限")),
        h("div", { class: "a-grid-2" },
          checkbox("requires_signoff", "需带班领导在窗口签批", state.requires_signoff),
          checkbox("active", "启用（停用后取号机不再显示，已受理的办件不受影响）", state.active)),
        h("div", { class: "field" }, h("span", {}, "申请材料（一次性告知，按此顺序列出）"), materialsEditor(state)),
        h("div", { class: "field" }, h("span", {}, "收费（公示的收费目录）"), feesEditor(state)),
        creating ? null : h("details", { class: "a-history" }, h("summary", {}, "版本历史"), historyList(item)),
      ];
    },
    submit: async (form) => {
      const v = values(form);
      Object.assign(state, {
        name: v.name, category: v.category, department: v.department, queue: v.queue,
        limit_unit: v.limit_unit, statutory_limit: v.statutory_limit,
        promised_limit: state.kind === "immediate" ? 0 : v.promised_limit,
        urgent_limit: v.urgent_limit, service_norm_minutes: v.service_norm_minutes,
        requires_signoff: v.requires_signoff, active: v.active,
      });
      const code = creating ? v.code.trim() : item.code;
      if (!/^[A-Za-z0-9._-]{1,40}$/.test(code)) throw { field: "code", message: "事项编码应为 1–40 位字母、数字或 . _ -" };
      if (creating && items.some((i) => i.code === code)) throw { field: "code", message: `事项编码 ${code} 已存在，请在列表中编辑它` };
      if (!state.name.trim()) throw { field: "name", message: "请填写事项名称" };
      if (!state.department) throw { field: "department", message: "请选择部门" };
      const { body, error } = itemPayload(state);
      if (error) throw error;
      return api(`${base()}/items/${encodeURIComponent(code)}`, { method: "PUT", body });
    },
  });
  if (!saved) return;
  toast(`${saved.name} 已发布为 v${saved.version}`, "ok");
  await reload();
}

function historyList(item) {
  const box = h("div", { class: "a-versions" }, "正在读取…");
  api(`${base()}/items/${encodeURIComponent(item.code)}/versions`).then(({ versions }) => {
    fill(box, versions.length ? h("table", { class: "a-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "版本"), h("th", {}, "发布时间"), h("th", {}, "发布人"), h("th", {}, "改动"))),
      h("tbody", {}, versions.map((v, i) => h("tr", { dataset: { version: v.version } },
        h("td", { class: "num" }, `v${v.version}`),
        h("td", { class: "num" }, v.published_at ? formatDateTime(v.published_at) : "—"),
        h("td", {}, v.published_by || "—"),
        h("td", {}, i + 1 < versions.length || v.version === 1
          ? versionChanges(versions[i + 1] && versions[i + 1].definition, v.definition).join("、") || "无改动"
          : "最早记录的版本")))))
      : h("p", { class: "none" }, "尚无版本记录"));
  }).catch((err) => fill(box, h("div", { class: "alert" }, err.message)));
  return box;
}

function history(item) {
  infoDialog({ title: `${item.name}（${item.code}）的版本`, content: historyList(item), wide: true, id: "versions-dialog" });
}
