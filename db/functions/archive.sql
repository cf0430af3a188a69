-- Retention: moving the event log's and the audit trail's oldest days into event_archive and
-- audit_archive (db/migrations/0025_archive.sql), the only way a row ever leaves them.
--
-- Both functions are SECURITY DEFINER: the server's role (which may neither delete from the log
-- nor write the archive) runs them from its daily timer job, and run.py archive from the shell.
-- Both refuse a cut-off within the last 6 months, whoever asks; both move at most p_limit rows
-- a call (a backlog is many short transactions, never one long one) and return how many.
-- The append-only triggers (event_log.sql, audit.sql) let a row be deleted only when an
-- identical copy is in the archive, so even these functions cannot lose one.

create or replace function archive_floor(p_before timestamptz) returns void
language plpgsql as $$
begin
    if p_before > now() - interval '6 months' then
        raise exception 'the event log and the audit trail keep at least 6 months: cut-off % is after %',
            p_before, now() - interval '6 months'
            using errcode = 'check_violation';
    end if;
end $$;

-- A hall's oldest events, those before p_before, and always a prefix of its sequence: what
-- stays is the gapless run from some seq to the head, so a replay from a kept seq is exact.
-- (`at` is its transaction's start and is not in seq order where transactions overlap, so
-- the move stops at the first event at p_before or later, whatever follows it.)
create or replace function archive_events(p_hall int, p_before timestamptz, p_limit int)
returns bigint
language plpgsql security definer set search_path = public as $$
declare first_at timestamptz; upto bigint; n bigint;
begin
    perform archive_floor(p_before);
    -- one mover per hall at a time: a second waits, then finds the rows gone
    perform pg_advisory_xact_lock(19011, p_hall);
    select e.at into first_at from event e where e.hall_id = p_hall order by e.seq limit 1;
    if first_at is null or first_at >= p_before then
        return 0;  -- the usual look: one index probe
    end if;
    select coalesce(min(b.seq) filter (where b.at >= p_before) - 1, max(b.seq)) into upto
    from (select e.seq, e.at from event e where e.hall_id = p_hall
          order by e.seq limit p_limit) b;
    insert into event_archive (hall_id, seq, type, payload, actor_kind, actor_id, window_id, at)
    select e.hall_id, e.seq, e.type, e.payload, e.actor_kind, e.actor_id, e.window_id, e.at
    from event e where e.hall_id = p_hall and e.seq <= upto;
    get diagnostics n = row_count;
    delete from event e where e.hall_id = p_hall and e.seq <= upto;
    return n;
end $$;

-- The audit trail's oldest lines (every hall's: it is one table), those before p_before, in id
-- order up to the first line at p_before or later.
create or replace function archive_audit(p_before timestamptz, p_limit int)
returns bigint
language plpgsql security definer set search_path = public as $$
declare first_at timestamptz; upto bigint; n bigint;
begin
    perform archive_floor(p_before);
    perform pg_advisory_xact_lock(19011, 0);
    select a.at into first_at from audit a order by a.id limit 1;
    if first_at is null or first_at >= p_before then
        return 0;
    end if;
    select coalesce(min(b.id) filter (where b.at >= p_before) - 1, max(b.id)) into upto
    from (select a.id, a.at from audit a order by a.id limit p_limit) b;
    insert into audit_archive (id, at, hall_id, actor_kind, actor_id, window_id, action, outcome,
                               detail)
    select a.id, a.at, a.hall_id, a.actor_kind, a.actor_id, a.window_id, a.action, a.outcome,
           a.detail
    from audit a where a.id <= upto;
    get diagnostics n = row_count;
    delete from audit a where a.id <= upto;
    return n;
end $$;

revoke execute on function archive_events(int, timestamptz, int) from public;
revoke execute on function archive_audit(timestamptz, int) from public;

-- The archive is append-only too.
create or replace function archive_is_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'the archive is append-only' using errcode = 'insufficient_privilege';
end $$;

create or replace trigger event_archive_no_update before update or delete on event_archive
    for each row execute function archive_is_append_only();
create or replace trigger event_archive_no_truncate before truncate on event_archive
    for each statement execute function archive_is_append_only();
create or replace trigger audit_archive_no_update before update or delete on audit_archive
    for each row execute function archive_is_append_only();
create or replace trigger audit_archive_no_truncate before truncate on audit_archive
    for each statement execute function archive_is_append_only();
