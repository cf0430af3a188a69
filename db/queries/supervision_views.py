"""SQL of the supervision wall's reads (server/domain/supervision_views.py): alarms with what the
wall shows of them, the hall live (overdue and near-due cases, longest waits, windows, waiting
sign-offs), a city's county halls in totals, and a month's alarms for the scoring. The rates
are case_metrics' own query (db/queries/case_metrics.py), not repeated here."""

from __future__ import annotations

from typing import Final

OPEN_STATES: Final = ("issued", "rectifying")

# An alarm as the wall, the terminal and the leader's page read it. appeal_pending: appealed and
# no supervisor's decision yet (a decision clears appealed_at: server/domain/alarm_life.py).
_ALARM_COLS = """
a.id, a.kind, a.level, a.subject, a.state, a.case_id, a.ticket_id, a.rule_version, a.detail,
a.due_at, a.issued_at, a.acknowledged_at, a.rectify_due_at, a.answer, a.answered_at,
a.appeal, a.appealed_at, a.closed_at, a.hall_id, a.department_id, a.window_id,
h.code as hall_code, h.parent_id as hall_parent_id, rh.code as raised_by_hall,
c.case_no, i.name as item_name, t.ticket_no,
d.code as department_code, d.name as department_name, w.window_no,
ack.display_name as acknowledged_by_name,
a.appealed_at is not null as appeal_pending
"""
_ALARM_FROM = """
from alarm a join hall h on h.id = a.hall_id join hall rh on rh.id = a.raised_by_hall
left join service_case c on c.id = a.case_id left join item i on i.id = c.item_id
left join ticket t on t.id = a.ticket_id
left join department d on d.id = a.department_id left join service_window w on w.id = a.window_id
left join staff ack on ack.id = a.acknowledged_by
"""

ALARM_BY_ID = f"select {_ALARM_COLS} {_ALARM_FROM} where a.id = $1"

# $2 open only; $3 department, $4 window, $5 kind, $6 case: null for any; newest first
ALARMS = f"""
select {_ALARM_COLS} {_ALARM_FROM}
where a.hall_id = $1
  and (not $2::bool or a.state in ('issued', 'rectifying'))
  and ($3::int is null or a.department_id = $3)
  and ($4::int is null or a.window_id = $4)
  and ($5::text is null or a.kind = $5)
  and ($6::bigint is null or a.case_id = $6)
order by a.issued_at desc, a.id desc
limit $7
"""

ALARM_ACTIONS = """
select x.id, x.action, x.actor_kind, x.at, x.note, x.detail, st.display_name as actor_name,
       st.role as actor_role, h.code as actor_hall
from alarm_action x left join staff st on x.actor_kind = 'staff' and st.id = x.actor_id
join hall h on h.id = x.hall_id
where x.alarm_id = $1 order by x.id
"""

# the open alarms per department and level, and how many nobody has acknowledged yet
OPEN_ALARM_COUNTS = """
select d.code as department, a.level, count(*)::int as n,
       count(*) filter (where a.acknowledged_at is null)::int as unacknowledged
from alarm a left join department d on d.id = a.department_id
where a.hall_id = $1 and a.state in ('issued', 'rectifying')
group by d.code, a.level
"""

_CASE_COLS = """
c.id, c.case_no, c.kind, c.state, c.clock, c.deadline, c.next_alarm_at, c.next_alarm_level,
c.accepted_at, i.name as item_name, d.code as department_code, d.name as department_name,
w.window_no, st.display_name as clerk_name
"""
_CASE_FROM = """
from service_case c join item i on i.id = c.item_id join department d on d.id = c.department_id
join service_window w on w.id = c.window_id join staff st on st.id = c.clerk_id
"""

# Running clocks past their deadline, the longest overdue first.
OVERDUE_CASES = f"""
select {_CASE_COLS} {_CASE_FROM}
where c.hall_id = $1 and c.clock_status = 'running' and c.deadline <= $2
order by c.deadline, c.id limit $3
"""

# Near due: the ladder's 预警 has been reached (its next rung is the 黄牌) and the deadline is
# still ahead. The ladder decides what "near" is (rules: one working day left or 75 % used).
NEAR_DUE_CASES = f"""
select {_CASE_COLS} {_CASE_FROM}
where c.hall_id = $1 and c.clock_status = 'running' and c.deadline > $2
  and c.next_alarm_level = 'yellow'
order by c.deadline, c.id limit $3
"""

CASE_COUNTS = """
select d.code as department,
       count(*) filter (where c.deadline <= $2)::int as overdue,
       count(*) filter (where c.deadline > $2 and c.next_alarm_level = 'yellow')::int as near_due
from service_case c join department d on d.id = c.department_id
where c.hall_id = $1 and c.clock_status = 'running'
  and (c.deadline <= $2 or c.next_alarm_level = 'yellow')
group by d.code
"""

