"""The one query path of case metrics: the API's /case-metrics and, later, the reports.

Cases accepted in [$2, $3) (local days) of hall $1, optionally of department $4, grouped by
the key expression chosen by the caller (one of GROUP_KEYS, never user text)."""

from __future__ import annotations

from typing import Final

GROUP_KEYS: Final = {
    "hall": "h.code",
    "department": "d.code",
    "window": "w.window_no::text",
    "clerk": "st.username",
    "day": "to_char(c.accepted_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD')",
    "month": "to_char(c.accepted_at at time zone 'Asia/Shanghai', 'YYYY-MM')",
}
GROUP_LABELS: Final = {
    "hall": "h.name",
    "department": "d.name",
    "window": "w.display_name",
    "clerk": "st.display_name",
    "day": "''",
    "month": "''",
}

_DONE = "c.state in ('completed', 'delivered')"
_PROMISED = "c.kind in ('promised', 'urgent', 'escalated')"


def metrics_sql(by: str) -> str:
    key, label = GROUP_KEYS[by], GROUP_LABELS[by]
    return f"""
with base as (
    select {key} as key, {label} as label, c.kind, c.state,
           c.visits, c.accepted_at, c.completed_at, c.limit_amount, c.limit_unit, c.clock,
           ({_DONE}) as done,
           ({_PROMISED}) as promised,
           (c.clock->>'remaining_s')::bigint as remaining_s
    from service_case c join hall h on h.id = c.hall_id
    join department d on d.id = c.department_id
    join service_window w on w.id = c.window_id join staff st on st.id = c.clerk_id
    where c.hall_id = $1 and c.parent_id is null
      and c.accepted_at >= ($2::date)::timestamp at time zone 'Asia/Shanghai'
      and c.accepted_at < ($3::date + 1)::timestamp at time zone 'Asia/Shanghai'
      and ($4::int is null or c.department_id = $4)
),
-- the paused seconds per key and kind, aggregated once and joined (a subquery correlated per
-- group re-scanned every case once per group: 130 scans of a month by window)
paused as (
    select k.key, jsonb_object_agg(k.kind, k.seconds) as paused_s
    from (select b.key, p.kind, sum(p.seconds::bigint) as seconds
          from base b, jsonb_each_text(coalesce(b.clock->'paused_s', '{{}}')) as p(kind, seconds)
          group by b.key, p.kind) k
    group by k.key
)
select b.key, min(b.label) as label,
       count(*)::int as cases,
       count(*) filter (where b.state not in ('not_accepted'))::int as accepted,
       count(*) filter (where b.state = 'not_accepted')::int as not_accepted,
       count(*) filter (where b.state = 'withdrawn')::int as withdrawn,
       count(*) filter (where b.done)::int as completed,
       count(*) filter (where b.done and b.kind = 'immediate'
           and (b.completed_at at time zone 'Asia/Shanghai')::date
             = (b.accepted_at at time zone 'Asia/Shanghai')::date)::int as immediate_done,
       count(*) filter (where b.done and (b.kind <> 'immediate' and b.remaining_s >= 0
           or b.kind = 'immediate' and (b.completed_at at time zone 'Asia/Shanghai')::date
             = (b.accepted_at at time zone 'Asia/Shanghai')::date))::int as on_time,
       count(*) filter (where b.done and b.promised)::int as promised_done,
       count(*) filter (where b.done and b.promised and b.remaining_s > 0)::int as early,
       coalesce(avg(b.remaining_s) filter (where b.done and b.promised and b.remaining_s > 0),
                0)::float as avg_saved_s,
       coalesce(avg(b.visits) filter (where b.done), 0)::float as avg_visits,
       coalesce(pz.paused_s, '{{}}') as paused_s
from base b left join paused pz on pz.key = b.key
group by b.key, pz.paused_s order by b.key
"""
