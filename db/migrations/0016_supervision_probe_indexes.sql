-- What the supervision timers' looks read twice a second (or every few seconds) must stay small
-- however many cases a hall has (measured at 100,000 open cases, docs/bench.md):
-- - the 容缺 reminder's test for materials still missing read every material of the hall;
-- - a sign-off request alarmed for its wait stayed among those the probe looks at until it was
--   decided: the flag takes it out of the index range (the alarm's own unique key still makes
--   it once).
create index case_material_deferred_open on case_material (case_id)
    where deferred and status in ('missing', 'faulty');

alter table signoff_request add column wait_alarmed boolean not null default false;
create index signoff_wait_unalarmed on signoff_request (hall_id, requested_at)
    where decided_at is null and not wait_alarmed;
update signoff_request s set wait_alarmed = true
where exists (select 1 from alarm a where a.hall_id = s.hall_id and a.kind = 'signoff_wait'
                and a.subject = 'signoff:' || s.id);
