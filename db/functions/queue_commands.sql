-- The queue commands, each one statement (one round trip, one transaction): it changes the
-- tickets, appends its events and writes its audit line through hq_commit (queue_core.sql).
-- Each takes its instant (p_now) from the server's clock, as the case commands do: one clock
-- for a ticket and its case, and a controllable one in tests and simulations.

-- Register at the kiosk: the registration and its ticket, numbered per queue per day.
-- The registration number (the barcode) is the day and the registration's id: unique, and
-- never reused. The query code, phone and ID number are stored, never put in the event: every
-- screen of the hall receives it, and the query code opens the citizen's notice.
create or replace function hq_register(p_hall int, p_actor_kind text, p_actor_id int, p_item int,
                                       p_queue int, p_day date,
                                       p_query_code text, p_phone text, p_id_number text,
                                       p_priority text, p_promised_due timestamptz,
                                       p_now timestamptz)
returns table (seq bigint, type text, payload jsonb, window_id int, at timestamptz)
language plpgsql as $$
declare
    n int; prefix text; reg_id bigint; t ticket; figures jsonb; qcode text; p_reg_no text;
begin
    reg_id := nextval(pg_get_serial_sequence('registration', 'id'));
    p_reg_no := to_char(p_day, 'YYMMDD') || lpad(reg_id::text, greatest(8, length(reg_id::text)), '0');
    insert into queue_day (queue_id, service_day, last_number) values (p_queue, p_day, 1)
    on conflict (queue_id, service_day) do update set last_number = queue_day.last_number + 1
    returning last_number into n;
    select q.prefix, q.code into prefix, qcode from queue q where q.id = p_queue;
    insert into registration (id, hall_id, reg_no, query_code, item_id, queue_id, phone,
                              id_number, priority, device_id, promised_due, created_at)
    values (reg_id, p_hall, p_reg_no, p_query_code, p_item, p_queue, p_phone, p_id_number, p_priority,
            case when p_actor_kind = 'device' then p_actor_id end, p_promised_due, p_now)
    returning id into reg_id;
    insert into ticket (hall_id, service_day, queue_id, ticket_no, registration_id, rank,
                        queued_at, created_at)
    values (p_hall, p_day, p_queue, prefix || lpad(n::text, greatest(3, length(n::text)), '0'), reg_id,
            hq_rank(p_priority), p_now, p_now)
    returning * into t;
    figures := hq_queue_figures(p_queue, p_day);
    return query select * from hq_commit(p_hall, p_actor_kind, p_actor_id, null, 'ticket.register',
        jsonb_build_array(jsonb_build_object('type', 'ticket.registered', 'payload',
            hq_ticket_json(t) || jsonb_build_object('waiting', figures->'waiting',
                'reg_no', p_reg_no, 'queues', jsonb_build_array(figures)))),
        jsonb_build_object('ticket_no', t.ticket_no, 'reg_no', p_reg_no));
end $$;

-- The ticket call-next takes, found through the indexes rather than by sorting every waiting
-- ticket of the hall (whose cost grew with all queues of the hall, paid by every call):
--   a. tickets transferred to this very window (by the window's position of their queue, then
--      rank, queued_at, id);
--   b. the window's queues in their serving order (window_queue.position); in each, the first
--      waiting ticket by rank, queued_at, id that is not transferred to a window and not to
--      another clerk.
-- Each step reads the front of an index (ticket_targeted, ticket_waiting) with FOR UPDATE SKIP
-- LOCKED, so 130 windows calling at once never wait for each other.
create or replace function hq_pick_next(p_hall int, p_window int, p_clerk int, p_day date)
returns ticket
language plpgsql as $$
declare t ticket; qs int[]; only_priority boolean;
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
    -- a green-channel window (爱心窗口) serves priority citizens only (rank 1; its transfers
    -- were taken above): the rank leads the index, so this still reads its front
    select w.priority_rule = 'priority_only' into only_priority
    from service_window w where w.id = p_window;
    -- queues sharing a position are served together, as one ordered list
    for qs in select array_agg(wq.queue_id) from window_queue wq where wq.window_id = p_window
              group by wq.position order by wq.position loop
        if cardinality(qs) = 1 then
            select tk.* into t from ticket tk
            where tk.queue_id = qs[1] and tk.service_day = p_day and tk.status = 'waiting'
              and tk.hall_id = p_hall and tk.target_window_id is null
              and (tk.target_clerk_id is null or tk.target_clerk_id = p_clerk)
              and (not only_priority or tk.rank <= 1)
            order by tk.rank, tk.queued_at, tk.id
            limit 1
            for update of tk skip locked;
        else
            select tk.* into t from ticket tk
            where tk.queue_id = any(qs) and tk.service_day = p_day and tk.status = 'waiting'
              and tk.hall_id = p_hall and tk.target_window_id is null
              and (tk.target_clerk_id is null or tk.target_clerk_id = p_clerk)
              and (not only_priority or tk.rank <= 1)
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

