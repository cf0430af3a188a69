"""The live queue: registration at the kiosk, calling, recalls, no-shows, transfers, parking.

The commands themselves are database functions (db/functions/queue_commands.sql; declared in
server/catalogue/queue.py): each is one statement that changes the tickets, appends its events
and audits itself, so a call is one round trip and 130 windows calling at once never get the
same ticket (SKIP LOCKED). This module authorizes, validates, and shapes what the screens
need."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal, get_args
from zoneinfo import ZoneInfo

import asyncpg

from db.pool import Conn
from db.queries import calendar as cq
from db.queries import hall as hq
from db.queries import queueing as q
from server.domain import registration_hours
from server.domain.actor import Actor
from server.domain.errors import Invalid, NotFound
from server.domain.events import EventRecord
from server.domain.hall import HallRef, get_hall
from server.domain.identity import mask_phone
from server.domain.permissions import Target
from server.domain.store import Store
from server.wire import instant

if TYPE_CHECKING:
    from server.catalogue.spine import Call

TZ: Final = ZoneInfo("Asia/Shanghai")
# who is served ahead of arrival order (their rank: hq_rank in db/functions/queue_core.sql)
Priority = Literal["normal", "elderly", "disabled", "appointment"]
PRIORITIES: Final = get_args(Priority)
# Query codes avoid look-alike characters (0/O, 1/I/L): they are read off paper and typed.
_CODE_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def service_day(now: datetime | None = None) -> date:
    return (now or datetime.now(TZ)).astimezone(TZ).date()


def new_query_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))


def mask_id_number(id_number: str | None) -> str | None:
    if not id_number:
        return id_number
    return f"{id_number[:4]}{'*' * (len(id_number) - 8)}{id_number[-4:]}"


def last_closing(now: datetime, closes_at: time) -> datetime:
    """The most recent closing instant at or before now (closing every day at closes_at)."""
    today = datetime.combine(now.date(), closes_at, now.tzinfo)
    return today if now >= today else today - timedelta(days=1)


def own_window_target(actor: Actor, hall_code: str, window_no: int) -> Target | None:
    """The clerk's own window as a target, known from the session without a lookup."""
    if actor.hall_code == hall_code and actor.window_no == window_no and actor.window_id:
        return Target(
            hall_id=actor.hall_id, department_id=actor.department_id, window_id=actor.window_id
        )
    return None


async def window_target(
    conn: Conn, actor: Actor, hall: HallRef | None, hall_code: str, window_no: int
) -> Target:
    """The target of a window command (a lookup only when it is not the clerk's own)."""
    own = own_window_target(actor, hall_code, window_no)
    if own is not None:
        return own
    hall = hall or await get_hall(conn, hall_code)
    row = await conn.fetchrow(q.WINDOW_ID, hall.id, window_no)
    if row is None:
        raise NotFound(f"窗口 {window_no} 不存在", code="unknown_window", field="window_no")
    return hall.target(department_id=row["department_id"], window_id=row["id"])


@dataclass(frozen=True)
class Registered:
    query_code: str
    ticket: dict[str, Any]
    events: list[EventRecord]


