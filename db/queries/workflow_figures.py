"""The figures of a workflow's joint cases (多证联办 成效, issue 10): the cases of hall $1 accepted
under workflow code $2 in [$3, $4] (local days, both included), and their steps. The working
time needs the hall calendar, so the rows come back per case and per step and the domain
(server/domain/workflow_figures.py) computes averages, percentiles and distributions."""

from __future__ import annotations

_IN_RANGE = """
c.hall_id = $1 and c.workflow_code = $2 and c.parent_id is null
  and c.state <> 'not_accepted'
  and c.accepted_at >= ($3::date)::timestamp at time zone 'Asia/Shanghai'
  and c.accepted_at < ($4::date + 1)::timestamp at time zone 'Asia/Shanghai'
"""

# One row per case; the materials requested are the rows of its intake list (case_material).
CASES = f"""
select c.id, c.state, c.accepted_at, c.completed_at, c.visits, c.clock,
       (select count(*) from case_material m where m.case_id = c.id)::int as materials
from service_case c
where {_IN_RANGE}
order by c.accepted_at, c.id
"""

# The steps of those cases: the settled ones with the instants their elapsed time runs between.
STEPS = f"""
select s.case_id, s.stage_no, s.code, s.name, d.code as department, s.mode, s.state,
       s.ready_at, s.due_at, s.done_at
from joint_step s join department d on d.id = s.department_id
join service_case c on c.id = s.case_id
where {_IN_RANGE}
order by s.stage_no, s.id
"""

# 一表通: the projects of the flow opened in the range (a project is the unit its applicant
# sees), with how many materials its standing stage cases asked for, and how many names
_PROJECT_RANGE = """
p.hall_id = $1 and p.workflow_code = $2
  and p.opened_at >= ($3::date)::timestamp at time zone 'Asia/Shanghai'
  and p.opened_at < ($4::date + 1)::timestamp at time zone 'Asia/Shanghai'
"""

PROJECTS = f"""
select p.id, p.state,
       (select count(*) from case_material m join service_case s on s.id = m.case_id
        where s.project_id = p.id and s.state not in ('not_accepted', 'withdrawn'))::int
           as materials,
       (select count(distinct m.name) from case_material m join service_case s on s.id = m.case_id
        where s.project_id = p.id and s.state not in ('not_accepted', 'withdrawn'))::int
           as distinct_materials
from project p
where {_PROJECT_RANGE}
order by p.opened_at, p.id
"""

# Their standing stage cases: the project's clock is the working time these ran.
PROJECT_STAGES = f"""
select c.project_id, c.stage_no, c.state, c.accepted_at, c.completed_at, c.visits, c.clock
from service_case c join project p on p.id = c.project_id
where {_PROJECT_RANGE} and c.state not in ('not_accepted', 'withdrawn')
order by c.project_id, c.stage_no
"""