-- Call next: the first waiting ticket this window may serve, atomically. SKIP LOCKED lets 130
-- windows call at the same instant without waiting on each other, and never on one ticket.
create or replace function hq_call_next(p_hall int, p_window int, p_clerk int, p_day date,
                                        p_now timestamptz)
returns table (seq bigint, type text, payload jsonb, window_id int, at timestamptz)
language plpgsql as $$
declare
    w service_window; t ticket; figures jsonb; attempt int := 0;
begin
    w := hq_window(p_hall, p_window, p_clerk);
    if w.status <> 'open' then
        perform hq_fail('HQ409', 'window_not_open', '窗口未开放，不能叫号');
    end if;
    perform hq_require_free(p_window);
    loop
        t := hq_pick_next(p_hall, p_window, p_clerk, p_day);
        exit when t.id is null;
        -- A row another window took between our snapshot and our lock: look again.
        update ticket set status = 'called', window_id = p_window, clerk_id = p_clerk,
                          called_at = p_now, recalls = 0
        where id = t.id and status = 'waiting'
        returning * into t;
        exit when found;
        attempt := attempt + 1;
        if attempt > 5 then exit; end if;
    end loop;
    if t.id is null or t.status <> 'called' then
        perform hq_fail('HQ409', 'queue_empty', '当前没有等候的群众');
    end if;
    perform hq_idle_end(p_window, p_now);
    figures := hq_queue_figures(t.queue_id, p_day);
    perform hq_notify(p_hall, t, 'called', format('【%s】请 %s 号到 %s 办理。',
        (select name from hall where id = p_hall), t.ticket_no, w.display_name));
    perform hq_notify_near(p_hall, t.queue_id, p_day);
    return query select * from hq_commit(p_hall, 'staff', p_clerk, p_window, 'ticket.call_next',
        jsonb_build_array(jsonb_build_object('type', 'ticket.called', 'window_id', p_window,
            'payload', hq_ticket_json(t) || jsonb_build_object(
                'window_name', w.display_name, 'waiting', figures->'waiting',
                'out_of_order', false, 'queues', jsonb_build_array(figures)))),
        jsonb_build_object('ticket_no', t.ticket_no));
end $$;

-- Call a specific waiting ticket out of order, with a reason (logged). Out of order, not out of
-- bounds: the window may call exactly the tickets its call-next could give it (hq_pick_next):
-- one transferred to this window, or one of the queues it serves that is transferred to no
-- window and to no other clerk.
create or replace function hq_call_ticket(p_hall int, p_window int, p_clerk int, p_day date,
                                          p_ticket_no text, p_reason text,
                                          p_now timestamptz)
returns table (seq bigint, type text, payload jsonb, window_id int, at timestamptz)
language plpgsql as $$
declare w service_window; t ticket; figures jsonb;
begin
    w := hq_window(p_hall, p_window, p_clerk);
    if w.status <> 'open' then
        perform hq_fail('HQ409', 'window_not_open', '窗口未开放，不能叫号');
    end if;
    perform hq_require_free(p_window);
    select * into t from ticket
    where hall_id = p_hall and service_day = p_day and ticket_no = p_ticket_no
      and status = 'waiting'
    order by id desc limit 1 for update;
    if not found then
        perform hq_fail('HQ404', 'unknown_ticket', format('没有等候中的 %s 号', p_ticket_no));
    end if;
    if t.target_window_id is not null then
        if t.target_window_id <> p_window then
            perform hq_fail('HQ409', 'ticket_for_other_window',
                format('%s 号已转给 %s 号窗口办理，本窗口不能呼叫', t.ticket_no,
                       (select sw.window_no from service_window sw where sw.id = t.target_window_id)));
        end if;
    elsif t.target_clerk_id is not null and t.target_clerk_id <> p_clerk then
        perform hq_fail('HQ409', 'ticket_for_other_clerk',
            format('%s 号已转给其他工作人员办理，本窗口不能呼叫', t.ticket_no));
    elsif not exists (select 1 from window_queue wq
                      where wq.window_id = p_window and wq.queue_id = t.queue_id) then
        perform hq_fail('HQ409', 'queue_not_served',
            format('%s 号属于本窗口不办理的队列，不能呼叫', t.ticket_no));
    end if;
    update ticket set status = 'called', window_id = p_window, clerk_id = p_clerk,
                      called_at = p_now, recalls = 0, out_of_order_reason = p_reason
    where id = t.id
    returning * into t;
    perform hq_idle_end(p_window, p_now);
    figures := hq_queue_figures(t.queue_id, p_day);
    perform hq_notify(p_hall, t, 'called', format('【%s】请 %s 号到 %s 办理。',
        (select name from hall where id = p_hall), t.ticket_no, w.display_name));
    return query select * from hq_commit(p_hall, 'staff', p_clerk, p_window, 'ticket.call_ticket',
        jsonb_build_array(jsonb_build_object('type', 'ticket.called', 'window_id', p_window,
            'payload', hq_ticket_json(t) || jsonb_build_object(
                'window_name', w.display_name, 'waiting', figures->'waiting',
                'out_of_order', true, 'reason', p_reason,
                'queues', jsonb_build_array(figures)))),
        jsonb_build_object('ticket_no', t.ticket_no, 'reason', p_reason));
