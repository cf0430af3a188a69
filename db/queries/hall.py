"""SQL for halls, departments, windows, staff, items, the duty roster and the audit trail."""

from __future__ import annotations

HALL_BY_CODE = (
    "select id, code, name, level, parent_id, work_periods, notice_line from hall where code = $1"
)
HALL_BY_ID = (
    "select id, code, name, level, parent_id, work_periods, notice_line from hall where id = $1"
)

HALLS_VISIBLE = """
select h.id, h.code, h.name, h.level, p.code as parent_code
from hall h left join hall p on p.id = h.parent_id
where h.id = $1 or ($2 and h.parent_id = $1)
order by h.level, h.code
"""

DEPARTMENTS = """
select d.id, d.code, d.name,
       (select count(*) from service_window w where w.department_id = d.id) as windows,
       (select count(*) from item i where i.department_id = d.id and i.active) as items
from department d where d.hall_id = $1 order by d.code
"""

DEPARTMENT_ID = "select id from department where hall_id = $1 and code = $2"
DEPARTMENT_CODE = "select code from department where id = $1"

WINDOWS = """
select w.id, w.window_no, w.display_name, w.zone, w.status, d.code as department_code,
       d.name as department_name, st.id as clerk_id, st.display_name as clerk_name,
       coalesce((select array_agg(q.code order by wq.position) from window_queue wq
                 join queue q on q.id = wq.queue_id where wq.window_id = w.id), '{}') as queues
from service_window w
join department d on d.id = w.department_id
left join window_signin ws on ws.window_id = w.id
left join staff st on st.id = ws.staff_id
where w.hall_id = $1
order by w.window_no
"""

# NO KEY UPDATE: window commands serialise on the row all the same, but a command that holds
# the hall's sequence row and inserts an event (or a case row) referencing this window takes
# the foreign key's KEY SHARE lock, which FOR UPDATE would block: a window switch here and a
# leader's sign-off on a case of this window deadlocked (found by run.py simulate).
WINDOW_FOR_UPDATE = """
select w.id, w.window_no, w.status, w.department_id, ws.staff_id as clerk_id
from service_window w left join window_signin ws on ws.window_id = w.id
where w.hall_id = $1 and w.window_no = $2
for no key update of w
"""

SIGNIN_OF_STAFF = """
select ws.window_id, w.window_no, w.status from window_signin ws
join service_window w on w.id = ws.window_id where ws.staff_id = $1
"""
DELETE_SIGNIN_OF_STAFF = "delete from window_signin where staff_id = $1"
DELETE_SIGNIN_OF_WINDOW = "delete from window_signin where window_id = $1 returning staff_id"
INSERT_SIGNIN = "insert into window_signin (window_id, staff_id) values ($1, $2)"
SET_WINDOW_STATUS = "update service_window set status = $2 where id = $1"
# Idle periods of a window (db/functions/queue_core.sql: hq_idle_start / hq_idle_end), at the
# command's instant.
START_IDLE = "select hq_idle_start($1, $2, $3)"
END_IDLE = "select hq_idle_end($1, $2)"

STAFF = """
select s.id, s.username, s.display_name, s.role, d.code as department_code,
       d.name as department_name, s.active, w.window_no
from staff s
left join department d on d.id = s.department_id
left join window_signin ws on ws.staff_id = s.id
left join service_window w on w.id = ws.window_id
where s.hall_id = $1 and ($2::int is null or s.department_id = $2)
order by s.role, s.username
"""

ITEMS = """
select i.code, i.name, i.category, i.kind, i.limit_unit, i.statutory_limit, i.promised_limit,
       d.code as department_code, d.name as department_name, q.code as queue_code
from item i
join department d on d.id = i.department_id
left join queue q on q.id = i.queue_id
where i.hall_id = $1 and i.active
  and ($2::text is null or d.code = $2)
  and ($3::text is null or strpos(i.name, $3) > 0 or i.code = $3)
order by i.code
"""

ITEM = """
select i.id, i.code, i.name, i.category, i.kind, i.limit_unit, i.statutory_limit,
       i.promised_limit, i.urgent_limit, i.requires_signoff, d.code as department_code,
       d.name as department_name, q.code as queue_code
from item i join department d on d.id = i.department_id
left join queue q on q.id = i.queue_id
where i.hall_id = $1 and i.code = $2
"""
ITEM_MATERIALS = """
select position, name, is_key, copies, note from item_material where item_id = $1 order by position
"""
ITEM_FEES = """
select id, name, amount_cents, basis from item_fee where item_id = $1 and listed order by id
"""

QUEUES = """
select q.code, q.name, q.prefix, d.code as department_code, q.service_norm_minutes
from queue q left join department d on d.id = q.department_id
where q.hall_id = $1 order by q.prefix
"""

SET_NOTICE = "update hall set notice_line = $2 where id = $1"

DUTY_OF_DAY = """
select ld.duty_date, s.id as staff_id, s.username, s.display_name, d.code as department_code,
       d.name as department_name
from leader_duty ld join staff s on s.id = ld.staff_id join department d on d.id = ld.department_id
where ld.hall_id = $1 and ld.duty_date = $2
order by d.code, s.username
"""
DELETE_DUTY_OF_DAY = "delete from leader_duty where hall_id = $1 and duty_date = $2"
LEADERS_BY_ID = """
select id, department_id, role, hall_id, active from staff where id = any($1::int[])
"""
INSERT_DUTY = """
insert into leader_duty (hall_id, duty_date, staff_id, department_id) values ($1, $2, $3, $4)
"""

AUDIT = """
select id, at, actor_kind, actor_id, window_id, action, outcome, detail
from audit where hall_id = $1 and id < $2 order by id desc limit $3
"""

COUNTS = """
select (select count(*) from service_window where hall_id = $1) as windows,
       (select count(*) from staff where hall_id = $1) as staff,
       (select count(*) from department where hall_id = $1) as departments,
       (select count(*) from item where hall_id = $1 and active) as items
"""
