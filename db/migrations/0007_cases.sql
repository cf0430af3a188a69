-- Cases (办件): what a clerk accepts at the window, with its materials, fees, history, clock and
-- the leader's sign-off. The case's state machine lives in server/domain/case_flow.py; the
-- clock is a pure function of the case's clock events (server/domain/case_clock.py), kept on
-- the case as JSON after every command and recomputed from case_history when the calendar
-- changes.

-- An item's definition is versioned: a case keeps the version it was accepted under (the case
-- copies the limits and the material list, so a later edit of the item cannot change it).
alter table item
    add column version           int not null default 1 check (version >= 1),
    add column requires_signoff  boolean not null default false,
    -- 急办 (green channel): the shorter limit, in the item's unit; null: the item has none
    add column urgent_limit      int check (urgent_limit >= 0);

-- How long a sign-off request may wait before it shows as waiting too long (supervision acts
-- on it later); the working days within which a supplement notice must be issued (§32: 5),
-- and the working days before that at which the clerk is warned.
alter table hall
    add column signoff_wait_minutes    int not null default 10 check (signoff_wait_minutes > 0),
    add column supplement_notice_days  int not null default 5 check (supplement_notice_days > 0),
    add column supplement_warn_days    int not null default 1 check (supplement_warn_days >= 0);

-- Case numbers per hall per day; the hall's code is in the number, so it is unique across the
-- city and its county halls.
create table case_day (
    hall_id      int not null references hall(id),
    day          date not null,
    last_number  int not null default 0,
    primary key (hall_id, day)
);

create table service_case (
    id                bigserial primary key,
    hall_id           int not null references hall(id),
    case_no           text not null unique,
    query_code        text not null unique,
    -- joint cases (联办): a parent case with a child case per department, each with its clock
    parent_id         bigint references service_case(id),
    item_id           int not null references item(id),
    item_version      int not null,
    department_id     int not null references department(id),
    kind              text not null check (kind in ('immediate', 'promised', 'escalated', 'urgent')),
    state             text not null check (state in ('accepted', 'in_progress', 'awaiting_signoff',
                          'approved', 'refused', 'completed', 'delivered', 'not_accepted',
                          'withdrawn')),
    applicant_name    text not null,
    applicant_phone   text,
    applicant_id_no   text,
    ticket_id         bigint references ticket(id),
    registration_id   bigint references registration(id),
    window_id         int not null references service_window(id),   -- accepted at
    clerk_id          int not null references staff(id),            -- accepted by
    accepted_at       timestamptz not null,
    -- the limit that applies (promised, urgent or 0 for immediate) and the statutory one
    limit_amount      int not null check (limit_amount >= 0),
    limit_unit        text not null check (limit_unit in ('working_day', 'working_hour',
                                                          'calendar_day')),
    statutory_amount  int not null check (statutory_amount >= 0),
    -- the clock's state (case_clock.ClockState.to_json) and the columns read by lists,
    -- metrics and supervision
    clock             jsonb not null,
    clock_status      text not null check (clock_status in ('running', 'paused', 'stopped')),
    deadline          timestamptz,
    -- 容缺受理: the applicant signed a commitment; the missing materials are due by then
    deficiency_due    timestamptz,
    deficiency_reminded boolean not null default false,
    visits            int not null default 1 check (visits >= 1),
    reason            text,          -- not accepted / refused / withdrawn
    decided_at        timestamptz,   -- approved or refused
    completed_at      timestamptz,
    delivered_at      timestamptz,
    last_visit_day    date not null,
    check (state not in ('not_accepted', 'refused', 'withdrawn') or coalesce(reason, '') <> '')
);
create index service_case_open on service_case (hall_id, window_id)
    where state not in ('completed', 'delivered', 'not_accepted', 'withdrawn');
create index service_case_running on service_case (deadline) where clock_status = 'running';
create index service_case_accepted on service_case (hall_id, accepted_at);
create index service_case_registration on service_case (registration_id)
    where registration_id is not null;
