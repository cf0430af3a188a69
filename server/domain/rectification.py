"""整改 (issue 11): a bad review (不满意, 非常不满意) opens a rectification task for the department
that served it, due in the hall's rectification days (default 5 working days) by the hall
calendar, in the rating's own transaction; its event reaches the department's screens."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from db.queries import ratings as q
from server.domain import cases
from server.domain.queueing import TZ
from server.domain.store import Tx

if TYPE_CHECKING:
    from server.domain.ratings import Subject

OPENED = "rectification.opened"


async def open_task(tx: Tx, rating_id: int, subject: Subject, now: datetime) -> int:
    days = await tx.conn.fetchval(q.RECTIFICATION_DAYS, subject.hall_id)
    cal = await cases.load_calendar(tx.conn, subject.hall_id, now)
    due = cal.add_working_time(now, int(days), "working_day")
    task_id = int(
        await tx.conn.fetchval(
            q.INSERT_RECTIFICATION,
            subject.hall_id,
            rating_id,
            subject.department_id,
            subject.window_id,
            now,
            due,
        )
    )
    tx.emit(
        OPENED,
        {
            "rectification_id": task_id,
            "rating_id": rating_id,
            "department": subject.department,
            "window_no": subject.window_no,
            "state": "open",
            "due_at": due.astimezone(TZ).isoformat(),
        },
        hall_id=subject.hall_id,
    )
    return task_id
