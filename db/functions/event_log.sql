-- The event log: each hall's gapless sequence and the one way to append to it. The log is
-- append-only: a trigger refuses UPDATE, DELETE and TRUNCATE for every role, the owner
-- included (the server's role has no such privileges in the first place), except the deletion
-- of a row already copied into the archive (retention, archive.sql).

-- Appends events to a hall's log in one statement: takes the next n sequence numbers
-- (locking the hall's counter row until commit) and inserts the events numbered in order.
-- events: jsonb array of {"type", "payload", "window_id"}.
-- (PL/pgSQL rather than SQL: its plans are kept per connection instead of made per call.)
create or replace function append_events(p_hall int, p_actor_kind text, p_actor_id int,
                                          p_events jsonb)
returns table (seq bigint, type text, payload jsonb, window_id int, at timestamptz)
language plpgsql as $$
#variable_conflict use_column
declare n int := jsonb_array_length(p_events); base bigint;
begin
    update hall_seq set last_seq = last_seq + n where hall_seq.hall_id = p_hall
    returning last_seq - n into base;
    if not found then
        return;  -- no sequence row: nothing appended (the caller checks the count)
    end if;
    return query
    insert into event (hall_id, seq, type, payload, actor_kind, actor_id, window_id)
    select p_hall, base + e.ord, e.value->>'type', e.value->'payload', p_actor_kind,
           p_actor_id, (e.value->>'window_id')::int
    from jsonb_array_elements(p_events) with ordinality as e(value, ord)
    returning event.seq, event.type, event.payload, event.window_id, event.at;
end $$;

-- A command's end in one statement: appends its events to one hall's log and writes its audit
-- line, naming the sequence numbers it took. The hall's counter row stays locked from the
-- append to commit: the fewer round trips in between, the more commands a hall takes per
-- second (server/domain/store.py, Tx._flush).
create or replace function append_command(p_hall int, p_actor_kind text, p_actor_id int,
                                           p_events jsonb, p_audit_hall int, p_window_id int,
                                           p_action text, p_outcome text, p_detail jsonb)
returns table (seq bigint, type text, payload jsonb, window_id int, at timestamptz)
language plpgsql as $$
#variable_conflict use_column
declare n int := jsonb_array_length(p_events); last bigint;
begin
    return query select * from append_events(p_hall, p_actor_kind, p_actor_id, p_events);
    select hall_seq.last_seq into last from hall_seq where hall_seq.hall_id = p_hall;
    insert into audit (hall_id, actor_kind, actor_id, window_id, action, outcome, detail)
    values (p_audit_hall, p_actor_kind, p_actor_id, p_window_id, p_action, p_outcome,
            p_detail || jsonb_build_object('seq',
                (select jsonb_agg(g) from generate_series(last - n + 1, last) as g)));
end $$;

create or replace function hall_seq_init() returns trigger language plpgsql as $$
begin
    insert into hall_seq (hall_id) values (new.id);
    return new;
end $$;
create or replace trigger hall_seq_init after insert on hall
    for each row execute function hall_seq_init();

-- The one exception: a row whose identical copy is in event_archive may go (archive_events in
-- archive.sql moves a hall's oldest days there; moved, never lost).
create or replace function event_is_append_only() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' and exists (
        select 1 from event_archive a
        where a.hall_id = old.hall_id and a.seq = old.seq and a.type = old.type
          and a.payload = old.payload and a.actor_kind = old.actor_kind
          and a.actor_id is not distinct from old.actor_id
          and a.window_id is not distinct from old.window_id and a.at = old.at) then
        return old;
    end if;
    raise exception 'events are append-only' using errcode = 'insufficient_privilege';
end $$;

create or replace trigger event_no_update before update or delete on event
    for each row execute function event_is_append_only();
create or replace trigger event_no_truncate before truncate on event
    for each statement execute function event_is_append_only();
