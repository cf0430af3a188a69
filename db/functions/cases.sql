-- Cases: the history is append-only, and a leader's decision on a sign-off cannot be changed
-- once made (a signature is part of the case's history).

create or replace function case_history_is_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'case history rows are append-only' using errcode = 'insufficient_privilege';
end $$;

create or replace trigger case_history_no_update before update or delete on case_history
    for each row execute function case_history_is_append_only();
create or replace trigger case_history_no_truncate before truncate on case_history
    for each statement execute function case_history_is_append_only();

create or replace function signoff_decision_is_final() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' or old.decided_at is not null then
        raise exception 'a sign-off decision is final' using errcode = 'insufficient_privilege';
    end if;
    if new.case_id <> old.case_id or new.requested_by <> old.requested_by
       or new.requested_at <> old.requested_at or new.note <> old.note
       or new.purpose <> old.purpose then
        raise exception 'a sign-off request is not edited' using errcode = 'insufficient_privilege';
    end if;
    return new;
end $$;

create or replace trigger signoff_final before update or delete on signoff_request
    for each row execute function signoff_decision_is_final();
