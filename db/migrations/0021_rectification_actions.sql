-- 整改 (issue 11), the loop after a bad review opens its task: every action on a task (verify,
-- rectify, call back, close, appeal, the supervisor's decision, the overdue alarm) is one line
-- of its timeline, as alarm_action is an alarm's; the decision on an appeal is logged here.
create table rectification_action (
    id                bigserial primary key,
    rectification_id  bigint not null references rectification(id),
    action            text not null,
    actor_kind        text not null,
    actor_id          int,
    hall_id           int,
    at                timestamptz not null,
    note              text not null default '',
    detail            jsonb not null default '{}'
);
create index rectification_action_task on rectification_action (rectification_id, id);
