"""The hall's devices, kept by its admin: kiosks, lobby displays and LED controllers (kind
`display`), rating tablets (`rater`, one per window). Register one (its secret is shown once),
rename it, revoke it (a lost or stolen kiosk: its live connections close at once, in every
process, through session.ended) and rotate its secret (the old one stops working, and so do
the sessions logged in with it)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Final

import asyncpg

from db.queries import admin as q
from db.queries import auth as aq
from server.domain import passwords
from server.domain.actor import DEVICE_ROLES
from server.domain.auth import SESSION_ENDED, session_ended
from server.domain.errors import Conflict, Invalid, NotFound
from server.domain.events import EventRecord
from server.domain.hall import HallRef, get_hall
from server.domain.store import Tx

if TYPE_CHECKING:
    from server.catalogue.spine import Call

DEVICE_CHANGED: Final = "device.changed"
KIND_LABEL: Final = {"kiosk": "取号机", "display": "叫号屏/LED 条屏", "rater": "评价器"}


def device_view(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "code": row["code"],
        "kind": row["kind"],
        "name": row["name"],
        "active": row["active"],
        "window_no": row["window_no"],
        "sessions": row["sessions"],
        "revoked_at": row["revoked_at"],
    }


async def list_devices(conn: Any, hall: HallRef) -> list[dict[str, Any]]:
    return [device_view(r) for r in await conn.fetch(q.DEVICES, hall.id)]


def _changed(tx: Tx, hall: HallRef, device_id: int, code: str, change: str) -> None:
    tx.emit(
        DEVICE_CHANGED, {"device_id": device_id, "code": code, "change": change}, hall_id=hall.id
    )


async def _device_of_hall(tx: Tx, hall: HallRef, device_id: int) -> asyncpg.Record:
    row = await tx.conn.fetchrow(q.DEVICE_FOR_UPDATE, device_id)
    if row is None or row["hall_id"] != hall.id:
        raise NotFound("设备不存在", code="unknown_device", field="device_id")
    return row


def _end_sessions(tx: Tx, hall: HallRef, device_id: int) -> None:
    tx.emit(SESSION_ENDED, session_ended(None, "revoked", device_id=device_id), hall_id=hall.id)


async def register(
    call: Call, hall_code: str, code: str, kind: str, name: str, window_no: int | None
) -> tuple[dict[str, Any], list[EventRecord]]:
    if kind not in DEVICE_ROLES:
        raise Invalid("设备类型只能是取号机、叫号屏或评价器", code="invalid_kind", field="kind")
    if (kind == "rater") != (window_no is not None):
        raise Invalid(
            "评价器须指定所在窗口，其他设备不指定窗口", code="invalid_window", field="window_no"
        )
    secret = passwords.generate_secret()
    secret_hash = await asyncio.to_thread(passwords.hash_password, secret)
    async with call.command() as tx:
        hall = await get_hall(tx.conn, hall_code)
        tx.detail.update(hall=hall.code, device=code, kind=kind)
        call.check(hall.target())
        window_id = None
        if window_no is not None:
            window_id = await tx.conn.fetchval(q.WINDOW_ID, hall.id, window_no)
            if window_id is None:
                raise NotFound(f"窗口 {window_no} 不存在", code="unknown_window", field="window_no")
        if await tx.conn.fetchval(q.DEVICE_CODE_TAKEN, code):
            raise Conflict(f"设备编号 {code} 已被使用", code="device_code_taken", field="code")
        device_id = await tx.conn.fetchval(
            q.INSERT_DEVICE, hall.id, code, kind, name, secret_hash, window_id
        )
        tx.detail["device_id"] = device_id
        _changed(tx, hall, device_id, code, "registered")
    return {"id": device_id, "code": code, "secret": secret}, tx.records


async def rename(
    call: Call, hall_code: str, device_id: int, name: str
) -> tuple[dict[str, Any], list[EventRecord]]:
    async with call.command() as tx:
        hall = await get_hall(tx.conn, hall_code)
        tx.detail.update(hall=hall.code, device_id=device_id, name=name)
        call.check(hall.target())
        row = await _device_of_hall(tx, hall, device_id)
        await tx.conn.execute(q.RENAME_DEVICE, device_id, name)
        _changed(tx, hall, device_id, row["code"], "renamed")
    return {"id": device_id, "name": name}, tx.records


async def revoke(
    call: Call, hall_code: str, device_id: int
) -> tuple[dict[str, Any], list[EventRecord]]:
    """The device can no longer log in, and every connection it holds closes."""
    async with call.command() as tx:
        hall = await get_hall(tx.conn, hall_code)
        tx.detail.update(hall=hall.code, device_id=device_id)
        call.check(hall.target())
        row = await _device_of_hall(tx, hall, device_id)
        await tx.conn.execute(q.REVOKE_DEVICE, device_id)
        revoked = await tx.conn.fetch(aq.REVOKE_SESSIONS_OF, None, device_id)
        tx.detail["sessions"] = len(revoked)
        _end_sessions(tx, hall, device_id)
        _changed(tx, hall, device_id, row["code"], "revoked")
    return {"id": device_id, "sessions_ended": len(revoked)}, tx.records


async def rotate(
    call: Call, hall_code: str, device_id: int
) -> tuple[dict[str, Any], list[EventRecord]]:
    """A new secret, shown once; the old one and its sessions stop working. A revoked device
    is brought back this way (re-registering the same tablet after repair)."""
    secret = passwords.generate_secret()
    secret_hash = await asyncio.to_thread(passwords.hash_password, secret)
    async with call.command() as tx:
        hall = await get_hall(tx.conn, hall_code)
        tx.detail.update(hall=hall.code, device_id=device_id)
        call.check(hall.target())
        row = await _device_of_hall(tx, hall, device_id)
        await tx.conn.execute(q.SET_DEVICE_SECRET, device_id, secret_hash)
        revoked = await tx.conn.fetch(aq.REVOKE_SESSIONS_OF, None, device_id)
        _end_sessions(tx, hall, device_id)
        _changed(tx, hall, device_id, row["code"], "rotated")
    return {"id": device_id, "secret": secret, "sessions_ended": len(revoked)}, tx.records
