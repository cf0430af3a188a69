// A case's notices, printed at the window on the 80 mm receipt printer (default) or on A4
// (&paper=a4): /static/notice/case.html?case=<id>
//   (default)        受理回执 — the case number, the deadline, what was handed in and what is
//                    missing, the fees, the QR code to /track (不予受理告知书 when not accepted)
//   &doc=supplement  一次性告知书 — the case's open supplement notice (or &notice=<id>)
// For staff (the case's department): the window terminal opens it with &print=1.
// window.noticeReady resolves once the sheet is in place.
import { $, api, fill, formatDateTime, h, limitText, param } from "../shared/api.js";

const caseId = Number(param("case"));
const doc = param("doc") === "supplement" ? "supplement" : "acceptance";
const paper = param("paper") === "a4" ? "a4" : "receipt";

let markReady;
window.noticeReady = new Promise((resolve) => { markReady = resolve; });

document.body.className = `paper-${paper}`;
$("#page-rule").textContent = paper === "a4"
  ? "@page { size: A4; margin: 14mm 16mm; }"
  : "@page { size: 80mm auto; margin: 0; }";
for (const p of ["receipt", "a4"]) {
  const link = $(`#paper-${p}`);
  const url = new URL(location.href);
  url.searchParams.set("paper", p);
  url.searchParams.delete("print");
  link.href = url.pathname + url.search;
  link.classList.toggle("primary", p === paper);
}
$("#print").addEventListener("click", () => window.print());

const KIND = { immediate: "即办件", promised: "承诺件", urgent: "急办件（绿色通道）", escalated: "上报件" };
const STATUS = { missing: "缺少", faulty: "有误" };
const UNITS = { working_day: "个工作日", working_hour: "个工作小时", calendar_day: "天" };
const ALLOWED_SVG = new Set(["svg", "path", "rect", "g"]);

const maskPhone = (v) => (v && v.length === 11 ? `${v.slice(0, 3)}****${v.slice(-4)}` : v ? "***" : "");
const maskId = (v) => (v && v.length === 18 ? `${v.slice(0, 6)}${"*".repeat(11)}${v.slice(-1)}` : v ? "***" : "");
const yuan = (cents) => `${(cents / 100).toFixed(2)} 元`;

/**
 * The server's QR code (segno's inline SVG) as a node: parsed inert (no scripts run in a parsed
 * document) and taken only if it holds nothing but the shapes a QR code is drawn with.
 */
