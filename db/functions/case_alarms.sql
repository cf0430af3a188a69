-- Raising the due part of the cases' alarm plans (service_case.alarm_plan, written by
-- server/domain/alarms.schedule), many cases in one statement: the alarm rows (once per hall,
-- kind, level and subject: what was raised already is skipped), their alarm.issued events in
-- the hall's log, the SMS to each handling clerk, and what is left of each plan. Cases a command
-- holds are skipped (SKIP LOCKED) and taken on the next look. Run by the one owner of the
-- hall's timers (server/domain/alarms.fire_case_alarms).
create or replace function hq_fire_case_alarms(p_hall int, p_now timestamptz, p_issued text,
                                               p_limit int)
returns table (seq bigint, type text, payload jsonb, window_id int, at timestamptz)
language plpgsql as $$
#variable_conflict use_column
declare events jsonb; ids bigint[];
begin
    with due as (
        select c.id, c.alarm_plan, c.case_no, c.department_id, c.window_id, c.clerk_id,
               c.item_id
        from service_case c
        where c.hall_id = p_hall and c.next_alarm_at <= p_now and c.alarm_plan is not null
        order by c.next_alarm_at
        limit p_limit
        for update of c skip locked
    ), rung as (
        select d.*, e.value as r, e.ord, (e.value->>'due_at')::timestamptz as due_at
        from due d cross join lateral jsonb_array_elements(d.alarm_plan) with ordinality
             as e(value, ord)
    ), rest as (
        select g.id,
               jsonb_agg(g.r order by g.due_at, g.ord) filter (where g.due_at > p_now) as plan,
               (array_agg(g.r order by g.due_at, g.ord) filter (where g.due_at > p_now))[1]
                   as head
        from rung g group by g.id
    ), planned as (
        update service_case c
        set alarm_plan = coalesce(rest.plan, '[]'::jsonb),
            next_alarm_at = (rest.head->>'due_at')::timestamptz,
            next_alarm_level = rest.head->>'level',
            next_alarm_kind = rest.head->>'kind'
        from rest where c.id = rest.id
        returning c.id
    ), raised as (
        insert into alarm (hall_id, kind, level, subject, case_id, department_id, window_id,
                           staff_id, rule_version, due_at, issued_at, raised_by_hall, detail)
        select p_hall, g.r->>'kind', g.r->>'level', g.r->>'subject', g.id, g.department_id,
               g.window_id, g.clerk_id, (g.r->>'rule_version')::int, g.due_at, p_now, p_hall,
               coalesce(g.r->'detail', '{}'::jsonb)
                   || jsonb_build_object('summary', g.r->>'summary')
        from rung g where g.due_at <= p_now
        order by g.due_at, g.id, g.ord
        on conflict (hall_id, kind, level, subject) do nothing
        returning alarm.id, alarm.case_id, alarm.kind, alarm.level, alarm.subject,
                  alarm.due_at, alarm.staff_id, alarm.department_id, alarm.window_id,
                  alarm.rule_version, alarm.detail
    ), texted as (
        insert into notification (hall_id, dedupe_key, recipient, body)
        select p_hall, 'alarm:' || a.id, s.phone,
               '【电子监察】' || (g.r->>'level_name') || '：' || (g.r->>'summary') || '，请及时处理。'
        from raised a join staff s on s.id = a.staff_id
        join rung g on g.id = a.case_id and g.r->>'kind' = a.kind and g.r->>'level' = a.level
                   and g.r->>'subject' = a.subject
        where s.phone is not null
        on conflict (dedupe_key) do nothing
        returning 1
    )
    select coalesce(jsonb_agg(jsonb_build_object(
               'type', 'alarm.issued', 'window_id', a.window_id,
               'payload', jsonb_build_object(
                   'alarm_id', a.id, 'kind', a.kind, 'kind_name', g.r->>'kind_name',
                   'level', a.level, 'level_name', g.r->>'level_name', 'subject', a.subject,
                   'summary', g.r->>'summary', 'case_id', a.case_id, 'case_no', g.case_no,
                   'item_name', i.name, 'ticket_no', null, 'department', dp.code,
                   'window_no', w.window_no, 'due_at', g.r->>'due_at', 'issued_at', p_issued,
                   'rule_version', a.rule_version))
               order by a.due_at, a.id), '[]'::jsonb),
           coalesce(array_agg(a.id order by a.id), '{}')
    into events, ids
    from raised a
    join rung g on g.id = a.case_id and g.r->>'kind' = a.kind and g.r->>'level' = a.level
               and g.r->>'subject' = a.subject
    join item i on i.id = g.item_id
    left join department dp on dp.id = a.department_id
    left join service_window w on w.id = a.window_id;

    if jsonb_array_length(events) > 0 then
        return query select * from hq_commit(p_hall, 'system', null, null, 'alarm.fire_case',
                                             events, jsonb_build_object('alarms', ids));
    end if;
end $$;
