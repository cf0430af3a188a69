// 人员: the hall's staff grouped by department. Create (the one-time password is shown once),
// change role, department, phone or disable, reset a password (a new one-time password, shown
// once), unlock a locked-out account, and see and end a member's login sessions.
import { $, api, fill, formatDateTime, h, toast } from "../shared/api.js";
import { base, ctx, departmentOptions } from "./context.js";
import { DEPARTMENT_ROLES, groupStaff, ROLE_LABEL, staffChangeEffect } from "./model.js";
import {
  checkbox, confirmAction, failed, field, formDialog, infoDialog, input, secretDialog, select, values,
} from "./ui.js";

let panel = null;
let staff = [];
let search = null;

export async function show(el) {
  if (!panel) build(el);
  await reload();
}

function build(el) {
  panel = el;
  search = h("input", {
    class: "input a-filter", type: "search", placeholder: "搜索：用户名、姓名、手机或角色",
    "aria-label": "搜索人员", oninput: draw,
  });
  fill(el, h("section", { class: "card a-section" },
    h("div", { class: "a-toolbar" }, h("h2", {}, "人员"), search,
      h("button", { class: "btn primary a-small", type: "button", id: "staff-add", onclick: create }, "新增人员")),
    h("p", { class: "a-hint" }, "新增或重置密码后得到一次性密码，只显示一次；本人首次登录时须改为自己的密码（至少 10 位，含大写字母、小写字母、数字、符号中的三类，不能与最近 5 次相同）。"),
    h("table", { class: "a-table", id: "staff-table" },
      h("thead", {}, h("tr", {}, ["用户名", "姓名", "角色", "手机", "状态", "窗口", "会话", "操作"].map((t) => h("th", {}, t)))))));
}

async function reload() {
  try {
    ({ staff } = await api(`${base()}/admin/staff`));
    draw();
  } catch (err) { failed(err); }
}

function stateBadges(s) {
  return [
    s.active ? h("span", { class: "badge green" }, "在岗") : h("span", { class: "badge" }, "已停用"),
    s.locked ? h("span", { class: "badge red" }, "已锁定") : null,
    s.must_change_password ? h("span", { class: "badge amber" }, "待改密码") : null,
  ];
}

function draw() {
  const table = $("#staff-table");
  for (const b of [...table.tBodies]) b.remove();
  const groups = groupStaff(staff, ctx.departments, search.value);
  if (!groups.length) {
    table.append(h("tbody", {}, h("tr", {}, h("td", { colspan: "8", class: "none" }, "没有符合条件的人员"))));
    return;
  }
  for (const g of groups) {
    table.append(h("tbody", { class: "a-group", dataset: { dept: g.department } },
      h("tr", { class: "a-dept" }, h("th", { colspan: "8", scope: "rowgroup" },
        h("div", { class: "a-dept-line" }, h("b", {}, g.name), h("span", { class: "a-dept-sum" }, `${g.staff.length} 人`)))),
      g.staff.map((s) => h("tr", { dataset: { staff: s.username } },
        h("td", { class: "num" }, s.username),
        h("td", {}, s.name),
        h("td", {}, ROLE_LABEL[s.role] || s.role),
        h("td", { class: "num" }, s.phone || h("span", { class: "none" }, "—")),
        h("td", {}, h("div", { class: "a-badges" }, stateBadges(s))),
        h("td", {}, s.window_no ? `${s.window_no} 号` : h("span", { class: "none" }, "—")),
        h("td", { class: "num" }, s.sessions ? h("button", { class: "btn a-link", type: "button", onclick: () => sessions(s) }, `${s.sessions} 个`) : h("span", { class: "none" }, "0")),
        h("td", {}, h("div", { class: "a-actions" },
          h("button", { class: "btn", type: "button", onclick: () => edit(s) }, "编辑"),
          h("button", { class: "btn", type: "button", onclick: () => resetPassword(s) }, "重置密码"),
          s.locked ? h("button", { class: "btn warn", type: "button", onclick: () => unlock(s) }, "解锁") : null,
          h("button", { class: "btn", type: "button", onclick: () => sessions(s) }, "会话")))))));
  }
}

function staffFields(s, creating) {
  const role = select("role", Object.entries(ROLE_LABEL), s ? s.role : "clerk");
  const dept = select("department", departmentOptions("（不属于部门：督查、管理员）"), s ? s.department || "" : "");
  return [
    h("div", { class: "a-grid-2" },
      creating
        ? field("用户名", input("username", "", { required: true, maxlength: 40, placeholder: "如 wang.fang" }), "2–40 位小写字母、数字或 . _ -，登录时使用，创建后不能修改")
        : field("用户名", h("div", { class: "a-static num" }, s.username)),
      field("姓名", input("name", s ? s.name : "", { required: true, maxlength: 40 }))),
    h("div", { class: "a-grid-2" },
      field("角色", role),
      field("部门", dept, "窗口人员和带班领导须属于一个部门")),
    h("div", { class: "a-grid-2" },
      field("手机", input("phone", s ? s.phone || "" : "", { inputmode: "numeric", maxlength: 11, placeholder: "11 位手机号，可不填" })),
      creating ? null : h("div", { class: "field" }, h("span", {}, "账号"),
        checkbox("active", "在岗（取消勾选即停用：立即退出登录、不能再登录）", s.active))),
  ];
}

