// 设备: kiosks, lobby displays and LED controllers, rating tablets. Register one (its secret is
// shown once), rename, revoke (its screen goes dark at once), give it a new secret.
import { $, api, fill, formatDateTime, h, toast } from "../shared/api.js";
import { base } from "./context.js";
import { confirmAction, failed, field, formDialog, input, secretDialog, select, values } from "./ui.js";

export const KIND_LABEL = { kiosk: "自助受理机", display: "叫号屏 / LED 条屏", rater: "评价器" };
const SCREEN_OF = { kiosk: "/kiosk", display: "/display", rater: "/rate/window/…" };

let panel = null;
let devices = [];

export async function show(el) {
  if (!panel) build(el);
  await reload();
}

function build(el) {
  panel = el;
  fill(el, h("section", { class: "card a-section" },
    h("div", { class: "a-toolbar" }, h("h2", {}, "设备"),
      h("button", { class: "btn primary a-small", type: "button", id: "device-add", onclick: register }, "登记设备")),
    h("p", { class: "a-hint" }, "登记后得到设备密钥，只显示一次：在设备的设置画面输入设备编号和密钥。设备丢失或报废时请吊销，它的画面立即停止工作。"),
    h("table", { class: "a-table", id: "devices-table" },
      h("thead", {}, h("tr", {}, ["编号", "类型", "名称", "窗口", "状态", "在线会话", "操作"].map((t) => h("th", {}, t)))),
      h("tbody", {}))));
}

async function reload() {
  try {
    ({ devices } = await api(`${base()}/devices`));
    draw();
  } catch (err) { failed(err); }
}

function draw() {
  const order = Object.keys(KIND_LABEL);
  const sorted = [...devices].sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.code.localeCompare(b.code));
  fill($("#devices-table tbody"), sorted.length ? sorted.map((d) => h("tr", { dataset: { device: d.code } },
    h("td", { class: "num" }, d.code),
    h("td", {}, KIND_LABEL[d.kind] || d.kind),
    h("td", {}, d.name),
    h("td", {}, d.window_no ? `${d.window_no} 号` : h("span", { class: "none" }, "—")),
    h("td", {}, d.active ? h("span", { class: "badge green" }, "正常")
      : h("span", { class: "badge red", title: d.revoked_at ? `吊销于 ${formatDateTime(d.revoked_at)}` : "" }, "已吊销")),
    h("td", { class: "num" }, d.sessions),
    h("td", {}, h("div", { class: "a-actions" },
      h("button", { class: "btn", type: "button", onclick: () => rename(d) }, "改名"),
      h("button", { class: "btn", type: "button", onclick: () => rotate(d) }, d.active ? "更换密钥" : "重新启用"),
      d.active ? h("button", { class: "btn danger", type: "button", onclick: () => revoke(d) }, "吊销") : null))))
    : h("tr", {}, h("td", { colspan: "7", class: "none" }, "尚未登记设备")));
}

async function register() {
  const created = await formDialog({
    title: "登记设备",
    id: "device-dialog",
    submitLabel: "登记",
    build: (form) => {
      const kind = select("kind", Object.entries(KIND_LABEL), "kiosk");
      const windowField = field("所在窗口", input("window_no", "", { type: "number", min: 1, max: 999 }), "评价器放在哪个窗口");
      windowField.hidden = true;
      kind.addEventListener("change", () => { windowField.hidden = kind.value !== "rater"; });
      return [
        h("div", { class: "a-grid-2" },
          field("类型", kind),
          field("设备编号", input("code", "", { required: true, maxlength: 40, placeholder: "如 kiosk-05" }), "2–40 位小写字母、数字或 . _ -，在设备上登录时输入")),
        field("名称", input("name", "", { required: true, maxlength: 60, placeholder: "如：自助受理机5号（二楼）" })),
        windowField,
      ];
    },
    submit: async (form) => {
      const v = values(form);
      const code = v.code.trim();
      if (!/^[a-z0-9._-]{2,40}$/.test(code)) throw { field: "code", message: "设备编号应为 2–40 位小写字母、数字或 . _ -" };
      if (!v.name.trim()) throw { field: "name", message: "请填写名称" };
      const body = { code, kind: v.kind, name: v.name.trim() };
      if (v.kind === "rater") {
        const no = Number(v.window_no);
        if (!Number.isInteger(no) || no < 1) throw { field: "window_no", message: "评价器须指定所在窗口" };
        body.window_no = no;
      }
      const res = await api(`${base()}/devices`, { method: "POST", body });
      return { ...res, kind: v.kind, name: body.name };
    },
  });
  if (!created) return;
  await reload();
  await secretDialog({
    title: "设备已登记",
    lead: `${KIND_LABEL[created.kind]}“${created.name}”：在设备上打开 ${SCREEN_OF[created.kind]}，输入设备编号和下面的密钥。`,
    rows: [["设备编号", created.code], ["设备密钥", created.secret]],
  });
}

async function rename(d) {
  const done = await formDialog({
    title: `设备改名：${d.code}`,
    id: "device-dialog",
    build: () => [field("名称", input("name", d.name, { required: true, maxlength: 60 }))],
    submit: async (form) => {
      const name = values(form).name.trim();
      if (!name) throw { field: "name", message: "请填写名称" };
      return api(`${base()}/devices/${d.id}`, { method: "PUT", body: { name } });
    },
  });
  if (done) { toast("已改名", "ok"); await reload(); }
}

async function revoke(d) {
  if (!await confirmAction(`吊销设备 ${d.code}`,
    `${KIND_LABEL[d.kind]}“${d.name}”将立即断开：它的画面立即变黑、停止工作，不能再登录。以后要重新使用，须“重新启用”得到新密钥并在设备上重新输入。`, "吊销")) return;
  try {
    const res = await api(`${base()}/devices/${d.id}/revoke`, { method: "POST" });
    toast(`${d.code} 已吊销${res.sessions_ended ? `，断开了 ${res.sessions_ended} 个连接` : ""}`, "ok");
    await reload();
  } catch (err) { failed(err); }
}

async function rotate(d) {
  const what = d.active
    ? `旧密钥立即失效，${d.code} 当前的连接随即断开；须在设备上输入新密钥后才能继续使用。新密钥只显示一次。`
    : `${d.code} 将得到新密钥并重新启用；在设备上输入新密钥后即可使用。新密钥只显示一次。`;
  if (!await confirmAction(d.active ? `更换 ${d.code} 的密钥` : `重新启用 ${d.code}`, what, d.active ? "更换密钥" : "重新启用")) return;
  try {
    const res = await api(`${base()}/devices/${d.id}/rotate`, { method: "POST" });
    await reload();
    await secretDialog({
      title: "新的设备密钥",
      lead: `${KIND_LABEL[d.kind]}“${d.name}”的新密钥：`,
      rows: [["设备编号", d.code], ["设备密钥", res.secret]],
    });
  } catch (err) { failed(err); }
}
