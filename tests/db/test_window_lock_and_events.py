"""A window command's lock on its window must not block a command that, holding the hall's
sequence row, inserts an event referencing that window: the event's foreign key takes KEY
SHARE on the window row, and a window command waiting for the sequence row behind it would
make a deadlock (a leader's sign-off on a case of a window whose clerk paused it for lunch;
found by run.py simulate)."""

from __future__ import annotations

import asyncpg

from db.queries import hall as q


async def test_the_window_lock_lets_an_event_reference_the_window(db_dsn):
    window = await asyncpg.connect(db_dsn)
    other = await asyncpg.connect(db_dsn)
    try:
        hall_id, window_id = await window.fetchrow(
            "select hall_id, id from service_window where window_no = 1 order by id limit 1"
        )
        async with window.transaction():
            locked = await window.fetchrow(q.WINDOW_FOR_UPDATE, hall_id, 1)
            assert locked["id"] == window_id
            async with other.transaction():
                await other.execute("set local lock_timeout = '2s'")
                # what an event's (or a case history row's) foreign key check does
                got = await other.fetchval(
                    "select id from service_window where id = $1 for key share", window_id
                )
                assert got == window_id
    finally:
        await window.close()
        await other.close()
