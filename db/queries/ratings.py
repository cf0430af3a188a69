"""Ratings (好差评, issue 11): what is rated and who served it, the rating itself (once per
subject, whatever the channel), SMS invitations, the window's rating request, and the
ratings read back (the rectification a bad review opens: db/queries/rectification.py)."""

from __future__ import annotations

# What a case's rating is tied to: the window and clerk that accepted it (a joint case's lead
# window), its department.
CASE_SUBJECT = """
select c.id as case_id, c.ticket_id, c.hall_id, c.window_id, c.clerk_id, c.department_id,
       c.case_no, c.state, c.completed_at, c.applicant_phone, h.name as hall_name,
       h.parent_id as hall_parent_id, i.name as item_name, w.window_no,
       d.code as department_code
from service_case c join hall h on h.id = c.hall_id join item i on i.id = c.item_id
join service_window w on w.id = c.window_id join department d on d.id = c.department_id
where c.id = $1
"""

# A ticket served at a window: its case when it became one, else the ticket itself.
TICKET_SUBJECT = """
select t.id as ticket_id, t.hall_id, t.window_id, t.clerk_id, w.department_id, t.status,
       t.outcome, t.ticket_no, w.window_no, h.parent_id as hall_parent_id,
       d.code as department_code,
       (select c.id from service_case c where c.ticket_id = t.id order by c.id limit 1) as case_id
from ticket t join service_window w on w.id = t.window_id join hall h on h.id = t.hall_id
join department d on d.id = w.department_id
where t.id = $1
"""

# The ballot slip's barcode is the notice's reg_no: its registration's case, or its last ticket.
SLIP_SUBJECT = """
select r.id as registration_id, r.hall_id,
       (select c.id from service_case c where c.registration_id = r.id and c.parent_id is null
        order by c.id desc limit 1) as case_id,
       (select t.id from ticket t where t.registration_id = r.id and t.window_id is not null
          and t.status = 'done' and t.outcome = 'served'
        order by t.id desc limit 1) as ticket_id
from registration r
where r.reg_no = $1
"""

INSERT_RATING = """
insert into rating (hall_id, subject, case_id, ticket_id, window_id, clerk_id, department_id,
                    level, reasons, comment, channel, real_name, slip_no, recorded_by, rated_at)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
on conflict do nothing
returning id
"""

RATING_OF_SUBJECT = "select id, channel, rated_at from rating where subject = $1"
RATING_OF_SLIP = "select id from rating where slip_no = $1"

# ------------------------------------------------------------------------------ SMS invitations

INSERT_INVITE = """
insert into rating_invite (token_hash, hall_id, subject, case_id, created_at, expires_at)
values ($1, $2, $3, $4, $5, $6)
"""

INVITE = """
select i.*, c.case_no, c.completed_at, it.name as item_name, h.name as hall_name,
       w.window_no, (select r.id from rating r where r.subject = i.subject) as rating_id
from rating_invite i
join service_case c on c.id = i.case_id
join item it on it.id = c.item_id
join hall h on h.id = i.hall_id
join service_window w on w.id = c.window_id
where i.token_hash = $1
"""

USE_INVITE = "update rating_invite set used_at = $2 where token_hash = $1 and used_at is null"

# ------------------------------------------------------------------------------ the window's request

UPSERT_REQUEST = """
insert into rating_request (window_id, hall_id, subject, case_id, ticket_id, clerk_id,
                            requested_at)
values ($1, $2, $3, $4, $5, $6, $7)
on conflict (window_id) do update
set subject = excluded.subject, case_id = excluded.case_id, ticket_id = excluded.ticket_id,
    clerk_id = excluded.clerk_id, requested_at = excluded.requested_at
"""

REQUEST_OF_WINDOW = """
select q.*, w.window_no from rating_request q join service_window w on w.id = q.window_id
where q.window_id = $1
"""
TAKE_REQUEST = "delete from rating_request where window_id = $1 returning *"

# The last ticket served at the window (what "rate this service" means when the clerk names
# nothing): served and finished, or being served now.
LAST_SERVED_AT_WINDOW = """
select t.id from ticket t
where t.window_id = $1 and (t.status = 'serving' or (t.status = 'done' and t.outcome = 'served'))
order by coalesce(t.finished_at, now()) desc, t.id desc
limit 1
"""

WINDOW = """
select w.id, w.window_no, w.hall_id, w.department_id, h.parent_id as hall_parent_id,
       h.name as hall_name, w.display_name
from service_window w join hall h on h.id = w.hall_id
where h.code = $1 and w.window_no = $2
"""

# The ratings read back (screens, reports): never the citizen's identity; the comment is left
# out by the domain for a clerk. $2/$3 the range [from, to), the rest optional filters.
RATINGS = """
select g.id, g.level, g.reasons, g.comment, g.channel, g.real_name, g.rated_at, g.excluded,
       split_part(g.subject, ':', 1) as subject_kind, w.window_no, d.code as department,
       s.display_name as clerk_name, r.id as rectification_id, r.state as rectification_state
from rating g
left join service_window w on w.id = g.window_id
left join department d on d.id = g.department_id
left join staff s on s.id = g.clerk_id
left join rectification r on r.rating_id = g.id
where g.hall_id = $1 and g.rated_at >= $2 and g.rated_at < $3
  and ($4::int is null or g.window_id = $4)
  and ($5::int is null or g.department_id = $5)
  and ($6::boolean is null or (g.level <= 2) = $6)
order by g.rated_at desc, g.id desc
limit $7
"""
