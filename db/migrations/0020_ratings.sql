-- The citizen's verdict (好差评, issue 11): one rating per case, or per served ticket without a
-- case, whichever channel brings it (an SMS link, the rating device at the window, the ballot
-- box's slip); a bad review opens a rectification task for the department (整改).

-- The rating device (评价器): a tablet at one window, logged in as a device of its own kind.
alter table device drop constraint device_kind_check;
alter table device add constraint device_kind_check check (kind in ('kiosk', 'display', 'rater'));
alter table device
    add column window_id int references service_window(id),
    add constraint device_rater_window check ((kind = 'rater') = (window_id is not null));

-- How long the department has to deal with a bad review (working days).
alter table hall
    add column rectification_days int not null default 5 check (rectification_days > 0);

create table rating (
    id             bigserial primary key,
    hall_id        int not null references hall(id),
    -- what is rated, once whatever the channel: 'case:<id>', or 'ticket:<id>' for a ticket
    -- served without a case
    subject        text not null unique,
    case_id        bigint references service_case(id),
    ticket_id      bigint references ticket(id),
    -- who served it (the citizen is never shown to them)
    window_id      int references service_window(id),
    clerk_id       int references staff(id),
    department_id  int references department(id),
    -- the national scale: 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意 (1 and 2: 差评)
    level          smallint not null check (level between 1 and 5),
    reasons        text[] not null default '{}'
                   check (reasons <@ array['attitude', 'efficiency', 'service', 'fees', 'other']),
    comment        text not null default '' check (length(comment) <= 500),
    channel        text not null check (channel in ('sms', 'device', 'ballot')),
    -- the citizen is known (the SMS went to the applicant's phone): a call-back can reach them
    real_name      boolean not null,
    slip_no        text unique,            -- the ballot slip's barcode (the notice's reg_no)
    recorded_by    int references staff(id),   -- the supervisor who keyed a slip
    rated_at       timestamptz not null,
    -- an upheld appeal takes a review out of the statistics (the decision is logged)
    excluded       boolean not null default false,
    check (case_id is not null or ticket_id is not null),
    check ((channel = 'ballot') = (slip_no is not null))
);
create index rating_hall_time on rating (hall_id, rated_at);
create index rating_window_time on rating (window_id, rated_at);

-- An SMS invitation: a one-time token (only its hash is kept) for /rate/<token>.
create table rating_invite (
    token_hash   bytea primary key,
    hall_id      int not null references hall(id),
    subject      text not null,
    case_id      bigint references service_case(id),
    created_at   timestamptz not null,
    expires_at   timestamptz not null,
    used_at      timestamptz
);
create index rating_invite_subject on rating_invite (subject);

-- The window's rating request: the clerk asked, the window's device shows the buttons until the
-- citizen taps (or the clerk asks for the next one). One per window.
create table rating_request (
    window_id     int primary key references service_window(id),
    hall_id       int not null references hall(id),
    subject       text not null,
    case_id       bigint references service_case(id),
    ticket_id     bigint references ticket(id),
    clerk_id      int not null references staff(id),
    requested_at  timestamptz not null
);

-- 整改: a bad review's task for its department, supervised like any other timer.
create table rectification (
    id               bigserial primary key,
    hall_id          int not null references hall(id),
    rating_id        bigint not null unique references rating(id),
    department_id    int not null references department(id),
    window_id        int references service_window(id),
    -- verify → rectify → call back → closed; 'excluded': an appeal upheld (the review is out of
    -- the statistics). An appeal pending (appealed_at set, no decision) holds the timer.
    state            text not null check (state in ('open', 'verified', 'rectified',
                                                    'called_back', 'closed', 'excluded')),
    opened_at        timestamptz not null,
    due_at           timestamptz not null,
    verified_at      timestamptz,
    verify_note      text,
    rectified_at     timestamptz,
    rectify_note     text,
    callback_at      timestamptz,
    callback_reached boolean,
    callback_note    text,
    -- the citizen's rating of the rectification, when they gave one on the call
    followup_level   smallint check (followup_level between 1 and 5),
    closed_at        timestamptz,
    appeal_reason    text,
    appealed_at      timestamptz,
    appeal_decision  text check (appeal_decision in ('upheld', 'rejected')),
    decided_by       int references staff(id),
    decided_at       timestamptz,
    decision_note    text,
    overdue_alarmed  boolean not null default false
);
create index rectification_open on rectification (hall_id, due_at)
    where state not in ('closed', 'excluded') and not overdue_alarmed;
