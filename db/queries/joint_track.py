"""The citizen's /track of a joint case (联办): its steps with their departments, and nothing of
who worked them (no claimer, no window, no result)."""

from __future__ import annotations

TRACK_STEPS = """
select s.code, s.name, s.stage_no, s.mode, s.state, s.after, s.due_at, s.done_at,
       d.name as department_name
from joint_step s join department d on d.id = s.department_id
where s.case_id = $1
order by s.stage_no, s.id
"""
