"""A real hall from nothing (`run.py init-hall`), and its departments and queues kept by its
admin afterwards.

init-hall creates the city hall, its county halls if any, and a first admin for each, with a
generated one-time password printed once and changed at the first login. Everything else (the
departments, queues, windows, staff and items) the admin sets up from the screens or from
spreadsheets (server/domain/admin_sheets.py)."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from db.pool import Conn
from db.queries import admin as q
from db.queries.events import write_audit
from server.domain import passwords
from server.domain.errors import Conflict, Invalid
from server.domain.events import EventRecord
from server.domain.hall import HallRef, department_id, get_hall
from server.domain.store import Tx

if TYPE_CHECKING:
    from server.catalogue.spine import Call

STRUCTURE_CHANGED: Final = "hall.structure_changed"
HALL_CODE = re.compile(r"^[a-z0-9-]{2,32}$")
CODE = re.compile(r"^[a-z0-9_-]{1,40}$")
PREFIX = re.compile(r"^[A-Z]{1,2}$")


@dataclass(frozen=True)
class NewHall:
    code: str
    name: str


async def init_hall(
    conn: Conn, city: NewHall, counties: list[NewHall], admin_username: str = "admin"
) -> list[dict[str, Any]]:
    """Creates the halls and their first admins in one transaction: [{hall, username,
    password}] (the passwords are shown once, never stored but hashed). Refuses a hall code or
    a username already taken."""
    halls = [city, *counties]
    for h in halls:
        if not HALL_CODE.match(h.code):
            raise Invalid(
                f"中心编码 {h.code!r} 应为 2–32 位小写字母、数字或 -", code="invalid_hall_code"
            )
        if not h.name.strip():
            raise Invalid("中心名称不能为空", code="invalid_hall_name")
    if len({h.code for h in halls}) != len(halls):
        raise Invalid("中心编码不能重复", code="invalid_hall_code")
    usernames = [admin_username] + [f"{h.code}.{admin_username}" for h in counties]
    secrets = [passwords.generate_password() for _ in halls]
    hashes = [await asyncio.to_thread(passwords.hash_password, s) for s in secrets]
    out = []
    async with conn.transaction():
        parent_id = None
        for h, username, secret, hashed in zip(halls, usernames, secrets, hashes):
            if await conn.fetchval(q.HALL_CODE_TAKEN, h.code):
                raise Conflict(f"中心 {h.code} 已存在", code="hall_exists")
            if await conn.fetchval(q.USERNAME_TAKEN, username):
                raise Conflict(f"用户名 {username} 已被使用", code="username_taken")
            hall_id = await conn.fetchval(
                q.INSERT_HALL,
                h.code,
                h.name.strip(),
                "city" if parent_id is None else "county",
                parent_id,
            )
            staff_id = await conn.fetchval(
                q.INSERT_STAFF, hall_id, username, "管理员", "admin", None, None, hashed, True
            )
            await write_audit(
                conn,
                hall_id,
                "system",
                None,
                None,
                "hall.init",
                "ok",
                {"hall": h.code, "admin": username, "staff_id": staff_id},
            )
            parent_id = parent_id or hall_id
            out.append({"hall": h.code, "name": h.name, "username": username, "password": secret})
    return out


# ------------------------------------------------------------------------------ structure


async def save_department(
    call: Call, hall_code: str, code: str, name: str
) -> tuple[dict[str, Any], list[EventRecord]]:
    """Adds a department or renames it (its code is its identity)."""
    if not CODE.match(code):
        raise Invalid("部门编码应为小写字母、数字、_ 或 -", code="invalid_code", field="code")
    async with call.command() as tx:
        hall = await get_hall(tx.conn, hall_code)
        tx.detail.update(hall=hall.code, department=code)
        call.check(hall.target())
        created = await save_department_in(tx, hall, code, name)
    return {"code": code, "name": name, "created": created}, tx.records


async def save_department_in(tx: Tx, hall: HallRef, code: str, name: str) -> bool:
    created = bool(await tx.conn.fetchval(q.UPSERT_DEPARTMENT, hall.id, code, name))
    _structure(tx, hall, "department", code, name, created)
    return created


async def save_queue(
    call: Call,
    hall_code: str,
    code: str,
    name: str,
    prefix: str,
    department: str | None,
    norm_minutes: int,
) -> tuple[dict[str, Any], list[EventRecord]]:
    """Adds a queue or changes it; its ticket prefix is unique in the hall."""
    async with call.command() as tx:
        hall = await get_hall(tx.conn, hall_code)
        tx.detail.update(hall=hall.code, queue=code)
        call.check(hall.target())
        created = await save_queue_in(tx, hall, code, name, prefix, department, norm_minutes)
    return {"code": code, "name": name, "prefix": prefix, "created": created}, tx.records


async def save_queue_in(
    tx: Tx,
    hall: HallRef,
    code: str,
    name: str,
    prefix: str,
    department: str | None,
    norm_minutes: int,
) -> bool:
    if not CODE.match(code):
        raise Invalid("队列编码应为小写字母、数字、_ 或 -", code="invalid_code", field="code")
    if not PREFIX.match(prefix):
        raise Invalid("号码前缀应为 1–2 个大写字母", code="invalid_prefix", field="prefix")
    if not 1 <= norm_minutes <= 600:
        raise Invalid("服务时长标准应在 1–600 分钟", code="invalid_norm", field="norm_minutes")
    dept = await department_id(tx.conn, hall, department) if department else None
    holder = await tx.conn.fetchval(q.PREFIX_HOLDER, hall.id, prefix)
    if holder is not None and holder != code:
        raise Conflict(
            f"号码前缀 {prefix} 已由队列 {holder} 使用", code="prefix_taken", field="prefix"
        )
    created = bool(
        await tx.conn.fetchval(q.UPSERT_QUEUE, hall.id, code, name, prefix, dept, norm_minutes)
    )
    _structure(tx, hall, "queue", code, name, created)
    return created


def _structure(tx: Tx, hall: HallRef, kind: str, code: str, name: str, created: bool) -> None:
    tx.emit(
        STRUCTURE_CHANGED,
        {"kind": kind, "code": code, "name": name, "created": created},
        hall_id=hall.id,
    )


async def list_departments(conn: Conn, hall: HallRef) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(q.DEPARTMENTS_ADMIN, hall.id)]


async def list_queues(conn: Conn, hall: HallRef) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(q.QUEUES_ADMIN, hall.id)]
