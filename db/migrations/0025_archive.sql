-- Retention (issue 12): the event log and the audit trail keep HALLOPS_RETENTION_MONTHS (13 by
-- default, never fewer than 6) in their tables; older days move here, row for row, by
-- archive_events and archive_audit (db/functions/archive.sql), in the same transaction that
-- deletes them from the log. Nothing leaves the database: the archive is in every backup and
-- readable by SQL; the tables every command appends to and every resume reads stay bounded.
-- Append-only like the tables they come from (their triggers are in db/functions/archive.sql).
-- No foreign keys: an archived row records what was, whatever becomes of its window.

create table event_archive (
    hall_id     int not null,
    seq         bigint not null,
    type        text not null,
    payload     jsonb not null,
    actor_kind  text not null,
    actor_id    int,
    window_id   int,
    at          timestamptz not null,
    archived_at timestamptz not null default now(),
    primary key (hall_id, seq)
);

create table audit_archive (
    id          bigint primary key,
    at          timestamptz not null,
    hall_id     int,
    actor_kind  text not null,
    actor_id    int,
    window_id   int,
    action      text not null,
    outcome     text not null,
    detail      jsonb not null,
    archived_at timestamptz not null default now()
);

revoke insert, update, delete, truncate on event_archive, audit_archive from public;