end $$;

-- Recall (re-announce) the ticket called to this window.
create or replace function hq_recall(p_hall int, p_window int, p_clerk int)
returns table (seq bigint, type text, payload jsonb, window_id int, at timestamptz)
language plpgsql as $$
declare w service_window; t ticket;
begin
    w := hq_window(p_hall, p_window, p_clerk);
    t := hq_current(p_window);
    if t.id is null or t.status <> 'called' then
        perform hq_fail('HQ409', 'nothing_called', '当前没有已叫号未到的群众');
    end if;
    update ticket set recalls = recalls + 1 where id = t.id returning * into t;
    return query select * from hq_commit(p_hall, 'staff', p_clerk, p_window, 'ticket.recall',
        jsonb_build_array(jsonb_build_object('type', 'ticket.recalled', 'window_id', p_window,
            'payload', hq_ticket_json(t) || jsonb_build_object('window_name', w.display_name))),
        jsonb_build_object('ticket_no', t.ticket_no, 'recalls', t.recalls));
end $$;

-- No-show after the configured number of recalls; optionally back to the end of the queue.
create or replace function hq_no_show(p_hall int, p_window int, p_clerk int, p_requeue boolean,
                                      p_now timestamptz)
returns table (seq bigint, type text, payload jsonb, window_id int, at timestamptz)
language plpgsql as $$
declare w service_window; t ticket; nxt ticket; needed int; events jsonb; figures jsonb;
begin
    w := hq_window(p_hall, p_window, p_clerk);
    t := hq_current(p_window);
    if t.id is null or t.status <> 'called' then
        perform hq_fail('HQ409', 'nothing_called', '当前没有已叫号未到的群众');
    end if;
    select no_show_recalls into needed from hall where id = p_hall;
    if t.recalls < needed then
        perform hq_fail('HQ409', 'recall_first', format('请先重呼 %s 次再标记过号', needed));
    end if;
    update ticket set status = 'done', outcome = 'no_show', finished_at = p_now
    where id = t.id returning * into t;
    events := jsonb_build_array(jsonb_build_object('type', 'ticket.no_show', 'window_id', p_window,
        'payload', hq_ticket_json(t) || jsonb_build_object('requeued', p_requeue)));
    if p_requeue then
        insert into ticket (hall_id, service_day, queue_id, ticket_no, registration_id,
                            previous_id, rank, note, queued_at, created_at)
        values (t.hall_id, t.service_day, t.queue_id, t.ticket_no, t.registration_id, t.id,
                hq_rank('normal'), '过号重排', p_now, p_now)
        returning * into nxt;
        figures := hq_queue_figures(t.queue_id, t.service_day);
        events := events || jsonb_build_array(jsonb_build_object('type', 'ticket.requeued',
            'payload', hq_ticket_json(nxt) || jsonb_build_object('waiting', figures->'waiting',
                'queues', jsonb_build_array(figures))));
    end if;
    perform hq_idle_start(p_window, t.service_day, p_now);
    return query select * from hq_commit(p_hall, 'staff', p_clerk, p_window, 'ticket.no_show',
        events, jsonb_build_object('ticket_no', t.ticket_no, 'requeue', p_requeue));
end $$;

