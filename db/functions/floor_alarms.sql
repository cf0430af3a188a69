-- What the floor triggers of electronic supervision read (migration 0014, server/domain/
-- floor_alarms.py), kept on the rows by triggers so that every path keeps them right.

-- A new ticket's visit and the start of its wait: a successor (transfer, no-show requeue)
-- carries the waits of its predecessors — from queued to called, or to the successor when it
-- was never called.
create or replace function ticket_visit_wait() returns trigger language plpgsql as $$
declare p ticket;
begin
    if new.previous_id is null then
        new.visit_id := new.id;
        new.wait_start_at := new.queued_at;
    else
        select * into p from ticket where id = new.previous_id;
        new.visit_id := p.visit_id;
        new.wait_start_at := new.queued_at
            - (least(coalesce(p.called_at, new.queued_at), new.queued_at) - p.wait_start_at);
    end if;
    return new;
end $$;
create or replace trigger ticket_visit_wait before insert on ticket
    for each row execute function ticket_visit_wait();

-- A window's status change starts its new episode (a pause's start); an open window with no
-- clerk signed in is unattended from then on.
create or replace function window_status_since() returns trigger language plpgsql as $$
begin
    if new.status is distinct from old.status then
        new.status_since := now();
        new.unattended_since := case
            when new.status = 'open'
                 and not exists (select 1 from window_signin s where s.window_id = new.id)
            then now() end;
    end if;
    return new;
end $$;
create or replace trigger window_status_since before update of status on service_window
    for each row execute function window_status_since();

-- A clerk leaving an open window leaves it unattended; one signing in attends it.
create or replace function window_signin_attended() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' then
        update service_window set unattended_since = now()
        where id = old.window_id and status = 'open' and unattended_since is null;
        return old;
    end if;
    update service_window set unattended_since = null
    where id = new.window_id and unattended_since is not null;
    return new;
end $$;
create or replace trigger window_signin_attended after insert or delete on window_signin
    for each row execute function window_signin_attended();
