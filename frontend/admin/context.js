// What every tab of the admin screen shares: the hall, the signed-in admin, the hall's
// departments and queues (read on load and again after the admin changes them), the hall's day,
// and its settings (the notice card offers their templates).
import { api } from "../shared/api.js";

export const ctx = {
  hall: null,          // {code, name}
  actor: null,
  departments: [],     // [{code, name, windows, items}]
  queues: [],          // [{code, name, prefix, department_code, service_norm_minutes}]
  today: "",           // the hall's day by the server's clock (YYYY-MM-DD), never the browser's
  settings: null,      // GET /settings
};

export const base = () => `/api/halls/${encodeURIComponent(ctx.hall.code)}`;

export async function loadStructure() {
  const [{ departments }, { queues }] = await Promise.all([
    api(`${base()}/departments`), api(`${base()}/queues`),
  ]);
  ctx.departments = departments;
  ctx.queues = queues;
}

export const departmentOptions = (blank) => [
  ...(blank ? [["", blank]] : []),
  ...ctx.departments.map((d) => [d.code, `${d.name}（${d.code}）`]),
];

export const queueNames = () => new Map(ctx.queues.map((q) => [q.code, `${q.prefix} ${q.name}`]));

export async function loadSettings() {
  ctx.settings = await api(`${base()}/settings`);
  return ctx.settings;
}

/** PUT /settings replaces the whole settings: `change` goes over them as the server holds them
 * now (read again first), so one part saved does not undo another saved meanwhile. */
export async function saveSettings(change) {
  const { is_demo: _demo, ...current } = await loadSettings();
  const res = await api(`${base()}/settings`, { method: "PUT", body: { ...current, ...change } });
  const { changes, ...saved } = res;
  ctx.settings = { ...ctx.settings, ...saved };
  return res;
}
