"""The hall: its reference data, its live snapshot, and the admin's hall-wide commands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import asyncpg

from db.pool import Conn
from db.queries import hall as q
from server.domain.actor import Actor
from server.domain.errors import Invalid, NotFound
from server.domain.events import EventRecord
from server.domain.permissions import Target, authorize

if TYPE_CHECKING:
    from server.catalogue.spine import Call


@dataclass(frozen=True)
class HallRef:
    id: int
    code: str
    name: str
    level: str
    parent_id: int | None

    def target(self, **more: Any) -> Target:
        return Target(hall_id=self.id, hall_parent_id=self.parent_id, **more)


async def get_hall(conn: Conn, code: str) -> HallRef:
    row = await conn.fetchrow(q.HALL_BY_CODE, code)
    if row is None:
        raise NotFound(f"服务中心 {code} 不存在", code="unknown_hall", field="hall")
    return HallRef(row["id"], row["code"], row["name"], row["level"], row["parent_id"])


async def hall_by_id(conn: Conn, hall_id: int) -> HallRef:
    row = await conn.fetchrow(q.HALL_BY_ID, hall_id)
    if row is None:
        raise NotFound(f"服务中心 {hall_id} 不存在", code="unknown_hall", field="hall")
    return HallRef(row["id"], row["code"], row["name"], row["level"], row["parent_id"])


async def visible_hall(
    conn: Conn, actor: Actor, code: str | None, command: str = "hall.read"
) -> HallRef:
    """The hall named by code (the actor's own when None), if the actor may do `command` there."""
    hall = await (get_hall(conn, code) if code is not None else hall_by_id(conn, actor.hall_id))
    authorize(actor, command, hall.target())
    return hall


async def department_id(conn: Conn, hall: HallRef, code: str) -> int:
    """The id of the hall's department `code`; NotFound (unknown_department) otherwise."""
    found = await conn.fetchval(q.DEPARTMENT_ID, hall.id, code)
    if found is None:
        raise NotFound(f"部门 {code} 不存在", code="unknown_department", field="department")
    return int(found)


def window_view(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "window_no": row["window_no"],
        "name": row["display_name"],
        "zone": row["zone"],
        "status": row["status"],
        "department": row["department_code"],
        "department_name": row["department_name"],
        "queues": list(row["queues"]),
        "clerk": ({"id": row["clerk_id"], "name": row["clerk_name"]} if row["clerk_id"] else None),
    }


async def set_notice(
    call: Call, hall_code: str, text: str
) -> tuple[dict[str, Any], list[EventRecord]]:
    text = text.strip()
    if len(text) > 500:
        raise Invalid("滚动通知不能超过 500 字", code="too_long", field="text")
    async with call.command() as tx:
        hall = await get_hall(tx.conn, hall_code)
        tx.detail["hall"] = hall.code
        call.check(hall.target())
        await tx.conn.execute(q.SET_NOTICE, hall.id, text)
        tx.emit("hall.notice_set", {"text": text}, hall_id=hall.id)
    return {"text": text}, tx.records


async def duty_of_day(conn: Conn, hall: HallRef, day: date) -> list[dict]:
    return [
        {
            "staff_id": r["staff_id"],
            "username": r["username"],
            "name": r["display_name"],
            "department": r["department_code"],
            "department_name": r["department_name"],
        }
        for r in await conn.fetch(q.DUTY_OF_DAY, hall.id, day)
    ]


async def set_duty(
    call: Call, hall_code: str, day: date, staff_ids: list[int]
) -> tuple[list[dict], list[EventRecord]]:
    async with call.command() as tx:
        hall = await get_hall(tx.conn, hall_code)
        tx.detail.update(hall=hall.code, day=day.isoformat(), staff=staff_ids)
        call.check(hall.target())
        rows = {r["id"]: r for r in await tx.conn.fetch(q.LEADERS_BY_ID, staff_ids)}
        for sid in staff_ids:
            r = rows.get(sid)
            # a disabled leader cannot sign off, so cannot be the one on duty either
            if r is None or r["role"] != "leader" or r["hall_id"] != hall.id or not r["active"]:
                raise Invalid(
                    f"人员 {sid} 不是本中心的带班领导", code="not_a_leader", field="staff_ids"
                )
        await tx.conn.execute(q.DELETE_DUTY_OF_DAY, hall.id, day)
        await tx.conn.executemany(
            q.INSERT_DUTY,
            [(hall.id, day, sid, rows[sid]["department_id"]) for sid in dict.fromkeys(staff_ids)],
        )
        duty = await duty_of_day(tx.conn, hall, day)
        tx.emit("duty.set", {"day": day.isoformat(), "leaders": duty}, hall_id=hall.id)
    return duty, tx.records
