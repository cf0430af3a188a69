-- Electronic supervision, the rest: every trigger, the alarm's life and the people it reaches.
--
-- An alarm is about a subject, a text key that names what it is raised on ('case:17',
-- 'case:17:step:in_progress', 'ticket:88', 'signoff:5', 'window:3:<since>', 'alarm:12'); one
-- row per hall, kind, level and subject (unique), so a trigger that is retried, run by two
-- processes or run again after a kill -9 raises it once. The schedule of what is not due yet
-- is not stored as alarms: a case keeps its next rung (service_case.next_alarm_at), the floor
-- triggers read their timestamps (ticket.queued_at, signoff_request.requested_at, ...).
alter table alarm add column subject text;
update alarm set subject = 'case:' || case_id where subject is null;
alter table alarm alter column subject set not null;
drop index alarm_once;
create unique index alarm_once on alarm (hall_id, kind, level, subject);
create index alarm_case on alarm (case_id) where case_id is not null;

alter table alarm
    add column ticket_id        bigint references ticket(id),
    add column staff_id         int references staff(id),         -- the handling clerk
    -- the hall whose supervision raised it: a county hall cannot withdraw what its city raised
    add column raised_by_hall   int references hall(id),
    add column acknowledged_at  timestamptz,
    add column acknowledged_by  int references staff(id),
    add column rectify_due_at   timestamptz,   -- 督办: the department answers by then
    add column answer           text,
    add column answered_at      timestamptz,
    add column appeal           text,
    add column appealed_at      timestamptz,
    add column closed_at        timestamptz;
update alarm set raised_by_hall = hall_id where raised_by_hall is null;
alter table alarm alter column raised_by_hall set not null;
create index alarm_rectify_due on alarm (hall_id, rectify_due_at)
    where state = 'rectifying' and answered_at is null;
create index alarm_month on alarm (hall_id, issued_at);

-- What was done with an alarm, in order (acknowledge, annotate, 督办, answer, appeal, the
-- supervisor's decision, close): its timeline on the wall. Append-only.
create table alarm_action (
    id          bigserial primary key,
    alarm_id    bigint not null references alarm(id),
    action      text not null,
    actor_kind  text not null,
    actor_id    int,
    hall_id     int not null references hall(id),   -- the actor's hall
    at          timestamptz not null,
    note        text not null default '',
    detail      jsonb not null default '{}'
);
create index alarm_action_alarm on alarm_action (alarm_id, id);

-- Staff phones: an alarm reaches its handling clerk by SMS through the outbox.
alter table staff add column phone text check (phone ~ '^1[3-9][0-9]{9}$');
