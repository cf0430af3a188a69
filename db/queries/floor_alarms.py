"""Supervision on the hall floor: the probes and candidates of the floor triggers
(server/domain/floor_alarms.py). A probe is one small statement that says whether anything is
due and not raised yet (the partial indexes of migration 0014, and the alarm's unique key for
what was raised already); the candidates are the due rows with what their alarm says. Each
statement builds the alarm's subject, so the probe, the candidates and the alarm row name it
alike.

A probe reads the hall's current limit from its latest rule set, or the default it is given
when the hall has none (the rules were checked when they were stored). The firing takes the
rules again through alarms.hall_rules and raises nothing before its instant.

Nothing here locks a ticket: the queue's call-next takes the first waiting ticket FOR UPDATE
SKIP LOCKED, so a ticket a timer held would be skipped, called out of its turn. Exactly once
comes from the alarm's unique key (hall, kind, level, subject) instead."""

from __future__ import annotations


def _rule(name: str, cast: str, default: str) -> str:
    """The hall's ($1) latest value of a rule, else `default`."""
    return (
        f"coalesce((select (r.rules->>'{name}')::{cast} from supervision_rules r"
        f" where r.hall_id = $1 order by r.version desc limit 1), {default})"
    )


def _not_raised(kind: str, subject: str) -> str:
    return (
        f"not exists (select 1 from alarm a where a.hall_id = $1 and a.kind = '{kind}'"
        f" and a.level = 'warning' and a.subject = {subject})"
    )


# -- a ticket waiting too long, from the start of its visit's wait (today's tickets) ----------
_WAIT_SUBJECT = "'ticket:' || t.visit_id"

# $1 hall, $2 service day, $3 now, $4 default minutes
ANY_TICKET_WAIT = f"""
select exists (
    select 1 from ticket t
    where t.hall_id = $1 and t.status = 'waiting' and t.service_day = $2
      and t.wait_start_at <= $3::timestamptz - make_interval(mins => {_rule("ticket_wait_minutes", "int", "$4")})
      and {_not_raised("ticket_wait", _WAIT_SUBJECT)})
"""

# $1 hall, $2 service day, $3 now, $4 minutes, $5 batch
DUE_TICKET_WAITS = f"""
select t.id, t.ticket_no, t.wait_start_at, t.queued_at, q.name as queue_name, q.department_id,
       {_WAIT_SUBJECT} as subject
from ticket t join queue q on q.id = t.queue_id
where t.hall_id = $1 and t.status = 'waiting' and t.service_day = $2
  and t.wait_start_at <= $3::timestamptz - make_interval(mins => $4)
  and {_not_raised("ticket_wait", _WAIT_SUBJECT)}
order by t.wait_start_at, t.id
limit $5
"""

# -- a service far beyond its norm: the item's where the item belongs to the ticket's queue (a
# transferred ticket keeps its registration's item), else the queue's (today's tickets) -------
_SERVICE_SUBJECT = "'ticket:' || t.id || ':service'"
_NORM = "coalesce(i.service_norm_minutes, q.service_norm_minutes)"
_SERVING = f"""
from ticket t join queue q on q.id = t.queue_id
left join registration g on g.id = t.registration_id
left join item i on i.id = g.item_id and i.queue_id = t.queue_id
where t.hall_id = $1 and t.status = 'serving' and t.service_day = $2
  and {_not_raised("service_overlong", _SERVICE_SUBJECT)}
"""

# $1 hall, $2 service day, $3 now, $4 default factor
ANY_SERVICE_OVERLONG = f"""
select exists (
    select 1 {_SERVING}
      and t.service_started_at
          + make_interval(secs => {_rule("service_norm_factor", "float8", "$4")} * 60 * {_NORM})
          <= $3)
"""

# $1 hall, $2 service day, $3 now, $4 factor, $5 batch
DUE_SERVICES = f"""
select t.id, t.ticket_no, t.service_started_at, t.window_id, t.clerk_id, q.department_id,
       q.name as queue_name, i.name as item_name, {_NORM} as norm_minutes,
       (select w.window_no from service_window w where w.id = t.window_id) as window_no,
       {_SERVICE_SUBJECT} as subject
{_SERVING}
  and t.service_started_at + make_interval(secs => $4::float8 * 60 * {_NORM}) <= $3
order by t.service_started_at, t.id
limit $5
"""

# -- a sign-off request waiting longer than the hall's signoff_wait_minutes -------------------
_SIGNOFF_SUBJECT = "'signoff:' || s.id"
_SIGNOFF_LIMIT = (
    "(select make_interval(mins => h.signoff_wait_minutes) from hall h where h.id = $1)"
)

