-- The audit trail is append-only: a trigger refuses UPDATE, DELETE and TRUNCATE for every role,
-- the owner included (the server's role has no such privileges in the first place).

create or replace function audit_is_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'audit rows are append-only' using errcode = 'insufficient_privilege';
end $$;

create or replace trigger audit_no_update before update or delete on audit
    for each row execute function audit_is_append_only();
create or replace trigger audit_no_truncate before truncate on audit
    for each statement execute function audit_is_append_only();
