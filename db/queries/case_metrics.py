"""The one query path of case metrics: the API's /case-metrics and, later, the reports.

Cases accepted in [$2, $3) (local days) of hall $1, optionally of department $4, grouped by
the key expression chosen by the caller (one of GROUP_KEYS, never user text)."""

from __future__ import annotations

from typing import Final

from server.domain.case_clock import PAUSE_KINDS

# Per grouping: the table (alias g) whose row gives a group's key and label. Rows are aggregated
# by the group's id first and the labels joined to the ~130 groups afterwards: joining four
# tables per row and grouping by text cost most of a year's report (db/queries/reports.py
# groups its passes the same way).
LABELS: Final = {
    "hall": ("hall g", "g.code", "g.name"),
    "department": ("department g", "g.code", "g.name"),
    "window": ("service_window g", "g.window_no::text", "g.display_name"),
    "clerk": ("staff g", "g.username", "g.display_name"),
}
# The column holding a grouping's id on the rows that carry all four (a case, a rating, an
# alarm); a ticket carries no department, a window row its own id (db/queries/reports.py).
GROUP_COLUMN: Final = {
    "hall": "hall_id",
    "department": "department_id",
    "window": "window_id",
    "clerk": "clerk_id",
}
# day and month group by a text of the acceptance's local date: the key itself, no label
_LOCAL_GROUPS: Final = {
    "day": "to_char(c.accepted_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD')",
    "month": "to_char(c.accepted_at at time zone 'Asia/Shanghai', 'YYYY-MM')",
}
GROUP_KEYS: Final = (*LABELS, *_LOCAL_GROUPS)

_DONE = "c.state in ('completed', 'delivered')"
_PROMISED = "c.kind in ('promised', 'urgent', 'escalated')"
_REMAINING = "(c.clock->>'remaining_s')::bigint"
# What was left of the limit itself when the case stopped (limit + extensions - working time
# used), not the time to a deadline that a resume rounded up to a day's close: "saved versus the
# promised limit". A clock stored before budget_s existed has it equal to remaining_s.
_SAVED = f"coalesce((c.clock->>'budget_s')::bigint, {_REMAINING})"
_SAME_DAY = (
    "(c.completed_at at time zone 'Asia/Shanghai')::date"
    " = (c.accepted_at at time zone 'Asia/Shanghai')::date"
)


def metrics_sql(by: str) -> str:
    """One aggregation of the range's cases by the group's id; the paused seconds per kind (the
    clock's `paused_s`, only the kinds that occurred) summed in the same pass."""
    if by in LABELS:
        gid, (table, key, label) = f"c.{GROUP_COLUMN[by]}", LABELS[by]
        outer = f"select {key} as key, {label} as label, a.* from a join {table} on g.id = a.gid"
    else:
        gid, outer = _LOCAL_GROUPS[by], "select a.gid as key, '' as label, a.* from a"
    paused = ", ".join(f"'{k}', sum((c.clock->'paused_s'->>'{k}')::bigint)" for k in PAUSE_KINDS)
    return f"""
with a as (
    select {gid} as gid,
           count(*)::int as cases,
           count(*) filter (where c.state not in ('not_accepted'))::int as accepted,
           count(*) filter (where c.state = 'not_accepted')::int as not_accepted,
           count(*) filter (where c.state = 'withdrawn')::int as withdrawn,
           count(*) filter (where {_DONE})::int as completed,
           count(*) filter (where {_DONE} and c.kind = 'immediate' and {_SAME_DAY})::int
               as immediate_done,
           count(*) filter (where {_DONE} and (c.kind <> 'immediate' and {_REMAINING} >= 0
               or c.kind = 'immediate' and {_SAME_DAY}))::int as on_time,
           count(*) filter (where {_DONE} and {_PROMISED})::int as promised_done,
           count(*) filter (where {_DONE} and {_PROMISED} and {_SAVED} > 0)::int as early,
           coalesce(avg({_SAVED}) filter (where {_DONE} and {_PROMISED} and {_SAVED} > 0),
                    0)::float as avg_saved_s,
           coalesce(avg(c.visits) filter (where {_DONE}), 0)::float as avg_visits,
           jsonb_strip_nulls(jsonb_build_object({paused})) as paused_s
    from service_case c
    where c.hall_id = $1 and c.parent_id is null
      and c.accepted_at >= ($2::date)::timestamp at time zone 'Asia/Shanghai'
      and c.accepted_at < ($3::date + 1)::timestamp at time zone 'Asia/Shanghai'
      and ($4::int is null or c.department_id = $4)
    group by 1
)
{outer}
order by 1
"""
