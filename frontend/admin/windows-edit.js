// Adding a window and configuring one: number, name, department, zone, the queues it serves
// in their order (queues in one position are served together) and its priority rule. The
// table follows from the `window.configured` event, not from this answer.
import { api, h } from "../shared/api.js";
import { base, ctx, departmentOptions, queueNames } from "./context.js";
import {
  addQueue, detachQueue, joinPrevious, movePosition, nextWindowNo, orderText, removeQueue,
} from "./model.js";
import { confirmAction, field, formDialog, input, select, values } from "./ui.js";

export const RULE_LABEL = {
  priority_first: "优先办理：老年人、残疾人等优先号先叫，再叫普通号",
  priority_only: "仅办理优先（爱心窗口）：只叫优先号",
};

/** The queue-order editor: returns {el, get()}; `order` is the API's [["a"], ["b", "c"]]. */
function orderEditor(initial, departmentOf) {
  let order = initial.map((g) => [...g]);
  const names = queueNames();
  const el = h("div", { class: "a-order", "data-field": "queues" });
  const draw = () => {
    const used = new Set(order.flat());
    const dept = departmentOf();
    const rest = ctx.queues.filter((q) => !used.has(q.code))
      .sort((a, b) => Number(b.department_code === dept) - Number(a.department_code === dept)
        || a.prefix.localeCompare(b.prefix));
    const picker = h("select", { class: "input a-order-pick", "aria-label": "选择要添加的队列" },
      h("option", { value: "" }, rest.length ? "选择队列…" : "（所有队列都已添加）"),
      rest.map((q) => h("option", { value: q.code }, `${q.prefix} ${q.name}${q.department_code === dept ? "（本部门）" : ""}`)));
    const rows = order.map((group, i) => h("li", { class: "a-order-pos", dataset: { position: i + 1 } },
      h("span", { class: "a-order-no" }, `第 ${i + 1} 位`),
      h("span", { class: "a-order-chips" }, group.map((code) => h("span", { class: "a-chip", dataset: { queue: code } },
        names.get(code) || code,
        group.length > 1 ? h("button", {
          type: "button", class: "a-chip-btn", title: "移出，单独排一位",
          "aria-label": `${names.get(code) || code} 单独排一位`,
          onclick: () => { order = detachQueue(order, code); draw(); },
        }, "单列") : null,
        h("button", {
          type: "button", class: "a-chip-btn", "aria-label": `移除 ${names.get(code) || code}`,
          onclick: () => { order = removeQueue(order, code); draw(); },
        }, "×")))),
      h("span", { class: "a-order-acts" },
        h("button", { type: "button", class: "btn a-small", disabled: i === 0, "aria-label": `第 ${i + 1} 位上移`,
          onclick: () => { order = movePosition(order, i, -1); draw(); } }, "上移"),
        h("button", { type: "button", class: "btn a-small", disabled: i === order.length - 1, "aria-label": `第 ${i + 1} 位下移`,
          onclick: () => { order = movePosition(order, i, 1); draw(); } }, "下移"),
        h("button", { type: "button", class: "btn a-small", disabled: i === 0,
          title: "与上一位合并：这些队列按取号先后一起叫",
          onclick: () => { order = joinPrevious(order, i); draw(); } }, "与上一位同位"))));
    el.replaceChildren(
      order.length ? h("ol", { class: "a-order-list" }, rows) : h("div", { class: "a-hint" }, "尚未选择队列：窗口将无号可叫"),
      h("div", { class: "a-order-add" }, picker,
        h("button", { type: "button", class: "btn a-small", onclick: () => {
          if (!picker.value) return;
          order = addQueue(order, picker.value);
          draw();
        } }, "添加队列")),
      h("small", { class: "a-hint" }, "叫号时先叫第 1 位的队列，没有等候的再叫下一位；同一位的几个队列按取号先后叫。"));
  };
  draw();
  return { el, get: () => order.map((g) => [...g]), redraw: draw };
}

/**
 * Opens the editor of window `windowNo` (null: a new window, in `department` when given).
 * Resolves with the message to show when saved, else null.
 */
