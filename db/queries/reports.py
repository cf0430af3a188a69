"""The reports' SQL (issue 11, /reports): the halls $1 (an int array: one hall, or a city and its
county halls side by side), the local days [$2, $3] (both included), grouped by the key the
caller picks from case_metrics.LABELS (never user text). Set-based, one pass per table per request: the ticket
pass yields the groups, the daily trend, the waiting-time buckets and the arrivals heat map in
one scan (GROUPING SETS); the ratings pass the groups and the daily trend. The case figures come
from db/queries/case_metrics.py, the one query path of case metrics.

Indexes used: ticket_day (hall_id, service_day), rating_hall_time (hall_id, rated_at),
service_case_accepted (hall_id, accepted_at), window_idle_day (0022)."""

from __future__ import annotations

from typing import Final

from db.queries.case_metrics import GROUP_COLUMN, LABELS

_DAY_FROM = "($2::date)::timestamp at time zone 'Asia/Shanghai'"
_DAY_TO = "($3::date + 1)::timestamp at time zone 'Asia/Shanghai'"
_LOCAL = "at time zone 'Asia/Shanghai'"

# Waiting-time buckets (minutes): [0,5) [5,10) [10,15) [15,20) [20,30) [30,45) [45,60) [60,∞).
WAIT_BOUNDS_MIN: Final = (5, 10, 15, 20, 30, 45, 60)


def tickets_sql(by: str) -> str:
    """One scan of the range's tickets, four grouping sets (column `set`): 'group' per key,
    'day' per service day, 'heat' per weekday (ISO, 1 = Monday) × hour of arrival, 'wait' per
    waiting-time bucket. A ticket is one stay in one queue: its waiting time is queued → called
    at the window that called it (a transfer's successor waits again in its new queue)."""
    # a ticket is grouped by the window that called it, that window's department, its clerk,
    # its hall
    table, key, label = LABELS[by]
    gid = "w.department_id" if by == "department" else f"t.{GROUP_COLUMN[by]}"
    join = "left join service_window w on w.id = t.window_id" if by == "department" else ""
    bounds = ",".join(str(m * 60) for m in WAIT_BOUNDS_MIN)
    return f"""
with t as (
    select {gid} as gid, t.service_day,
           date_part('isodow', t.created_at {_LOCAL})::int as dow,
           date_part('hour', t.created_at {_LOCAL})::int as hour,
           t.previous_id is null as arrival, t.outcome,
           date_part('epoch', t.called_at - t.queued_at) as wait_s,
           date_part('epoch', t.service_started_at - t.called_at) as walk_s,
           date_part('epoch', t.finished_at - t.service_started_at) as service_s
    from ticket t {join}
    where t.hall_id = any($1::int[]) and t.service_day between $2 and $3
),
a as (
    select case when grouping(t.gid) = 0 then 'group'
                when grouping(t.service_day) = 0 then 'day'
                when grouping(t.dow) = 0 then 'heat'
                else 'wait' end as set,
           t.gid, t.service_day as day, t.dow, t.hour,
           width_bucket(t.wait_s, array[{bounds}]::float8[]) as bucket,
           count(*) filter (where t.arrival)::int as arrivals,
           count(t.wait_s)::int as called,
           count(*) filter (where t.outcome = 'served')::int as served,
           count(*) filter (where t.outcome = 'no_show')::int as no_show,
           avg(t.wait_s)::float as avg_wait_s,
           count(t.walk_s)::int as started,
           avg(t.walk_s)::float as avg_walk_s,
           avg(t.service_s)::float as avg_service_s
    from t
    group by grouping sets ((t.gid), (t.service_day), (t.dow, t.hour),
                            (width_bucket(t.wait_s, array[{bounds}]::float8[])))
)
select a.*, {key} as key, {label} as label
from a left join {table} on a.set = 'group' and g.id = a.gid
"""


