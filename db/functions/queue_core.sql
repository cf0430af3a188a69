-- What the queue commands (queue_commands.sql, queue_timers.sql) share.
-- Errors are raised with SQLSTATE 'HQ409' (conflict) or 'HQ404' (not found); MESSAGE is the
-- machine code, HINT the Chinese text shown to the clerk.

create or replace function hq_fail(p_state text, p_code text, p_hint text) returns void
language plpgsql as $$
begin
    raise exception using errcode = p_state, message = p_code, hint = p_hint;
end $$;

-- The audit line first, the events last: appending takes the hall's sequence row, which every
-- command of the hall needs and holds until its commit, so it is taken as late as possible.
create or replace function hq_commit(p_hall int, p_actor_kind text, p_actor_id int, p_window_id int,
                                     p_action text, p_events jsonb, p_detail jsonb)
returns table (seq bigint, type text, payload jsonb, window_id int, at timestamptz)
language plpgsql as $$
begin
    insert into audit (hall_id, actor_kind, actor_id, window_id, action, outcome, detail)
    values (p_hall, p_actor_kind, p_actor_id, p_window_id, p_action, 'ok', p_detail);
    return query select * from append_events(p_hall, p_actor_kind, p_actor_id, p_events);
end $$;

-- A ticket's rank in its queue, the first key of the queue's order (rank, queued_at, id; the
-- index ticket_waiting): 0 transferred to the front, 1 a priority citizen (elderly, disabled,
-- appointment), 2 everyone else. The one place the numbers are written.
create or replace function hq_rank(p_priority text, p_front boolean default false)
returns smallint language sql immutable as $$
    select (case when p_front then 0 when p_priority <> 'normal' then 1 else 2 end)::smallint
$$;

create or replace function hq_waiting(p_queue int, p_day date) returns int
language plpgsql stable as $$
begin
    return (select count(*)::int from ticket
            where queue_id = p_queue and service_day = p_day and status = 'waiting');
end $$;

-- The estimated wait of someone with p_ahead people before them: the open windows serving the
-- queue share those people, each taking the queue's average service time:
-- ceil(ahead / open windows) × average service time. With no window of the queue open (all
-- closed or paused) there is no estimate to give (NULL): the screens say why instead of
-- promising minutes nobody is serving. (SQL, immutable: inlined where it is used.)
create or replace function hq_estimated_wait(p_ahead int, p_open_windows int,
                                             p_avg_service_seconds int) returns int
language sql immutable as $$
    select case when p_open_windows > 0
                then (p_ahead + p_open_windows - 1) / p_open_windows * p_avg_service_seconds
           end
$$;

-- A queue's figures, the one place they are computed (the events that change them carry them,
-- the queue-status read and the snapshot return them): its waiting tickets of the day, the open
-- windows serving it, its average service time (the moving average hq_finish keeps) and the
-- estimated wait of the last in line.
-- Read on the hot path of every command that changes them: the queue's entries of the
-- ticket_waiting index (as many as wait), its few window_queue rows, one row of queue.
create or replace function hq_queue_figures(p_queue int, p_day date) returns jsonb
language plpgsql stable as $$
declare waiting int := hq_waiting(p_queue, p_day); open_windows int;
begin
    -- (counted into variables: in one query the planner would inline the counts once per use)
    select count(*)::int into open_windows
    from window_queue wq join service_window w on w.id = wq.window_id
    where wq.queue_id = p_queue and w.status = 'open';
    return (
    select jsonb_build_object(
        'code', q.code, 'waiting', waiting, 'open_windows', open_windows,
        'avg_service_seconds', q.avg_service_seconds,
        'estimated_wait_seconds',
            hq_estimated_wait(waiting, open_windows, q.avg_service_seconds))
    from queue q where q.id = p_queue);
end $$;

