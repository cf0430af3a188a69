"""Supervision queries: the hall's current rule set, the cases whose next alarm is due, and
the alarms themselves."""

from __future__ import annotations

# The hall's latest rule set (none: the defaults), and the hall's own §32 period, which the
# rules take unless they say otherwise (the clerk's warning reads the same, db/queries/cases.py).
LATEST_RULES = """
select r.version, r.rules, h.supplement_notice_days
from hall h left join lateral (
    select version, rules from supervision_rules where hall_id = h.id
    order by version desc limit 1) r on true
where h.id = $1
"""

# The hall's first planned alarm instant. Not "exists (... next_alarm_at <= $2)": a prepared
# statement soon runs on PostgreSQL's generic plan, which for that reads every case (92 ms at
# 100,000 open cases, twice a second); min() is one step down the index whatever the plan.
NEXT_DUE = """
select min(next_alarm_at) from service_case where hall_id = $1 and next_alarm_at is not null
"""

# What a case's alarms are computed from (alarm_ladder.CaseFacts): its clock and its clock
# events (the step's start replayed with the calendar as it is now), when it entered its state,
# whether materials are missing that were not deferred (容缺), its first supplement notice, and
# the alarms it raised already (kind, level, subject).
_CASE_FACTS = """
c.id, c.case_no, c.state, c.clock, c.department_id, c.window_id, c.clerk_id, c.accepted_at,
w.window_no, d.code as department_code, i.code as item_code, i.name as item_name,
coalesce((select max(h.at) from case_history h
          where h.case_id = c.id and h.from_state is distinct from h.to_state),
         c.accepted_at) as state_since,
array(select h.clock from case_history h where h.case_id = c.id and h.clock is not null
      order by h.id) as events,
exists (select 1 from case_material m where m.case_id = c.id
        and m.status in ('missing', 'faulty') and not m.deferred) as lacking,
(select min(s.issued_at) from supplement_notice s where s.case_id = c.id) as first_notice_at,
array(select jsonb_build_array(a.kind, a.level, a.subject) from alarm a
      where a.case_id = c.id) as fired
from service_case c join service_window w on w.id = c.window_id
join department d on d.id = c.department_id join item i on i.id = c.item_id
"""

# Due cases without a plan (scheduled before plans existed, or loaded in bulk): planned first.
DUE_UNPLANNED = """
select c.id, c.accepted_at from service_case c
where c.hall_id = $1 and c.next_alarm_at <= $2 and c.alarm_plan is null
order by c.next_alarm_at limit $3
for update skip locked
"""

# The due part of many cases' plans raised in one statement (db/functions/case_alarms.sql).
FIRE_CASE_ALARMS = "select * from hq_fire_case_alarms($1, $2, $3, $4)"

CASE_FACTS = f"select {_CASE_FACTS} where c.id = $1"

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

# The cases with an alarm planned from $2 on: a calendar change from that day moves them.
PLANNED_FROM = """
select coalesce(array_agg(c.id), '{}') from service_case c
where c.hall_id = $1 and c.next_alarm_at is not null
  and exists (select 1 from jsonb_array_elements(c.alarm_plan) e
              where (e->>'due_at')::timestamptz >= $2)
"""

# The plan and its first rung: what the timers' probe (NEXT_DUE) finds by the index.
SET_ALARM_PLAN = """
update service_case
set alarm_plan = $2::jsonb,
    next_alarm_at = ($2::jsonb->0->>'due_at')::timestamptz,
    next_alarm_level = $2::jsonb->0->>'level',
    next_alarm_kind = $2::jsonb->0->>'kind'
where id = $1
"""

CASE_FOR_ALARM = """
select c.id, c.case_no, c.hall_id, c.department_id, c.window_id, c.clerk_id, i.name as item_name
from service_case c join item i on i.id = c.item_id where c.id = $1
"""

# Every case of the hall whose clock is not stopped, with its facts: new rules reschedule them.
HALL_OPEN_CASES = f"""
select {_CASE_FACTS}
where c.hall_id = $1 and c.clock_status <> 'stopped'
for update of c
"""

SET_NEXT_ALARMS = """
update service_case c set next_alarm_at = t.at, next_alarm_level = t.level,
    next_alarm_kind = t.kind
from unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[]) as t(id, at, level, kind)
where c.id = t.id
"""

# Rule sets are published one at a time per hall (the next version is the latest + 1).
LOCK_RULES = "select pg_advisory_xact_lock(hashtext('supervision_rules'), $1)"

RULES_NOW = """
select r.version, r.rules, r.created_at, s.display_name as created_by
from supervision_rules r left join staff s on s.id = r.created_by
where r.hall_id = $1 order by r.version desc limit 1
"""

INSERT_RULES = """
insert into supervision_rules (hall_id, version, rules, created_at, created_by)
values ($1, (select coalesce(max(version), 0) + 1 from supervision_rules where hall_id = $1),
        $2, $3, $4)
returning version
"""

# Each item's promised limit, in its unit: step limits may not add up to more.
PROMISED_LIMITS = "select code, name, promised_limit from item where hall_id = $1"
