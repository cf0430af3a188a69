"""SQL for the hall timers and the SMS outbox."""

from __future__ import annotations

TRY_LOCK = "select pg_try_advisory_lock($1, $2)"
HALLS = "select id, code, closes_at, work_periods from hall order by id"

# Claim due notifications of a hall: a lease (next_attempt pushed ahead) keeps another sender
# off them while this one sends; SKIP LOCKED keeps two claims from colliding.
CLAIM_NOTIFICATIONS = """
update notification n set attempts = n.attempts + 1,
       next_attempt = now() + make_interval(secs => $3)
where n.id in (select id from notification
               where hall_id = $1 and status = 'pending' and next_attempt <= now()
               order by id limit $2 for update skip locked)
returning n.id, n.dedupe_key, n.recipient, n.body, n.attempts
"""
MARK_SENT = (
    "update notification set status = 'sent', sent_at = now(), last_error = null where id = $1"
)
MARK_RETRY = """
update notification set next_attempt = now() + make_interval(secs => $2), last_error = $3,
       status = case when attempts >= $4 then 'failed' else 'pending' end
where id = $1
"""