export async function editWindow(windowNo, { department, liveWindow, windowNos }) {
  let current = null;
  if (windowNo !== null) {
    const { windows } = await api(`${base()}/admin/windows`);
    current = windows.find((w) => w.window_no === windowNo);
    if (!current) throw new Error(`window ${windowNo} not listed`);
  }
  const creating = current === null;
  const dept = current ? current.department : (department || "");
  const initialOrder = current ? current.queues
    : ctx.queues.filter((q) => dept && q.department_code === dept).map((q) => [q.code]);
  let editor;
  return formDialog({
    title: creating ? "新增窗口" : `编辑 ${windowNo} 号窗口`,
    id: "window-dialog",
    wide: true,
    submitLabel: creating ? "添加窗口" : "保存",
    build: () => {
      const deptSelect = select("department", departmentOptions("请选择部门"), dept, { required: true });
      editor = orderEditor(initialOrder, () => deptSelect.value);
      deptSelect.addEventListener("change", () => {
        // a new window serves its department's queues unless the admin chose others
        if (creating && editor.get().length === 0) {
          const fresh = ctx.queues.filter((q) => q.department_code === deptSelect.value).map((q) => [q.code]);
          editor = orderEditorReplace(editor, fresh, () => deptSelect.value);
        } else {
          editor.redraw();
        }
      });
      const rule = current ? current.priority_rule : "priority_first";
      return [
        h("div", { class: "a-grid-3" },
          creating
            ? field("窗口号", input("window_no", nextWindowNo(windowNos), { type: "number", min: 1, max: 999, required: true }))
            : field("窗口号", h("div", { class: "a-static num" }, windowNo)),
          field("名称", input("name", current ? current.name : "", { maxlength: 40, required: true, placeholder: "如：综合受理 131" })),
          field("区域", input("zone", current ? current.zone : "", { maxlength: 20, placeholder: "如：一楼A区" }))),
        field("部门", deptSelect),
        h("div", { class: "field" }, h("span", {}, "服务队列（按叫号顺序）"), editor.el),
        h("fieldset", { class: "a-radios", "data-field": "priority_rule" },
          h("legend", {}, "优先规则"),
          Object.entries(RULE_LABEL).map(([value, label]) => h("label", { class: "a-check" },
            h("input", { type: "radio", name: "priority_rule", value, checked: value === rule }), h("span", {}, label)))),
        liveWindow && liveWindow.clerk
          ? h("div", { class: "alert info" }, `${liveWindow.clerk.name} 正在此窗口签到。改变部门会让其签退、窗口关闭；其他修改在下一次叫号时生效。`)
          : null,
      ];
    },
    submit: async (form) => {
      const v = values(form);
      const body = {
        name: v.name.trim(), department: v.department, zone: v.zone.trim(),
        queues: editor.get(), priority_rule: form.querySelector("[name=priority_rule]:checked").value,
      };
      if (!body.name) throw { field: "name", message: "请填写窗口名称" };
      if (!body.department) throw { field: "department", message: "请选择部门" };
      if (!body.queues.length) throw { field: "queues", message: "请至少添加一个服务队列" };
      if (creating) {
        const no = Number(v.window_no);
        if (!Number.isInteger(no) || no < 1 || no > 999) throw { field: "window_no", message: "窗口号应为 1–999 的整数" };
        await api(`${base()}/windows`, { method: "POST", body: { window_no: no, ...body } });
        return `${no} 号窗口已添加（${orderText(body.queues, queueNames())}）`;
      }
      if (liveWindow && liveWindow.clerk && body.department !== current.department) {
        const ok = await confirmAction(`将 ${windowNo} 号窗口改到其他部门`,
          `${liveWindow.clerk.name} 属于原部门，保存后立即从 ${windowNo} 号窗口签退，窗口关闭。`, "保存并签退");
        if (!ok) throw { message: "已取消，未保存" };
      }
      await api(`${base()}/windows/${windowNo}`, { method: "PUT", body });
      return `${windowNo} 号窗口已保存，下一次叫号起生效`;
    },
  });
}

function orderEditorReplace(old, order, departmentOf) {
  const fresh = orderEditor(order, departmentOf);
  old.el.replaceWith(fresh.el);
  return fresh;
}
