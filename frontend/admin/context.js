// What every tab of the admin screen shares: the hall, the signed-in admin, and the hall's
// departments and queues (read on load and again after the admin changes them).
import { api } from "../shared/api.js";

export const ctx = {
  hall: null,          // {code, name}
  actor: null,
  departments: [],     // [{code, name, windows, items}]
  queues: [],          // [{code, name, prefix, department_code, service_norm_minutes}]
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
