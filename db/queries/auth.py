"""SQL for logins and sessions."""

from __future__ import annotations

STAFF_BY_USERNAME = """
select id, hall_id, username, display_name, role, department_id, password_hash,
       failed_logins, locked_until, active, now() as now
from staff where username = $1
"""

LOGIN_FAILED = """
update staff set
    failed_logins = case when failed_logins + 1 >= $2 then 0 else failed_logins + 1 end,
    locked_until  = case when failed_logins + 1 >= $2
                         then now() + make_interval(secs => $3) else locked_until end
where id = $1
returning locked_until
"""

LOGIN_OK = "update staff set failed_logins = 0, locked_until = null where id = $1"

DEVICE_BY_CODE = """
select id, hall_id, code, kind, name, secret_hash, active, failed_logins, locked_until,
       now() as now
from device where code = $1
"""

DEVICE_LOGIN_FAILED = """
update device set
    failed_logins = case when failed_logins + 1 >= $2 then 0 else failed_logins + 1 end,
    locked_until  = case when failed_logins + 1 >= $2
                         then now() + make_interval(secs => $3) else locked_until end
where id = $1
returning locked_until
"""

DEVICE_LOGIN_OK = "update device set failed_logins = 0, locked_until = null where id = $1"

CREATE_SESSION = """
insert into auth_session (token_hash, staff_id, device_id, expires_at)
values ($1, $2, $3, now() + make_interval(secs => $4))
returning expires_at
"""

REVOKE_SESSION = """
update auth_session set revoked_at = now() where token_hash = $1 and revoked_at is null
returning staff_id, device_id
"""

# every live session of one staff member ($1) or device ($2)
REVOKE_SESSIONS_OF = """
update auth_session set revoked_at = now()
where (staff_id = $1 or device_id = $2) and revoked_at is null and expires_at > now()
returning token_hash
"""

STAFF_IN_HALL = "select id, hall_id, department_id from staff where id = $1"
DEVICE_IN_HALL = "select id, hall_id from device where id = $1"

RESOLVE_SESSION = """
select s.expires_at,
       st.id as staff_id, st.role, st.display_name, st.department_id, st.username,
       st.must_change_password,
       d.id as device_id, d.kind as device_kind, d.name as device_name, d.code as device_code,
       h.id as hall_id, h.parent_id as hall_parent_id, h.code as hall_code,
       coalesce(ws.window_id, d.window_id) as window_id, w.window_no
from auth_session s
left join staff st on st.id = s.staff_id and st.active
left join device d on d.id = s.device_id and d.active
join hall h on h.id = coalesce(st.hall_id, d.hall_id)
left join window_signin ws on ws.staff_id = st.id
-- a clerk's window is the one signed in at; a rating device's is its own
left join service_window w on w.id = coalesce(ws.window_id, d.window_id)
where s.token_hash = $1 and s.revoked_at is null and s.expires_at > now()
"""
