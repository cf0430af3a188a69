-- Administration (issue 12): a real hall's staff, devices, windows, items and settings are kept
-- by its admin through audited commands instead of code.

-- A password reset by the admin (or a first admin's generated one) must be changed at the next
-- login; a demo password is flagged so production can refuse to start while one is live.
alter table staff
    add column must_change_password boolean not null default false,
    add column password_is_demo     boolean not null default false,
    add column created_at           timestamptz not null default now();

-- The last passwords of each member of staff (argon2 hashes), so a new one cannot reuse them.
create table password_history (
    staff_id       int not null references staff(id),
    password_hash  text not null,
    set_at         timestamptz not null default now()
);
create index password_history_staff on password_history (staff_id, set_at desc);

alter table device
    add column secret_is_demo  boolean not null default false,
    add column created_at      timestamptz not null default now(),
    add column revoked_at      timestamptz;

-- A window's priority rule: 'priority_first' serves priority citizens (elderly, disabled,
-- appointment) before the others of its queues; 'priority_only' (爱心窗口, green channel)
-- serves only them and tickets transferred to it.
alter table service_window
    add column priority_rule text not null default 'priority_first'
        check (priority_rule in ('priority_first', 'priority_only'));

-- Every version of an item as it was published (the current one is also the item's row): a
-- case keeps its item_version, and this is what that version said.
create table item_version (
    item_id     int not null references item(id),
    version     int not null,
    definition  jsonb not null,
    published_at timestamptz not null default now(),
    published_by int references staff(id),
    primary key (item_id, version)
);

-- The demo hall says it is one (a banner on its screens); the notice lines the admin keeps at
-- hand (opening hours changed for a holiday, a system outage), published with one click.
alter table hall
    add column is_demo boolean not null default false,
    add column notice_templates text[] not null default '{}';

-- An item's published fee list: a new version unlists the old fee rows (cases paid under them
-- keep referring to them) and lists its own.
alter table item_fee add column listed boolean not null default true;
