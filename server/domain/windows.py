"""Window sign-in and window status (open / paused / closed)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from db.queries import hall as q
from db.queries import queueing as qq
from server.domain.actor import Actor
from server.domain.auth import emit_forced_sign_out
from server.domain.errors import Conflict, Invalid, NotFound
from server.domain.events import EventRecord
from server.domain.hall import get_hall
from server.domain.queueing import service_day
from server.domain.store import Tx

if TYPE_CHECKING:
    from server.catalogue.spine import Call

STATUSES: Final = ("open", "paused", "closed")


async def _lock_window(tx: Tx, hall_id: int, window_no: int):
    row = await tx.conn.fetchrow(q.WINDOW_FOR_UPDATE, hall_id, window_no)
    if row is None:
        raise NotFound(f"窗口 {window_no} 不存在", code="unknown_window", field="window_no")
    return row


async def _status_changed(
    tx: Tx, window_id: int, window_no: int, status: str, previous: str, now: datetime
) -> None:
    """The event of a window's new status, with the figures of the queues it serves as the
    database computes them after the change (open windows, hence estimated waits, moved)."""
    queues = await tx.conn.fetchval(qq.QUEUE_FIGURES_OF_WINDOW, window_id, service_day(now))
    actor = tx.actor
    by = {"id": actor.id if actor.kind == "staff" else None, "name": actor.name, "role": actor.role}
    tx.emit(
        "window.status_changed",
        {
            "window_no": window_no,
            "status": status,
            "previous": previous,
            "queues": queues,
            "by": by,
        },
        window_id=window_id,
    )


async def _close_unattended(
    tx: Tx, window_id: int, window_no: int, status: str, now: datetime
) -> None:
    """Nobody at the counter any more: the window closes with the clerk's leaving."""
    if status != "closed":
        await tx.conn.execute(q.SET_WINDOW_STATUS, window_id, "closed")
        await tx.conn.execute(q.END_IDLE, window_id, now)
        await _status_changed(tx, window_id, window_no, "closed", status, now)


async def end_sign_in_of(tx: Tx, staff_id: int, now: datetime) -> int | None:
    """In an admin's command that takes a member of staff off the counter (disabled, moved to
    another department): their sign-in ends and their window closes. The window's number, or
    None when they were signed in nowhere."""
    old = await tx.conn.fetchrow(q.SIGNIN_OF_STAFF, staff_id)
    if old is None:
        return None
    await tx.conn.execute(q.DELETE_SIGNIN_OF_STAFF, staff_id)
    tx.emit(
        "window.signed_out",
        {"window_no": old["window_no"], "clerk_id": staff_id},
        window_id=old["window_id"],
    )
    await _close_unattended(tx, old["window_id"], old["window_no"], old["status"], now)
    return int(old["window_no"])


async def sign_in(
    call: Call, hall_code: str, window_no: int, move: bool = False
) -> tuple[Actor, list[EventRecord]]:
    """Signs the clerk in at a window of their department. A clerk signed in at another window
    is asked first (409 `signed_in_elsewhere`): moving ends the sign-in there and closes that
    window, so it happens only when asked for (`move`)."""
    actor = call.actor
    async with call.command() as tx:
        tx.detail["window_no"] = window_no
        hall = await get_hall(tx.conn, hall_code)
        window = await _lock_window(tx, hall.id, window_no)
        call.check(hall.target(department_id=window["department_id"], window_id=window["id"]))
        if window["clerk_id"] == actor.id:
            return replace(actor, window_id=window["id"], window_no=window_no), []
        if window["clerk_id"] is not None:
            raise Conflict(
                f"{window_no} 号窗口已有工作人员签到", code="window_taken", field="window_no"
            )
        old = await tx.conn.fetchrow(q.SIGNIN_OF_STAFF, actor.id)
        if old is not None and not move:
            raise Conflict(
                f"您已在 {old['window_no']} 号窗口签到。改到 {window_no} 号窗口将在 "
                f"{old['window_no']} 号窗口签退并关闭该窗口，确定吗？",
                code="signed_in_elsewhere",
                field="move",
            )
        if old is not None:
            await tx.conn.execute(q.DELETE_SIGNIN_OF_STAFF, actor.id)
            tx.emit(
                "window.signed_out",
                {"window_no": old["window_no"], "clerk_id": actor.id},
                window_id=old["window_id"],
            )
            await _close_unattended(
                tx, old["window_id"], old["window_no"], old["status"], call.ctx.clock()
            )
        await tx.conn.execute(q.INSERT_SIGNIN, window["id"], actor.id)
        tx.emit(
            "window.signed_in",
            {"window_no": window_no, "clerk_id": actor.id, "clerk_name": actor.name},
            window_id=window["id"],
        )
    return replace(actor, window_id=window["id"], window_no=window_no), tx.records


async def sign_out(call: Call, hall_code: str, window_no: int) -> list[EventRecord]:
    async with call.command() as tx:
        tx.detail["window_no"] = window_no
        hall = await get_hall(tx.conn, hall_code)
        window = await _lock_window(tx, hall.id, window_no)
        call.check(hall.target(department_id=window["department_id"], window_id=window["id"]))
        clerk = await tx.conn.fetchval(q.DELETE_SIGNIN_OF_WINDOW, window["id"])
        if clerk is None:
            raise Conflict(f"{window_no} 号窗口无人签到", code="not_signed_in", field="window_no")
        tx.emit(
            "window.signed_out", {"window_no": window_no, "clerk_id": clerk}, window_id=window["id"]
        )
        emit_forced_sign_out(tx, clerk, hall.id)  # an admin's: the clerk's live sockets close
        await _close_unattended(tx, window["id"], window_no, window["status"], call.ctx.clock())
    return tx.records


async def set_status(
    call: Call, hall_code: str, window_no: int, status: str
) -> tuple[dict[str, Any], list[EventRecord]]:
    if status not in STATUSES:
        raise Invalid(
            "窗口状态只能是 open、paused 或 closed", code="invalid_status", field="status"
        )
    async with call.command() as tx:
        tx.detail.update(window_no=window_no, status=status)
        hall = await get_hall(tx.conn, hall_code)
        window = await _lock_window(tx, hall.id, window_no)
        call.check(hall.target(department_id=window["department_id"], window_id=window["id"]))
        if status != "closed" and window["clerk_id"] is None:
            raise Conflict("窗口无人签到，不能开放", code="no_clerk", field="status")
        if window["status"] != status:
            await tx.conn.execute(q.SET_WINDOW_STATUS, window["id"], status)
            # Idle time counts while the window is open with nobody called to it.
            now = call.ctx.clock()
            if status == "open":
                await tx.conn.execute(q.START_IDLE, window["id"], service_day(now), now)
            else:
                await tx.conn.execute(q.END_IDLE, window["id"], now)
            await _status_changed(tx, window["id"], window_no, status, window["status"], now)
    return {"window_no": window_no, "status": status}, tx.records