function staffBody(v, creating) {
  const body = {
    name: v.name.trim(),
    role: v.role,
    department: v.department || null,
    phone: v.phone.trim() || null,
    active: creating ? true : v.active,
  };
  if (creating && !/^[a-z0-9._-]{2,40}$/.test(v.username.trim())) {
    throw { field: "username", message: "用户名应为 2–40 位小写字母、数字或 . _ -" };
  }
  if (!body.name) throw { field: "name", message: "请填写姓名" };
  if (DEPARTMENT_ROLES.includes(body.role) && !body.department) {
    throw { field: "department", message: "窗口人员和带班领导须属于一个部门" };
  }
  if (body.phone && !/^1[3-9]\d{9}$/.test(body.phone)) throw { field: "phone", message: "手机号应为 11 位，以 1 开头" };
  return body;
}

async function create() {
  const created = await formDialog({
    title: "新增人员",
    id: "staff-dialog",
    submitLabel: "创建",
    build: () => staffFields(null, true),
    submit: async (form) => {
      const v = values(form);
      const body = staffBody(v, true);
      const res = await api(`${base()}/staff`, { method: "POST", body: { username: v.username.trim(), ...body } });
      return { ...res, name: body.name };
    },
  });
  if (!created) return;
  await reload();
  await secretDialog({
    title: "人员已创建",
    lead: `${created.name}（用户名 ${created.username}）的一次性密码：`,
    rows: [["一次性密码", created.password]],
    note: "请当面交给本人；首次登录时须改为自己的密码。",
  });
}

async function edit(s) {
  const result = await formDialog({
    title: `编辑人员：${s.name}（${s.username}）`,
    id: "staff-dialog",
    build: () => staffFields(s, false),
    submit: async (form) => {
      const body = staffBody(values(form), false);
      const effect = staffChangeEffect(s, body);
      if (effect && !await confirmAction(`确认修改 ${s.name}`, effect, "确认修改")) throw { message: "已取消，未保存" };
      return api(`${base()}/staff/${s.id}`, { method: "PUT", body });
    },
  });
  if (!result) return;
  const n = Object.keys(result.changes || {}).length;
  toast(n ? `已保存 ${s.name} 的 ${n} 项修改${result.sessions_ended ? `，结束了 ${result.sessions_ended} 个会话` : ""}` : "没有修改", "ok");
  await reload();
}

async function resetPassword(s) {
  if (!await confirmAction(`重置 ${s.name} 的密码`,
    `将生成新的一次性密码并只显示一次；${s.name} 的旧密码立即失效，所有已登录的屏幕立即退出，下次登录须改为自己的密码。`, "重置密码")) return;
  try {
    const res = await api(`${base()}/staff/${s.id}/password-reset`, { method: "POST" });
    await reload();
    await secretDialog({
      title: "密码已重置",
      lead: `${s.name}（用户名 ${s.username}）的新一次性密码：`,
      rows: [["一次性密码", res.password]],
      note: res.sessions_ended ? `已结束 ${res.sessions_ended} 个登录会话。` : "",
    });
  } catch (err) { failed(err); }
}

async function unlock(s) {
  try {
    await api(`${base()}/staff/${s.id}/unlock`, { method: "POST" });
    toast(`${s.name} 的账号已解锁，可以重新登录`, "ok");
    await reload();
  } catch (err) { failed(err); }
}

async function sessions(s) {
  let list;
  try {
    ({ sessions: list } = await api(`${base()}/staff/${s.id}/sessions`));
  } catch (err) { failed(err); return; }
  const body = h("div", {});
  const dlg = infoDialog({ title: `${s.name}（${s.username}）的登录会话`, content: body, id: "sessions-dialog" });
  const drawList = () => fill(body, list.length
    ? h("table", { class: "a-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "会话"), h("th", {}, "登录时间"), h("th", {}, "到期"), h("th", {}, ""))),
      h("tbody", {}, list.map((x) => h("tr", {},
        h("td", { class: "num" }, x.session),
        h("td", { class: "num" }, formatDateTime(x.created_at)),
        h("td", { class: "num" }, formatDateTime(x.expires_at)),
        h("td", {}, h("button", {
          class: "btn danger a-small", type: "button",
          onclick: async () => {
            if (!await confirmAction("结束会话",
              `会话 ${x.session}（${formatDateTime(x.created_at)} 登录）立即结束，用它打开的屏幕随即退出登录；${s.name} 的其他会话不受影响。`, "结束会话")) return;
            try {
              await api(`${base()}/staff/${s.id}/sessions/${x.session}/end`, { method: "POST" });
              list = list.filter((y) => y.session !== x.session);
              drawList();
            } catch (err) {
              body.prepend(h("div", { class: "alert" }, err.message));
            }
          },
        }, "结束"))))))
    : h("p", { class: "none" }, "没有登录中的会话"));
  drawList();
  dlg.addEventListener("close", reload);
}
