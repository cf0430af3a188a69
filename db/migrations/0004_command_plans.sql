-- Queue commands: the same results with less work per command.
--
-- 1. Cached plans. A LANGUAGE sql function that is not inlined is parsed and planned again at
--    every call (PostgreSQL keeps no plan for it between calls); PL/pgSQL keeps its statements'
--    plans for the connection's lifetime. Every command called several of them (append_events,
--    hq_ticket_json, hq_current, hq_waiting, hq_notify): each is now PL/pgSQL with the same
--    signature and the same result.
-- 2. Call next without reading the hall's whole waiting list. 0003's hq_call_next picked the
--    ticket with one query over every waiting ticket of the hall (joined to the window's queues,
--    then sorted): its cost grew with the length of all queues of the hall (2 ms at 8,000
--    waiting, paid by every call at every window). The order is unchanged:
--      a. tickets transferred to this very window (by the window's position of their queue,
--         then rank, queued_at, id);
--      b. the window's queues in their serving order (window_queue.position); in each, the
--         first waiting ticket by rank, queued_at, id that is not transferred to a window and
--         not to another clerk.
--    Each step reads the front of an index (ticket_targeted, ticket_waiting), still with
--    FOR UPDATE SKIP LOCKED, so 130 windows calling at once never wait for each other.

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

-- The audit line first, the events last: appending takes the hall's sequence row, which every
-- command of the hall needs and holds until its commit, so it is taken as late as possible.
create or replace function hq_commit(p_hall int, p_actor_kind text, p_actor_id int,
                                     p_window_id int, p_action text, p_events jsonb,
                                     p_detail jsonb)
returns table (seq bigint, type text, payload jsonb, window_id int, at timestamptz)
language plpgsql as $$
begin
    insert into audit (hall_id, actor_kind, actor_id, window_id, action, outcome, detail)
    values (p_hall, p_actor_kind, p_actor_id, p_window_id, p_action, 'ok', p_detail);
    return query select * from append_events(p_hall, p_actor_kind, p_actor_id, p_events);
end $$;

create or replace function hq_waiting(p_queue int, p_day date) returns int
language plpgsql stable as $$
begin
    return (select count(*)::int from ticket
            where queue_id = p_queue and service_day = p_day and status = 'waiting');
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

create or replace function hq_current(p_window int) returns ticket
language plpgsql as $$
declare cur ticket;
begin
    select * into cur from ticket where window_id = p_window and status in ('called', 'serving')
    order by id desc limit 1 for update;
    return cur;  -- all fields null when there is none
end $$;

create or replace function hq_notify(p_hall int, p_ticket ticket, p_key text, p_body text)
returns void language plpgsql as $$
begin
    insert into notification (hall_id, dedupe_key, recipient, body)
    select p_hall, p_key || ':' || r.id, r.phone, p_body
    from registration r where r.id = p_ticket.registration_id and r.phone is not null
    on conflict (dedupe_key) do nothing;
end $$;

create function hq_pick_next(p_hall int, p_window int, p_clerk int, p_day date) returns ticket
language plpgsql as $$
declare t ticket; qs int[];
begin
    select tk.* into t from ticket tk
    left join window_queue wq on wq.queue_id = tk.queue_id and wq.window_id = p_window
    where tk.target_window_id = p_window and tk.status = 'waiting'
      and tk.service_day = p_day and tk.hall_id = p_hall
    order by wq.position, tk.rank, tk.queued_at, tk.id
    limit 1
    for update of tk skip locked;
    if found then
        return t;
    end if;
    -- queues sharing a position are served together, as one ordered list (as in 0003)
    for qs in select array_agg(wq.queue_id) from window_queue wq where wq.window_id = p_window
              group by wq.position order by wq.position loop
        if cardinality(qs) = 1 then
            select tk.* into t from ticket tk
            where tk.queue_id = qs[1] and tk.service_day = p_day and tk.status = 'waiting'
              and tk.hall_id = p_hall and tk.target_window_id is null
              and (tk.target_clerk_id is null or tk.target_clerk_id = p_clerk)
            order by tk.rank, tk.queued_at, tk.id
            limit 1
            for update of tk skip locked;
        else
            select tk.* into t from ticket tk
            where tk.queue_id = any(qs) and tk.service_day = p_day and tk.status = 'waiting'
              and tk.hall_id = p_hall and tk.target_window_id is null
              and (tk.target_clerk_id is null or tk.target_clerk_id = p_clerk)
            order by tk.rank, tk.queued_at, tk.id
            limit 1
            for update of tk skip locked;
        end if;
        if found then
            return t;
        end if;
    end loop;
    return null;
end $$;

create or replace function hq_call_next(p_hall int, p_window int, p_clerk int, p_day date)
returns table (seq bigint, type text, payload jsonb, window_id int, at timestamptz)
language plpgsql as $$
declare
    w service_window; t ticket; cur ticket; waiting int; attempt int := 0;
begin
    w := hq_window(p_hall, p_window, p_clerk);
    if w.status <> 'open' then
        perform hq_fail('HQ409', 'window_not_open', '窗口未开放，不能叫号');
    end if;
    cur := hq_current(p_window);
    if cur.id is not null then
        perform hq_fail('HQ409', 'window_busy',
                        format('请先完成或转办当前的 %s 号', cur.ticket_no));
    end if;
    loop
        t := hq_pick_next(p_hall, p_window, p_clerk, p_day);
        exit when t.id is null;
        -- A row another window took between our snapshot and our lock: look again.
        update ticket set status = 'called', window_id = p_window, clerk_id = p_clerk,
                          called_at = now(), recalls = 0
        where id = t.id and status = 'waiting'
        returning * into t;
        exit when found;
        attempt := attempt + 1;
        if attempt > 5 then exit; end if;
    end loop;
    if t.id is null or t.status <> 'called' then
        perform hq_fail('HQ409', 'queue_empty', '当前没有等候的群众');
    end if;
    update window_idle set idle_until = now() where window_idle.window_id = p_window and idle_until is null;
    waiting := hq_waiting(t.queue_id, p_day);
    perform hq_notify(p_hall, t, 'called', format('【%s】请 %s 号到 %s 办理。',
        (select name from hall where id = p_hall), t.ticket_no, w.display_name));
    perform hq_notify_near(p_hall, t.queue_id, p_day);
    return query select * from hq_commit(p_hall, 'staff', p_clerk, p_window, 'ticket.call_next',
        jsonb_build_array(jsonb_build_object('type', 'ticket.called', 'window_id', p_window,
            'payload', hq_ticket_json(t) || jsonb_build_object(
                'window_name', w.display_name, 'waiting', waiting, 'out_of_order', false))),
        jsonb_build_object('ticket_no', t.ticket_no));
end $$;
