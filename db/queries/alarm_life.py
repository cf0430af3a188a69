"""An alarm's life: the alarm locked with what its commands authorize against (hall, city,
department, window), its changes, its append-only action log, what a manual alarm is raised
on, and the 督办s whose answer is overdue."""

from __future__ import annotations

# The alarm and its hall's place under a city: the scope of who may act on it.
ALARM_FOR_UPDATE = """
select a.id, a.hall_id, h.parent_id as hall_parent_id, h.level as hall_level, a.kind, a.level,
       a.subject, a.state, a.case_id, a.department_id, a.window_id, a.staff_id, a.raised_by_hall,
       a.acknowledged_at, a.rectify_due_at, a.answer, a.answered_at, a.appeal, a.appealed_at,
       a.closed_at, a.detail, d.code as department_code, w.window_no
from alarm a join hall h on h.id = a.hall_id
left join department d on d.id = a.department_id
left join service_window w on w.id = a.window_id
where a.id = $1
for update of a
"""

# One statement for every change a command makes to the row: each column is set only when
# its argument says so (the `set_*` flags), so a null can also be written (a decided appeal).
UPDATE_ALARM = """
update alarm set
    state = $2,
    acknowledged_at = case when $3::boolean then $4 else acknowledged_at end,
    acknowledged_by = case when $3::boolean then $5 else acknowledged_by end,
    rectify_due_at = coalesce($6, rectify_due_at),
    answer = coalesce($7, answer),
    answered_at = coalesce($8, answered_at),
    appeal = coalesce($9, appeal),
    appealed_at = case when $10::boolean then $11 else appealed_at end,
    closed_at = coalesce($12, closed_at),
    detail = detail || $13::jsonb
where id = $1
"""

INSERT_ACTION = """
insert into alarm_action (alarm_id, action, actor_kind, actor_id, hall_id, at, note, detail)
values ($1, $2, $3, $4, $5, $6, $7, $8)
"""

# A manual alarm on a case: whose it is (department, window, handling clerk).
CASE_FOR_ALARM = """
select c.id, c.hall_id, c.case_no, c.department_id, c.window_id, c.clerk_id,
       i.name as item_name
from service_case c join item i on i.id = c.item_id
where c.id = $1
"""

# ... or on a window: its department and the clerk signed in at it, if any.
WINDOW_FOR_ALARM = """
select w.id, w.window_no, w.department_id,
       (select ws.staff_id from window_signin ws where ws.window_id = w.id limit 1) as clerk_id
from service_window w
where w.hall_id = $1 and w.window_no = $2
"""

# 督办s past their answer instant with no answer and no overdue alarm yet. The range is the
# partial index alarm_rectify_due; the anti-join is one probe of alarm_once per row in it.
_OVERDUE = """
where a.hall_id = $1 and a.state = 'rectifying' and a.answered_at is null
  and a.rectify_due_at <= $2
  and not exists (select 1 from alarm o
                  where o.hall_id = a.hall_id and o.kind = 'rectification_overdue'
                    and o.level = 'red' and o.subject = 'alarm:' || a.id)
"""

ANY_OVERDUE = "select exists (select 1 from alarm a " + _OVERDUE + ")"

# Locked and skipped when another owner (or a command on the alarm) holds one: taken on the
# next tick.
OVERDUE = (
    """
select a.id, a.kind, a.level, a.subject, a.case_id, a.department_id, a.window_id, a.staff_id,
       a.rectify_due_at, c.case_no, i.name as item_name
from alarm a left join service_case c on c.id = a.case_id left join item i on i.id = c.item_id
"""
    + _OVERDUE
    + """
order by a.rectify_due_at
limit $3
for update of a skip locked
"""
)
