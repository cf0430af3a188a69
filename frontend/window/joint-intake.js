// 联办受理: the intake of a bundle (多证联办) or of a project's stage (一表通) at a window of the
// workflow's lead department (一审制: every material once). The workflows this department leads
// are offered (none: no button); a project is either new (its name and applicant: stage 1) or a
// later stage of an open one (its number typed, scanned or picked from the hall's projects whose
// stage is done), whose intake shows what is already in the project's material store and asks
// only for what is new. After acceptance the dialog says the case and project numbers, the stage
// and where each step went. Nothing here is redrawn by live events: typing is never interrupted.
// The request and the words are intake-model.js's (node-tested).
import { $, api, fill, h, hallDate } from "../shared/api.js";
import { enterSubmits, intakeMaterialRow } from "./case-forms.js";
import {
  acceptedView, intakeUrl, intakeView, IntakeError, jointBody, KIND_NAMES, leadWorkflows, projectLabel,
  projectNoOf, readyProjects,
} from "./intake-model.js";

const FIELD_INPUTS = {
  "applicant.name": "#joint-applicant", applicant: "#joint-applicant", name: "#joint-applicant",
  phone: "#joint-phone", "applicant.phone": "#joint-phone",
  id_number: "#joint-id", "applicant.id_number": "#joint-id",
  project: "#joint-project", project_name: "#joint-name", deficiency: "#joint-due",
  materials: "#joint-materials select",
};

/**
 * @param {{hall: () => {code}, department: () => {code}|null, departmentName: (code) => string,
 *          currentTicket: () => object|null, ticketTaken: (ticketId) => boolean,
 *          onDone: (result: object, ticket: object|null) => void, onAuthLost: () => void}} t
 */
