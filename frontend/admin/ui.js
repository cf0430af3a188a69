// The admin screen's dialogs and forms: a confirmation that says what will happen, a form in a
// dialog that shows the server's refusal next to the field it names, and the dialog that shows
// a one-time password or a device secret once.
//
// A modal dialog sits in the browser's top layer, above the toasts: inside a dialog every
// message is shown in the dialog itself.
import { $, fill, h, toast, toLogin } from "../shared/api.js";
import { fieldCandidates } from "./model.js";

/** An API failure outside a dialog: the server's Chinese message as a toast. */
export function failed(err) {
  if (err && err.status === 401) return toLogin();
  toast(err && err.message ? err.message : "操作失败", "error", 6000);
}

/** Resolves true when the admin confirms. `body` is a sentence (or nodes) saying exactly what
 * will happen. */
export function confirmAction(title, body, okLabel, { danger = true } = {}) {
  const dlg = $("#confirm");
  $("#confirm-title").textContent = title;
  fill($("#confirm-body"), ...(Array.isArray(body) ? body : [body]));
  const ok = $("#confirm-ok");
  ok.textContent = okLabel;
  ok.className = danger ? "btn danger" : "btn primary";
  dlg.returnValue = "";
  dlg.showModal();
  return new Promise((resolve) => dlg.addEventListener("close", () => resolve(dlg.returnValue === "ok"), { once: true }));
}

let fieldSeq = 0;

/** A labelled control with an optional hint; the hint describes the control (read after its
 * name) instead of being part of it, so "承诺时限" names one field only. */
export function field(label, control, hint) {
  const labelable = control.matches && control.matches("input, select, textarea");
  if (labelable && !control.id) control.id = `af-${++fieldSeq}`;
  const note = hint ? h("small", { class: "a-hint", id: `af-${++fieldSeq}` }, hint) : null;
  if (note && labelable) control.setAttribute("aria-describedby", note.id);
  return h("div", { class: "field" },
    labelable ? h("label", { for: control.id }, label) : h("span", {}, label), control, note);
}

export function input(name, value = "", attrs = {}) {
  return h("input", { class: "input", name, value: value ?? "", autocomplete: "off", ...attrs });
}

export function select(name, options, value, attrs = {}) {
  return h("select", { class: "input", name, ...attrs },
    options.map(([v, label]) => h("option", { value: v, selected: String(v) === String(value ?? "") }, label)));
}

export function checkbox(name, label, checked, attrs = {}) {
  return h("label", { class: "a-check" },
    h("input", { type: "checkbox", name, checked: !!checked, ...attrs }), h("span", {}, label));
}

/** Clears the messages a form shows. */
export function clearErrors(form) {
  for (const el of form.querySelectorAll(".a-field-err")) el.remove();
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  const general = form.querySelector(".a-form-error");
  if (general) { general.hidden = true; general.textContent = ""; }
}

/** Shows `message` next to the control named by `fieldName` (or its nearest named parent:
 * "materials.0.name", "materials.0", "materials"), else at the form's foot. */
export function showError(form, fieldName, message) {
  clearErrors(form);
  for (const name of fieldCandidates(fieldName)) {
    const el = form.querySelector(`[name="${CSS.escape(name)}"]`) || form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (!el) continue;
    el.setAttribute("aria-invalid", "true");
    const note = h("div", { class: "a-field-err", role: "alert" }, message);
    const holder = el.closest(".field, .a-cell, td") || el;
    holder.append(note);
    if (typeof el.focus === "function") el.focus();
    return;
  }
  const general = form.querySelector(".a-form-error");
  if (general) {
    general.textContent = message;
    general.hidden = false;
  } else {
    toast(message, "error", 6000);
  }
}

/**
 * A form in a modal dialog. `build(form)` returns its fields; `submit(form)` does the work and
 * resolves with a value (the dialog closes and `formDialog` resolves with it) or throws: an
 * ApiError (or {field, message}) is shown next to its field and the dialog stays open.
 * Resolves null when cancelled.
 */
export function formDialog({ title, build, submit, submitLabel = "保存", wide = false, id }) {
  const form = h("form", { class: "a-form", novalidate: true });
  const general = h("div", { class: "alert a-form-error", role: "alert", hidden: true });
  const ok = h("button", { class: "btn primary", type: "submit" }, submitLabel);
  const cancel = h("button", { class: "btn", type: "button" }, "取消");
  const body = h("div", { class: "modal-body" });
  fill(body, build(form));
  form.append(body, h("div", { class: "modal-foot" }, general, cancel, ok));
  const dlg = h("dialog", { class: `modal a-dialog${wide ? " wide" : ""}`, id, "aria-label": title },
    h("div", { class: "modal-head" }, title), form);
  document.body.append(dlg);
  return new Promise((resolve) => {
    let result = null;
    cancel.addEventListener("click", () => dlg.close());
    dlg.addEventListener("close", () => { dlg.remove(); resolve(result); });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      ok.disabled = true;
      try {
        result = await submit(form);
        if (result === undefined) result = true;
        dlg.close();
      } catch (err) {
        if (err && err.status === 401) { toLogin(); return; }
        showError(form, err && err.field, (err && err.message) || "操作失败");
      } finally {
        ok.disabled = false;
      }
    });
    dlg.showModal();
  });
}

/**
 * Shows secrets once: a new member's one-time password, a reset one, a device's secret.
 * `rows` are [label, secret]. The dialog says they are shown this once only.
 */
export function secretDialog({ title, lead, rows, note }) {
  const items = rows.map(([label, secret]) => h("div", { class: "a-secret-row" },
    h("span", { class: "a-secret-label" }, label),
    h("code", { class: "a-secret num" }, secret),
    h("button", {
      class: "btn a-small", type: "button",
      onclick: async (ev) => {
        try {
          await navigator.clipboard.writeText(secret);
          ev.target.textContent = "已复制";
        } catch { ev.target.textContent = "请手动抄写"; }
      },
    }, "复制")));
  const dlg = h("dialog", { class: "modal a-dialog", id: "secret-dialog", "aria-label": title },
    h("div", { class: "modal-head" }, title),
    h("div", { class: "modal-body" },
      lead ? h("p", { class: "a-lead" }, lead) : null,
      h("div", { class: "a-secrets" }, items),
      h("div", { class: "alert a-once" },
        "只显示这一次：关闭后无法再查看。", note || "")),
    h("form", { method: "dialog", class: "modal-foot" },
      h("button", { class: "btn primary", type: "submit" }, "我已记下，关闭")));
  document.body.append(dlg);
  return new Promise((resolve) => {
    dlg.addEventListener("close", () => { dlg.remove(); resolve(); });
    dlg.showModal();
  });
}

/** A plain modal for content (a list, a history) with a close button. */
export function infoDialog({ title, content, wide = false, id }) {
  const dlg = h("dialog", { class: `modal a-dialog${wide ? " wide" : ""}`, id, "aria-label": title },
    h("div", { class: "modal-head" }, title),
    h("div", { class: "modal-body" }, content),
    h("form", { method: "dialog", class: "modal-foot" },
      h("button", { class: "btn", type: "submit" }, "关闭")));
  document.body.append(dlg);
  dlg.addEventListener("close", () => dlg.remove());
  dlg.showModal();
  return dlg;
}

/** Form values by name (checkboxes as booleans). */
export function values(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    out[el.name] = el.type === "checkbox" ? el.checked : el.value;
  }
  return out;
}