def ratings_sql(by: str) -> str:
    """One scan of the ratings given in the range, grouped per key ('group') and per local day
    ('day'). A review excluded by an upheld appeal counts only in `excluded`; a bad review's
    rectification by its state, `overdue` = not closed and past its due instant ($4)."""
    gid, (table, key, label) = f"r.{GROUP_COLUMN[by]}", LABELS[by]
    return f"""
with r as (
    select {gid} as gid, (r.rated_at {_LOCAL})::date as day, r.level,
           r.excluded, x.state as rect_state, x.due_at as rect_due
    from rating r
    left join rectification x on x.rating_id = r.id
    where r.hall_id = any($1::int[]) and r.rated_at >= {_DAY_FROM} and r.rated_at < {_DAY_TO}
),
a as (
    select case when grouping(r.gid) = 0 then 'group' else 'day' end as set, r.gid, r.day,
           count(*) filter (where not r.excluded)::int as counted,
           count(*) filter (where r.excluded)::int as excluded,
           count(*) filter (where not r.excluded and r.level = 5)::int as l5,
           count(*) filter (where not r.excluded and r.level = 4)::int as l4,
           count(*) filter (where not r.excluded and r.level = 3)::int as l3,
           count(*) filter (where not r.excluded and r.level = 2)::int as l2,
           count(*) filter (where not r.excluded and r.level = 1)::int as l1,
           count(*) filter (where not r.excluded and r.rect_state in ('open', 'verified'))::int
               as rect_open,
           count(*) filter (where not r.excluded and r.rect_state = 'rectified')::int
               as rect_rectified,
           count(*) filter (where not r.excluded and r.rect_state = 'called_back')::int
               as rect_called_back,
           count(*) filter (where not r.excluded and r.rect_state = 'closed')::int as rect_closed,
           count(*) filter (where not r.excluded and r.rect_state not in ('closed', 'excluded')
                            and r.rect_due < $4)::int as rect_overdue
    from r
    group by grouping sets ((r.gid), (r.day))
)
select a.*, {key} as key, {label} as label
from a left join {table} on a.set = 'group' and g.id = a.gid
"""


def idle_sql(by: str) -> str:
    """The windows' idle spells (window_idle: open with nobody called, from its opening or a
    ticket's end to the next call, pause or close) ended in the range's service days, summed
    per window and day first (a window-day is a day the window was idle at all). A spell
    belongs to a window, not a clerk: by clerk there is none."""
    gid = "w.id" if by == "window" else f"w.{GROUP_COLUMN[by]}"
    table, key, label = LABELS[by]
    return f"""
with d as (
    select i.window_id, count(*) as spells,
           sum(date_part('epoch', i.idle_until - i.idle_from)) as idle_s
    from window_idle i join service_window w on w.id = i.window_id
    where w.hall_id = any($1::int[]) and i.service_day between $2 and $3
      and i.idle_until is not null
    group by i.window_id, i.service_day
),
a as (
    select {gid} as gid, sum(d.spells)::int as spells,
           coalesce(sum(d.idle_s), 0)::float as idle_s, count(*)::int as window_days
    from d join service_window w on w.id = d.window_id
    group by 1
)
select {key} as key, {label} as label, a.*
from a join {table} on g.id = a.gid
"""


def alarms_sql(by: str) -> str:
    """Alarms issued in the range by kind; withdrawn (an appeal upheld) and cancelled (raised
    in error) count nothing, as in the month's scoring. By clerk: the clerk of the alarm's
    case."""
    gid = "c.clerk_id" if by == "clerk" else f"a.{GROUP_COLUMN[by]}"
    table, key, label = LABELS[by]
    return f"""
with a as (
    select {gid} as gid, a.kind, count(*)::int as n
    from alarm a left join service_case c on c.id = a.case_id
    where a.hall_id = any($1::int[]) and a.issued_at >= {_DAY_FROM} and a.issued_at < {_DAY_TO}
      and a.state not in ('pending', 'withdrawn', 'cancelled')
    group by 1, a.kind
)
select {key} as key, {label} as label, a.kind, a.n
from a left join {table} on g.id = a.gid
"""


def joint_sql(by: str) -> str:
    """The joint cases (联办: a workflow's parent case) accepted in the range, one row each: the
    working time needs the hall calendar (server/domain/workflow_figures.case_times)."""
    table, key, label = LABELS[by]
    return f"""
select {key} as key, {label} as label, c.hall_id, c.state, c.accepted_at, c.completed_at,
       c.clock
from service_case c join {table} on g.id = c.{GROUP_COLUMN[by]}
where c.hall_id = any($1::int[]) and c.parent_id is null and c.workflow_code is not null
  and c.state <> 'not_accepted'
  and c.accepted_at >= {_DAY_FROM} and c.accepted_at < {_DAY_TO}
"""


COUNTY_HALLS = "select id, code, name from hall where parent_id = $1 order by code"
