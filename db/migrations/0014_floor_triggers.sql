-- Electronic supervision on the hall floor (issue 9): the timestamps the floor triggers
-- (server/domain/floor_alarms.py) read to know when each episode began, the service norms, and
-- the partial indexes that keep an idle tick of each trigger to one small probe. The columns
-- are kept by triggers (db/functions/floor_alarms.sql), so every path that inserts a ticket or
-- changes a window (the SQL queue functions, the window commands, an administrator's SQL)
-- keeps them right.

-- A service's norm (办理时间定额), in minutes: the item's own where it has one, else its
-- queue's. A service longer than rules.service_norm_factor times the norm raises an alarm.
alter table queue add column service_norm_minutes int not null default 15
    check (service_norm_minutes between 1 and 480);
alter table item add column service_norm_minutes int
    check (service_norm_minutes between 1 and 480);

-- A citizen's wait counts over the whole visit: a transfer or a no-show requeue opens a
-- successor ticket with the same number. wait_start_at is the ticket's queued_at moved back by
-- the waits of its predecessors (each from queued to called, or to its end when never called),
-- so an index range finds the tickets waiting too long; visit_id is the first ticket of the
-- visit (the wait alarm is raised once per visit, not again after a transfer).
alter table ticket
    add column wait_start_at timestamptz,
    add column visit_id      bigint;
update ticket set wait_start_at = queued_at where wait_start_at is null;
with recursive chain (id, root) as (
    select id, id from ticket where previous_id is null
    union all
    select t.id, c.root from ticket t join chain c on t.previous_id = c.id
)
update ticket t set visit_id = chain.root from chain where chain.id = t.id;
update ticket set visit_id = id where visit_id is null;
alter table ticket alter column wait_start_at set not null, alter column visit_id set not null;
create index ticket_wait_start on ticket (hall_id, wait_start_at) where status = 'waiting';
create index ticket_serving_since on ticket (hall_id, service_started_at)
    where status = 'serving';

-- When a window's status last changed (a pause's start; null until its first change, so a
-- seeded hall is the same whenever it is seeded), and since when an open window has had no
-- clerk signed in at it (null while attended or not open).
alter table service_window
    add column status_since     timestamptz,
    add column unattended_since timestamptz;
update service_window w set unattended_since = now()
where w.status = 'open' and not exists (select 1 from window_signin s where s.window_id = w.id);

-- Sign-off requests waiting, in order of their request (signoff_waiting is by department).
create index signoff_waiting_since on signoff_request (hall_id, requested_at)
    where decided_at is null;