create index service_case_deficiency on service_case (deficiency_due)
    where deficiency_due is not null and not deficiency_reminded;
create index service_case_parent on service_case (parent_id) where parent_id is not null;

-- The case's materials, copied from the item's list at acceptance.
create table case_material (
    case_id    bigint not null references service_case(id),
    position   int not null,
    name       text not null,
    is_key     boolean not null,
    copies     int not null default 1,
    status     text not null check (status in ('submitted', 'missing', 'faulty', 'supplemented')),
    -- 容缺: accepted while missing, against the applicant's signed commitment
    deferred   boolean not null default false,
    problem    text not null default '',   -- what is wrong, for the supplement notice
    updated_at timestamptz not null,
    primary key (case_id, position),
    check (not deferred or not is_key)
);

-- Fees, only ever collected in the hall.
create table case_fee (
    id            bigserial primary key,
    case_id       bigint not null references service_case(id),
    hall_id       int not null references hall(id),
    item_fee_id   int not null references item_fee(id),
    name          text not null,
    amount_cents  int not null check (amount_cents > 0),
    receipt_no    text not null,
    window_id     int not null references service_window(id),
    clerk_id      int not null references staff(id),
    paid_at       timestamptz not null,
    unique (hall_id, receipt_no)
);

-- The case's own history: one row per command that changed it. The clock is replayed from the
-- rows' clock events; the timeline (/track, the terminal) reads it. Append-only.
create table case_history (
    id          bigserial primary key,
    case_id     bigint not null references service_case(id),
    at          timestamptz not null,
    action      text not null,              -- the command's name
    actor_kind  text not null,
    actor_id    int,
    window_id   int references service_window(id),
    from_state  text,
    to_state    text not null,
    clock       jsonb,                      -- case_clock.ClockEvent.to_json, when it moved the clock
    reason      text not null default '',
    detail      jsonb not null default '{}'
);
create index case_history_case on case_history (case_id, id);

-- 补正: one notice listing every missing or faulty material (一次性告知).
create table supplement_notice (
    id           bigserial primary key,
    case_id      bigint not null references service_case(id),
    issued_at    timestamptz not null,
    issued_by    int not null references staff(id),
    window_id    int not null references service_window(id),
    materials    jsonb not null,             -- [{position, name, status, problem}]
    received_at  timestamptz
);
create unique index supplement_notice_open on supplement_notice (case_id) where received_at is null;

-- A leader's sign-off (签批): requested by the clerk, decided once by the department's leader
-- on duty. A decision cannot be changed (trigger in db/functions/cases.sql).
create table signoff_request (
    id             bigserial primary key,
    case_id        bigint not null references service_case(id),
    hall_id        int not null references hall(id),
    department_id  int not null references department(id),
    purpose        text not null check (purpose in ('decision', 'extension')),
    extension      int check (extension > 0),   -- §42: the extra amount asked for
    note           text not null default '',
    requested_by   int not null references staff(id),
    window_id      int not null references service_window(id),
    requested_at   timestamptz not null,
    decision       text check (decision in ('approved', 'rejected')),
    comment        text,
    decided_by     int references staff(id),
    decided_at     timestamptz,
    check ((decision is null) = (decided_at is null)),
    check (purpose = 'decision' or extension is not null)
);
create unique index signoff_open on signoff_request (case_id) where decided_at is null;
create index signoff_waiting on signoff_request (hall_id, department_id) where decided_at is null;

-- What a refused command found wrong that supervision must see (a fee not in the item's list
-- or above it, …): written on its own after the refusal, read by electronic supervision.
create table irregularity (
    id          bigserial primary key,
    hall_id     int not null references hall(id),
    case_id     bigint references service_case(id),
    kind        text not null,
    detail      jsonb not null default '{}',
    actor_id    int,
    window_id   int,
    at          timestamptz not null
);
create index irregularity_hall on irregularity (hall_id, at);
