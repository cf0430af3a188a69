// The unified acceptance notice (统一受理告知单), printable on an 80 mm receipt printer (default)
// or on A4 (&paper=a4): /notice?code=<query_code>. Public: the query code is the key.
// window.noticeReady resolves once the content and the barcode are in place (the kiosk prints
// this page from a hidden frame after it).
import {
  $, api, fill, formatDateTime, formatWait, h, limitText, param, PRIORITY_LABEL, ranges, waitPhrase,
} from "../shared/api.js";

const code = (param("code") || "").trim().toUpperCase();
const paper = param("paper") === "a4" ? "a4" : "receipt";
const embedded = param("embed") === "1";

let markReady;
window.noticeReady = new Promise((resolve) => { markReady = resolve; });

document.body.className = `paper-${paper}${embedded ? " embedded" : ""}`;
$("#page-rule").textContent = paper === "a4"
  ? "@page { size: A4; margin: 14mm 16mm; }"
  : "@page { size: 80mm auto; margin: 0; }";
$("#toolbar").hidden = embedded;
for (const p of ["receipt", "a4"]) {
  const link = $(`#paper-${p}`);
  const url = new URL(location.href);
  url.searchParams.set("paper", p);
  link.href = url.pathname + url.search;
  link.classList.toggle("primary", p === paper);
}
$("#print").addEventListener("click", () => window.print());

function groupCode(c) {
  return c.length === 8 ? `${c.slice(0, 4)} ${c.slice(4)}` : c;
}

function windowsToVisit(n) {
  const ticket = n.ticket || {};
  let list = n.windows || [];
  if (ticket.target_window_no) {
    const w = list.find((x) => x.window_no === ticket.target_window_no);
    return [h("li", {}, h("b", {}, w ? w.display_name : `${ticket.target_window_no}号窗口`),
      w && w.clerk_name ? `  工作人员：${w.clerk_name}` : "")];
  }
  const open = list.filter((w) => w.status === "open" && w.clerk_name);
  if (open.length && open.length <= 4) {
    return open.map((w) => h("li", {}, h("b", {}, w.display_name), `  工作人员：${w.clerk_name}`));
  }
  const shown = open.length ? open : list;
  const dept = (n.windows[0] && n.windows[0].display_name.split(" ").slice(1).join(" ")) || n.department;
  return [h("li", {}, h("b", {}, `${ranges(shown.map((w) => w.window_no))} 号窗口`), `（${dept}）`),
    h("li", {}, "听到叫号后，请到叫号屏所示窗口办理")];
}

function promiseLine(n) {
  if (n.item_kind === "immediate" || !n.promised_limit) {
    return [h("b", {}, "即办"), "：材料齐全、符合条件的，当场办结"];
  }
  return [h("b", {}, limitText(n.item_kind, n.promised_limit, n.limit_unit)),
    n.promised_due ? `，预计 ${formatDateTime(n.promised_due)} 前办结` : "",
    "（自窗口受理时起计算）"];
}

function materialsList(n) {
  const ms = n.materials || [];
  if (!ms.length) return h("p", {}, "本事项无需提交材料。");
  if (paper === "a4") {
    return h("table", { class: "n-mat-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "序号"), h("th", {}, "材料名称"), h("th", {}, "份数"),
        h("th", {}, "类别"), h("th", {}, "备注"))),
      h("tbody", {}, ms.map((m, i) => h("tr", { class: m.is_key ? "key" : "" },
        h("td", { class: "num" }, i + 1), h("td", {}, m.name), h("td", { class: "num" }, m.copies || 1),
        h("td", {}, m.is_key ? "★ 必备" : "可容缺"), h("td", {}, m.note || "")))));
  }
  return h("ol", { class: "n-mat" }, ms.map((m) => h("li", { class: m.is_key ? "key" : "" },
    m.is_key ? "★" : "", m.name, (m.copies || 1) > 1 ? `（${m.copies}份）` : "",
    m.note ? h("small", {}, `  ${m.note}`) : null)));
}

