-- A case's alarm plan: every alarm it will raise as it stands, worked out by the command that
-- last changed it (server/domain/alarms.schedule: the clock, the calendar, the rules), each with
-- its instant and its words. The hall timers raise the due part of many cases' plans in one
-- statement (db/functions/case_alarms.sql), so a burst (every day-limit deadline of the day
-- falls at the end of the working day) costs one set-based statement, not a ladder computed per
-- case. next_alarm_at stays the plan's first instant: the index range the timers probe.
-- Null: not planned (a case scheduled before this migration); the timers plan it first.
alter table service_case add column alarm_plan jsonb;