-- The citizen arrived: service starts (walk-to-window time ends).
create or replace function hq_start(p_hall int, p_window int, p_clerk int, p_now timestamptz)
returns table (seq bigint, type text, payload jsonb, window_id int, at timestamptz)
language plpgsql as $$
declare w service_window; t ticket;
begin
    w := hq_window(p_hall, p_window, p_clerk);
    t := hq_current(p_window);
    if t.id is null or t.status <> 'called' then
        perform hq_fail('HQ409', 'nothing_called', '当前没有已叫号未到的群众');
    end if;
    update ticket set status = 'serving', service_started_at = p_now where id = t.id
    returning * into t;
    return query select * from hq_commit(p_hall, 'staff', p_clerk, p_window, 'ticket.start',
        jsonb_build_array(jsonb_build_object('type', 'ticket.service_started',
            'window_id', p_window, 'payload', hq_ticket_json(t))),
        jsonb_build_object('ticket_no', t.ticket_no));
end $$;

-- Service done; the queue's average service time learns from it.
create or replace function hq_finish(p_hall int, p_window int, p_clerk int, p_now timestamptz)
returns table (seq bigint, type text, payload jsonb, window_id int, at timestamptz)
language plpgsql as $$
declare w service_window; t ticket; secs int; figures jsonb;
begin
    w := hq_window(p_hall, p_window, p_clerk);
    t := hq_current(p_window);
    if t.id is null or t.status <> 'serving' then
        perform hq_fail('HQ409', 'nothing_serving', '当前没有正在办理的业务');
    end if;
    update ticket set status = 'done', outcome = 'served', finished_at = p_now where id = t.id
    returning * into t;
    secs := greatest(1, extract(epoch from t.finished_at - t.service_started_at)::int);
    update queue set avg_service_seconds =
        least(3600, greatest(30, (avg_service_seconds * 4 + secs) / 5))
    where id = t.queue_id;
    perform hq_idle_start(p_window, t.service_day, p_now);
    figures := hq_queue_figures(t.queue_id, t.service_day);
    return query select * from hq_commit(p_hall, 'staff', p_clerk, p_window, 'ticket.finish',
        jsonb_build_array(jsonb_build_object('type', 'ticket.finished', 'window_id', p_window,
            'payload', hq_ticket_json(t) || jsonb_build_object('service_seconds', secs,
                'queues', jsonb_build_array(figures)))),
        jsonb_build_object('ticket_no', t.ticket_no));
end $$;

-- Transfer to another queue, window or clerk, to the front or the back, with a note.
create or replace function hq_transfer(p_hall int, p_window int, p_clerk int, p_queue int,
                                       p_target_window int, p_target_clerk int, p_front boolean,
                                       p_note text, p_now timestamptz)
returns table (seq bigint, type text, payload jsonb, window_id int, at timestamptz)
language plpgsql as $$
declare
    w service_window; t ticket; nxt ticket; target_queue int; figures jsonb; tw service_window;
begin
    w := hq_window(p_hall, p_window, p_clerk);
    t := hq_current(p_window);
    if t.id is null then
        perform hq_fail('HQ409', 'nothing_current', '当前没有可转办的群众');
    end if;
    target_queue := p_queue;
    if p_target_window is not null then
        select * into tw from service_window where id = p_target_window and hall_id = p_hall;
        if not found then
            perform hq_fail('HQ404', 'unknown_window', '目标窗口不存在');
        end if;
        if tw.id = p_window then
            perform hq_fail('HQ409', 'same_window', '不能转办给本窗口');
        end if;
        if target_queue is null then
            select queue_id into target_queue from window_queue
            where window_queue.window_id = tw.id order by position limit 1;
        end if;
    end if;
    if p_target_clerk is not null and target_queue is null then
        select wq.queue_id into target_queue from staff s
        join window_queue wq on true
        join service_window sw on sw.id = wq.window_id and sw.department_id = s.department_id
        where s.id = p_target_clerk and s.hall_id = p_hall order by sw.window_no, wq.position limit 1;
    end if;
    if target_queue is null then target_queue := t.queue_id; end if;
    if not exists (select 1 from queue where id = target_queue and hall_id = p_hall) then
        perform hq_fail('HQ404', 'unknown_queue', '目标队列不存在');
    end if;
    update ticket set status = 'done', outcome = 'transferred', finished_at = p_now
    where id = t.id returning * into t;
    insert into ticket (hall_id, service_day, queue_id, ticket_no, registration_id, previous_id,
                        rank, queued_at, created_at, target_window_id, target_clerk_id, note)
    values (t.hall_id, t.service_day, target_queue, t.ticket_no, t.registration_id, t.id,
            hq_rank('normal', p_front), p_now, p_now, p_target_window, p_target_clerk,
            coalesce(p_note, ''))
    returning * into nxt;
    figures := jsonb_build_array(hq_queue_figures(target_queue, t.service_day));
    if target_queue <> t.queue_id then
        figures := figures || jsonb_build_array(hq_queue_figures(t.queue_id, t.service_day));
    end if;
    perform hq_idle_start(p_window, t.service_day, p_now);
    return query select * from hq_commit(p_hall, 'staff', p_clerk, p_window, 'ticket.transfer',
        jsonb_build_array(jsonb_build_object('type', 'ticket.transferred', 'window_id', p_window,
            'payload', hq_ticket_json(nxt) || jsonb_build_object(
                'from_window_no', w.window_no, 'from_ticket_id', t.id, 'front', p_front,
                'waiting', figures->0->'waiting', 'queues', figures))),
        jsonb_build_object('ticket_no', t.ticket_no, 'to_queue', target_queue,
                           'to_window', p_target_window, 'to_clerk', p_target_clerk,
                           'note', p_note));
