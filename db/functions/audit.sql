-- The audit trail is append-only: a trigger refuses UPDATE, DELETE and TRUNCATE for every role,
-- the owner included (the server's role has no such privileges in the first place), except the
-- deletion of a row already copied into the archive (retention, archive.sql).

-- The one exception: a row whose identical copy is in audit_archive may go (archive_audit in
-- archive.sql moves the oldest days there; moved, never lost).
create or replace function audit_is_append_only() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' and exists (
        select 1 from audit_archive a
        where a.id = old.id and a.at = old.at
          and a.hall_id is not distinct from old.hall_id and a.actor_kind = old.actor_kind
          and a.actor_id is not distinct from old.actor_id
          and a.window_id is not distinct from old.window_id and a.action = old.action
          and a.outcome = old.outcome and a.detail = old.detail) then
        return old;
    end if;
    raise exception 'audit rows are append-only' using errcode = 'insufficient_privilege';
end $$;

create or replace trigger audit_no_update before update or delete on audit
    for each row execute function audit_is_append_only();
create or replace trigger audit_no_truncate before truncate on audit
    for each statement execute function audit_is_append_only();