function render(n) {
  const ticket = n.ticket || {};
  const waiting = ticket.status === "waiting";
  const evaluation = h("section", { class: "n-eval" },
    h("h3", {}, "服务评议"),
    h("p", {}, n.phone
      ? `办结后将向 ${n.phone} 发送评议短信，请您对窗口服务作出评价；也可在下方勾选后，将本告知单投入大厅评议箱。`
      : "办结后请在下方勾选，将本告知单投入大厅评议箱；也可扫描查询网址进行评价。"),
    // the national 好差评 scale, five levels (a supervisor keys the ticked one from the box)
    h("div", { class: "n-boxes" }, ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
      .map((t) => h("span", {}, h("i", {}), t))),
    h("div", { class: "n-sign" }, "意见建议：", h("span", { class: "n-line" })));

  const sheet = $("#sheet");
  fill(sheet,
    h("header", { class: "n-head" },
      h("div", { class: "n-hall" }, n.hall.name),
      h("div", { class: "n-title" }, "统一受理告知单")),
    h("section", { class: "n-ticket" },
      h("div", { class: "n-label" }, "排队号"),
      h("div", { class: "n-no num", id: "notice-ticket" }, ticket.ticket_no || "—"),
      n.priority && n.priority !== "normal" ? h("div", { class: "n-prio" }, `${PRIORITY_LABEL[n.priority]}优先`) : null,
      h("div", { class: "n-wait" }, !waiting ? ticketState(ticket) : n.ahead > 0
        ? [`前面还有 `, h("b", { class: "num" }, n.ahead), ` 人，`, n.estimated_wait_seconds == null
          ? waitPhrase(null) : ["预计等候 ", h("b", {}, formatWait(n.estimated_wait_seconds))]]
        : "前面没有等候的群众，请留意叫号")),
    h("section", { class: "n-item" },
      h("div", { class: "n-item-name" }, n.item.name),
      h("div", { class: "n-dept" }, `${n.department} · ${n.queue_name}`)),
    h("img", { class: "n-barcode", src: `/api/barcode/${encodeURIComponent(n.reg_no)}.svg`, alt: `条码 ${n.reg_no}` }),
    h("section", { class: "n-block" },
      h("h3", {}, "请到以下窗口办理"),
      h("ul", { class: "n-windows" }, windowsToVisit(n))),
    h("section", { class: "n-block" },
      h("h3", {}, "承诺时限"),
      h("p", {}, promiseLine(n))),
    h("section", { class: "n-block" },
      h("h3", {}, "一次性告知 · 所需材料"),
      materialsList(n),
      (n.materials || []).some((m) => m.is_key)
        ? h("p", { class: "n-hint" }, "★ 为必备材料；其余材料暂缺的，可申请容缺受理，后补即可。") : null),
    h("section", { class: "n-block n-track" },
      h("h3", {}, "进度查询"),
      h("p", {}, "查询码 ", h("b", { class: "num n-code" }, groupCode(n.query_code))),
      // the server's public base URL: this page prints on the kiosk, whose own origin a
      // citizen's phone may not reach
      h("p", { class: "n-url" }, n.track_url)),
    evaluation,
    h("footer", { class: "n-foot" },
      h("span", {}, `登记号 ${n.reg_no}`),
      h("span", {}, `取号 ${formatDateTime(n.created_at)}`)));
  document.title = `统一受理告知单 ${ticket.ticket_no || ""} · ${n.hall.name}`;
  const img = sheet.querySelector(".n-barcode");
  const done = () => {
    fitReceipt();
    document.body.dataset.ready = "1";
    markReady();
    if (param("print") === "1") window.print();
  };
  if (img.complete) done();
  else { img.addEventListener("load", done); img.addEventListener("error", done); }
}

/**
 * A receipt is one continuous slip: Chrome does not take `size: 80mm auto`, so the page is
 * made exactly as long as the sheet (a roll printer cuts after it).
 */
function fitReceipt() {
  if (paper !== "receipt") return;
  const mm = Math.ceil($("#sheet").getBoundingClientRect().height * 25.4 / 96) + 2;
  $("#page-rule").textContent = `@page { size: 80mm ${mm}mm; margin: 0; }`;
}

function ticketState(ticket) {
  switch (ticket.status) {
    case "called": return `已叫号，请到 ${ticket.window_no} 号窗口`;
    case "serving": return `正在 ${ticket.window_no} 号窗口办理`;
    case "parked": return `业务暂挂，补齐材料后请回到 ${ticket.window_no} 号窗口`;
    case "done": return "本次排队已结束";
    default: return "";
  }
}

(async () => {
  if (!code) {
    fill($("#sheet"), h("div", { class: "alert" }, "缺少查询码：请从自助受理机取号后打开告知单。"));
    markReady();
    return;
  }
  try {
    render(await api(`/api/notice/${encodeURIComponent(code)}`));
  } catch (err) {
    fill($("#sheet"), h("div", { class: "alert" }, err.message));
    markReady();
  }
})();
