// 一表通项目 on the supervision wall, without a DOM (node tests it): the hall's active projects
// (GET /api/halls/{hall}/projects?state=active; a city's with its county halls'), kept live by
// project.changed, which reaches the project's hall and, for a county's, its city.
import { CASE_STATE_NAMES, stageLabel } from "../project/model.js";

/**
 * The list after a project.changed payload: the project's row moved on (a new one on top when
 * a project's first stage is accepted), a completed project gone. `hallNames` names the halls
 * (code -> name) for a row the list did not hold. Returns a new list.
 */
export function applyProjectChange(list, d, hallNames = {}) {
  const rest = list.filter((p) => p.project_no !== d.project_no);
  if (d.state !== "active") return rest;
  const old = list.find((p) => p.project_no === d.project_no);
  const row = {
    ...(old || { hall_name: hallNames[d.hall] || d.hall, opened_at: null }),
    project_id: d.project_id,
    project_no: d.project_no,
    hall: d.hall,
    name: d.name,
    state: d.state,
    stages_total: d.stages_total,
    stage_no: d.stage_no,
    stage_name: d.stage_name,
    case_no: d.case_no,
    case_state: d.case_state,
  };
  return old ? list.map((p) => (p.project_no === d.project_no ? row : p)) : [row, ...rest];
}

/** The texts of one row. */
export function projectRow(p, homeHall = null) {
  return {
    no: p.project_no,
    name: p.name,
    hall: p.hall !== homeHall ? p.hall_name || p.hall : "",
    stage: stageLabel(p.stage_no, p.stages_total, p.stage_name),
    caseState: p.case_state ? CASE_STATE_NAMES[p.case_state] || p.case_state : "—",
    href: `/project?no=${encodeURIComponent(p.project_no)}`,
  };
}
