-- Timers (run by the one process holding the hall's timer lock).

-- Parked tickets past the hall's limit end as parked_expired.
create or replace function hq_expire_parked(p_hall int)
returns table (seq bigint, type text, payload jsonb, window_id int, at timestamptz)
language plpgsql as $$
declare events jsonb := '[]'; t ticket; mins int;
begin
    select park_minutes into mins from hall where id = p_hall;
    for t in update ticket set status = 'done', outcome = 'parked_expired', finished_at = now()
             where hall_id = p_hall and status = 'parked'
               and parked_at < now() - make_interval(mins => mins)
             returning * loop
        events := events || jsonb_build_array(jsonb_build_object('type', 'ticket.parked_expired',
            'window_id', t.window_id, 'payload', hq_ticket_json(t)));
    end loop;
    if jsonb_array_length(events) > 0 then
        return query select * from hq_commit(p_hall, 'system', null, null, 'ticket.expire_parked',
                                             events, '{}'::jsonb);
    end if;
end $$;

-- Tickets still open at closing time end as closed_unserved: every ticket created before the
-- most recent closing instant (p_closed_at) that is not done. The event carries the figures of
-- every queue of the hall for the current day (the session's date: the server's connections
-- keep the hall's zone, Asia/Shanghai).
create or replace function hq_close_day(p_hall int, p_closed_at timestamptz)
returns table (seq bigint, type text, payload jsonb, window_id int, at timestamptz)
language plpgsql as $$
declare n int;
begin
    with closed as (
        update ticket set status = 'done', outcome = 'closed_unserved', finished_at = now()
        where hall_id = p_hall and created_at < p_closed_at and status <> 'done'
        returning 1)
    select count(*) into n from closed;
    if n > 0 then
        return query select * from hq_commit(p_hall, 'system', null, null, 'queue.close_day',
            jsonb_build_array(jsonb_build_object('type', 'queue.day_closed',
                'payload', jsonb_build_object('closed_at', p_closed_at, 'closed', n,
                    'queues', (select jsonb_agg(hq_queue_figures(q.id, current_date)
                                                order by q.prefix)
                               from queue q where q.hall_id = p_hall)))),
            jsonb_build_object('closed_at', p_closed_at, 'closed', n));
    end if;
end $$;
