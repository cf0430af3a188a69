"""SQL for the live queue: the command functions (db/functions/queue_*.sql) and the reads.
Every command's last parameter is its instant (p_now: the server's clock)."""

from __future__ import annotations

_COLS = "seq, type, payload, window_id, at"

REGISTER = f"select {_COLS} from hq_register($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
CALL_NEXT = f"select {_COLS} from hq_call_next($1, $2, $3, $4, $5)"
CALL_TICKET = f"select {_COLS} from hq_call_ticket($1, $2, $3, $4, $5, $6, $7)"
RECALL = f"select {_COLS} from hq_recall($1, $2, $3)"
NO_SHOW = f"select {_COLS} from hq_no_show($1, $2, $3, $4, $5)"
START = f"select {_COLS} from hq_start($1, $2, $3, $4)"
FINISH = f"select {_COLS} from hq_finish($1, $2, $3, $4)"
TRANSFER = f"select {_COLS} from hq_transfer($1, $2, $3, $4, $5, $6, $7, $8, $9)"
PARK = f"select {_COLS} from hq_park($1, $2, $3, $4)"
CANCEL = f"select {_COLS} from hq_cancel($1, $2, $3, $4, $5)"
RESUME = f"select {_COLS} from hq_resume($1, $2, $3, $4, $5)"
EXPIRE_PARKED = f"select {_COLS} from hq_expire_parked($1)"
CLOSE_DAY = f"select {_COLS} from hq_close_day($1, $2)"

ITEM_FOR_REGISTRATION = """
select i.id, i.code, i.name, i.kind, i.limit_unit, i.promised_limit, i.statutory_limit,
       i.queue_id, q.code as queue_code, q.prefix, d.name as department_name, i.active
from item i join department d on d.id = i.department_id left join queue q on q.id = i.queue_id
where i.hall_id = $1 and i.code = $2
"""

# Every queue of a hall ($1) on a day ($2): its figures as hq_queue_figures computes them for
# the events (waiting, open_windows, avg_service_seconds, estimated_wait_seconds), and more.
QUEUE_STATUS = """
select q.id, q.code, q.name, q.prefix,
       (f->>'waiting')::int as waiting, (f->>'open_windows')::int as open_windows,
       (f->>'avg_service_seconds')::int as avg_service_seconds,
       (f->>'estimated_wait_seconds')::int as estimated_wait_seconds,
       (select count(*) from ticket t where t.queue_id = q.id and t.service_day = $2
          and t.outcome = 'served')::int as served_today
from queue q, hq_queue_figures(q.id, $2) f
where q.hall_id = $1 order by q.prefix
"""

# The figures of every queue window $1 serves on day $2, as one jsonb array in serving order:
# the `queues` of an event that changes a window's status (run it in the command's transaction,
# after the change, so that the open-window counts include it).
QUEUE_FIGURES_OF_WINDOW = """
select coalesce(jsonb_agg(hq_queue_figures(wq.queue_id, $2) order by wq.position, wq.queue_id),
                '[]'::jsonb)
from window_queue wq where wq.window_id = $1
"""

RECENT_CALLS = """
select payload, at from event
where hall_id = $1 and type in ('ticket.called', 'ticket.recalled') and at >= $2
order by seq desc limit $3
"""

WINDOW_CURRENT = """
select t.*, w.window_no from ticket t join service_window w on w.id = t.window_id
where t.hall_id = $1 and t.status in ('called', 'serving') and t.service_day = $2
"""

WINDOW_ID = "select id, department_id from service_window where hall_id = $1 and window_no = $2"

TICKET_JSON_OF_WINDOW = """
select hq_ticket_json(t) as ticket from ticket t
where t.window_id = $1 and t.status = any($2::text[]) order by t.id
"""

WAITING_FOR_WINDOW = """
select hq_ticket_json(tk) as ticket
from ticket tk
left join window_queue wq on wq.queue_id = tk.queue_id and wq.window_id = $2
where tk.service_day = $3 and tk.hall_id = $1 and tk.status = 'waiting'
  and (tk.target_window_id = $2
       or (tk.target_window_id is null and wq.window_id is not null
           and (tk.target_clerk_id is null or tk.target_clerk_id = $4)))
order by (tk.target_window_id is null), wq.position, tk.rank, tk.queued_at, tk.id
limit $5
"""

WINDOW_DAY_COUNTS = """
select count(*) filter (where outcome = 'served')::int as served,
       count(*) filter (where outcome = 'transferred')::int as transferred,
       count(*) filter (where outcome = 'no_show')::int as no_show,
       coalesce(avg(extract(epoch from finished_at - service_started_at))
                filter (where outcome = 'served'), 0)::int as avg_service_seconds
from ticket where window_id = $1 and service_day = $2
"""

REGISTRATION_BY_REG_NO = """
select r.*, i.code as item_code, i.name as item_name, q.code as queue_code,
       d.name as department_name,
       (select hq_ticket_json(t) from ticket t where t.registration_id = r.id
        order by t.id desc limit 1) as ticket
from registration r join item i on i.id = r.item_id join queue q on q.id = r.queue_id
join department d on d.id = i.department_id
where r.hall_id = $1 and r.reg_no = $2
"""

REGISTRATION_BY_QUERY_CODE = """
select r.*, h.code as hall_code, h.name as hall_name, i.code as item_code, i.name as item_name,
       i.kind as item_kind, i.promised_limit, i.limit_unit, q.code as queue_code,
       q.name as queue_name, q.avg_service_seconds, d.name as department_name,
       (select hq_ticket_json(t) from ticket t where t.registration_id = r.id
        order by t.id desc limit 1) as ticket
from registration r join hall h on h.id = r.hall_id join item i on i.id = r.item_id
join queue q on q.id = r.queue_id join department d on d.id = i.department_id
where r.query_code = $1
"""

WINDOWS_OF_QUEUE = """
select w.window_no, w.display_name, w.status, st.display_name as clerk_name
from window_queue wq join service_window w on w.id = wq.window_id
left join window_signin ws on ws.window_id = w.id left join staff st on st.id = ws.staff_id
where wq.queue_id = $1 order by wq.position, w.window_no
"""

# Ticket $1: the people ahead of it (waiting in its queue before it, not transferred to a
# window) and its estimated wait, by the rule of
# hq_queue_figures (hq_estimated_wait over its queue's open windows and average service time).
TICKET_WAIT = """
select a.ahead, hq_estimated_wait(a.ahead, (f->>'open_windows')::int,
                                  (f->>'avg_service_seconds')::int) as estimated_wait_seconds
from ticket me,
lateral (select count(*)::int as ahead from ticket t
         where t.queue_id = me.queue_id and t.service_day = me.service_day
           and t.status = 'waiting' and t.target_window_id is null
           and (t.rank, t.queued_at, t.id) < (me.rank, me.queued_at, me.id)) a,
hq_queue_figures(me.queue_id, me.service_day) f
where me.id = $1
"""

QUEUE_BY_CODE = "select id from queue where hall_id = $1 and code = $2"
STAFF_IN_HALL = "select id from staff where hall_id = $1 and id = $2 and role = 'clerk'"
