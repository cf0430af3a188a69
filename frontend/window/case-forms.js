// The forms of the case panel's actions (one dialog, filled per action): what each asks for and
// which request it makes. Keyboard: the first field has the focus, Enter confirms (Ctrl+Enter
// in a text area), Esc cancels (the native <dialog>).
import { h } from "../shared/api.js";
import { MATERIAL_STATUS_NAMES, openSupplement, outstanding, SPECIAL_PROCEDURES, yuan } from "./case-model.js";
import { UNIT_NAMES } from "./clock.js";

/** Enter submits the dialog's form from any field but a button or (without Ctrl) a text area. */
export function enterSubmits(form) {
  form.addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter" || ev.isComposing) return;
    const t = ev.target;
    if (t.tagName === "BUTTON" || t.tagName === "A") return;   // Enter presses the button itself
    if (t.tagName === "TEXTAREA" && !ev.ctrlKey) return;
    if (t.dataset && t.dataset.enter === "own") return;       // a field that handles Enter itself
    ev.preventDefault();
    form.requestSubmit();
  });
}

const field = (label, control, hint) => h("label", { class: "field" }, h("span", {}, label), control,
  hint ? h("small", { class: "c-hint" }, hint) : null);

function reasonField(label, placeholder, required = true) {
  const el = h("textarea", { class: "input", name: "reason", maxlength: 500, placeholder, required });
  return { el, node: field(label, el) };
}

const text = (el) => el.value.trim();

function need(value, message) {
  if (!value) throw new FormError(message);
  return value;
}

export class FormError extends Error {}

const statusSelect = (value, allowed = ["submitted", "missing", "faulty"]) => h("select", { class: "input c-mat-status" },
  allowed.map((s) => h("option", { value: s, selected: s === value }, MATERIAL_STATUS_NAMES[s])));

/** Rows of materials, each with a status and a problem note: [{node, read()}]. */
function materialRows(materials, { pick = false, allowed, initial }) {
  return materials.map((m) => {
    const start = initial(m);
    const tick = pick ? h("input", { type: "checkbox", class: "c-pick", checked: start.picked, "aria-label": `补正 ${m.name}` }) : null;
    const status = statusSelect(start.status, allowed);
    const problem = h("input", { class: "input c-mat-problem", maxlength: 200, value: start.problem || "",
      placeholder: "问题说明（如：缺少签字页、复印件不清晰）", "aria-label": `${m.name} 问题说明` });
    const sync = () => {
      const off = (pick && !tick.checked) || status.value === "submitted";
      problem.disabled = off;
      status.disabled = pick && !tick.checked;
    };
    status.addEventListener("change", sync);
    if (tick) tick.addEventListener("change", sync);
    sync();
    const node = h("li", { class: `c-mat-row${pick ? " pick" : ""}`, dataset: { position: m.position } },
      tick, h("span", { class: "c-mat-name" }, `${m.position}. ${m.name}`,
        m.is_key ? h("b", { class: "key" }, "必备") : null),
      status, problem);
    return {
      node,
      read: () => ({ picked: !tick || tick.checked, position: m.position, status: status.value, problem: text(problem) }),
    };
  });
}

/**
 * One material of an intake list (受理, 联办受理), marked 已交 / 缺少 / 有误 with the problem:
 * {position, read(): {position, status, problem}, node}. Key materials say 必备, the others
 * 可容缺; `status` is where its select starts.
 */
export function intakeMaterialRow(m, status = "submitted") {
  const select = statusSelect(status);
  select.setAttribute("aria-label", `${m.name} 状态`);
  const problem = h("input", { class: "input c-mat-problem", maxlength: 200, placeholder: "问题说明",
    "aria-label": `${m.name} 问题说明` });
  const sync = () => { problem.disabled = select.value === "submitted"; };
  select.addEventListener("change", sync);
  sync();
  return {
    position: m.position,
    read: () => ({ position: m.position, status: select.value, problem: problem.value }),
    node: h("li", { class: "c-mat-row", dataset: { position: m.position } },
      h("span", { class: "c-mat-name" }, `${m.position}. ${m.name}`, m.copies > 1 ? `（${m.copies}份）` : "",
        m.is_key ? h("b", { class: "key" }, "必备") : h("b", { class: "key soft" }, "可容缺"),
        m.note ? h("small", {}, m.note) : null),
      select, problem),
  };
}

/**
 * The form of action `id` on case `c`: {title, body: Node[], submit: label, request(): {method,
 * path, body} (throws FormError with the message to show)}. `ctx`: {hall, item (the case's
 * item detail: fees), role}.
 */
