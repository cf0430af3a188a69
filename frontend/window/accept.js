// 受理: the acceptance dialog of the window terminal. From the ticket being served (its
// registration's item by default) or from a registration barcode scanned into the dialog; the
// applicant (the serving clerk keys in and sees them in full), the item's materials each marked
// submitted / missing / faulty with the problem, 急办 when the item has an urgent limit, 容缺
// (commitment signed + due date), or 不予受理 with a reason.
import { $, api, fill, h, hallDate, limitText } from "../shared/api.js";
import { enterSubmits, intakeMaterialRow } from "./case-forms.js";
import { applicantOf, deficiencyOf, IntakeError, materialsOf } from "./intake-model.js";

const FIELD_INPUTS = {
  "applicant.name": "#accept-name", name: "#accept-name", applicant: "#accept-name",
  phone: "#accept-phone", "applicant.phone": "#accept-phone",
  id_number: "#accept-id", "applicant.id_number": "#accept-id",
  item: "#accept-item", reg_no: "#accept-reg", deficiency: "#accept-due", reason: "#accept-reason",
};

/**
 * @param {{base: () => string, items: () => Array, itemDetail: (code: string) => Promise<object>,
 *          onDone: (result: object, refused: boolean) => void, onAuthLost: () => void}} deps
 */
