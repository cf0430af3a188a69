// The admin screen's rules without a DOM (so node can test them): the windows grouped by
// department, the editors' models (a window's queues in serving order, an item's materials and
// fees), the shapes the API takes, and a file as base64 for an import.

export const TABS = Object.freeze(["windows", "staff", "devices", "items", "calendar", "duty", "settings", "sheets"]);

/** The tab a URL hash names ("#/staff"; "#staff" too), else the first. (The slash keeps the
 * browser from scrolling to an element of the same id, such as the table #windows.) */
export function tabFromHash(hash) {
  const name = String(hash || "").replace(/^#\/?/, "");
  return TABS.includes(name) ? name : TABS[0];
}

export const hashOfTab = (name) => `#/${name}`;

/** The tab an arrow key moves to from `current` (wrapping), or null for other keys. */
export function tabAfterKey(current, key) {
  const i = TABS.indexOf(current);
  if (key === "Home") return TABS[0];
  if (key === "End") return TABS[TABS.length - 1];
  if (key === "ArrowRight") return TABS[(i + 1) % TABS.length];
  if (key === "ArrowLeft") return TABS[(i - 1 + TABS.length) % TABS.length];
  return null;
}

// ------------------------------------------------------------------ the live windows table

/** Does window `w` match the filter: a number is a window number (every window's name holds
 * its number: "2" must not find 12 and 20), other text is looked for in its name, zone,
 * department or clerk; and the status when one is chosen. */
export function windowMatches(w, text, status) {
  if (status && w.status !== status) return false;
  const t = String(text || "").trim();
  if (!t) return true;
  if (/^\d+$/.test(t)) return String(w.window_no) === String(Number(t));
  return [w.name, w.department_name, w.zone, w.clerk && w.clerk.name].some((s) => s && s.includes(t));
}

/**
 * The windows grouped by department, groups in the order of their lowest window number (a
 * hall numbers a department's windows together, so this is the floor's order):
 * [{department, name, total, open, windows}] where total and open count every window of the
 * department and `windows` holds those the filter shows (none when the group is collapsed). A
 * group with nothing matching an active filter is left out.
 */
export function groupWindows(windows, { text = "", status = "", collapsed = new Set() } = {}) {
  const groups = new Map();
  const sorted = [...windows].sort((a, b) => a.window_no - b.window_no);
  for (const w of sorted) {
    const key = w.department || "";
    let g = groups.get(key);
    if (!g) {
      g = { department: key, name: w.department_name || key || "未分部门", total: 0, open: 0, matching: [] };
      groups.set(key, g);
    }
    g.total += 1;
    if (w.status === "open") g.open += 1;
    if (windowMatches(w, text, status)) g.matching.push(w);
  }
  const filtering = Boolean(String(text || "").trim() || status);
  const out = [];
  for (const g of groups.values()) {
    if (filtering && g.matching.length === 0) continue;
    const isCollapsed = collapsed.has(g.department);
    out.push({
      department: g.department,
      name: g.name,
      total: g.total,
      open: g.open,
      matched: g.matching.length,
      collapsed: isCollapsed,
      windows: isCollapsed ? [] : g.matching,
    });
  }
  return out;
}

/** The department group's heading: "开放 3 / 共 14 个窗口" (with the filter's count). */
export function groupSummary(g, filtering) {
  const base = `开放 ${g.open} / 共 ${g.total} 个窗口`;
  return filtering ? `${base}（筛选出 ${g.matched} 个）` : base;
}

/** The lowest free window number above every existing one (a new window's suggestion). */
export function nextWindowNo(windowNos) {
  let max = 0;
  for (const n of windowNos) if (n > max) max = n;
  return Math.min(999, max + 1);
}

// ------------------------------------------------------------------ a window's serving order
// The order is a list of positions; each position holds one queue or several served together
// (the API's `queues`: [["ga"], ["hj", "sb"]]). Every function returns a new order.

const copy = (order) => order.map((g) => [...g]);

export function addQueue(order, code) {
  if (!code || order.some((g) => g.includes(code))) return copy(order);
  return [...copy(order), [code]];
}

export function removeQueue(order, code) {
  return copy(order).map((g) => g.filter((c) => c !== code)).filter((g) => g.length);
}

/** Moves position `index` up (delta -1) or down (+1). */
export function movePosition(order, index, delta) {
  return moveItem(copy(order), index, delta);
}

/** Position `index` joins the one before it: their queues are served together. */
export function joinPrevious(order, index) {
  const out = copy(order);
  if (index <= 0 || index >= out.length) return out;
  out[index - 1] = [...out[index - 1], ...out[index]];
  out.splice(index, 1);
  return out;
}

/** A queue leaves its shared position for one of its own, right after it. */
export function detachQueue(order, code) {
  const out = copy(order);
  const i = out.findIndex((g) => g.includes(code));
  if (i < 0 || out[i].length < 2) return out;
  out[i] = out[i].filter((c) => c !== code);
  out.splice(i + 1, 0, [code]);
  return out;
}

/** "A 市场监管业务 → B 质监业务 + C 税务业务" for a confirmation or a table cell. */
export function orderText(order, queueNames) {
  return order.map((g) => g.map((c) => queueNames.get(c) || c).join(" + ")).join(" → ");
}

// ------------------------------------------------------------------ lists in the editors

/** A list with the element at `index` moved by `delta` (no change at the ends). */
export function moveItem(list, index, delta) {
  const out = [...list];
  const j = index + delta;
  if (index < 0 || index >= out.length || j < 0 || j >= out.length) return out;
  [out[index], out[j]] = [out[j], out[index]];
  return out;
}

export function removeAt(list, index) {
  return list.filter((_, i) => i !== index);
}

export const blankMaterial = () => ({ name: "", is_key: true, copies: 1, note: "" });
export const blankFee = () => ({ name: "", yuan: "", basis: "" });

// ------------------------------------------------------------------ money

/** "10", "10.5", "10.50", "¥1,200.00" -> cents; null when it is not an amount of yuan. */
export function yuanToCents(text) {
  const s = String(text ?? "").trim().replace(/^[¥￥]/, "").replace(/,/g, "");
  if (!/^\d+(\.\d{1,2})?$/.test(s)) return null;
  const [whole, frac = ""] = s.split(".");
  return Number(whole) * 100 + Number(frac.padEnd(2, "0"));
}

/** 1050 -> "10.50" */
export function centsToYuan(cents) {
  const c = Math.round(Number(cents) || 0);
  return `${Math.floor(c / 100)}.${String(c % 100).padStart(2, "0")}`;
}

// ------------------------------------------------------------------ the item editor

export const KIND_LABEL = Object.freeze({ immediate: "即办件", promised: "承诺件" });
export const UNIT_LABEL = Object.freeze({ working_day: "工作日", working_hour: "工作小时" });

/** An item as the API lists it -> the editor's state (fees in yuan, as typed). */
export function itemState(item) {
  return {
    name: item.name || "",
    department: item.department || "",
    category: item.category || "",
    queue: item.queue || "",
    kind: item.kind || "promised",
    limit_unit: item.limit_unit || "working_day",
    statutory_limit: item.statutory_limit ?? "",
    promised_limit: item.promised_limit ?? "",
    urgent_limit: item.urgent_limit ?? "",
    requires_signoff: !!item.requires_signoff,
    service_norm_minutes: item.service_norm_minutes ?? "",
    active: item.active !== false,
    materials: (item.materials || []).map((m) => ({
      name: m.name, is_key: m.is_key !== false, copies: m.copies || 1, note: m.note || "",
    })),
    fees: (item.fees || []).map((f) => ({ name: f.name, yuan: centsToYuan(f.amount_cents), basis: f.basis || "" })),
  };
}

const intOrNull = (v) => (v === "" || v === null || v === undefined ? null : Number(v));

/**
 * The editor's state -> the body of PUT /items/{code}, or {error: {field, message}} for what
 * the browser can tell before asking (an amount that is no amount, a blank row). The server
 * checks the rest (the limits' rules) and names the field it refuses.
 */
export function itemPayload(state) {
  const whole = (key, label, optional) => {
    const v = intOrNull(state[key]);
    if (v === null) return optional ? { value: null } : { error: { field: key, message: `请填写${label}` } };
    if (!Number.isInteger(v) || v < 0) return { error: { field: key, message: `${label}应为不小于 0 的整数` } };
    return { value: v };
  };
  const checks = {
    statutory_limit: whole("statutory_limit", "法定时限"),
    promised_limit: state.kind === "immediate" ? { value: 0 } : whole("promised_limit", "承诺时限"),
    urgent_limit: whole("urgent_limit", "急办时限", true),
    service_norm_minutes: whole("service_norm_minutes", "服务时长标准", true),
  };
  for (const c of Object.values(checks)) if (c.error) return { error: c.error };
  const materials = [];
  for (const [i, m] of state.materials.entries()) {
    if (!m.name.trim()) return { error: { field: `materials.${i}.name`, message: "请填写材料名称，或删除这一行" } };
    const copies = Number(m.copies);
    if (!Number.isInteger(copies) || copies < 1 || copies > 99) {
      return { error: { field: `materials.${i}.copies`, message: "份数应为 1–99 的整数" } };
    }
    materials.push({ name: m.name.trim(), is_key: !!m.is_key, copies, note: m.note.trim() });
  }
  const fees = [];
  for (const [i, f] of state.fees.entries()) {
    if (!f.name.trim()) return { error: { field: `fees.${i}.name`, message: "请填写收费名称，或删除这一行" } };
    const cents = yuanToCents(f.yuan);
    if (cents === null) return { error: { field: `fees.${i}.amount_cents`, message: "金额应为元，最多两位小数，如 10 或 12.50" } };
    fees.push({ name: f.name.trim(), amount_cents: cents, basis: f.basis.trim() });
  }
  return {
    body: {
      name: state.name.trim(),
      department: state.department,
      category: state.category.trim(),
      queue: state.queue || null,
      kind: state.kind,
      limit_unit: state.limit_unit,
      statutory_limit: checks.statutory_limit.value,
      promised_limit: checks.promised_limit.value,
      urgent_limit: checks.urgent_limit.value,
      requires_signoff: !!state.requires_signoff,
      service_norm_minutes: checks.service_norm_minutes.value,
      active: !!state.active,
      materials,
      fees,
    },
  };
}

const ITEM_FIELD_LABEL = {
  name: "名称", department: "部门", category: "类别", queue: "队列", kind: "办理类型",
  limit_unit: "时限单位", statutory_limit: "法定时限", promised_limit: "承诺时限",
  urgent_limit: "急办时限", requires_signoff: "领导签批", service_norm_minutes: "服务时长标准",
  active: "启用", materials: "材料", fees: "收费",
};

const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** What a version changed from the one before it, as labels: ["承诺时限", "材料"]. */
export function versionChanges(older, newer) {
  if (!older) return ["首次发布"];
  const norm = (d, k) => {
    if (k === "materials") return (d.materials || []).map((m) => [m.name, m.is_key, m.copies, m.note || ""]);
    if (k === "fees") return (d.fees || []).map((f) => [f.name, f.amount_cents, f.basis || ""]);
    return d[k];
  };
  return Object.keys(ITEM_FIELD_LABEL)
    .filter((k) => !same(norm(older, k), norm(newer, k)))
    .map((k) => ITEM_FIELD_LABEL[k]);
}

/** "即办" / "承诺 5 工作日（法定 20）". */
export function limitSummary(item) {
  const unit = UNIT_LABEL[item.limit_unit] || "";
  if (item.kind === "immediate") return `即办（法定 ${item.statutory_limit} ${unit}）`;
  return `承诺 ${item.promised_limit} ${unit}（法定 ${item.statutory_limit}）`;
}

/** Items matching a search: code, name, department or category, any word. */
export function itemMatches(item, text, department) {
  if (department && item.department !== department) return false;
  const t = String(text || "").trim();
  if (!t) return true;
  return [item.code, item.name, item.department_name, item.category].some((s) => s && s.includes(t));
}

// ------------------------------------------------------------------ staff

export const ROLE_LABEL = Object.freeze({
  clerk: "窗口人员", leader: "带班领导", supervisor: "督查", admin: "管理员",
});
export const DEPARTMENT_ROLES = Object.freeze(["clerk", "leader"]);

/** Staff grouped by department (in the order of `departments`), the hall's own staff
 * (supervisors, admins, no department) first: [{department, name, staff}]. */
export function groupStaff(staff, departments, text = "") {
  const t = String(text || "").trim();
  const match = (s) => !t || [s.username, s.name, s.phone, ROLE_LABEL[s.role]].some((v) => v && v.includes(t));
  const byDept = new Map([["", { department: "", name: "中心（不属于部门）", staff: [] }]]);
  for (const d of departments) byDept.set(d.code, { department: d.code, name: d.name, staff: [] });
  for (const s of staff) {
    if (!match(s)) continue;
    const key = s.department || "";
    if (!byDept.has(key)) byDept.set(key, { department: key, name: s.department_name || key, staff: [] });
    byDept.get(key).staff.push(s);
  }
  for (const g of byDept.values()) g.staff.sort((a, b) => a.username.localeCompare(b.username));
  return [...byDept.values()].filter((g) => g.staff.length);
}

/** What a change of a member of staff will do, said before it is made (null: nothing
 * beyond the change itself). The server ends their window sign-in and sessions when they are
 * disabled or their role or department changes. */
export function staffChangeEffect(before, after) {
  const name = before.name;
  if (before.active && !after.active) {
    return `停用后，${name} 立即退出所有已登录的屏幕${before.window_no ? `，并从 ${before.window_no} 号窗口签退` : ""}，之后无法登录。`;
  }
  if (before.role !== after.role || (before.department || null) !== (after.department || null)) {
    return `角色或部门改变后，${name} 立即退出所有已登录的屏幕${before.window_no ? `，并从 ${before.window_no} 号窗口签退` : ""}，须重新登录。`;
  }
  return null;
}

// ------------------------------------------------------------------ settings

/** ["09:00","12:00"] periods as typed -> the opening hours and rules of PUT /settings, or
 * {error}. (The PUT replaces every setting: context.js saveSettings adds the templates.) */
export function settingsPayload(s) {
  const periods = s.work_periods.filter(([a, b]) => a || b);
  if (!periods.length) return { error: { field: "work_periods", message: "至少需要一个工作时段" } };
  for (const [i, [a, b]] of periods.entries()) {
    if (!a || !b) return { error: { field: `work_periods.${i}`, message: "请填写时段的开始和结束时间" } };
    if (a >= b) return { error: { field: `work_periods.${i}`, message: "时段的结束须晚于开始" } };
  }
  const body = { work_periods: periods.map(([a, b]) => [a, b]), closes_at: s.closes_at };
  for (const k of ["no_show_recalls", "park_minutes", "signoff_wait_minutes", "supplement_notice_days",
    "supplement_warn_days", "rectification_days"]) {
    const v = Number(s[k]);
    if (s[k] === "" || !Number.isInteger(v)) return { error: { field: k, message: "请填写整数" } };
    body[k] = v;
  }
  return { body };
}

// ------------------------------------------------------------------ notice-line templates

export const TEMPLATES_MAX = 20;
export const TEMPLATE_MAX_CHARS = 500;

/** A template added at the end (blank: a row to type into), unless the list is full. */
export function addTemplate(list, text = "") {
  return list.length >= TEMPLATES_MAX ? [...list] : [...list, text];
}

/** A template's text replaced. */
export function setTemplate(list, index, text) {
  return list.map((t, i) => (i === index ? text : t));
}

/** The list as PUT /settings takes it (trimmed, blank rows dropped, the same text once), or
 * {error: {field, message}} naming the row. */
export function templatesPayload(list) {
  const out = [];
  for (const [i, raw] of list.entries()) {
    const t = String(raw ?? "").trim();
    if (!t) continue;
    if (t.length > TEMPLATE_MAX_CHARS) {
      return { error: { field: `notice_templates.${i}`, message: `第 ${i + 1} 条超过 ${TEMPLATE_MAX_CHARS} 字（现 ${t.length} 字）` } };
    }
    if (out.includes(t)) return { error: { field: `notice_templates.${i}`, message: `第 ${i + 1} 条与前面的模板相同` } };
    out.push(t);
  }
  if (out.length > TEMPLATES_MAX) return { error: { field: "notice_templates", message: `公告模板最多 ${TEMPLATES_MAX} 条` } };
  return { templates: out };
}

/** A template as a button's label: its first line, cut at `max` characters. */
export function templateLabel(text, max = 24) {
  const line = String(text || "").split("\n")[0].trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

// ------------------------------------------------------------------ spreadsheets

export const SHEET_KINDS = Object.freeze([
  { kind: "departments", label: "部门", columns: "部门编码、部门名称" },
  { kind: "queues", label: "队列", columns: "队列编码、名称、号码前缀、部门、服务时长标准（分钟）" },
  { kind: "windows", label: "窗口", columns: "窗口号、名称、部门、区域、队列（按顺序以 ; 分隔，同位以 + 连接）、优先规则" },
  { kind: "staff", label: "人员", columns: "用户名、姓名、角色、部门、手机、在岗" },
  { kind: "items", label: "事项", columns: "事项编码、事项名称、部门、类别、办理类型、时限单位、法定/承诺/急办时限、队列、需领导签批、服务时长标准、启用、材料、收费" },
]);

/** "xlsx" | "csv" from a file name, else null. */
export function sheetFormat(filename) {
  const m = /\.(xlsx|csv)$/i.exec(String(filename || ""));
  return m ? m[1].toLowerCase() : null;
}

/** Bytes -> base64, in chunks (String.fromCharCode takes only so many arguments). */
export function bytesToBase64(bytes) {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = "";
  const CHUNK = 0x8000;
  for (let i = 0; i < u8.length; i += CHUNK) {
    binary += String.fromCharCode.apply(null, u8.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

// The spreadsheet's column headers by the API's field names: a refusal from the domain names
// its field in English (department), one from the sheet's own checks the header (部门).
const COLUMN_OF_FIELD = {
  departments: { code: "部门编码", name: "部门名称" },
  queues: { code: "队列编码", name: "名称", prefix: "号码前缀", department: "部门", norm_minutes: "服务时长标准（分钟）" },
  windows: { window_no: "窗口号", name: "名称", department: "部门", zone: "区域", queues: "队列", priority_rule: "优先规则" },
  staff: { username: "用户名", name: "姓名", role: "角色", department: "部门", phone: "手机", active: "在岗" },
  items: {
    code: "事项编码", name: "事项名称", department: "部门", category: "类别", kind: "办理类型",
    limit_unit: "时限单位", statutory_limit: "法定时限", promised_limit: "承诺时限", urgent_limit: "急办时限",
    queue: "队列", requires_signoff: "需领导签批", service_norm_minutes: "服务时长标准（分钟）", active: "启用",
    materials: "材料", fees: "收费",
  },
};

/** An import_refused answer's rows, in row order: [{row, column, message}], the column as the
 * spreadsheet heads it. */
export function refusedRows(error, kind) {
  const names = COLUMN_OF_FIELD[kind] || {};
  return [...((error && error.rows) || [])]
    .sort((a, b) => a.row - b.row)
    .map((r) => ({ row: r.row, column: (r.column && (names[r.column] || r.column)) || "—", message: r.message }));
}

// ------------------------------------------------------------------ errors

/** The names a form control may carry for an error's field, most precise first:
 * "materials.0.name" -> ["materials.0.name", "materials.0", "materials"]. */
export function fieldCandidates(field) {
  if (!field) return [];
  const parts = String(field).split(".");
  const out = [];
  for (let n = parts.length; n > 0; n--) out.push(parts.slice(0, n).join("."));
  return out;
}
