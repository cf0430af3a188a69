"""SQL for retention: moving the event log's and the audit trail's oldest days into their
archive tables (db/functions/archive.sql) and saying what is kept."""

from __future__ import annotations

# a hall's events before $2, at most $3 of them; returns how many moved
ARCHIVE_EVENTS = "select archive_events($1, $2, $3)"
# every hall's audit lines before $1, at most $2 of them; returns how many moved
ARCHIVE_AUDIT = "select archive_audit($1, $2)"

HALLS = "select id, code from hall order by id"

# What a hall's log holds now: the first seq kept, the last archived (None: none), the head.
KEPT = """
select (select min(seq) from event where hall_id = $1) as first_kept,
       (select max(seq) from event_archive where hall_id = $1) as archived_through,
       (select last_seq from hall_seq where hall_id = $1) as head
"""
