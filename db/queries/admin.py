"""SQL of the hall's administration: staff, devices, windows, items and hall settings."""

from __future__ import annotations

# ------------------------------------------------------------------------------ staff

STAFF_ADMIN_LIST = """
select s.id, s.username, s.display_name, s.role, s.phone, s.active, s.must_change_password,
       s.locked_until > now() as locked, s.created_at,
       d.code as department_code, d.name as department_name, w.window_no,
       (select count(*) from auth_session a where a.staff_id = s.id and a.revoked_at is null
          and a.expires_at > now()) as sessions
from staff s
left join department d on d.id = s.department_id
left join window_signin ws on ws.staff_id = s.id
left join service_window w on w.id = ws.window_id
where s.hall_id = $1
order by d.code nulls first, s.role, s.username
"""

STAFF_FOR_UPDATE = """
select s.id, s.hall_id, s.username, s.display_name, s.role, s.department_id, s.phone, s.active,
       s.password_hash, d.code as department_code
from staff s left join department d on d.id = s.department_id
where s.id = $1
for update of s
"""

STAFF_BY_USERNAME_FOR_UPDATE = """
select s.id, s.hall_id, s.username, s.display_name, s.role, s.department_id, s.phone, s.active,
       d.code as department_code
from staff s left join department d on d.id = s.department_id
where s.username = $1
for update of s
"""

STAFF_HALL = "select hall_id from staff where id = $1"
STAFF_USERNAME = "select username from staff where id = $1"

USERNAME_TAKEN = "select 1 from staff where username = $1"

INSERT_STAFF = """
insert into staff (hall_id, username, display_name, role, department_id, phone, password_hash,
                   must_change_password)
values ($1, $2, $3, $4, $5, $6, $7, $8)
returning id
"""

UPDATE_STAFF = """
update staff set display_name = $2, role = $3, department_id = $4, phone = $5, active = $6
where id = $1
"""

# a new password: the previous one goes into the history; the demo flag and lock-out clear
SET_PASSWORD = """
with old as (
    insert into password_history (staff_id, password_hash)
    select id, password_hash from staff where id = $1
)
update staff set password_hash = $2, must_change_password = $3, password_is_demo = false,
                 failed_logins = 0, locked_until = null
where id = $1
"""

# the current password and the ones before it, newest first
RECENT_PASSWORDS = """
select password_hash from staff where id = $1
union all
(select password_hash from password_history where staff_id = $1
 order by set_at desc limit $2)
"""

UNLOCK_STAFF = """
update staff set failed_logins = 0, locked_until = null where id = $1
returning (select locked_until > now() from staff where id = $1) as was_locked
"""

STAFF_SESSIONS = """
select encode(token_hash, 'hex') as token_hex, created_at, expires_at
from auth_session
where staff_id = $1 and revoked_at is null and expires_at > now()
order by created_at desc
"""

# one session of a staff member, named by its public id (a prefix of its token's hash)
REVOKE_STAFF_SESSION = """
update auth_session set revoked_at = now()
where staff_id = $1 and left(encode(token_hash, 'hex'), $3) = $2
  and revoked_at is null and expires_at > now()
returning token_hash
"""

# every session of a member of staff but the one ($2, its public id) changing the password
REVOKE_OTHER_SESSIONS = """
update auth_session set revoked_at = now()
where staff_id = $1 and revoked_at is null and expires_at > now()
  and left(encode(token_hash, 'hex'), $3) <> $2
returning token_hash
"""

# ------------------------------------------------------------------------------ devices

DEVICES = """
select dv.id, dv.code, dv.kind, dv.name, dv.active, dv.created_at, dv.revoked_at, w.window_no,
       (select count(*) from auth_session a where a.device_id = dv.id and a.revoked_at is null
          and a.expires_at > now()) as sessions
from device dv left join service_window w on w.id = dv.window_id
where dv.hall_id = $1
order by dv.kind, dv.code
"""