export function buildForm(id, c, ctx) {
  const casePath = (verb) => `/api/cases/${c.case_id}/${verb}`;
  const post = (verb, body) => ({ method: "POST", path: casePath(verb), body });
  switch (id) {
    case "approve":
      return { title: "审核通过", submit: "确认通过",
        body: [h("p", { class: "c-confirm" }, `确认 ${c.case_no} 审核通过（准予许可）？`)],
        request: () => post("decision", { decision: "approve" }) };
    case "complete":
      return { title: "办结", submit: "确认办结",
        body: [h("p", { class: "c-confirm" }, `确认 ${c.case_no} 办结？办结后停止计时，并短信通知申请人领取。`)],
        request: () => post("complete") };
    case "deliver":
      return { title: "领取", submit: "确认已领取",
        body: [h("p", { class: "c-confirm" }, `确认申请人已领取 ${c.case_no} 的办理结果？`)],
        request: () => post("deliver") };
    case "refuse": {
      const r = reasonField("不予许可的理由（将告知申请人）", "例如：不符合《……》第 X 条规定的条件");
      return { title: "不予许可", submit: "确认不予许可", body: [r.node],
        request: () => post("decision", { decision: "refuse", reason: need(text(r.el), "请填写不予许可的理由") }) };
    }
    case "withdraw": {
      const r = reasonField("撤回原因", "例如：申请人书面申请撤回");
      return { title: "撤回申请", submit: "确认撤回", body: [r.node],
        request: () => post("withdraw", { reason: need(text(r.el), "请填写撤回的原因") }) };
    }
    case "not_accept": {
      const r = reasonField("不予受理的理由（将告知申请人）", "例如：申请事项不属于本机关职权范围");
      return { title: "不予受理", submit: "确认不予受理", body: [r.node],
        request: () => ({ method: "POST", path: `/api/halls/${encodeURIComponent(ctx.hall)}/cases/not-accepted`,
          body: { case_id: c.case_id, reason: need(text(r.el), "请填写不予受理的理由") } }) };
    }
    case "escalate": {
      const r = reasonField("报批说明（上报机关、事由）", "例如：需报省局审批");
      return { title: "报批（暂停计时）", submit: "确认报批", body: [r.node],
        request: () => post("escalate", { reason: need(text(r.el), "请填写报批的事由") }) };
    }
    case "pause": {
      const kind = h("select", { class: "input", name: "kind" },
        Object.entries(SPECIAL_PROCEDURES).map(([k, v]) => h("option", { value: k }, v)));
      const r = reasonField("事由", "例如：委托检验机构检测样品");
      return { title: "特别程序（暂停计时，不计入时限）", submit: "确认暂停计时",
        body: [field("程序", kind), r.node],
        request: () => post("pause", { kind: kind.value, reason: need(text(r.el), "请填写特别程序的事由") }) };
    }
    case "signoff_request": {
      const note = h("textarea", { class: "input", maxlength: 500, placeholder: "例如：材料齐全，经审查符合条件，请签批" });
      return { title: "提交领导签批", submit: "提交签批", body: [field("签批说明", note)],
        request: () => post("signoff-request", { purpose: "decision", note: text(note) }) };
    }
    case "extension": {
      const unit = UNIT_NAMES[c.limit?.unit || c.clock?.unit] || "个工作日";
      const amount = h("input", { class: "input num", type: "number", min: 1, max: 10, value: 5, required: true });
      const note = h("textarea", { class: "input", maxlength: 500, placeholder: "延期理由（《行政许可法》第四十二条）", required: true });
      return { title: "申请延期（须领导批准）", submit: "提交延期申请",
        body: [field(`延长${unit}（1–10）`, amount), field("延期理由", note)],
        request: () => {
          const n = Number(amount.value);
          if (!Number.isInteger(n) || n < 1 || n > 10) throw new FormError("延期应为 1 到 10 个时限单位");
          return post("signoff-request", { purpose: "extension", extension: n, note: need(text(note), "请填写延期理由") });
        } };
    }
    case "supplement": {
      // 一次性告知: every material still missing or faulty is on the one notice
      const rows = materialRows((c.materials || []).filter((m) => m.status !== "supplemented"), {
        pick: true, allowed: ["missing", "faulty"],
        initial: (m) => ({ picked: (m.status === "missing" || m.status === "faulty") && !m.deferred,
          status: m.status === "faulty" ? "faulty" : "missing", problem: m.problem }),
      });
      return { title: "补正告知（一次性告知，补齐前暂停计时）", submit: "发出补正告知",
        body: [h("p", { class: "c-hint" }, "勾选需补正的材料，逐项写明问题；发出后打印一次性告知书交申请人。"),
          h("ul", { class: "c-mats" }, rows.map((r) => r.node))],
        request: () => {
          const picked = rows.map((r) => r.read()).filter((m) => m.picked);
          if (!picked.length) throw new FormError("请至少勾选一项需补正的材料");
          return post("supplement", { materials: picked.map(({ position, status, problem }) => ({ position, status, problem })) });
        } };
    }
    case "receive": {
      const open = openSupplement(c);
      const items = outstanding(c).map((m) => {
        const tick = h("input", { type: "checkbox", checked: true, "aria-label": m.name });
        return { m, tick, node: h("li", { class: "c-mat-row line" }, h("label", { class: "c-check" }, tick,
          h("span", {}, m.name, m.deferred ? h("b", { class: "key" }, "容缺") : null,
            m.problem ? h("small", {}, `（${m.problem}）`) : null))) };
      });
      return { title: "材料已补交", submit: "确认已收到",
        body: [h("p", { class: "c-hint" }, open ? "补齐补正告知所列材料后，办理时限自动恢复计时。" : "勾选申请人本次交来的材料。"),
          h("ul", { class: "c-mats" }, items.map((i) => i.node))],
        request: () => {
          const positions = items.filter((i) => i.tick.checked).map((i) => i.m.position);
          if (!positions.length) throw new FormError("请勾选收到的材料");
          return post("supplement/received", { positions });
        } };
    }
    case "materials": {
      const rows = materialRows((c.materials || []).filter((m) => m.status !== "supplemented"), {
        initial: (m) => ({ status: m.status, problem: m.problem }),
      });
      return { title: "材料核对", submit: "保存核对结果",
        body: [h("ul", { class: "c-mats" }, rows.map((r) => r.node))],
        request: () => ({ method: "PUT", path: casePath("materials"),
          body: { materials: rows.map((r) => r.read()).map(({ position, status, problem }) => ({ position, status, problem })) } }) };
    }
    case "fee": {
      const fees = (ctx.item && ctx.item.fees) || [];
      if (!fees.length) {
        return { title: "收费", submit: null, body: [h("p", { class: "c-confirm" }, "本事项没有公示的收费项目，不能收费。")],
          request: () => { throw new FormError("本事项没有公示的收费项目"); } };
      }
      const pick = h("select", { class: "input" }, fees.map((f) => h("option", { value: f.id }, `${f.name}（${yuan(f.amount_cents)}）`)));
      const amount = h("input", { class: "input num", inputmode: "decimal", value: (fees[0].amount_cents / 100).toFixed(2) });
      pick.addEventListener("change", () => {
        const f = fees.find((x) => String(x.id) === pick.value);
        if (f) amount.value = (f.amount_cents / 100).toFixed(2);
      });
      const receipt = h("input", { class: "input num", maxlength: 40, placeholder: "票据号" });
      return { title: "收费（仅限公示收费项目）", submit: "确认收费",
        body: [field("收费项目", pick), field("金额（元，不得超过公示标准）", amount), field("票据号", receipt)],
        request: () => {
          const cents = Math.round(Number(amount.value) * 100);
          if (!Number.isFinite(cents) || cents < 1) throw new FormError("请填写正确的金额");
          return post("fees", { fee_id: Number(pick.value), amount_cents: cents, receipt_no: need(text(receipt), "请填写票据号") });
        } };
    }
    case "signoff": {
      const request = (c.signoffs || []).find((s) => !s.decision) || {};
      let decision = ctx.decision === "reject" ? "reject" : "approve";
      const seg = h("div", { class: "w-seg", role: "radiogroup", "aria-label": "签批意见" });
      const choose = (d) => {
        decision = d;
        for (const b of seg.querySelectorAll("button")) b.setAttribute("aria-checked", String(b.dataset.decision === d));
      };
      for (const [d, label] of [["approve", "同意"], ["reject", "不同意"]]) {
        seg.append(h("button", { type: "button", role: "radio", dataset: { decision: d }, onclick: () => choose(d) }, label));
      }
      choose(decision);
      const comment = h("textarea", { class: "input", maxlength: 500, placeholder: "签批意见（不同意时必填）" });
      const what = request.purpose === "extension"
        ? `延期 ${request.extension} ${UNIT_NAMES[c.limit?.unit] || ""}` : "审批决定";
      return { title: `签批 ${c.case_no}`, submit: "提交签批意见",
        body: [h("p", { class: "c-confirm" }, `${c.item_name} · ${what}`,
          request.note ? h("small", {}, `  申请说明：${request.note}`) : null,
          request.requested_by ? h("small", {}, `  （${request.requested_by}，${request.window_no} 号窗口）`) : null),
        field("意见", seg), field("签批意见", comment)],
        keys: { y: () => choose("approve"), n: () => choose("reject") },
        request: () => {
          const body = { decision, comment: text(comment) };
          if (decision === "reject" && !body.comment) throw new FormError("不同意时请填写意见");
          return post("signoff", body);
        } };
    }
    default:
      return null;
  }
}
