"""Case queries: the case row, its materials, fees, history, supplement notices and sign-off
requests. Each constant is one parameterised statement; the case service (server/domain/cases.py)
runs them inside its command's transaction."""

from __future__ import annotations

NEXT_CASE_NUMBER = """
insert into case_day (hall_id, day, last_number) values ($1, $2, 1)
on conflict (hall_id, day) do update set last_number = case_day.last_number + 1
returning last_number
"""

ITEM_FOR_CASE = """
select i.id, i.code, i.name, i.kind, i.limit_unit, i.statutory_limit, i.promised_limit,
       i.urgent_limit, i.version, i.requires_signoff, i.department_id, i.active,
       d.code as department_code, d.name as department_name
from item i join department d on d.id = i.department_id
where i.hall_id = $1 and i.code = $2
"""

# The ticket being served at the clerk's window (a case is accepted from it), locked.
SERVING_TICKET = """
select t.id, t.ticket_no, t.registration_id, t.window_id, t.status, r.reg_no, r.phone,
       r.id_number, i.code as item_code
from ticket t left join registration r on r.id = t.registration_id
left join item i on i.id = r.item_id
where t.id = $1 and t.hall_id = $2
for update of t
"""

# Locked: two windows scanning one registration (or one scanning it while another serves its
# ticket) accept it once.
REGISTRATION_FOR_CASE = """
select r.id, r.reg_no, r.phone, r.id_number, i.code as item_code, t.id as ticket_id,
       t.window_id as ticket_window_id, t.status as ticket_status
from registration r join item i on i.id = r.item_id
left join lateral (
    select t.id, t.window_id, t.status from ticket t where t.registration_id = r.id
    order by t.id desc limit 1
) t on true
where r.hall_id = $1 and r.reg_no = $2
for update of r
"""

LOCK_REGISTRATION = "select 1 from registration where id = $1 for update"

# The case already accepted from this ticket ($1) or this registration ($2; either may be null).
CASE_OF_SOURCE = """
select id, case_no from service_case
where parent_id is null and (ticket_id = $1 or registration_id = $2)
limit 1
"""

INSERT_CASE = """
insert into service_case (
    hall_id, case_no, query_code, item_id, item_version, department_id, kind, state,
    applicant_name, applicant_phone, applicant_id_no, ticket_id, registration_id, window_id,
    clerk_id, accepted_at, limit_amount, limit_unit, statutory_amount, clock, clock_status,
    deadline, deficiency_due, reason, last_visit_day)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
        $20, $21, $22, $23, $24, $25)
returning id
"""

_CASE_COLS = """
c.*, h.code as hall_code, h.name as hall_name, h.parent_id as hall_parent_id,
h.signoff_wait_minutes, h.supplement_warn_days,
coalesce((select (r.rules->>'supplement_notice_days')::int from supervision_rules r
          where r.hall_id = h.id order by r.version desc limit 1),
         h.supplement_notice_days) as supplement_notice_days,
i.code as item_code, i.name as item_name, i.requires_signoff,
d.code as department_code, d.name as department_name,
w.window_no, st.display_name as clerk_name
"""
# What the screens' case summary adds for §32's warning (case_views.supplement_warning): whether
# a supplement notice went out and whether materials are lacking. Read for the screens only, not
# by the commands (CASE_FOR_UPDATE) nor for their events.
_REVIEW_COLS = """
(select min(sn.issued_at) from supplement_notice sn where sn.case_id = c.id) as first_notice_at,
exists (select 1 from case_material cm where cm.case_id = c.id
        and cm.status in ('missing', 'faulty') and not cm.deferred) as lacking
"""
_CASE_FROM = """
from service_case c join hall h on h.id = c.hall_id join item i on i.id = c.item_id
join department d on d.id = c.department_id join service_window w on w.id = c.window_id
join staff st on st.id = c.clerk_id
"""

CASE_FOR_UPDATE = f"select {_CASE_COLS} {_CASE_FROM} where c.id = $1 for update of c"
CASE_BY_ID = f"select {_CASE_COLS} {_CASE_FROM} where c.id = $1"
CASE_VIEW = f"select {_CASE_COLS}, {_REVIEW_COLS} {_CASE_FROM} where c.id = $1"
CASE_BY_QUERY_CODE = f"select {_CASE_COLS} {_CASE_FROM} where c.query_code = $1"
# A registration's query code leads the citizen to the case accepted from it. Never its reg_no
# (the notice's barcode): that is the day and a running number, read in order by anyone; staff
# find a case by it through CASE_BY_ANY_CODE.
CASE_BY_REGISTRATION_QUERY_CODE = f"""
select {_CASE_COLS} {_CASE_FROM}
join registration r on r.id = c.registration_id
where r.query_code = $1 and c.parent_id is null
order by c.id desc limit 1
"""

