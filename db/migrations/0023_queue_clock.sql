-- The queue commands take their instant from the server's clock (p_now) instead of
-- PostgreSQL's now(): one clock for a ticket and the case it becomes, and a controllable one
-- for tests and `run.py simulate --fast` (whose tickets carried the run's real time). The new
-- definitions are in db/functions/queue_commands.sql and queue_core.sql; the old signatures go.
drop function if exists hq_register(int, text, int, int, int, date, text, text, text, text,
                                    timestamptz);
drop function if exists hq_call_next(int, int, int, date);
drop function if exists hq_call_ticket(int, int, int, date, text, text);
drop function if exists hq_no_show(int, int, int, boolean);
drop function if exists hq_start(int, int, int);
drop function if exists hq_finish(int, int, int);
drop function if exists hq_transfer(int, int, int, int, int, int, boolean, text);
drop function if exists hq_park(int, int, int);
drop function if exists hq_resume(int, int, int, bigint);
drop function if exists hq_cancel(int, int, int, text);
drop function if exists hq_idle_start(int, date);
drop function if exists hq_idle_end(int);
