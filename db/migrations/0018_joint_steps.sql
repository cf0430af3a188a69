-- Joint cases (联办, issue 10), the runtime: a case accepted at the lead window under a workflow
-- definition is the parent; it records the definition and the version it was accepted under.
-- Each step of that version is a row of its own, worked by a window of its department: it waits
-- until the steps it waits for (and, across stages, the whole stage before) are done, then is
-- ready with its own due instant (its limit by the hall calendar from then); one clerk claims it
-- (one conditional UPDATE: two claiming at once, one wins) and completes it. A 联审 step still
-- unanswered at its due instant is recorded as consented (超时默许).
alter table service_case
    add column workflow_code     text,
    add column workflow_version  int,
    add constraint service_case_workflow check ((workflow_code is null) = (workflow_version is null));

create table joint_step (
    id             bigserial primary key,
    hall_id        int not null references hall(id),
    case_id        bigint not null references service_case(id),
    stage_no       int not null check (stage_no >= 1),
    code           text not null,
    name           text not null,
    department_id  int not null references department(id),
    mode           text not null check (mode in ('copy_notice', 'joint_review')),
    limit_amount   int not null check (limit_amount >= 1),
    limit_unit     text not null check (limit_unit in ('working_day', 'working_hour')),
    after          text[] not null default '{}',
    state          text not null check (state in ('waiting', 'ready', 'claimed', 'done',
                                                  'consented')),
    ready_at       timestamptz,
    due_at         timestamptz,
    claimed_by     int references staff(id),
    claimed_window int references service_window(id),
    claimed_at     timestamptz,
    done_at        timestamptz,
    result         jsonb,
    -- supervision raised its step_overrun alarm (keeps the probe's index range small)
    overrun_alarmed boolean not null default false,
    unique (case_id, code),
    check (state not in ('ready', 'claimed') or due_at is not null),
    check (state <> 'claimed' or claimed_by is not null)
);
-- a department's inbox: its ready and claimed steps
create index joint_step_inbox on joint_step (hall_id, department_id, due_at)
    where state in ('ready', 'claimed');
-- the supervision probe: open steps past their due instant, not alarmed yet
create index joint_step_due on joint_step (hall_id, due_at)
    where state in ('ready', 'claimed') and not overrun_alarmed;