DEVICE_FOR_UPDATE = """
select id, hall_id, code, kind, name, active, window_id from device where id = $1 for update
"""

DEVICE_CODE_TAKEN = "select 1 from device where code = $1"

INSERT_DEVICE = """
insert into device (hall_id, code, kind, name, secret_hash, window_id)
values ($1, $2, $3, $4, $5, $6)
returning id
"""

RENAME_DEVICE = "update device set name = $2 where id = $1"
REVOKE_DEVICE = "update device set active = false, revoked_at = now() where id = $1"
SET_DEVICE_SECRET = """
update device set secret_hash = $2, secret_is_demo = false, failed_logins = 0,
                  locked_until = null, active = true, revoked_at = null
where id = $1
"""

# ------------------------------------------------------------------------------ windows

WINDOW_ID = "select id from service_window where hall_id = $1 and window_no = $2"

WINDOW_ADMIN = """
select w.id, w.window_no, w.display_name, w.zone, w.status, w.priority_rule,
       d.code as department_code, d.name as department_name,
       -- the queues in serving order, those sharing a position grouped: [["ga"], ["hj", "sb"]]
       coalesce((select jsonb_agg(g.codes order by g.position)
                 from (select wq.position, jsonb_agg(q.code order by q.code) as codes
                       from window_queue wq join queue q on q.id = wq.queue_id
                       where wq.window_id = w.id group by wq.position) g), '[]') as queues
from service_window w join department d on d.id = w.department_id
where w.hall_id = $1 and ($2::int is null or w.window_no = $2)
order by w.window_no
"""

INSERT_WINDOW = """
insert into service_window (hall_id, window_no, display_name, department_id, zone, priority_rule)
values ($1, $2, $3, $4, $5, $6)
returning id
"""

UPDATE_WINDOW = """
update service_window set display_name = $2, department_id = $3, zone = $4, priority_rule = $5
where id = $1
"""

QUEUE_IDS = "select code, id from queue where hall_id = $1 and code = any($2::text[])"
DELETE_WINDOW_QUEUES = "delete from window_queue where window_id = $1"
INSERT_WINDOW_QUEUE = "insert into window_queue (window_id, queue_id, position) values ($1, $2, $3)"

# ------------------------------------------------------------------------------ items

QUEUE_ID = "select id from queue where hall_id = $1 and code = $2"
ITEM_VERSION_KEPT = "select true from item_version where item_id = $1 and version = $2"

ITEM_FOR_UPDATE = "select id, version from item where hall_id = $1 and code = $2 for update"

INSERT_ITEM = """
insert into item (hall_id, department_id, code, name, category, kind, limit_unit,
                  statutory_limit, promised_limit, urgent_limit, queue_id, requires_signoff,
                  service_norm_minutes, active)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
returning id
"""

UPDATE_ITEM = """
update item set department_id = $2, name = $3, category = $4, kind = $5, limit_unit = $6,
                statutory_limit = $7, promised_limit = $8, urgent_limit = $9, queue_id = $10,
                requires_signoff = $11, service_norm_minutes = $12, active = $13,
                version = version + 1
where id = $1
returning version
"""

# Materials and fees are replaced by the new version's lists. A case copied its materials at
# acceptance (case_material), so the old rows can go; a fee row a case may refer to
# (case_fee.item_fee_id) is kept and only unlisted.
DELETE_ITEM_MATERIALS = "delete from item_material where item_id = $1"
INSERT_ITEM_MATERIAL = """
insert into item_material (item_id, position, name, is_key, copies, note)
values ($1, $2, $3, $4, $5, $6)
"""
UNLIST_ITEM_FEES = "update item_fee set listed = false where item_id = $1 and listed"
INSERT_ITEM_FEE = (
    "insert into item_fee (item_id, name, amount_cents, basis) values ($1, $2, $3, $4)"
)