class QueueService:
    def __init__(self, store: Store):
        self.store = store

    # -- kiosk ----------------------------------------------------------------------------
    async def register(
        self,
        call: Call,
        hall_code: str,
        item_code: str,
        *,
        phone: str | None = None,
        id_number: str | None = None,
        priority: str = "normal",
    ) -> Registered:
        if priority not in PRIORITIES:
            raise Invalid("优先类型不正确", code="invalid_priority", field="priority")
        now = call.ctx.clock().astimezone(TZ)
        async with self.store.read() as conn:
            hall = await get_hall(conn, hall_code)
            await call.authorize(hall.target(), {"item": item_code})
            if call.ctx.registration_hours:
                await registration_hours.ensure_open(conn, hall.id, now)
            item = await conn.fetchrow(q.ITEM_FOR_REGISTRATION, hall.id, item_code)
            if item is None or not item["active"]:
                raise NotFound(f"事项 {item_code} 不存在", code="unknown_item", field="item")
            if item["queue_id"] is None:
                raise Invalid(
                    "该事项暂不支持自助取号，请到咨询台", code="item_without_queue", field="item"
                )
            due = None
            if item["kind"] == "promised":
                cal = await cq.load_hall_calendar(
                    conn, hall.id, now.date() - timedelta(days=7), now.date() + timedelta(days=900)
                )
                due = cal.add_working_time(now, item["promised_limit"], item["limit_unit"])
        query_code = new_query_code()
        records = await self.store.statement(
            hall.id,
            q.REGISTER,
            hall.id,
            call.actor.kind,
            call.actor.id,
            item["id"],
            item["queue_id"],
            service_day(now),
            query_code,
            phone,
            id_number,
            priority,
            due,
            now,
        )
        return Registered(query_code, records[0].payload, records)

    # -- window terminal ------------------------------------------------------------------
    async def _window_command(
        self, call: Call, hall_code: str, window_no: int, sql: str, *args: Any
    ) -> list[EventRecord]:
        actor = call.actor
        target = own_window_target(actor, hall_code, window_no)
        if target is None:  # not the clerk's own window: look it up to refuse precisely
            async with self.store.read() as conn:
                target = await window_target(conn, actor, None, hall_code, window_no)
        await call.authorize(target, {"window_no": window_no})
        return await self.store.statement(
            target.hall_id, sql, target.hall_id, target.window_id, actor.id, *args
        )

    async def call_next(self, call: Call, hall_code: str, window_no: int) -> list[EventRecord]:
        now = call.ctx.clock()
        return await self._window_command(
            call, hall_code, window_no, q.CALL_NEXT, service_day(now), now
        )

    async def call_ticket(
        self, call: Call, hall_code: str, window_no: int, ticket_no: str, reason: str
    ) -> list[EventRecord]:
        if not reason.strip():
            raise Invalid("请填写提前叫号的原因", code="reason_required", field="reason")
        now = call.ctx.clock()
        return await self._window_command(
            call,
            hall_code,
            window_no,
            q.CALL_TICKET,
            service_day(now),
            ticket_no.strip().upper(),
            reason.strip(),
            now,
        )

    async def recall(self, call: Call, hall_code: str, window_no: int) -> list[EventRecord]:
        # a recall stamps nothing: the only window command without an instant
        return await self._window_command(call, hall_code, window_no, q.RECALL)

    async def no_show(
        self, call: Call, hall_code: str, window_no: int, requeue: bool
    ) -> list[EventRecord]:
        return await self._window_command(
            call, hall_code, window_no, q.NO_SHOW, requeue, call.ctx.clock()
        )

    async def start(self, call: Call, hall_code: str, window_no: int) -> list[EventRecord]:
        return await self._window_command(call, hall_code, window_no, q.START, call.ctx.clock())

    async def finish(self, call: Call, hall_code: str, window_no: int) -> list[EventRecord]:
        return await self._window_command(call, hall_code, window_no, q.FINISH, call.ctx.clock())

    async def cancel(
        self, call: Call, hall_code: str, window_no: int, reason: str
    ) -> list[EventRecord]:
        if not reason.strip():
            raise Invalid("请填写取消的原因", code="reason_required", field="reason")
        return await self._window_command(
            call, hall_code, window_no, q.CANCEL, reason.strip(), call.ctx.clock()
        )

    async def park(self, call: Call, hall_code: str, window_no: int) -> list[EventRecord]:
        return await self._window_command(call, hall_code, window_no, q.PARK, call.ctx.clock())

    async def resume(
        self, call: Call, hall_code: str, window_no: int, ticket_id: int
    ) -> list[EventRecord]:
        return await self._window_command(
            call, hall_code, window_no, q.RESUME, ticket_id, call.ctx.clock()
        )

    async def transfer(
        self,
        call: Call,
        hall_code: str,
        window_no: int,
        *,
        queue: str | None = None,
        to_window_no: int | None = None,
        to_clerk_id: int | None = None,
        front: bool = False,
        note: str = "",
    ) -> list[EventRecord]:
        if queue is None and to_window_no is None and to_clerk_id is None:
            raise Invalid(
                "请选择转办的队列、窗口或工作人员", code="transfer_target_required", field="queue"
            )
        async with self.store.read() as conn:
            hall = await get_hall(conn, hall_code)
            queue_id = to_window_id = None
            if queue is not None:
                queue_id = await conn.fetchval(q.QUEUE_BY_CODE, hall.id, queue)
                if queue_id is None:
                    raise NotFound(f"队列 {queue} 不存在", code="unknown_queue", field="queue")
            if to_window_no is not None:
                row = await conn.fetchrow(q.WINDOW_ID, hall.id, to_window_no)
                if row is None:
                    raise NotFound(
                        f"窗口 {to_window_no} 不存在", code="unknown_window", field="to_window_no"
                    )
                to_window_id = row["id"]
            if (
                to_clerk_id is not None
                and await conn.fetchval(q.STAFF_IN_HALL, hall.id, to_clerk_id) is None
            ):
                raise NotFound("目标工作人员不存在", code="unknown_clerk", field="to_clerk_id")
        return await self._window_command(
            call,
            hall_code,
            window_no,
            q.TRANSFER,
            queue_id,
            to_window_id,
            to_clerk_id,
            front,
            note.strip(),
            call.ctx.clock(),
        )

    # -- reads ----------------------------------------------------------------------------
    async def queue_status(self, hall: HallRef, day: date | None = None) -> list[dict[str, Any]]:
        async with self.store.read() as conn:
            rows = await conn.fetch(q.QUEUE_STATUS, hall.id, day or service_day())
        return [queue_view(r) for r in rows]

    async def queue_status_of(self, hall_code: str) -> dict[str, Any]:
        """The public queue board: each queue's waiting count and estimated wait."""
        async with self.store.read() as conn:
            hall = await get_hall(conn, hall_code)
        queues = await self.queue_status(hall)
        return {"hall": {"code": hall.code, "name": hall.name}, "queues": queues}

    async def window_board(
        self, call: Call, hall_code: str, window_no: int, limit: int = 50
    ) -> dict[str, Any]:
        async with self.store.read() as conn:
            hall = await get_hall(conn, hall_code)
            actor = call.actor
            target = await window_target(conn, actor, hall, hall_code, window_no)
            call.check(target)
            current = await conn.fetch(
                q.TICKET_JSON_OF_WINDOW, target.window_id, ["called", "serving"]
            )
            parked = await conn.fetch(q.TICKET_JSON_OF_WINDOW, target.window_id, ["parked"])
            clerk = actor.id if actor.window_id == target.window_id else None
            day = service_day(call.ctx.clock())
            waiting = await conn.fetch(
                q.WAITING_FOR_WINDOW, hall.id, target.window_id, day, clerk, limit
            )
            counts = await conn.fetchrow(q.WINDOW_DAY_COUNTS, target.window_id, day)
        assert counts is not None  # an aggregate without GROUP BY: always one row
        return {
            "window_no": window_no,
            "current": current[-1]["ticket"] if current else None,
            "parked": [r["ticket"] for r in parked],
            "waiting": [r["ticket"] for r in waiting],
            "counts": dict(counts),
        }

    async def registration_by_barcode(
        self, call: Call, hall_code: str, reg_no: str
    ) -> dict[str, Any]:
        async with self.store.read() as conn:
            hall = await get_hall(conn, hall_code)
            call.check(hall.target())
            row = await conn.fetchrow(q.REGISTRATION_BY_REG_NO, hall.id, reg_no.strip())
        if row is None:
            raise NotFound(f"登记号 {reg_no} 不存在", code="unknown_registration", field="reg_no")
        return registration_view(row)

    async def notice(self, query_code: str) -> dict[str, Any]:
        """The unified acceptance notice (统一受理告知单) of a registration."""
        async with self.store.read() as conn:
            row = await conn.fetchrow(q.REGISTRATION_BY_QUERY_CODE, query_code.strip().upper())
            if row is None:
                raise NotFound("查询码不存在", code="unknown_query_code", field="query_code")
            materials = await conn.fetch(hq.ITEM_MATERIALS, row["item_id"])
            windows = await conn.fetch(q.WINDOWS_OF_QUEUE, row["queue_id"])
            ticket = row["ticket"] or {}
            ahead, wait = 0, 0
            if ticket.get("status") == "waiting":
                # the estimated wait is computed in one place, the database (hq_estimated_wait)
                figures = await conn.fetchrow(q.TICKET_WAIT, ticket["id"])
                assert figures is not None  # the ticket was just read; tickets are never deleted
                ahead, wait = figures
        return {
            **registration_view(row),
            "hall": {"code": row["hall_code"], "name": row["hall_name"]},
            "queue_name": row["queue_name"],
            "item_kind": row["item_kind"],
            "promised_limit": row["promised_limit"],
            "limit_unit": row["limit_unit"],
            "materials": [dict(m) for m in materials],
            "windows": [dict(w) for w in windows],
            "ahead": ahead,
            "estimated_wait_seconds": wait,
        }


def queue_view(r: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": r["id"],
        "code": r["code"],
        "name": r["name"],
        "prefix": r["prefix"],
        "waiting": r["waiting"],
        "open_windows": r["open_windows"],
        "served_today": r["served_today"],
        "avg_service_seconds": r["avg_service_seconds"],
        "estimated_wait_seconds": r["estimated_wait_seconds"],
    }


def registration_view(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "reg_no": row["reg_no"],
        "query_code": row["query_code"],
        "item": {"code": row["item_code"], "name": row["item_name"]},
        "department": row["department_name"],
        "queue": row["queue_code"],
        "priority": row["priority"],
        "phone": mask_phone(row["phone"]) if row["phone"] else None,
        "id_number": mask_id_number(row["id_number"]),
        "promised_due": instant(row["promised_due"]) if row["promised_due"] else None,
        "created_at": instant(row["created_at"]),
        "ticket": row["ticket"],
    }
