"""Supervision queries: the hall's current rule set, the cases whose next alarm is due, and
the alarms themselves."""

from __future__ import annotations

LATEST_RULES = """
select version, rules from supervision_rules where hall_id = $1 order by version desc limit 1
"""

ANY_DUE = """
select exists (select 1 from service_case where hall_id = $1 and next_alarm_at <= $2)
"""

# Locked, and skipped when another owner (or a command on the case) holds one: it is taken on
# the next tick.
DUE_CASES = """
select c.id, c.case_no, c.clock, c.department_id, c.window_id, c.clerk_id, c.accepted_at,
       w.window_no, d.code as department_code, i.name as item_name,
       coalesce(array(select a.level from alarm a where a.case_id = c.id
                      and a.kind = 'case_deadline'), '{}') as fired
from service_case c join service_window w on w.id = c.window_id
join department d on d.id = c.department_id join item i on i.id = c.item_id
where c.hall_id = $1 and c.next_alarm_at <= $2
order by c.next_alarm_at
limit $3
for update of c skip locked
"""

FIRED_LEVELS = """
select coalesce(array_agg(level), '{}') from alarm where case_id = $1 and kind = 'case_deadline'
"""

# One alarm once per hall, kind, level and subject; nothing comes back when it was raised
# already. The rest is what its event, its SMS and the wall show.
INSERT_ALARM = """
with a as (
    insert into alarm (hall_id, kind, level, subject, case_id, ticket_id, department_id,
                       window_id, staff_id, rule_version, due_at, issued_at, raised_by_hall,
                       detail)
    values ($1::int, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, coalesce($13::int, $1::int),
            $14)
    on conflict (hall_id, kind, level, subject) do nothing
    returning id, department_id, window_id, staff_id
)
select a.id, d.code as department_code, w.window_no, s.phone as staff_phone
from a left join department d on d.id = a.department_id
left join service_window w on w.id = a.window_id left join staff s on s.id = a.staff_id
"""

SET_NEXT_ALARM = "update service_case set next_alarm_at = $2, next_alarm_level = $3 where id = $1"