create or replace function hq_ticket_json(t ticket) returns jsonb
language plpgsql stable as $$
begin
    return (
    select jsonb_build_object(
        'id', t.id, 'ticket_no', t.ticket_no, 'queue', q.code, 'status', t.status,
        'outcome', t.outcome, 'rank', t.rank, 'window_no', w.window_no,
        'recalls', t.recalls, 'note', t.note,
        'target_window_no', tw.window_no, 'target_clerk_id', t.target_clerk_id,
        'item', i.name, 'registration_id', t.registration_id,
        'priority', r.priority,
        'queued_at', t.queued_at, 'called_at', t.called_at,
        'service_started_at', t.service_started_at, 'parked_at', t.parked_at)
    from queue q
    left join service_window w on w.id = t.window_id
    left join service_window tw on tw.id = t.target_window_id
    left join registration r on r.id = t.registration_id
    left join item i on i.id = r.item_id
    where q.id = t.queue_id);
end $$;

-- The window a clerk acts at: must exist in the hall, and the clerk must be signed in there.
create or replace function hq_window(p_hall int, p_window int, p_clerk int) returns service_window
language plpgsql as $$
declare w service_window;
begin
    select * into w from service_window where id = p_window and hall_id = p_hall;
    if not found then
        perform hq_fail('HQ404', 'unknown_window', '窗口不存在');
    end if;
    if not exists (select 1 from window_signin where window_id = p_window and staff_id = p_clerk) then
        perform hq_fail('HQ409', 'not_signed_in', '请先在本窗口签到');
    end if;
    return w;
end $$;

-- The ticket currently called to or served at a window (at most one).
create or replace function hq_current(p_window int) returns ticket
language plpgsql as $$
declare cur ticket;
begin
    select * into cur from ticket where window_id = p_window and status in ('called', 'serving')
    order by id desc limit 1 for update;
    return cur;  -- all fields null when there is none
end $$;

-- A window must be free (nobody called or served there) before it calls or resumes.
create or replace function hq_require_free(p_window int) returns void
language plpgsql as $$
declare cur ticket;
begin
    cur := hq_current(p_window);
    if cur.id is not null then
        perform hq_fail('HQ409', 'window_busy',
                        format('请先完成或转办当前的 %s 号', cur.ticket_no));
    end if;
end $$;

-- Idle time of a window: open with nobody called to it. Started when it opens or its ticket
-- ends, ended when it calls, resumes, pauses or closes.
create or replace function hq_idle_start(p_window int, p_day date, p_now timestamptz) returns void
language plpgsql as $$
begin
    insert into window_idle (window_id, service_day, idle_from)
    select p_window, p_day, p_now
    where not exists (select 1 from window_idle i where i.window_id = p_window and i.idle_until is null)
      and not exists (select 1 from ticket t where t.window_id = p_window
                      and t.status in ('called', 'serving'));
end $$;

create or replace function hq_idle_end(p_window int, p_now timestamptz) returns void
language plpgsql as $$
begin
    update window_idle set idle_until = p_now
    where window_idle.window_id = p_window and idle_until is null;
end $$;

-- SMS for a citizen who registered a phone: queued in the outbox, sent after commit. Once per
-- ticket and kind: a transferred or requeued citizen has a new ticket, and is called (and
-- told they are near the front) again.
create or replace function hq_notify(p_hall int, p_ticket ticket, p_key text, p_body text)
returns void language plpgsql as $$
begin
    insert into notification (hall_id, dedupe_key, recipient, body)
    select p_hall, p_key || ':' || p_ticket.id, r.phone, p_body
    from registration r where r.id = p_ticket.registration_id and r.phone is not null
    on conflict (dedupe_key) do nothing;
end $$;

-- "3 places from the front": the ticket now third in line in this queue gets its SMS.
create or replace function hq_notify_near(p_hall int, p_queue int, p_day date) returns void
language plpgsql as $$
declare t ticket; hall_name text;
begin
    select * into t from ticket
    where queue_id = p_queue and service_day = p_day and status = 'waiting'
      and target_window_id is null
    order by rank, queued_at, id offset 2 limit 1;
    if found then
        select name into hall_name from hall where id = p_hall;
        perform hq_notify(p_hall, t, 'near',
            format('【%s】您的 %s 号前面还有 2 位，请到大厅等候叫号。', hall_name, t.ticket_no));
    end if;
end $$;

