-- Cancel the ticket at the window (the citizen withdraws, or came for something the hall does
-- not handle): it ends with outcome 'cancelled' and the reason, logged.
create function hq_cancel(p_hall int, p_window int, p_clerk int, p_reason text)
returns table (seq bigint, type text, payload jsonb, window_id int, at timestamptz)
language plpgsql as $$
declare w service_window; t ticket;
begin
    w := hq_window(p_hall, p_window, p_clerk);
    t := hq_current(p_window);
    if t.id is null then
        perform hq_fail('HQ409', 'nothing_current', '当前没有可取消的业务');
    end if;
    update ticket set status = 'done', outcome = 'cancelled', finished_at = now(),
                      note = p_reason
    where id = t.id returning * into t;
    perform hq_idle_start(p_window, t.service_day);
    return query select * from hq_commit(p_hall, 'staff', p_clerk, p_window, 'ticket.cancel',
        jsonb_build_array(jsonb_build_object('type', 'ticket.cancelled', 'window_id', p_window,
            'payload', hq_ticket_json(t) || jsonb_build_object('reason', p_reason))),
        jsonb_build_object('ticket_no', t.ticket_no, 'reason', p_reason));
end $$;
