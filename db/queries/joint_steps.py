"""Joint steps (联办, issue 10): each step of a joint case, worked by a window of its department.
Claiming is one conditional UPDATE, so two clerks claiming at once cannot both win."""

from __future__ import annotations

DEPARTMENT_IDS = "select code, id from department where hall_id = $1"
DEPARTMENT_CODE = "select code from department where id = $1"

SET_CASE_WORKFLOW = """
update service_case set workflow_code = $2, workflow_version = $3, project_id = $4, stage_no = $5
where id = $1
"""

INSERT_STEP = """
insert into joint_step (hall_id, case_id, stage_no, code, name, department_id, mode,
                        limit_amount, limit_unit, after, state, ready_at, due_at, materials)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
returning id
"""

_COLS = """
s.*, d.code as department_code, d.name as department_name, c.case_no, c.state as case_state,
c.workflow_code, h.parent_id as hall_parent_id, st.display_name as claimed_by_name,
w.window_no as claimed_window_no,
-- what the step still waits for from the applicant (容缺): its materials not handed in yet
array(select m.name from case_material m
      where m.case_id = s.case_id and m.status in ('missing', 'faulty')
        and m.name = any(s.materials) order by m.position) as blocked_by
from joint_step s join department d on d.id = s.department_id
join service_case c on c.id = s.case_id join hall h on h.id = s.hall_id
left join staff st on st.id = s.claimed_by
left join service_window w on w.id = s.claimed_window
"""

STEP = f"select {_COLS} where s.id = $1"
STEPS_OF_CASE = f"select {_COLS} where s.case_id = $1 order by s.stage_no, s.id"

# The one statement that decides who claims: whoever's UPDATE finds the step still ready.
CLAIM = """
update joint_step set state = 'claimed', claimed_by = $2, claimed_window = $3, claimed_at = $4
where id = $1 and state = 'ready'
returning id
"""

# The parent case locked first: completions of one case's steps are serialised, so the last one
# sees every other step done.
LOCK_CASE = "select id, state from service_case where id = $1 for update"

COMPLETE = """
update joint_step set state = 'done', done_at = $3, result = $4
where id = $1 and state = 'claimed' and claimed_by = $2
returning id
"""

MAKE_READY = """
update joint_step set state = 'ready', ready_at = $2, due_at = $3
where id = $1 and state = 'waiting'
"""

INBOX = f"""
select {_COLS}
where s.hall_id = $1 and s.state in ('ready', 'claimed')
  and ($2::int is null or s.department_id = $2)
order by s.due_at, s.id
limit 500
"""

CASE_FOR_STEPS = """
select c.id, c.hall_id, c.department_id, h.parent_id as hall_parent_id
from service_case c join hall h on h.id = c.hall_id where c.id = $1
"""

# Supervision's look, twice a second: one small probe on the partial index joint_step_due.
ANY_OVERRUN = """
select exists (select 1 from joint_step
               where hall_id = $1 and state in ('ready', 'claimed') and not overrun_alarmed
                 and due_at <= $2)
"""

DUE_OVERRUNS = f"""
select {_COLS}
where s.hall_id = $1 and s.state in ('ready', 'claimed') and not s.overrun_alarmed
  and s.due_at <= $2
order by s.due_at, s.id
limit $3
"""

# 超时默许: a 联审 department silent past its due instant has consented.
CONSENT = """
update joint_step set state = 'consented', done_at = $2, result = $3, overrun_alarmed = true
where id = $1 and state in ('ready', 'claimed') and not overrun_alarmed
returning id
"""

MARK_OVERRUN = """
update joint_step set overrun_alarmed = true
where id = $1 and state in ('ready', 'claimed') and not overrun_alarmed
returning id
"""