export function qrNode(markup) {
  const parsed = new DOMParser().parseFromString(markup || "", "text/html").body.firstElementChild;
  if (!parsed || parsed.tagName.toLowerCase() !== "svg") return null;
  for (const el of [parsed, ...parsed.querySelectorAll("*")]) {
    if (!ALLOWED_SVG.has(el.tagName.toLowerCase())) return null;
    for (const a of el.attributes) if (/^on|href$/i.test(a.name)) return null;
  }
  const svg = document.importNode(parsed, true);
  const w = svg.getAttribute("width");
  const ht = svg.getAttribute("height");
  if (w && ht && !svg.getAttribute("viewBox")) svg.setAttribute("viewBox", `0 0 ${w} ${ht}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "进度查询二维码");
  return svg;
}

function rows(pairs) {
  return h("dl", { class: "c-rows" }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function applicantLine(a) {
  if (!a) return "";
  return [a.name, a.phone ? maskPhone(a.phone) : "", a.id_number ? maskId(a.id_number) : ""].filter(Boolean).join("  ");
}

function head(n, title) {
  return [
    h("header", { class: "n-head" }, h("div", { class: "n-hall" }, n.hall_name), h("div", { class: "n-title" }, title)),
    h("section", { class: "c-caseno" }, h("div", { class: "n-label" }, "办件编号"),
      h("div", { class: "n-no num", id: "case-no" }, n.case_no)),
  ];
}

function trackBlock(n) {
  const qr = qrNode(n.qr_svg);
  return h("section", { class: "n-block c-qr", id: "case-qr" }, qr,
    h("div", {}, h("h3", {}, "扫码查询办理进度"),
      h("p", {}, "查询码 ", h("b", { class: "num n-code", id: "case-query" }, n.query_code)),
      h("p", { class: "n-url" }, n.track_url)));
}

function signatures() {
  return h("section", { class: "n-block" },
    h("div", { class: "n-sign" }, "受理人：", h("span", { class: "n-line" })),
    h("div", { class: "n-sign" }, "申请人（签收）：", h("span", { class: "n-line" })));
}

function acceptance(n) {
  const refused = n.state === "not_accepted";
  const title = refused ? "不予受理告知书" : "受理回执";
  const deadline = n.kind === "immediate"
    ? "即办：材料齐全、符合条件的当场办结"
    : n.deadline ? formatDateTime(n.deadline) : "暂停计时中，恢复后顺延";
  const missing = n.missing || [];
  return [
    ...head(n, title),
    h("section", { class: "n-block" }, rows([
      ["办理事项", n.item_name],
      ["承办部门", n.department_name],
      ["申请人", applicantLine(n.applicant)],
      ["受理时间", formatDateTime(n.accepted_at)],
      ["受理窗口", `${n.window_no} 号窗口  ${n.clerk_name || ""}`],
      refused ? null : ["办件类型", KIND[n.kind] || n.kind],
      refused ? null : ["承诺时限", n.limit ? limitText(n.kind === "immediate" ? "immediate" : "promised", n.limit.amount, n.limit.unit) : ""],
      refused || !n.statutory_amount ? null : ["法定时限", `${n.statutory_amount} ${UNITS[n.limit && n.limit.unit] || "个工作日"}`],
    ].filter(Boolean))),
    refused
      ? h("section", { class: "n-block" }, h("h3", {}, "不予受理的理由"), h("p", { id: "case-reason" }, n.reason || ""),
        h("p", { class: "c-law" }, "如不服本决定，可依法申请行政复议或者提起行政诉讼。"))
      : h("section", { class: "n-block" }, h("h3", {}, "办结期限"),
        h("p", { class: "c-deadline num", id: "case-deadline" }, deadline),
        h("p", { class: "c-law" }, "补正材料、听证、检验检测、专家评审等期间不计入办理时限。")),
    refused ? null : h("section", { class: "n-block" }, h("h3", {}, "已收材料"),
      (n.submitted || []).length ? h("ol", { class: "n-mat" }, n.submitted.map((m) => h("li", {}, m))) : h("p", {}, "无")),
    missing.length ? h("section", { class: "n-block" }, h("h3", {}, refused ? "材料情况" : "待补材料"),
      h("ol", { class: "n-mat c-missing", id: "case-missing" }, missing.map((m) => h("li", {},
        h("b", {}, m.name), m.deferred ? "（容缺，后补）" : "", m.problem ? `：${m.problem}` : ""))),
      n.deficiency_due ? h("p", {}, `容缺材料请于 ${formatDateTime(n.deficiency_due)} 前补交，逾期将影响办结。`) : null) : null,
    (n.fees || []).length ? h("section", { class: "n-block" }, h("h3", {}, "收费"),
      h("ul", { class: "n-mat" }, n.fees.map((f) => h("li", {}, `${f.name}  ${yuan(f.amount_cents)}  票据 ${f.receipt_no}`)))) : null,
    trackBlock(n),
    signatures(),
    h("footer", { class: "n-foot" }, h("span", {}, `查询码 ${n.query_code}`), h("span", {}, `打印 ${formatDateTime(new Date())}`)),
  ];
}

function supplement(n, c) {
  const wanted = Number(param("notice")) || null;
  const list = c.supplements || [];
  const s = wanted ? list.find((x) => x.id === wanted)
    : list.find((x) => !x.received_at) || list[list.length - 1];
  if (!s) return [h("div", { class: "alert" }, "此办件没有补正告知。")];
  return [
    ...head(n, "一次性告知书"),
    h("section", { class: "n-block" }, rows([
      ["办理事项", n.item_name],
      ["申请人", applicantLine(n.applicant)],
      ["告知时间", formatDateTime(s.issued_at)],
      s.received_at ? ["已补齐", formatDateTime(s.received_at)] : null,
    ].filter(Boolean))),
    h("section", { class: "n-block" },
      h("p", {}, `您申请的“${n.item_name}”，经审查，申请材料不齐全或者不符合法定形式。依据《中华人民共和国行政许可法》第三十二条，现一次性告知您需要补正的全部内容：`),
      h("ol", { class: "n-mat c-missing", id: "supplement-materials" }, s.materials.map((m) => h("li", {},
        h("b", {}, m.name), `（${STATUS[m.status] || m.status}）`, m.problem ? `：${m.problem}` : "")))),
    h("section", { class: "n-block" },
      h("p", {}, `请备齐上述全部材料后，到 ${n.window_no} 号窗口一次提交。`),
      h("p", { class: "c-law" }, "补正期间办理时限暂停计算，自收到全部补正材料之日起恢复计时。")),
    trackBlock(n),
    signatures(),
    h("footer", { class: "n-foot" }, h("span", {}, `办件 ${n.case_no}`), h("span", {}, `打印 ${formatDateTime(new Date())}`)),
  ];
}

function fitReceipt() {
  if (paper !== "receipt") return;
  const mm = Math.ceil($("#sheet").getBoundingClientRect().height * 25.4 / 96) + 2;
  $("#page-rule").textContent = `@page { size: 80mm ${mm}mm; margin: 0; }`;
}

(async () => {
  if (!Number.isInteger(caseId) || caseId <= 0) {
    fill($("#sheet"), h("div", { class: "alert" }, "缺少办件编号：请从窗口终端打印。"));
    markReady();
    return;
  }
  try {
    const n = await api(`/api/cases/${caseId}/notice`);
    const title = doc === "supplement" ? "一次性告知书" : n.state === "not_accepted" ? "不予受理告知书" : "受理回执";
    const content = doc === "supplement" ? supplement(n, await api(`/api/cases/${caseId}`)) : acceptance(n);
    fill($("#sheet"), content);
    $("#toolbar-title").textContent = title;
    document.title = `${title} ${n.case_no} · ${n.hall_name}`;
    fitReceipt();
    document.body.dataset.ready = "1";
    markReady();
    if (param("print") === "1") window.print();
  } catch (err) {
    if (err.status === 401) {
      location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
      return;
    }
    fill($("#sheet"), h("div", { class: "alert" }, err.message));
    markReady();
  }
})();
