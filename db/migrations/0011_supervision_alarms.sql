-- Electronic supervision, first part: a hall's rule sets (versioned data, the latest applies;
-- server/domain/alarm_ladder.py parses them) and the alarms raised from the case clocks' ladder.
-- Each case keeps its next rung (next_alarm_at), so the hall timers find what is due by one
-- index range, whatever the number of open cases; an alarm is one row per case, kind and
-- level (unique), so a firing that is retried, or run by two processes, raises it once.
create table supervision_rules (
    hall_id     int not null references hall(id),
    version     int not null check (version >= 1),
    rules       jsonb not null,
    created_at  timestamptz not null default now(),
    created_by  int references staff(id),
    primary key (hall_id, version)
);

create table alarm (
    id             bigserial primary key,
    hall_id        int not null references hall(id),
    kind           text not null,                 -- the trigger: 'case_deadline', ...
    level          text not null check (level in ('warning', 'yellow', 'red')),
    case_id        bigint references service_case(id),
    department_id  int references department(id),
    window_id      int references service_window(id),
    rule_version   int not null,                  -- 0: the built-in defaults
    due_at         timestamptz not null,
    issued_at      timestamptz not null,
    state          text not null default 'issued'
                   check (state in ('pending', 'issued', 'rectifying', 'withdrawn', 'cancelled',
                                    'closed')),
    detail         jsonb not null default '{}'
);
create unique index alarm_once on alarm (case_id, kind, level) where case_id is not null;
create index alarm_open on alarm (hall_id, issued_at) where state in ('issued', 'rectifying');

alter table service_case
    add column next_alarm_at     timestamptz,
    add column next_alarm_level  text check (next_alarm_level in ('warning', 'yellow', 'red'));
create index service_case_next_alarm on service_case (hall_id, next_alarm_at)
    where next_alarm_at is not null;
