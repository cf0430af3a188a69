// 导入导出: each kind's spreadsheet (departments, queues, windows, staff, items: the order a new
// hall imports them in, each refers to the ones before it) as an .xlsx or CSV download, and an
// import of the same columns. An import is all rows or none: a refused file lists every bad
// row with its number, column and reason. New staff's one-time passwords are shown once.
import { api, fill, h, toast } from "../shared/api.js";
import { base, loadStructure } from "./context.js";
import { bytesToBase64, refusedRows, SHEET_KINDS, sheetFormat } from "./model.js";
import { confirmAction, failed, secretDialog } from "./ui.js";

const MAX_BYTES = 4 * 1024 * 1024;   // the server's IMPORT_MAX_BYTES

const EFFECT = {
  departments: "按文件新增部门或修改部门名称（按部门编码对应）。",
  queues: "按文件新增或修改队列（按队列编码对应）：名称、号码前缀、部门和服务时长标准。",
  windows: "按文件新增或修改窗口（按窗口号对应）：服务队列和优先规则在下一次叫号时生效；改到其他部门的窗口，其签到人员被签退。",
  staff: "按文件新增或修改人员（按用户名对应）：新人员得到一次性密码，导入后只显示一次；被停用或改变角色、部门的人员立即退出登录。",
  items: "按文件发布事项（按事项编码对应）：文件中的每个事项发布一个新版本，已受理的办件保留原版本。",
};

let panel = null;

export async function show(el) {
  if (panel) return;
  panel = el;
  fill(el, h("section", { class: "card a-section" },
    h("h2", {}, "导入导出"),
    h("p", { class: "a-hint" }, "新中心按顺序导入：部门 → 队列 → 窗口 → 人员 → 事项（后面的表引用前面的编码）。导出的文件可以直接修改后导入；一次导入要么全部成功，要么一行也不导入。"),
    h("div", { class: "a-sheets" }, SHEET_KINDS.map((k, i) => card(k, i + 1)))));
}

function card({ kind, label, columns }, n) {
  const file = h("input", { type: "file", accept: ".xlsx,.csv", id: `import-${kind}`, "aria-label": `选择要导入的${label}文件` });
  const button = h("button", { class: "btn primary a-small", type: "button", disabled: true }, `导入${label}`);
  const result = h("div", { class: "a-sheet-result", id: `import-result-${kind}`, "aria-live": "polite" });
  file.addEventListener("change", () => {
    button.disabled = !file.files.length;
    result.replaceChildren();
  });
  button.addEventListener("click", () => importFile(kind, label, file, button, result));
  const exportUrl = (format) => `${base()}/admin/export/${kind}?format=${format}`;
  return h("div", { class: "a-sheet", dataset: { kind } },
    h("div", { class: "a-sheet-head" }, h("b", {}, `${n}. ${label}`),
      h("a", { class: "btn a-small", href: exportUrl("xlsx"), download: "" }, "导出 Excel"),
      h("a", { class: "btn a-small", href: exportUrl("csv"), download: "" }, "导出 CSV")),
    h("div", { class: "a-hint" }, `列：${columns}`),
    h("div", { class: "a-sheet-import" }, file, button),
    result);
}

async function importFile(kind, label, fileInput, button, result) {
  const f = fileInput.files[0];
  if (!f) return;
  const format = sheetFormat(f.name);
  if (!format) {
    fill(result, h("div", { class: "alert" }, "只能导入 .xlsx 或 .csv 文件"));
    return;
  }
  if (f.size > MAX_BYTES) {
    fill(result, h("div", { class: "alert" }, "文件超过 4 MB，请分批导入"));
    return;
  }
  if (!await confirmAction(`导入${label}：${f.name}`,
    `${EFFECT[kind]}任一行有错则全部不导入，并列出每一个错误行。`, "导入", { danger: false })) return;
  button.disabled = true;
  fill(result, h("div", { class: "a-hint" }, "正在导入…"));
  try {
    const content = bytesToBase64(new Uint8Array(await f.arrayBuffer()));
    const res = await api(`${base()}/admin/import/${kind}`, { method: "POST", body: { format, content } });
    fill(result, h("div", { class: "alert info" }, `已导入 ${res.rows} 行${label}${res.created && res.created.length ? `，新建 ${res.created.length} 人` : ""}。`));
    toast(`${label}已导入（${res.rows} 行）`, "ok");
    if (kind === "departments" || kind === "queues") await loadStructure();
    if (res.created && res.created.length) {
      await secretDialog({
        title: `新人员的一次性密码（${res.created.length} 人）`,
        lead: "请逐一当面交给本人；首次登录时须改为自己的密码。",
        rows: res.created.map((c) => [c.username, c.password]),
      });
    }
  } catch (err) {
    if (err.status === 401) { failed(err); return; }
    if (err.code === "import_refused") {
      const rows = refusedRows(err.details, kind);
      fill(result, h("div", { class: "alert" }, err.message),
        h("table", { class: "a-table a-refused" },
          h("thead", {}, h("tr", {}, h("th", {}, "行号"), h("th", {}, "列"), h("th", {}, "原因"))),
          h("tbody", {}, rows.map((r) => h("tr", {},
            h("td", { class: "num" }, `第 ${r.row} 行`), h("td", {}, r.column), h("td", {}, r.message))))));
    } else {
      fill(result, h("div", { class: "alert" }, err.message));
    }
  } finally {
    button.disabled = !fileInput.files.length;
  }
}
