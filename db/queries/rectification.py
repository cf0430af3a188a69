"""整改 (issue 11): a bad review's rectification task, its life (verify, rectify, call back,
close, appeal and the supervisor's decision), its timeline, the hall's rectification days, and
the tasks whose due instant has passed (the overdue timer's probe and batch)."""

from __future__ import annotations

RECTIFICATION_DAYS = "select rectification_days from hall where id = $1"

SET_RECTIFICATION_DAYS = "update hall set rectification_days = $2 where id = $1"

INSERT_RECTIFICATION = """
insert into rectification (hall_id, rating_id, department_id, window_id, state, opened_at, due_at)
values ($1, $2, $3, $4, 'open', $5, $6)
returning id
"""

# The task with what its commands authorize against (hall, city, department) and the rating it
# follows (no citizen identity: the rating holds none).
_TASK = """
select r.*, h.parent_id as hall_parent_id, h.code as hall_code, d.code as department_code,
       d.name as department_name, w.window_no, g.level, g.reasons, g.comment, g.channel,
       g.real_name, g.rated_at, g.excluded, g.case_id, split_part(g.subject, ':', 1) as subject_kind,
       c.case_no, i.name as item_name
from rectification r
join hall h on h.id = r.hall_id
join department d on d.id = r.department_id
join rating g on g.id = r.rating_id
left join service_window w on w.id = r.window_id
left join service_case c on c.id = g.case_id
left join item i on i.id = c.item_id
"""

TASK = _TASK + "where r.id = $1"
TASK_FOR_UPDATE = _TASK + "where r.id = $1 for update of r"

VERIFY = """
update rectification set state = $2, verified_at = $3, verify_note = $4 where id = $1
"""
RECTIFY = """
update rectification set state = $2, rectified_at = $3, rectify_note = $4 where id = $1
"""
CALL_BACK = """
update rectification
set state = $2, callback_at = $3, callback_reached = $4, callback_note = $5,
    followup_level = coalesce($6, followup_level)
where id = $1
"""
CLOSE = "update rectification set state = $2, closed_at = $3 where id = $1"
APPEAL = """
update rectification set appeal_reason = $2, appealed_at = $3 where id = $1
"""
# the decision; a rejected appeal gives the task back the time it was held ($7: the new due)
DECIDE = """
update rectification
set state = $2, appeal_decision = $3, decided_by = $4, decided_at = $5, decision_note = $6,
    due_at = $7
where id = $1
"""
EXCLUDE_RATING = "update rating set excluded = true where id = $1"

INSERT_ACTION = """
insert into rectification_action
    (rectification_id, action, actor_kind, actor_id, hall_id, at, note, detail)
values ($1, $2, $3, $4, $5, $6, $7, $8)
"""

ACTIONS = """
select x.action, x.actor_kind, x.at, x.note, x.detail, s.display_name as actor_name, s.role
from rectification_action x left join staff s on x.actor_kind = 'staff' and s.id = x.actor_id
where x.rectification_id = $1
order by x.id
"""

# $2 department (optional), $3 state filter: a state, 'active' (not closed or excluded) or
# 'appealed' (an appeal waiting for the decision); $4 the limit
LIST = (
    _TASK
    + """
where r.hall_id = $1
  and ($2::int is null or r.department_id = $2)
  and (
      $3::text is null
      or ($3 = 'active' and r.state not in ('closed', 'excluded'))
      or ($3 = 'appealed' and r.appealed_at is not null and r.appeal_decision is null)
      or r.state = $3
  )
order by r.due_at, r.id
limit $4
"""
)

# The call-back rate (回访率): of the real-name bad reviews (the hall can call back the phone
# the invitation went to) not excluded, how many were reached on a call-back.
CALLBACK_RATE = """
select count(*) filter (where g.real_name) as real_name,
       count(*) filter (where g.real_name and r.callback_reached) as reached
from rectification r join rating g on g.id = r.rating_id
where r.hall_id = $1 and r.state <> 'excluded' and ($2::int is null or r.department_id = $2)
"""

# The overdue timer: one probe on the partial index rectification_open, then the due tasks
# locked (skip locked: a command holding one finishes first, the next look takes it). A task
# whose appeal waits for a decision is held.
ANY_OVERDUE = """
select exists (
    select 1 from rectification
    where hall_id = $1 and due_at <= $2
      and state not in ('closed', 'excluded') and not overdue_alarmed
      and (appealed_at is null or appeal_decision is not null)
)
"""
OVERDUE = (
    _TASK
    + """
where r.hall_id = $1 and r.due_at <= $2
  and r.state not in ('closed', 'excluded') and not r.overdue_alarmed
  and (r.appealed_at is null or r.appeal_decision is not null)
order by r.due_at, r.id
limit $3
for update of r skip locked
"""
)
MARK_ALARMED = "update rectification set overdue_alarmed = true where id = $1"
