-- Foundation: halls, their people and data, the event log and the audit trail.

create table hall (
    id            serial primary key,
    code          text not null unique check (code ~ '^[a-z0-9-]{2,32}$'),
    name          text not null,
    level         text not null check (level in ('city', 'county')),
    -- a county hall belongs to a city hall for supervision (市县联动)
    parent_id     int references hall(id),
    -- working periods of a day, used by working-hour limits: [["09:00","12:00"],["13:00","17:00"]]
    work_periods  jsonb not null default '[["09:00","12:00"],["13:00","17:00"]]',
    notice_line   text not null default '',
    created_at    timestamptz not null default now(),
    check (level = 'city' or parent_id is not null)
);

-- One row per hall: the gapless event sequence. Updating it inside the command's transaction
-- takes a row lock until commit, so sequence numbers are handed out in commit order. A hall's
-- row is inserted with the hall (trigger hall_seq_init, db/functions/event_log.sql).
create table hall_seq (
    hall_id   int primary key references hall(id),
    last_seq  bigint not null default 0
);

create table department (
    id       serial primary key,
    hall_id  int not null references hall(id),
    code     text not null,
    name     text not null,
    unique (hall_id, code)
);

create table queue (
    id             serial primary key,
    hall_id        int not null references hall(id),
    code           text not null,
    name           text not null,
    prefix         text not null check (prefix ~ '^[A-Z]{1,2}$'),
    department_id  int references department(id),
    unique (hall_id, code),
    unique (hall_id, prefix)
);

create table service_window (
    id             serial primary key,
    hall_id        int not null references hall(id),
    window_no      int not null check (window_no between 1 and 999),
    display_name   text not null,
    department_id  int not null references department(id),
    zone           text not null default '',
    status         text not null default 'closed' check (status in ('open', 'paused', 'closed')),
    unique (hall_id, window_no)
);

-- Which queues a window serves, in the order it serves them.
create table window_queue (
    window_id  int not null references service_window(id),
    queue_id   int not null references queue(id),
    position   int not null,
    primary key (window_id, queue_id)
);

create table staff (
    id               serial primary key,
    hall_id          int not null references hall(id),
    username         text not null unique check (username ~ '^[a-z0-9._-]{2,40}$'),
    display_name     text not null,
    role             text not null check (role in ('clerk', 'leader', 'supervisor', 'admin')),
    department_id    int references department(id),
    password_hash    text not null,
    failed_logins    int not null default 0,
    locked_until     timestamptz,
    active           boolean not null default true,
    check (role not in ('clerk', 'leader') or department_id is not null)
);

-- Kiosks and lobby displays: devices that authenticate with a bearer token.
create table device (
    id           serial primary key,
    hall_id      int not null references hall(id),
    code         text not null unique check (code ~ '^[a-z0-9._-]{2,40}$'),
    kind         text not null check (kind in ('kiosk', 'display')),
    name         text not null,
    secret_hash  text not null,
    active       boolean not null default true
);

-- Login sessions, for staff (cookie or bearer) and devices (bearer). Only a hash of the token
-- is stored, so a copy of the database does not hand out sessions.
create table auth_session (
    token_hash   bytea primary key,
    staff_id     int references staff(id),
    device_id    int references device(id),
    created_at   timestamptz not null default now(),
    expires_at   timestamptz not null,
    revoked_at   timestamptz,
    check ((staff_id is null) <> (device_id is null))
);
create index auth_session_staff on auth_session (staff_id);

-- A clerk is signed in at one window at a time and a window has one clerk at a time.
create table window_signin (
    window_id   int primary key references service_window(id),
    staff_id    int not null unique references staff(id),
    since       timestamptz not null default now()
);

-- Leader on duty per day (领导带班).
create table leader_duty (
    hall_id        int not null references hall(id),
    duty_date      date not null,
    staff_id       int not null references staff(id),
    department_id  int not null references department(id),
    primary key (hall_id, duty_date, staff_id)
);

create table item (
    id                serial primary key,
    hall_id           int not null references hall(id),
    department_id     int not null references department(id),
    code              text not null,
    name              text not null,
    category          text not null default '',
    kind              text not null check (kind in ('immediate', 'promised')),
    limit_unit        text not null check (limit_unit in ('working_day', 'working_hour')),
    statutory_limit   int not null check (statutory_limit >= 0),
    promised_limit    int not null check (promised_limit >= 0),
    queue_id          int references queue(id),
    active            boolean not null default true,
    unique (hall_id, code),
    check (promised_limit <= statutory_limit),
    check (kind = 'promised' or promised_limit = 0)
);

create table item_material (
    id        serial primary key,
    item_id   int not null references item(id),
    position  int not null,
    name      text not null,
    is_key    boolean not null,
    copies    int not null default 1,
    note      text not null default '',
    unique (item_id, position)
);

create table item_fee (
    id            serial primary key,
    item_id       int not null references item(id),
    name          text not null,
    amount_cents  int not null check (amount_cents >= 0),
    basis         text not null default ''
);

-- Hall calendar: a row overrides the default (Mon–Fri working). Seeded from chinese-calendar
-- (statutory holidays and 调休 working days), editable per hall.
create table calendar_day (
    hall_id     int not null references hall(id),
    day         date not null,
    is_working  boolean not null,
    note        text not null default '',
    primary key (hall_id, day)
);

-- The event log: per-hall gapless sequence, one row per event, written in the command's
-- transaction and published only after commit (append_events in db/functions/event_log.sql).
create table event (
    hall_id     int not null references hall(id),
    seq         bigint not null check (seq > 0),
    type        text not null,
    payload     jsonb not null,
    actor_kind  text not null check (actor_kind in ('staff', 'device', 'system')),
    actor_id    int,
    window_id   int references service_window(id),
    at          timestamptz not null default now(),
    primary key (hall_id, seq)
);

-- Append-only audit trail of every command, login and refusal.
create table audit (
    id          bigserial primary key,
    at          timestamptz not null default now(),
    hall_id     int references hall(id),
    actor_kind  text not null,
    actor_id    int,
    window_id   int,
    action      text not null,
    outcome     text not null,
    detail      jsonb not null default '{}'
);

-- Its append-only trigger is in db/functions/audit.sql.
revoke update, delete, truncate on audit from public;
