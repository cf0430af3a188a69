-- Supervision's case triggers: besides the deadline ladder, a case's next alarm may be a step
-- overrun, a late supplement notice (§32) or a pause too long. The case row still keeps ONE
-- next alarm instant (next_alarm_at: one index range for the timers, whatever the number of
-- open cases); next_alarm_kind says which trigger it is, next to its level. Null for rows
-- scheduled before this migration, which were all the deadline ladder.
alter table service_case add column next_alarm_kind text;
update service_case set next_alarm_kind = 'case_deadline' where next_alarm_at is not null;