UPDATE_CASE = """
update service_case set
    state = $2, kind = $3, clock = $4, clock_status = $5, deadline = $6, visits = $7,
    last_visit_day = $8, reason = coalesce($9, reason), decided_at = $10, completed_at = $11,
    delivered_at = $12
where id = $1
"""

INSERT_MATERIALS = """
insert into case_material (case_id, position, name, is_key, copies, status, deferred, problem,
                           updated_at)
select $1, t.position, t.name, t.is_key, t.copies, t.status, t.deferred, t.problem, $2
from unnest($3::int[], $4::text[], $5::bool[], $6::int[], $7::text[], $8::bool[], $9::text[])
     as t(position, name, is_key, copies, status, deferred, problem)
"""

MATERIALS_OF_CASE = """
select position, name, is_key, copies, status, deferred, problem
from case_material where case_id = $1 order by position
"""

SET_MATERIAL = """
update case_material set status = $3, problem = $4, updated_at = $5,
    deferred = case when $3 = 'supplemented' then deferred else deferred and $3 = 'missing' end
where case_id = $1 and position = $2
"""

INSERT_HISTORY = """
insert into case_history (case_id, at, action, actor_kind, actor_id, window_id, from_state,
                          to_state, clock, reason, detail)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
"""

HISTORY_OF_CASE = """
select h.id, h.at, h.action, h.actor_kind, h.actor_id, h.window_id, h.from_state, h.to_state,
       h.clock, h.reason, h.detail, st.display_name as actor_name, st.role as actor_role,
       w.window_no
from case_history h left join staff st on h.actor_kind = 'staff' and st.id = h.actor_id
left join service_window w on w.id = h.window_id
where h.case_id = $1 order by h.id
"""


INSERT_SUPPLEMENT = """
insert into supplement_notice (case_id, issued_at, issued_by, window_id, materials)
values ($1, $2, $3, $4, $5) returning id
"""
HALL_OF_CASE = "select hall_id from service_case where id = $1"
SIGNOFF_WAIT_MINUTES = "select signoff_wait_minutes from hall where id = $1"

OPEN_SUPPLEMENT = """
select id, issued_at, materials from supplement_notice where case_id = $1 and received_at is null
"""
CLOSE_SUPPLEMENT = "update supplement_notice set received_at = $2 where id = $1"
SUPPLEMENTS_OF_CASE = """
select id, issued_at, materials, received_at from supplement_notice where case_id = $1
order by id
"""

INSERT_FEE = """
insert into case_fee (case_id, hall_id, item_fee_id, name, amount_cents, receipt_no, window_id,
                      clerk_id, paid_at)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
on conflict (hall_id, receipt_no) do nothing
returning id
"""
FEES_OF_CASE = """
select f.id, f.name, f.amount_cents, f.receipt_no, f.paid_at, w.window_no
from case_fee f join service_window w on w.id = f.window_id
where f.case_id = $1 order by f.id
"""

INSERT_IRREGULARITY = """
insert into irregularity (hall_id, case_id, kind, detail, actor_id, window_id, at)
values ($1, $2, $3, $4, $5, $6, $7)
returning id
"""

