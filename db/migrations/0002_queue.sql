-- Live queue and calling: registrations at the kiosk, tickets, calls, transfers, the SMS outbox.

alter table queue add column avg_service_seconds int not null default 300;
alter table hall add column no_show_recalls int not null default 2;     -- recalls before no-show
alter table hall add column park_minutes int not null default 60;       -- parked tickets expire
alter table hall add column closes_at time not null default '17:30';    -- unserved tickets close

-- Kiosk registration (自助登记): the citizen's first step, printed as the notice.
create table registration (
    id             bigserial primary key,
    hall_id        int not null references hall(id),
    reg_no         text not null unique,          -- Code128 barcode on the notice
    query_code     text not null unique,          -- for /track
    item_id        int not null references item(id),
    queue_id       int not null references queue(id),
    phone          text,
    id_number      text,
    priority       text not null default 'normal'
                   check (priority in ('normal', 'elderly', 'disabled', 'appointment')),
    device_id      int references device(id),
    promised_due   timestamptz,
    created_at     timestamptz not null default now()
);

-- Ticket numbers per queue per day: A001, A002, ...
create table queue_day (
    queue_id     int not null references queue(id),
    service_day  date not null,
    last_number  int not null default 0,
    primary key (queue_id, service_day)
);

-- A ticket is one stay in one queue. A transfer ends it (outcome 'transferred') and opens a
-- successor in the target queue with the same ticket number, so the citizen keeps their number.
create table ticket (
    id                  bigserial primary key,
    hall_id             int not null references hall(id),
    service_day         date not null,
    queue_id            int not null references queue(id),
    ticket_no           text not null,
    registration_id     bigint references registration(id),
    previous_id         bigint references ticket(id),
    -- order within a queue: rank (0 transferred to the front, 1 priority, 2 normal), then time
    rank                smallint not null default 2 check (rank between 0 and 2),
    queued_at           timestamptz not null default now(),
    status              text not null default 'waiting'
                        check (status in ('waiting', 'called', 'serving', 'parked', 'done')),
    outcome             text check (outcome in ('served', 'transferred', 'no_show', 'cancelled',
                                                'parked_expired', 'closed_unserved')),
    window_id           int references service_window(id),   -- called to / served at
    clerk_id            int references staff(id),
    target_window_id    int references service_window(id),   -- transferred to this window only
    target_clerk_id     int references staff(id),            -- or to this clerk only
    note                text not null default '',
    recalls             int not null default 0,
    out_of_order_reason text,
    created_at          timestamptz not null default now(),
    called_at           timestamptz,
    service_started_at  timestamptz,
    parked_at           timestamptz,
    finished_at         timestamptz,
    check ((status = 'done') = (outcome is not null))
);
create index ticket_waiting on ticket (queue_id, service_day, rank, queued_at, id)
    where status = 'waiting';
create index ticket_targeted on ticket (target_window_id) where status = 'waiting';
create index ticket_at_window on ticket (window_id) where status in ('called', 'serving');
create index ticket_day on ticket (hall_id, service_day);
create unique index ticket_number on ticket (queue_id, service_day, ticket_no)
    where previous_id is null;

-- Idle time of each window: from finishing (or opening) to the next call.
create table window_idle (
    window_id    int not null references service_window(id),
    service_day  date not null,
    idle_from    timestamptz not null,
    idle_until   timestamptz
);
create index window_idle_open on window_idle (window_id) where idle_until is null;

-- Durable outbox: SMS sent after commit, retried with backoff, each once per key.
create table notification (
    id            bigserial primary key,
    hall_id       int not null references hall(id),
    dedupe_key    text not null unique,     -- e.g. "called:<ticket id>": at most one per moment
    channel       text not null default 'sms',
    recipient     text not null,
    body          text not null,
    status        text not null default 'pending' check (status in ('pending', 'sent', 'failed')),
    attempts      int not null default 0,
    next_attempt  timestamptz not null default now(),
    last_error    text,
    created_at    timestamptz not null default now(),
    sent_at       timestamptz
);
create index notification_due on notification (next_attempt) where status = 'pending';