# $1 hall, $2 now
ANY_SIGNOFF_WAIT = f"""
select exists (
    select 1 from signoff_request s
    where s.hall_id = $1 and s.decided_at is null and not s.wait_alarmed
      and s.requested_at <= $2::timestamptz - {_SIGNOFF_LIMIT}
      and {_not_raised("signoff_wait", _SIGNOFF_SUBJECT)})
"""

# $1 hall, $2 now, $3 batch
DUE_SIGNOFFS = f"""
select s.id, s.purpose, s.requested_at, s.department_id, s.window_id, s.case_id, c.case_no,
       i.name as item_name, w.window_no,
       (select h.signoff_wait_minutes from hall h where h.id = $1) as wait_minutes,
       -- who must act: the department's leader on duty that day (领导带班)
       (select ld.staff_id from leader_duty ld
        where ld.hall_id = s.hall_id and ld.department_id = s.department_id
          and ld.duty_date = ($2::timestamptz at time zone 'Asia/Shanghai')::date
        order by ld.staff_id limit 1) as leader_id,
       {_SIGNOFF_SUBJECT} as subject
from signoff_request s join service_case c on c.id = s.case_id
join item i on i.id = c.item_id join service_window w on w.id = s.window_id
where s.hall_id = $1 and s.decided_at is null and not s.wait_alarmed
  and s.requested_at <= $2::timestamptz - {_SIGNOFF_LIMIT}
  and {_not_raised("signoff_wait", _SIGNOFF_SUBJECT)}
order by s.requested_at, s.id
limit $3
"""

# Alarmed requests leave the probe's index range (signoff_wait_unalarmed), in the alarm's
# transaction.
MARK_SIGNOFFS_ALARMED = (
    "update signoff_request set wait_alarmed = true where id = any($1::bigint[])"
)

# -- an open window with nobody at it: no clerk signed in, or the one signed in has no live
# session any more (logged out, revoked or expired without signing out). Unattended since: when
# it lost its clerk or opened without one (service_window.unattended_since); for a clerk with no
# live session, when the last of their sessions ended, but not before they signed in here nor
# before the window opened. A window has one alarm per such episode. -------------------------
_UNATTENDED = """
with unattended as (
    select w.id, w.window_no, w.department_id, ws.staff_id,
           case when ws.staff_id is null then w.unattended_since
                else greatest(ws.since, w.status_since,
                              (select max(least(coalesce(s.revoked_at, s.expires_at),
                                                s.expires_at))
                               from auth_session s where s.staff_id = ws.staff_id))
           end as since
    from service_window w left join window_signin ws on ws.window_id = w.id
    where w.hall_id = $1 and w.status = 'open'
      and (ws.staff_id is null
           or not exists (select 1 from auth_session s
                          where s.staff_id = ws.staff_id and s.expires_at > $2
                            and (s.revoked_at is null or s.revoked_at > $2)))
), due as (
    select u.*, 'window:' || u.id || ':' || floor(extract(epoch from u.since))::bigint
                as subject
    from unattended u where u.since <= $2::timestamptz - make_interval(mins => {minutes})
)
"""

# $1 hall, $2 now, $3 default minutes
ANY_UNATTENDED = (
    _UNATTENDED.format(minutes=_rule("unattended_minutes", "int", "$3"))
    + f"select exists (select 1 from due t where {_not_raised('window_unattended', 't.subject')})"
)

# $1 hall, $2 now, $3 minutes, $4 batch
DUE_UNATTENDED = (
    _UNATTENDED.format(minutes="$3")
    + f"""
select t.id, t.window_no, t.department_id, t.staff_id, t.since, t.subject
from due t where {_not_raised("window_unattended", "t.subject")}
order by t.since, t.id
limit $4
"""
)

# -- a window paused (暂停服务) too long: one alarm per pause --------------------------------------
_PAUSE_SUBJECT = (
    "'window:' || w.id || ':pause:' || floor(extract(epoch from w.status_since))::bigint"
)

# $1 hall, $2 now, $3 default minutes
ANY_PAUSE_OVERLONG = f"""
select exists (
    select 1 from service_window w
    where w.hall_id = $1 and w.status = 'paused'
      and w.status_since <= $2::timestamptz
                            - make_interval(mins => {_rule("window_pause_minutes", "int", "$3")})
      and {_not_raised("pause_overlong", _PAUSE_SUBJECT)})
"""

# $1 hall, $2 now, $3 minutes, $4 batch
DUE_PAUSES = f"""
select w.id, w.window_no, w.department_id, ws.staff_id, w.status_since as since,
       {_PAUSE_SUBJECT} as subject
from service_window w left join window_signin ws on ws.window_id = w.id
where w.hall_id = $1 and w.status = 'paused' and w.status_since <= $2::timestamptz - make_interval(mins => $3)
  and {_not_raised("pause_overlong", _PAUSE_SUBJECT)}
order by w.status_since, w.id
limit $4
"""