INSERT_SIGNOFF = """
insert into signoff_request (case_id, hall_id, department_id, purpose, extension, note,
                             requested_by, window_id, requested_at)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id
"""
OPEN_SIGNOFF = """
select id, purpose, extension, note, requested_by, window_id, requested_at
from signoff_request where case_id = $1 and decided_at is null for update
"""
DECIDE_SIGNOFF = """
update signoff_request set decision = $2, comment = $3, decided_by = $4, decided_at = $5
where id = $1
"""
SIGNOFFS_OF_CASE = """
select s.id, s.purpose, s.extension, s.note, s.requested_at, s.decision, s.comment,
       s.decided_at, rq.display_name as requested_by_name, ld.display_name as decided_by_name,
       w.window_no
from signoff_request s join staff rq on rq.id = s.requested_by
left join staff ld on ld.id = s.decided_by join service_window w on w.id = s.window_id
where s.case_id = $1 order by s.id
"""
# The requests waiting for a department's leader (all departments when $2 is null). A case
# withdrawn while awaiting sign-off leaves its request undecided: nothing waits on it any more.
WAITING_SIGNOFFS = """
select s.id, s.case_id, s.purpose, s.extension, s.note, s.requested_at,
       rq.display_name as requested_by_name, w.window_no, d.code as department_code
from signoff_request s join staff rq on rq.id = s.requested_by
join service_window w on w.id = s.window_id join department d on d.id = s.department_id
join service_case c on c.id = s.case_id and c.state = 'awaiting_signoff'
where s.hall_id = $1 and s.decided_at is null and ($2::int is null or s.department_id = $2)
order by s.requested_at, s.id
"""

ON_DUTY = """
select exists (select 1 from leader_duty
               where hall_id = $1 and duty_date = $2 and staff_id = $3 and department_id = $4)
"""

SIGNIN_OF_STAFF = """
select ws.window_id, w.window_no from window_signin ws join service_window w on w.id = ws.window_id
where ws.staff_id = $1
"""

# The open cases of the window's department (any of its windows may work them), oldest first.
OPEN_CASES_OF_WINDOW = f"""
select {_CASE_COLS}, {_REVIEW_COLS},
       (select count(*) from case_material m where m.case_id = c.id
         and m.status in ('missing', 'faulty'))::int as missing,
       (select s.issued_at from supplement_notice s where s.case_id = c.id
         and s.received_at is null) as supplement_issued_at
{_CASE_FROM}
where c.hall_id = $1 and c.department_id = $2
  and c.state not in ('completed', 'delivered', 'not_accepted', 'withdrawn')
order by c.accepted_at
limit 200
"""

# Completed cases of the window's department whose result waits to be picked up (领取).
READY_FOR_PICKUP = f"""
select {_CASE_COLS}, {_REVIEW_COLS}, 0 as missing, null::timestamptz as supplement_issued_at
{_CASE_FROM}
where c.hall_id = $1 and c.department_id = $2 and c.state = 'completed'
order by c.completed_at desc
limit 100
"""

# A case found by what the applicant brings: the receipt's case number or QR (query code), or
# the registration notice's barcode or query code.
CASE_BY_ANY_CODE = f"""
select {_CASE_COLS}, {_REVIEW_COLS} {_CASE_FROM}
where c.hall_id = $1 and (c.case_no = $2 or c.query_code = $2 or c.registration_id = (
    select r.id from registration r where r.hall_id = $1 and (r.reg_no = $2 or r.query_code = $2)))
order by c.id desc limit 1
"""

INSERT_SMS = """
insert into notification (hall_id, dedupe_key, recipient, body) values ($1, $2, $3, $4)
on conflict (dedupe_key) do nothing
"""

# Open cases of a hall whose clock the calendar moves (everything not stopped), each with its
# clock events in order: one statement however many cases.
CLOCKED_CASES = """
select c.id, c.clock,
       array(select h.clock from case_history h where h.case_id = c.id and h.clock is not null
             order by h.id) as events
from service_case c where c.hall_id = $1 and c.clock_status <> 'stopped'
for update of c
"""
REPRICE_CASE = "update service_case set clock = $2, deadline = $3 where id = $1"

# 容缺 cases whose deferred materials fall due soon and whose applicant was not reminded yet.
DEFICIENCY_DUE_SOON = """
select c.id, c.case_no, c.applicant_phone, c.deficiency_due, w.window_no, h.name as hall_name,
       array(select m.name from case_material m where m.case_id = c.id and m.deferred
             and m.status in ('missing', 'faulty') order by m.position) as materials
from service_case c join service_window w on w.id = c.window_id join hall h on h.id = c.hall_id
where c.hall_id = $1 and c.deficiency_due is not null and not c.deficiency_reminded
  and c.deficiency_due <= $2
  and c.state not in ('completed', 'delivered', 'not_accepted', 'withdrawn')
  -- materials that arrived leave nothing to remind of
  and exists (select 1 from case_material m where m.case_id = c.id and m.deferred
              and m.status in ('missing', 'faulty'))
"""
MARK_DEFICIENCY_REMINDED = """
update service_case set deficiency_reminded = true where id = $1 and not deficiency_reminded
returning id
"""