end $$;

-- Park the current ticket (the citizen fetches a document); it keeps its place at the window.
create or replace function hq_park(p_hall int, p_window int, p_clerk int, p_now timestamptz)
returns table (seq bigint, type text, payload jsonb, window_id int, at timestamptz)
language plpgsql as $$
declare w service_window; t ticket;
begin
    w := hq_window(p_hall, p_window, p_clerk);
    t := hq_current(p_window);
    if t.id is null then
        perform hq_fail('HQ409', 'nothing_current', '当前没有可挂起的业务');
    end if;
    update ticket set status = 'parked', parked_at = p_now where id = t.id returning * into t;
    perform hq_idle_start(p_window, t.service_day, p_now);
    return query select * from hq_commit(p_hall, 'staff', p_clerk, p_window, 'ticket.park',
        jsonb_build_array(jsonb_build_object('type', 'ticket.parked', 'window_id', p_window,
            'payload', hq_ticket_json(t))),
        jsonb_build_object('ticket_no', t.ticket_no));
end $$;

-- Resume a parked ticket at the window that parked it.
create or replace function hq_resume(p_hall int, p_window int, p_clerk int, p_ticket_id bigint,
                                     p_now timestamptz)
returns table (seq bigint, type text, payload jsonb, window_id int, at timestamptz)
language plpgsql as $$
declare w service_window; t ticket;
begin
    w := hq_window(p_hall, p_window, p_clerk);
    perform hq_require_free(p_window);
    update ticket set status = 'serving', parked_at = null,
                      service_started_at = coalesce(service_started_at, p_now)
    where id = p_ticket_id and ticket.window_id = p_window and status = 'parked'
    returning * into t;
    if not found then
        perform hq_fail('HQ404', 'unknown_ticket', '没有该挂起的业务');
    end if;
    perform hq_idle_end(p_window, p_now);
    return query select * from hq_commit(p_hall, 'staff', p_clerk, p_window, 'ticket.resume',
        jsonb_build_array(jsonb_build_object('type', 'ticket.resumed', 'window_id', p_window,
            'payload', hq_ticket_json(t))),
        jsonb_build_object('ticket_no', t.ticket_no));
end $$;


-- Cancel the ticket at the window (the citizen withdraws, or came for something the hall does
-- not handle): it ends with outcome 'cancelled' and the reason, logged.
create or replace function hq_cancel(p_hall int, p_window int, p_clerk int, p_reason text,
                                     p_now timestamptz)
returns table (seq bigint, type text, payload jsonb, window_id int, at timestamptz)
language plpgsql as $$
declare w service_window; t ticket;
begin
    w := hq_window(p_hall, p_window, p_clerk);
    t := hq_current(p_window);
    if t.id is null then
        perform hq_fail('HQ409', 'nothing_current', '当前没有可取消的业务');
    end if;
    update ticket set status = 'done', outcome = 'cancelled', finished_at = p_now,
                      note = p_reason
    where id = t.id returning * into t;
    perform hq_idle_start(p_window, t.service_day, p_now);
    return query select * from hq_commit(p_hall, 'staff', p_clerk, p_window, 'ticket.cancel',
        jsonb_build_array(jsonb_build_object('type', 'ticket.cancelled', 'window_id', p_window,
            'payload', hq_ticket_json(t) || jsonb_build_object('reason', p_reason))),
        jsonb_build_object('ticket_no', t.ticket_no, 'reason', p_reason));
end $$;
