"""SQL for the event log and the audit trail."""

from __future__ import annotations

from db.pool import Conn
from server.domain.events import EventRecord

APPEND_EVENTS = "select seq, type, payload, window_id, at from append_events($1, $2, $3, $4)"
APPEND_COMMAND = """
select seq, type, payload, window_id, at
from append_command($1, $2, $3, $4, $5, $6, $7, $8, $9)
"""

INSERT_AUDIT = """
insert into audit (hall_id, actor_kind, actor_id, window_id, action, outcome, detail)
values ($1, $2, $3, $4, $5, $6, $7)
"""

EVENTS_AFTER = """
select hall_id, seq, type, payload, window_id, at from event
where hall_id = $1 and seq > $2 and seq <= $3
order by seq
"""

LAST_SEQ = "select last_seq from hall_seq where hall_id = $1"
ALL_LAST_SEQ = "select hall_id, last_seq from hall_seq"
HALL_CODE = "select code from hall where id = $1"


def record(hall_id: int, row) -> EventRecord:
    return EventRecord(
        hall_id=hall_id,
        seq=row["seq"],
        type=row["type"],
        payload=row["payload"],
        window_id=row["window_id"],
        at=row["at"],
    )


async def append_events(
    conn: Conn,
    hall_id: int,
    actor_kind: str,
    actor_id: int | None,
    events: list[dict],
) -> list[EventRecord]:
    rows = await conn.fetch(APPEND_EVENTS, hall_id, actor_kind, actor_id, events)
    if len(rows) != len(events):
        raise RuntimeError(f"hall {hall_id} has no sequence row")
    return sorted((record(hall_id, r) for r in rows), key=lambda r: r.seq)


async def append_command(
    conn: Conn,
    hall_id: int,
    actor_kind: str,
    actor_id: int | None,
    events: list[dict],
    audit_hall_id: int | None,
    window_id: int | None,
    action: str,
    outcome: str,
    detail: dict,
) -> list[EventRecord]:
    """A command's events (one hall's) and its audit line, in one round trip."""
    rows = await conn.fetch(
        APPEND_COMMAND,
        hall_id,
        actor_kind,
        actor_id,
        events,
        audit_hall_id,
        window_id,
        action,
        outcome,
        detail,
    )
    if len(rows) != len(events):
        raise RuntimeError(f"hall {hall_id} has no sequence row")
    return sorted((record(hall_id, r) for r in rows), key=lambda r: r.seq)


async def events_after(
    conn: Conn, hall_id: int, after: int, upto: int = 2**62
) -> list[EventRecord]:
    rows = await conn.fetch(EVENTS_AFTER, hall_id, after, upto)
    return [record(hall_id, r) for r in rows]


async def last_seq(conn: Conn, hall_id: int) -> int:
    value = await conn.fetchval(LAST_SEQ, hall_id)
    return int(value or 0)


async def hall_code(conn: Conn, hall_id: int) -> str | None:
    return await conn.fetchval(HALL_CODE, hall_id)


async def all_last_seq(conn: Conn) -> dict[int, int]:
    return {r["hall_id"]: r["last_seq"] for r in await conn.fetch(ALL_LAST_SEQ)}


async def write_audit(
    conn: Conn,
    hall_id: int | None,
    actor_kind: str,
    actor_id: int | None,
    window_id: int | None,
    action: str,
    outcome: str,
    detail: dict,
) -> None:
    await conn.execute(
        INSERT_AUDIT, hall_id, actor_kind, actor_id, window_id, action, outcome, detail
    )
