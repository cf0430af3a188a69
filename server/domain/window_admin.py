"""The hall's windows, kept by its admin while the hall runs: number, name, department, zone,
the queues served in their order (queues sharing a position are served as one list), and the
priority rule. Call-next reads all of it from the database at each call (hq_pick_next), so a
change applies at the window's next call with no restart; `window.configured` tells every
screen of the hall."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import asyncpg

from db.queries import admin as q
from db.queries import hall as hq
from server.domain.errors import Conflict, Invalid, NotFound
from server.domain.events import EventRecord
from server.domain.hall import HallRef, department_id, get_hall
from server.domain.store import Tx
from server.domain.windows import end_sign_in_of

if TYPE_CHECKING:
    from server.catalogue.spine import Call

WINDOW_CONFIGURED: Final = "window.configured"
PRIORITY_RULES: Final = ("priority_first", "priority_only")


@dataclass(frozen=True)
class WindowFields:
    name: str
    department: str
    queues: list[list[str]]  # serving order; each position one queue or several served together
    zone: str = ""
    priority_rule: str = "priority_first"


def window_view(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "window_no": row["window_no"],
        "name": row["display_name"],
        "department": row["department_code"],
        "department_name": row["department_name"],
        "zone": row["zone"],
        "status": row["status"],
        "queues": row["queues"],
        "priority_rule": row["priority_rule"],
    }


async def list_windows(conn: Any, hall: HallRef) -> list[dict[str, Any]]:
    return [window_view(r) for r in await conn.fetch(q.WINDOW_ADMIN, hall.id, None)]


async def _queue_ids(tx: Tx, hall: HallRef, fields: WindowFields) -> list[tuple[int, int]]:
    """(queue id, position) of the window's queues, each named once."""
    if fields.priority_rule not in PRIORITY_RULES:
        raise Invalid(
            "优先规则只能是优先办理或仅办理优先",
            code="invalid_priority_rule",
            field="priority_rule",
        )
    codes = [c for group in fields.queues for c in group]
    if any(not group for group in fields.queues):
        raise Invalid("队列顺序中不能有空位", code="invalid_queues", field="queues")
    if len(set(codes)) != len(codes):
        raise Invalid("同一队列只能出现一次", code="invalid_queues", field="queues")
    ids = dict(await tx.conn.fetch(q.QUEUE_IDS, hall.id, codes))
    unknown = [c for c in codes if c not in ids]
    if unknown:
        raise NotFound(f"队列 {'、'.join(unknown)} 不存在", code="unknown_queue", field="queues")
    return [(ids[c], pos) for pos, group in enumerate(fields.queues, 1) for c in group]


async def _write(tx: Tx, window_id: int, queues: list[tuple[int, int]]) -> None:
    await tx.conn.execute(q.DELETE_WINDOW_QUEUES, window_id)
    await tx.conn.executemany(q.INSERT_WINDOW_QUEUE, [(window_id, qid, p) for qid, p in queues])


async def _configured(tx: Tx, hall: HallRef, window_id: int, window_no: int, created: bool) -> dict:
    row = await tx.conn.fetchrow(q.WINDOW_ADMIN, hall.id, window_no)
    assert row is not None  # written in this transaction
    view = window_view(row)
    tx.emit(
        WINDOW_CONFIGURED,
        {
            **{k: view[k] for k in ("window_no", "name", "department", "department_name", "zone")},
            "queues": [c for group in view["queues"] for c in group],
            "priority_rule": view["priority_rule"],
            "created": created,
        },
        window_id=window_id,
    )
    return view


async def _create_in(tx: Tx, hall: HallRef, window_no: int, fields: WindowFields) -> dict[str, Any]:
    dept = await department_id(tx.conn, hall, fields.department)
    queues = await _queue_ids(tx, hall, fields)
    if await tx.conn.fetchval(q.WINDOW_ID, hall.id, window_no) is not None:
        raise Conflict(f"窗口 {window_no} 已存在", code="window_exists", field="window_no")
    window_id = await tx.conn.fetchval(
        q.INSERT_WINDOW, hall.id, window_no, fields.name, dept, fields.zone, fields.priority_rule
    )
    await _write(tx, window_id, queues)
    return await _configured(tx, hall, window_id, window_no, True)


async def _update_in(
    tx: Tx, hall: HallRef, row: asyncpg.Record, fields: WindowFields, now: datetime
) -> dict[str, Any]:
    dept = await department_id(tx.conn, hall, fields.department)
    queues = await _queue_ids(tx, hall, fields)
    await tx.conn.execute(
        q.UPDATE_WINDOW, row["id"], fields.name, dept, fields.zone, fields.priority_rule
    )
    await _write(tx, row["id"], queues)
    if dept != row["department_id"] and row["clerk_id"] is not None:
        await end_sign_in_of(tx, row["clerk_id"], now)
    return await _configured(tx, hall, row["id"], row["window_no"], False)


async def create_window(
    call: Call, hall_code: str, window_no: int, fields: WindowFields
) -> tuple[dict[str, Any], list[EventRecord]]:
    async with call.command() as tx:
        hall = await get_hall(tx.conn, hall_code)
        tx.detail.update(hall=hall.code, window_no=window_no)
        call.check(hall.target())
        view = await _create_in(tx, hall, window_no, fields)
    return view, tx.records


async def update_window(
    call: Call, hall_code: str, window_no: int, fields: WindowFields
) -> tuple[dict[str, Any], list[EventRecord]]:
    """Applies at once. A window moved to another department loses its clerk (they belong to
    the old one): their sign-in ends and the window closes."""
    async with call.command() as tx:
        hall = await get_hall(tx.conn, hall_code)
        tx.detail.update(hall=hall.code, window_no=window_no)
        call.check(hall.target())
        row = await tx.conn.fetchrow(hq.WINDOW_FOR_UPDATE, hall.id, window_no)
        if row is None:
            raise NotFound(f"窗口 {window_no} 不存在", code="unknown_window", field="window_no")
        view = await _update_in(tx, hall, row, fields, call.ctx.clock())
    return view, tx.records


async def import_one(
    tx: Tx, hall: HallRef, window_no: int, fields: WindowFields, now: datetime
) -> None:
    """One row of a windows import: the window created or changed."""
    row = await tx.conn.fetchrow(hq.WINDOW_FOR_UPDATE, hall.id, window_no)
    if row is None:
        await _create_in(tx, hall, window_no, fields)
    else:
        await _update_in(tx, hall, row, fields, now)
