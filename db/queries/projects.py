"""一表通 projects (issue 10): the project row, its stage cases, its one material store (what its
stage cases hold as handed in) and its fees; and the credit blacklist that bars 容缺."""

from __future__ import annotations

NEXT_PROJECT_NUMBER = """
insert into project_year (hall_id, year, last_number) values ($1, $2, 1)
on conflict (hall_id, year) do update set last_number = project_year.last_number + 1
returning last_number
"""

INSERT_PROJECT = """
insert into project (hall_id, project_no, name, workflow_code, workflow_version, applicant_name,
                     applicant_phone, applicant_id_no, state, opened_at, opened_by, window_id)
values ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9, $10, $11)
returning id
"""

_COLS = """
p.*, h.code as hall_code, h.name as hall_name, h.parent_id as hall_parent_id,
w.window_no, st.display_name as opened_by_name
from project p join hall h on h.id = p.hall_id
join service_window w on w.id = p.window_id
join staff st on st.id = p.opened_by
"""

PROJECT_BY_NO = f"select {_COLS} where p.project_no = $1"
PROJECT_BY_ID = f"select {_COLS} where p.id = $1"
# a later stage's intake: one at a time per project
LOCK_PROJECT = "select id from project where project_no = $1 for update"

# with each project's latest standing stage case, in the one statement
LIST = f"""
select cur.*, {_COLS}
left join lateral (
    select c.stage_no as cur_stage_no, c.case_no as cur_case_no, c.state as cur_case_state
    from service_case c
    where c.project_id = p.id and c.state not in ('not_accepted', 'withdrawn')
    order by c.stage_no desc limit 1
) cur on true
where p.hall_id = any($1::int[]) and ($2::text is null or p.state = $2)
order by p.opened_at desc, p.id desc
limit $3
"""

# The stage cases that stand (a stage not accepted or withdrawn may be taken again)
STAGE_CASES = """
select c.id, c.case_no, c.query_code, c.stage_no, c.state, c.accepted_at, c.completed_at,
       c.delivered_at, c.clock, c.deadline, c.visits, c.department_id
from service_case c
where c.project_id = $1 and c.state not in ('not_accepted', 'withdrawn')
order by c.stage_no
"""

STAGE_CASE = "select case_no, stage_no, state from service_case where id = $1"

COUNTY_HALLS = "select id from hall where parent_id = $1"

# The project's one material store: every material a standing stage case holds, with the
# stage that took it (a material is requested by one stage only, so a name is there once).
STORE = """
select m.name, m.status, m.deferred, m.updated_at, c.stage_no, c.case_no, c.accepted_at
from case_material m join service_case c on c.id = m.case_id
where c.project_id = $1 and c.state not in ('not_accepted', 'withdrawn')
order by c.stage_no, m.position
"""

FEES = """
select f.name, f.amount_cents, f.receipt_no, f.paid_at, w.window_no, c.case_no, c.stage_no
from case_fee f join service_case c on c.id = f.case_id
join service_window w on w.id = f.window_id
where c.project_id = $1
order by f.paid_at, f.id
"""

SET_COMPLETED = """
update project set state = 'completed', completed_at = $2 where id = $1 and state = 'active'
"""

# ------------------------------------------------------------------------------ credit

# a city and its county halls keep one list, on the city's row
CREDIT_HALL = "select coalesce(parent_id, id) from hall where id = $1"

CREDIT_FLAG = """
select blacklisted, reason from credit_flag where hall_id = $1 and applicant_key = $2
"""

SET_CREDIT_FLAG = """
insert into credit_flag (hall_id, applicant_key, applicant_name, blacklisted, reason, set_at,
                         set_by)
values ($1, $2, $3, $4, $5, $6, $7)
on conflict (hall_id, applicant_key) do update
set applicant_name = excluded.applicant_name, blacklisted = excluded.blacklisted,
    reason = excluded.reason, set_at = excluded.set_at, set_by = excluded.set_by
"""

CREDIT_FLAGS = """
select f.applicant_key, f.applicant_name, f.blacklisted, f.reason, f.set_at,
       s.display_name as set_by
from credit_flag f left join staff s on s.id = f.set_by
where f.hall_id = $1 and ($2 or f.blacklisted)
order by f.set_at desc
limit 500
"""