export function createJointIntake(t) {
  const dialog = $("#joint-dialog");
  const form = $("#joint-form");
  const st = {
    flows: [],         // the workflows this department leads
    flow: null,        // the one being taken
    mode: "new",       // a project's: "new" | "later"
    intake: null,      // GET …/intake's answer for what is on screen
    rows: [],          // the materials' rows
    ticket: null,
    asked: 0,          // intake reads begun: a late answer to an older one is dropped
    busy: false,
    done: null,        // the accepted case: the dialog shows it until closed
  };
  const hallCode = () => t.hall().code;

  enterSubmits(form);
  $("#joint-cancel").addEventListener("click", () => dialog.close());
  $("#joint-flows").addEventListener("click", (ev) => {
    const b = ev.target.closest("button");
    if (b) chooseFlow(b.dataset.flow);
  });
  $("#joint-mode").addEventListener("click", (ev) => {
    const b = ev.target.closest("button");
    if (b) setMode(b.dataset.mode);
  });
  $("#joint-deficiency").addEventListener("change", () => {
    $("#joint-due").disabled = !$("#joint-deficiency").checked;
  });
  const projectInput = $("#joint-project");
  projectInput.dataset.enter = "own";   // Enter (a scanner's too) reads the project
  projectInput.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.isComposing) { ev.preventDefault(); readProject(); }
  });
  projectInput.addEventListener("change", readProject);
  form.addEventListener("submit", (ev) => { ev.preventDefault(); submit(); });
  form.addEventListener("input", (ev) => ev.target.removeAttribute && ev.target.removeAttribute("aria-invalid"));

  function error(message, fieldName) {
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    const box = $("#joint-error");
    box.textContent = message || "";
    box.hidden = !message;
    const input = fieldName && FIELD_INPUTS[fieldName] && $(FIELD_INPUTS[fieldName]);
    if (input && !input.closest("[hidden]")) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
    }
  }

  // ------------------------------------------------------------------ loading
  async function loadFlows() {
    let answer;
    try {
      answer = await api(`/api/halls/${encodeURIComponent(hallCode())}/workflows`);
    } catch (err) {
      if (err.status === 401) return t.onAuthLost();
      st.flows = [];
      return render();
    }
    const dept = t.department();
    st.flows = leadWorkflows(answer.workflows, dept && dept.code);
    render();
  }

  function render() {
    $("#joint-accept").hidden = st.flows.length === 0;
  }

  async function loadIntake(projectNo = null) {
    const flow = st.flow;
    const asked = ++st.asked;
    st.intake = null;
    showIntake();
    let intake;
    try {
      intake = await api(intakeUrl(hallCode(), flow.code, projectNo));
    } catch (err) {
      if (err.status === 401) return t.onAuthLost();
      if (asked === st.asked) error(err.message, err.field || (projectNo ? "project" : null));
      return;
    }
    if (asked !== st.asked || !dialog.open) return;   // another read (or close) meanwhile
    st.intake = intake;
    error("");
    showIntake();
  }

  async function loadProjects() {
    const asked = st.asked;
    let answer;
    try {
      answer = await api(`/api/halls/${encodeURIComponent(hallCode())}/projects?state=active`);
    } catch (err) {
      if (err.status === 401) return t.onAuthLost();
      return;   // the number can still be typed
    }
    if (asked !== st.asked || st.mode !== "later") return;
    const all = (answer.projects || []).filter((p) => p.workflow === st.flow.code);
    fill($("#joint-projects"), all.map((p) => h("option", { value: p.project_no }, projectLabel(p))));
    const ready = readyProjects(all, st.flow.code).slice(0, 8);
    fill($("#joint-ready"), ready.map((p) => h("li", {}, h("button", {
      type: "button", class: "btn j-pick", dataset: { project: p.project_no },
      onclick: () => { projectInput.value = p.project_no; readProject(); },
    }, projectLabel(p)))));
  }

  // ------------------------------------------------------------------ the form
  function chooseFlow(code) {
    st.flow = st.flows.find((f) => f.code === code) || st.flows[0];
    for (const b of $("#joint-flows").querySelectorAll("button")) {
      b.setAttribute("aria-checked", String(b.dataset.flow === st.flow.code));
    }
    $("#joint-mode").hidden = st.flow.kind !== "project";
    setMode("new");
  }

  function setMode(mode) {
    st.mode = st.flow.kind === "project" ? mode : "new";
    for (const b of $("#joint-mode").querySelectorAll("button")) {
      b.setAttribute("aria-checked", String(b.dataset.mode === st.mode));
    }
    const later = st.mode === "later";
    $("#joint-project-row").hidden = !later;
    error("");
    if (later) {
      projectInput.value = "";
      fill($("#joint-ready"));
      st.asked += 1;
      st.intake = null;
      showIntake();
      loadProjects();
      projectInput.focus();
    } else {
      loadIntake().then(() => {
        if (!dialog.open || st.mode !== "new") return;
        const first = st.flow.kind === "project" ? $("#joint-name") : $("#joint-applicant");
        if (!form.contains(document.activeElement) || document.activeElement.tagName === "BUTTON") first.focus();
      });
    }
  }

  function readProject() {
    const no = projectNoOf(projectInput.value);
    if (!no) return;
    projectInput.value = no;
    if (st.intake && st.intake.project && st.intake.project.project_no === no) return;
    loadIntake(no).then(() => {
      // the first material's mark is where the clerk goes on
      const first = $("#joint-materials select");
      if (st.intake && dialog.open) (first || $("#joint-submit")).focus();
    });
  }

  /** Shows what the intake answer asks for (or nothing while it is being read). */
  function showIntake() {
    const i = st.intake;
    const later = st.mode === "later";
    $("#joint-stage").hidden = !i;
    $("#joint-onfile").hidden = true;
    $("#joint-materials-row").hidden = !i;
    $("#joint-deficiency-row").hidden = true;
    $("#joint-name-row").hidden = !(st.flow && st.flow.kind === "project" && !later);
    $("#joint-applicant-row").hidden = later;
    $("#joint-applicant-known").hidden = true;
    $("#joint-applicant-label").textContent = st.flow && st.flow.kind === "project" ? "建设单位（申请人）" : "申请人（企业名称或姓名）";
    st.rows = [];
    fill($("#joint-materials"));
    if (!i) return;
    const v = intakeView(i);
    $("#joint-stage").textContent = v.stage;
    if (i.project) {
      $("#joint-applicant-known").hidden = false;
      $("#joint-applicant-known").textContent = `${i.project.project_no} ${i.project.name} · 申请人为项目建设单位（${i.project.applicant}），无需再填`;
    }
    $("#joint-onfile").hidden = !v.onFile.length;
    $("#joint-onfile-count").textContent = String(v.onFile.length);
    fill($("#joint-onfile-list"), v.onFile.map((n) => h("li", {}, n)));
    $("#joint-materials-label").textContent = later
      ? "本阶段需新交的材料（逐项：已交 / 缺少 / 有误）"
      : "材料核对（一审制：每份材料只收一次，逐项：已交 / 缺少 / 有误）";
    st.rows = v.materials.map((m) => intakeMaterialRow(m));
    fill($("#joint-materials"), st.rows.length ? st.rows.map((r) => r.node)
      : h("li", { class: "c-hint" }, "本阶段材料均已在项目材料库中，无需新交"));
    $("#joint-deficiency-row").hidden = !v.deferrable;
    if (!v.deferrable) $("#joint-deficiency").checked = false;
    $("#joint-due").disabled = !$("#joint-deficiency").checked;
  }

  /** Opens the dialog for the ticket being served (if not accepted yet). */
  function open() {
    if (!st.flows.length || dialog.open) return;
    st.done = null;
    st.busy = false;
    const ticket = t.currentTicket();
    st.ticket = ticket && !t.ticketTaken(ticket.id) ? ticket : null;
    form.reset();
    error("");
    $("#joint-entry").hidden = false;
    $("#joint-done").hidden = true;
    $("#joint-cancel").hidden = false;
    fill($("#joint-submit"), "确认联办受理", h("kbd", {}, "Enter"));
    $("#joint-submit").disabled = false;
    $("#joint-source").textContent = st.ticket ? `排队号 ${st.ticket.ticket_no}` : "无排队号";
    fill($("#joint-flows"), st.flows.map((f) => h("button", {
      type: "button", role: "radio", dataset: { flow: f.code }, "aria-checked": "false",
    }, f.name, h("small", { class: "j-kind" }, KIND_NAMES[f.kind] || f.kind))));
    dialog.showModal();
    chooseFlow(st.flows[0].code);
  }

  async function submit() {
    if (st.done) { dialog.close(); return; }
    if (st.busy) return;
    if (!st.intake) {
      return error(st.mode === "later" ? "请先填写项目编号并回车读取本阶段材料" : "正在读取材料清单，请稍候",
        st.mode === "later" ? "project" : null);
    }
    let body;
    try {
      body = jointBody({
        workflow: st.flow.code,
        kind: st.flow.kind,
        mode: st.mode,
        projectNo: st.intake.project ? st.intake.project.project_no : projectInput.value,
        projectName: $("#joint-name").value,
        applicant: { name: $("#joint-applicant").value, phone: $("#joint-phone").value, idNumber: $("#joint-id").value },
        ticketId: st.ticket && st.ticket.id,
        marked: st.rows.map((r) => r.read()),
        deficiency: { ticked: $("#joint-deficiency").checked, due: $("#joint-due").value, today: hallDate() },
      });
    } catch (err) {
      if (!(err instanceof IntakeError)) throw err;
      return error(err.message, err.field);
    }
    st.busy = true;
    $("#joint-submit").disabled = true;
    let result;
    try {
      result = await api(`/api/halls/${encodeURIComponent(hallCode())}/cases`, { method: "POST", body });
    } catch (err) {
      if (err.status === 401) return t.onAuthLost();
      error(err.message, err.field);
      return;
    } finally {
      st.busy = false;
      $("#joint-submit").disabled = false;
    }
    let steps = [];
    try {
      steps = (await api(`/api/cases/${result.case_id}/steps`)).steps || [];
    } catch { /* the numbers are what matters; the panel shows the case */ }
    st.done = result;
    showDone(result, steps);
    t.onDone(result, st.ticket);
  }

  function showDone(result, steps) {
    const v = acceptedView(result, st.intake, steps, t.departmentName);
    error("");
    $("#joint-entry").hidden = true;
    $("#joint-cancel").hidden = true;
    fill($("#joint-done"),
      h("h3", {}, v.title),
      v.lines.map((line) => h("p", { class: "j-line num" }, line)),
      h("p", { class: "c-hint" }, "各环节已推送至相关部门的窗口终端（联办待办），群众无需到各窗口递交："),
      h("ul", { class: "j-steps" }, v.steps.map((s) => h("li", {},
        h("b", {}, s.name), ` · ${s.department} · `, h("span", {}, s.text)))));
    $("#joint-done").hidden = false;
    fill($("#joint-submit"), "完成", h("kbd", {}, "Enter"));
    $("#joint-submit").focus();
  }

  // Shift+F8 opens it (F8 is the ordinary 受理)
  document.addEventListener("keydown", (ev) => {
    if (ev.key !== "F8" || !ev.shiftKey || document.querySelector("dialog[open]")) return;
    if ($("#joint-accept").hidden || $("#terminal").hidden) return;
    ev.preventDefault();
    open();
  });
  $("#joint-accept").addEventListener("click", open);

  return {
    /** The terminal is shown at a window: which workflows it leads. */
    show() { loadFlows(); },
    hide() {
      st.flows = [];
      render();
      if (dialog.open) dialog.close();
    },
    open,
    get isOpen() { return dialog.open; },
  };
}