# Today's waiting tickets, the longest wait first.
LONGEST_WAITS = """
select t.id, t.ticket_no, t.queued_at, t.priority_rank, q.code as queue, q.name as queue_name,
       d.code as department_code
from (select id, ticket_no, queued_at, rank as priority_rank, queue_id from ticket
      where hall_id = $1 and service_day = $2 and status = 'waiting') t
join queue q on q.id = t.queue_id left join department d on d.id = q.department_id
order by t.queued_at, t.id limit $3
"""

WAITING_COUNTS = """
select count(*)::int as waiting,
       count(*) filter (where queued_at <= $3)::int as over_limit
from ticket where hall_id = $1 and service_day = $2 and status = 'waiting'
"""

# Every window, its clerk, and since when it is paused or open without a clerk (the window's
# own timestamps, kept by the triggers of db/functions/floor_alarms.sql).
WINDOWS = """
select w.id, w.window_no, w.display_name, w.status, d.code as department_code,
       d.name as department_name, st.display_name as clerk_name, ws.since as signed_in_since,
       case when w.status = 'paused' then w.status_since end as paused_since,
       case when w.status = 'open' and ws.staff_id is null then w.unattended_since
       end as unattended_since
from service_window w join department d on d.id = w.department_id
left join window_signin ws on ws.window_id = w.id left join staff st on st.id = ws.staff_id
where w.hall_id = $1
order by w.window_no
"""

WAITING_SIGNOFFS = """
select s.id, s.case_id, s.purpose, s.requested_at, c.case_no, i.name as item_name,
       d.code as department_code, d.name as department_name, w.window_no,
       rq.display_name as requested_by
from signoff_request s join service_case c on c.id = s.case_id
join item i on i.id = c.item_id join department d on d.id = s.department_id
join service_window w on w.id = s.window_id join staff rq on rq.id = s.requested_by
where s.hall_id = $1 and s.decided_at is null
order by s.requested_at, s.id limit $2
"""

SIGNOFF_WAIT_MINUTES = "select signoff_wait_minutes from hall where id = $1"

# A city's county halls, each in totals: its open alarms by level, overdue cases, waiting
# tickets and windows.
COUNTY_TOTALS = """
select h.code, h.name,
       (select count(*) from alarm a where a.hall_id = h.id and a.state in ('issued', 'rectifying')
          and a.level = 'warning')::int as warning,
       (select count(*) from alarm a where a.hall_id = h.id and a.state in ('issued', 'rectifying')
          and a.level = 'yellow')::int as yellow,
       (select count(*) from alarm a where a.hall_id = h.id and a.state in ('issued', 'rectifying')
          and a.level = 'red')::int as red,
       (select count(*) from alarm a where a.hall_id = h.id and a.state in ('issued', 'rectifying')
          and a.acknowledged_at is null)::int as unacknowledged,
       (select count(*) from service_case c where c.hall_id = h.id
          and c.clock_status = 'running' and c.deadline <= $2)::int as overdue,
       (select count(*) from ticket t where t.hall_id = h.id and t.service_day = $3
          and t.status = 'waiting')::int as waiting,
       (select count(*) from service_window w where w.hall_id = h.id
          and w.status = 'open')::int as windows_open,
       (select count(*) from service_window w where w.hall_id = h.id and w.status = 'open'
          and not exists (select 1 from window_signin ws where ws.window_id = w.id))::int
          as windows_unattended
from hall h where h.parent_id = $1 order by h.code
"""

# A month's alarms of a hall, per department, window, kind and level: how many, their outcome,
# how fast they were acknowledged and answered, and the 督办 answered late or not yet past their
# date ($4: now). $2, $3: the month's first instant and the next month's.
MONTH_ALARMS = """
select d.code as department, w.window_no, a.kind, a.level,
       count(*)::int as n,
       count(*) filter (where a.state = 'closed')::int as closed,
       count(*) filter (where a.state = 'withdrawn')::int as withdrawn,
       count(*) filter (where a.state = 'cancelled')::int as cancelled,
       count(*) filter (where a.state in ('issued', 'rectifying'))::int as open,
       count(*) filter (where a.rectify_due_at is not null)::int as supervised,
       count(*) filter (where a.rectify_due_at is not null
                          and coalesce(a.answered_at, $4) > a.rectify_due_at
                          and a.state not in ('withdrawn', 'cancelled'))::int as overdue_answers,
       count(a.acknowledged_at)::int as acknowledged,
       coalesce(sum(extract(epoch from a.acknowledged_at - a.issued_at)), 0)::float as ack_s,
       count(a.answered_at)::int as answered,
       coalesce(sum(extract(epoch from a.answered_at - a.issued_at)), 0)::float as answer_s
from alarm a left join department d on d.id = a.department_id
left join service_window w on w.id = a.window_id
where a.hall_id = $1 and a.issued_at >= $2 and a.issued_at < $3
group by d.code, w.window_no, a.kind, a.level
"""

WINDOW_NAMES = """
select w.window_no, w.display_name, d.code as department_code
from service_window w join department d on d.id = w.department_id
where w.hall_id = $1 order by w.window_no
"""