export function createAcceptDialog({ base, items, itemDetail, onDone, onAuthLost }) {
  const dialog = $("#accept-dialog");
  const form = $("#accept-form");
  const st = { ticket: null, regNo: null, item: null, refuse: false, rows: [], busy: false };

  enterSubmits(form);
  $("#accept-cancel").addEventListener("click", () => dialog.close());
  $("#accept-item").addEventListener("change", () => loadItem($("#accept-item").value));
  $("#accept-mode").addEventListener("click", (ev) => {
    const b = ev.target.closest("button");
    if (b) setMode(b.dataset.mode === "refuse");
  });
  $("#accept-deficiency").addEventListener("change", syncDeficiency);
  form.addEventListener("keydown", (ev) => {
    if (ev.altKey && ev.code === "KeyN") { ev.preventDefault(); setMode(!st.refuse); }
  });
  // a scanner ends the barcode with Enter: look the registration up instead of submitting
  const reg = $("#accept-reg");
  reg.dataset.enter = "own";
  reg.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") { ev.preventDefault(); lookUp(); }
  });
  reg.addEventListener("change", lookUp);
  form.addEventListener("submit", (ev) => { ev.preventDefault(); submit(); });

  function error(message, fieldName) {
    const box = $("#accept-error");
    box.textContent = message || "";
    box.hidden = !message;
    const input = fieldName && FIELD_INPUTS[fieldName];
    if (input && !$(input).closest("[hidden]")) $(input).focus();
  }

  function setMode(refuse) {
    st.refuse = refuse;
    for (const b of $("#accept-mode").querySelectorAll("button")) {
      b.setAttribute("aria-checked", String((b.dataset.mode === "refuse") === refuse));
    }
    $("#accept-accept-part").hidden = refuse;
    $("#accept-refuse-part").hidden = !refuse;
    $("#accept-submit").textContent = "";
    $("#accept-submit").append(refuse ? "确认不予受理" : "确认受理", h("kbd", {}, "Enter"));
    $("#accept-submit").className = `btn ${refuse ? "warn" : "primary"}`;
    if (refuse) $("#accept-reason").focus();
  }

  function syncDeficiency() {
    $("#accept-due").disabled = !$("#accept-deficiency").checked;
  }

  /** Opens the dialog for the ticket being served ({id, ticket_no, item}) or a registration. */
  async function open({ ticket = null, regNo = null, itemCode = null, received = null } = {}) {
    st.ticket = ticket;
    st.regNo = regNo;
    st.received = received;
    error("");
    form.reset();
    setMode(false);
    const mine = items();
    fill($("#accept-item"), mine.map((i) => h("option", { value: i.code }, `${i.name}（${i.code}）`)));
    $("#accept-source").textContent = ticket ? `排队号 ${ticket.ticket_no}` : regNo ? `登记号 ${regNo}` : "无排队号";
    $("#accept-reg-row").hidden = !!ticket;
    reg.value = regNo || "";
    const code = itemCode || (mine[0] && mine[0].code);
    if (code) $("#accept-item").value = code;
    syncDeficiency();
    dialog.showModal();
    (ticket || regNo ? $("#accept-name") : reg).focus();
    if (code) await loadItem(code);
  }

  async function lookUp() {
    const regNo = reg.value.trim().toUpperCase();
    if (!regNo || regNo === st.regNo) return;
    try {
      const r = await api(`${base()}/registrations/${encodeURIComponent(regNo)}`);
      st.regNo = r.reg_no;
      $("#accept-source").textContent = `登记号 ${r.reg_no}`;
      if (items().some((i) => i.code === r.item.code)) {
        $("#accept-item").value = r.item.code;
        await loadItem(r.item.code);
      }
      error("");
      $("#accept-name").focus();
    } catch (err) {
      if (err.status === 401) return onAuthLost();
      st.regNo = null;
      error(err.message, "reg_no");
    }
  }

  async function loadItem(code) {
    let item;
    try {
      item = await itemDetail(code);
    } catch (err) {
      if (err.status === 401) return onAuthLost();
      error(err.message, "item");
      return;
    }
    if ($("#accept-item").value !== code) return;   // changed meanwhile
    st.item = item;
    $("#accept-limit").textContent = `${limitText(item.kind, item.promised_limit, item.limit_unit)}`
      + (item.requires_signoff ? " · 须领导签批" : "");
    const urgent = item.kind !== "immediate" && item.urgent_limit !== null && item.urgent_limit !== undefined;
    $("#accept-urgent-row").hidden = !urgent;
    $("#accept-urgent-text").textContent = urgent
      ? `急办（绿色通道）：${limitText(item.kind, item.urgent_limit, item.limit_unit)}` : "";
    if (!urgent) $("#accept-urgent").checked = false;
    $("#accept-deficiency-row").hidden = item.kind !== "promised";
    if (item.kind !== "promised") $("#accept-deficiency").checked = false;
    syncDeficiency();
    // what the clerk ticked on the ticket's checklist counts as handed in; untouched: all in
    const ticked = st.received && st.received.size ? st.received : null;
    st.rows = item.materials.map((m) => intakeMaterialRow(m, ticked && !ticked.has(m.position) ? "missing" : "submitted"));
    fill($("#accept-materials"), st.rows.length ? st.rows.map((r) => r.node) : h("li", { class: "c-hint" }, "本事项无需提交材料"));
  }

  function applicant() {
    try {
      return applicantOf({ name: $("#accept-name").value, phone: $("#accept-phone").value,
        idNumber: $("#accept-id").value });
    } catch (err) {
      if (!(err instanceof IntakeError)) throw err;
      return error(err.message, err.field);
    }
  }

  async function submit() {
    if (st.busy) return;
    const who = applicant();
    if (!who) return;
    const body = { item: $("#accept-item").value, applicant: who };
    if (st.ticket) body.ticket_id = st.ticket.id;
    else if (st.regNo) body.reg_no = st.regNo;
    let path = `${base()}/cases`;
    if (st.refuse) {
      body.reason = $("#accept-reason").value.trim();
      if (!body.reason) return error("请填写不予受理的理由", "reason");
      path = `${base()}/cases/not-accepted`;
    } else {
      body.urgent = $("#accept-urgent").checked;
      body.materials = materialsOf(st.rows.map((r) => r.read()));
      try {
        const deficiency = deficiencyOf($("#accept-deficiency").checked, $("#accept-due").value, hallDate());
        if (deficiency) body.deficiency = deficiency;
      } catch (err) {
        if (!(err instanceof IntakeError)) throw err;
        return error(err.message, err.field);
      }
    }
    st.busy = true;
    $("#accept-submit").disabled = true;
    try {
      const result = await api(path, { method: "POST", body });
      dialog.close();
      onDone(result, st.refuse);
    } catch (err) {
      if (err.status === 401) return onAuthLost();
      error(err.message, err.field);
    } finally {
      st.busy = false;
      $("#accept-submit").disabled = false;
    }
  }

  return { open, get isOpen() { return dialog.open; } };
}