INSERT_ITEM_VERSION = """
insert into item_version (item_id, version, definition, published_by) values ($1, $2, $3, $4)
"""

ITEM_VERSIONS = """
select v.version, v.definition, v.published_at, s.display_name as published_by
from item_version v left join staff s on s.id = v.published_by
where v.item_id = $1 order by v.version desc
"""

ITEMS_ADMIN = """
select i.id, i.code, i.name, i.category, i.kind, i.limit_unit, i.statutory_limit,
       i.promised_limit, i.urgent_limit, i.requires_signoff, i.service_norm_minutes, i.active,
       i.version, d.code as department_code, d.name as department_name, q.code as queue_code,
       coalesce((select jsonb_agg(jsonb_build_object('name', m.name, 'is_key', m.is_key,
                                                     'copies', m.copies, 'note', m.note)
                                  order by m.position)
                 from item_material m where m.item_id = i.id), '[]') as materials,
       coalesce((select jsonb_agg(jsonb_build_object('name', f.name, 'amount_cents',
                                                     f.amount_cents, 'basis', f.basis)
                                  order by f.id)
                 from item_fee f where f.item_id = i.id and f.listed), '[]') as fees
from item i join department d on d.id = i.department_id left join queue q on q.id = i.queue_id
where i.hall_id = $1 and ($2::text is null or i.code = $2)
order by i.code
"""

# ------------------------------------------------------------------------------ settings

HALL_SETTINGS_READ = """
select work_periods, closes_at, registration_lead_minutes, no_show_recalls, park_minutes,
       signoff_wait_minutes, supplement_notice_days, supplement_warn_days, rectification_days,
       notice_templates, is_demo
from hall where id = $1
"""
HALL_SETTINGS = HALL_SETTINGS_READ + "for update"

SET_HALL_SETTINGS = """
update hall set work_periods = $2, closes_at = $3, no_show_recalls = $4, park_minutes = $5,
                signoff_wait_minutes = $6, supplement_notice_days = $7,
                supplement_warn_days = $8, rectification_days = $9, notice_templates = $10,
                registration_lead_minutes = $11
where id = $1
"""

DEPARTMENT_IDS = "select code, id from department where hall_id = $1"

# ------------------------------------------------------------------------------ halls

HALL_CODE_TAKEN = "select 1 from hall where code = $1"
INSERT_HALL = """
insert into hall (code, name, level, parent_id) values ($1, $2, $3, $4) returning id
"""

# (xmax = 0): the row was inserted, not updated
UPSERT_DEPARTMENT = """
insert into department (hall_id, code, name) values ($1, $2, $3)
on conflict (hall_id, code) do update set name = excluded.name
returning (xmax = 0) as created
"""

PREFIX_HOLDER = "select code from queue where hall_id = $1 and prefix = $2"
UPSERT_QUEUE = """
insert into queue (hall_id, code, name, prefix, department_id, service_norm_minutes)
values ($1, $2, $3, $4, $5, $6)
on conflict (hall_id, code) do update set
    name = excluded.name, prefix = excluded.prefix, department_id = excluded.department_id,
    service_norm_minutes = excluded.service_norm_minutes
returning (xmax = 0) as created
"""

DEPARTMENTS_ADMIN = "select code, name from department where hall_id = $1 order by code"
QUEUES_ADMIN = """
select q.code, q.name, q.prefix, d.code as department, q.service_norm_minutes
from queue q left join department d on d.id = q.department_id
where q.hall_id = $1 order by q.code
"""

# ------------------------------------------------------------------------------ demo

# Any live account or device still using a published demo password (production refuses them).
HALL_COUNT = "select count(*) from hall"
DEMO_HALLS = "select exists (select 1 from hall where is_demo)"
DEMO_CREDENTIALS = """
select (select count(*) from staff where active and password_is_demo)
     + (select count(*) from device where active and secret_is_demo)
"""
