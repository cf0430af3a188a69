"""The hall's staff, kept by its admin: create, change (role, department, disabled), reset a
password (a one-time one, changed at the next login), unlock, and their login sessions.

A member of staff changes their own password here too (`change_password`): the rules are in
server/domain/passwords.py, and the last five passwords may not come back. Every change is a
command (audited) with an internal `staff.changed` event; disabling someone, or moving them to
another department, ends their window sign-in and every session, so their screens close at once
(session.ended)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import asyncpg

from db.queries import admin as q
from db.queries import auth as aq
from server.domain import passwords
from server.domain.actor import STAFF_ROLES
from server.domain.auth import SESSION_ENDED, SESSION_ID_HEX, STAFF_CHANGED, session_ended
from server.domain.errors import Conflict, Forbidden, Invalid, NotFound
from server.domain.events import EventRecord
from server.domain.hall import HallRef, department_id, get_hall
from server.domain.store import Tx
from server.domain.windows import end_sign_in_of

if TYPE_CHECKING:
    from server.catalogue.spine import Call

# roles that work for one department (a clerk at its windows, a leader signing off for it)
DEPARTMENT_ROLES: Final = ("clerk", "leader")


@dataclass(frozen=True)
class StaffFields:
    """What the admin sets of a member of staff (all of it, on create and on change)."""

    display_name: str
    role: str
    department: str | None  # department code; required for clerks and leaders
    phone: str | None = None
    active: bool = True


def staff_view(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "username": row["username"],
        "name": row["display_name"],
        "role": row["role"],
        "department": row["department_code"],
        "department_name": row["department_name"],
        "phone": row["phone"],
        "active": row["active"],
        "must_change_password": row["must_change_password"],
        "locked": bool(row["locked"]),
        "window_no": row["window_no"],
        "sessions": row["sessions"],
    }


async def list_staff(conn: Any, hall: HallRef) -> list[dict[str, Any]]:
    return [staff_view(r) for r in await conn.fetch(q.STAFF_ADMIN_LIST, hall.id)]


async def _department_id(tx: Tx, hall: HallRef, fields: StaffFields) -> int | None:
    if fields.role not in STAFF_ROLES:
        raise Invalid(
            "角色只能是窗口人员、带班领导、督查或管理员", code="invalid_role", field="role"
        )
    if fields.department is None:
        if fields.role in DEPARTMENT_ROLES:
            raise Invalid(
                "窗口人员和带班领导须属于一个部门", code="department_required", field="department"
            )
        return None
    return await department_id(tx.conn, hall, fields.department)


def _changed(tx: Tx, hall: HallRef, staff_id: int, username: str, change: str, **more: Any) -> None:
    tx.emit(
        STAFF_CHANGED,
        {"staff_id": staff_id, "username": username, "change": change, **more},
        hall_id=hall.id,
    )


async def _insert(tx: Tx, hall: HallRef, username: str, fields: StaffFields) -> dict[str, Any]:
    """A new member of staff with a generated one-time password, to be changed at the first
    login: {id, username, password}."""
    department = await _department_id(tx, hall, fields)
    if await tx.conn.fetchval(q.USERNAME_TAKEN, username):
        raise Conflict(f"用户名 {username} 已被使用", code="username_taken", field="username")
    password = passwords.generate_password()
    password_hash = await asyncio.to_thread(passwords.hash_password, password)
    staff_id = await tx.conn.fetchval(
        q.INSERT_STAFF,
        hall.id,
        username,
        fields.display_name,
        fields.role,
        department,
        fields.phone,
        password_hash,
        True,
    )
    _changed(tx, hall, staff_id, username, "created", role=fields.role)
    return {"id": staff_id, "username": username, "password": password}


async def create_staff(
    call: Call, hall_code: str, username: str, fields: StaffFields
) -> tuple[dict[str, Any], list[EventRecord]]:
    """The one-time password is in the answer, shown once to the admin."""
    async with call.command() as tx:
        hall = await get_hall(tx.conn, hall_code)
        tx.detail.update(hall=hall.code, username=username, role=fields.role)
        call.check(hall.target())
        created = await _insert(tx, hall, username, fields)
        tx.detail["staff_id"] = created["id"]
    return created, tx.records


async def import_one(
    tx: Tx, hall: HallRef, username: str, fields: StaffFields, now: Any
) -> dict[str, Any] | None:
    """One row of a staff import: created (the answer, with the one-time password) or changed
    (None)."""
    row = await tx.conn.fetchrow(q.STAFF_BY_USERNAME_FOR_UPDATE, username)
    if row is None:
        return await _insert(tx, hall, username, fields)
    if row["hall_id"] != hall.id:
        raise Conflict(
            f"用户名 {username} 已被其他服务中心使用", code="username_taken", field="username"
        )
    await _update_in(tx, hall, row, fields, now)
    return None


async def _staff_of_hall(tx: Tx, hall: HallRef, staff_id: int) -> asyncpg.Record:
    row = await tx.conn.fetchrow(q.STAFF_FOR_UPDATE, staff_id)
    if row is None or row["hall_id"] != hall.id:
        raise NotFound("工作人员不存在", code="unknown_staff", field="staff_id")
    return row


async def _end_everything(tx: Tx, hall: HallRef, staff_id: int, now: Any) -> int:
    """Off the counter and logged out everywhere: their window closes, their screens close."""
    await end_sign_in_of(tx, staff_id, now)
    revoked = await tx.conn.fetch(aq.REVOKE_SESSIONS_OF, staff_id, None)
    tx.emit(SESSION_ENDED, session_ended(None, "revoked", staff_id=staff_id), hall_id=hall.id)
    return len(revoked)


async def _update_in(
    tx: Tx, hall: HallRef, row: asyncpg.Record, fields: StaffFields, now: Any
) -> dict[str, Any]:
    if row["id"] == tx.actor.id and (not fields.active or fields.role != "admin"):
        # the last admin locking themselves out has no way back but the database
        raise Forbidden("不能停用自己的账号或取消自己的管理员角色", code="self_demotion")
    department = await _department_id(tx, hall, fields)
    await tx.conn.execute(
        q.UPDATE_STAFF,
        row["id"],
        fields.display_name,
        fields.role,
        department,
        fields.phone,
        fields.active,
    )
    changes = {
        k: v
        for k, v, old in (
            ("role", fields.role, row["role"]),
            ("department", fields.department, row["department_code"]),
            ("active", fields.active, row["active"]),
            ("name", fields.display_name, row["display_name"]),
            ("phone", fields.phone, row["phone"]),
        )
        if v != old
    }
    sessions = 0
    # a new role or department changes what their screens may show: they log in again
    if {"active", "role", "department"} & set(changes):
        sessions = await _end_everything(tx, hall, row["id"], now)
    if changes:
        _changed(tx, hall, row["id"], row["username"], "updated", changes=changes)
    return {"id": row["id"], "changes": changes, "sessions_ended": sessions}


async def update_staff(
    call: Call, hall_code: str, staff_id: int, fields: StaffFields
) -> tuple[dict[str, Any], list[EventRecord]]:
    """Disabling someone, or changing their role or department, ends their window sign-in and
    every session of theirs."""
    async with call.command() as tx:
        hall = await get_hall(tx.conn, hall_code)
        tx.detail.update(hall=hall.code, staff_id=staff_id)
        call.check(hall.target())
        row = await _staff_of_hall(tx, hall, staff_id)
        result = await _update_in(tx, hall, row, fields, call.ctx.clock())
        tx.detail["changes"] = result["changes"]
    return result, tx.records


async def reset_password(
    call: Call, hall_code: str, staff_id: int
) -> tuple[dict[str, Any], list[EventRecord]]:
    """A new one-time password, shown once to the admin; every session of theirs ends."""
    password = passwords.generate_password()
    password_hash = await asyncio.to_thread(passwords.hash_password, password)
    async with call.command() as tx:
        hall = await get_hall(tx.conn, hall_code)
        tx.detail.update(hall=hall.code, staff_id=staff_id)
        call.check(hall.target())
        row = await _staff_of_hall(tx, hall, staff_id)
        await tx.conn.execute(q.SET_PASSWORD, staff_id, password_hash, True)
        revoked = await tx.conn.fetch(aq.REVOKE_SESSIONS_OF, staff_id, None)
        tx.emit(SESSION_ENDED, session_ended(None, "revoked", staff_id=staff_id), hall_id=hall.id)
        _changed(tx, hall, staff_id, row["username"], "password_reset")
    return {"id": staff_id, "password": password, "sessions_ended": len(revoked)}, tx.records


async def unlock(call: Call, hall_code: str, staff_id: int) -> tuple[dict, list[EventRecord]]:
    async with call.command() as tx:
        hall = await get_hall(tx.conn, hall_code)
        tx.detail.update(hall=hall.code, staff_id=staff_id)
        call.check(hall.target())
        row = await _staff_of_hall(tx, hall, staff_id)
        was_locked = await tx.conn.fetchval(q.UNLOCK_STAFF, staff_id)
        _changed(tx, hall, staff_id, row["username"], "unlocked")
    return {"id": staff_id, "was_locked": bool(was_locked)}, tx.records


async def sessions_of(call: Call, hall_code: str, staff_id: int) -> list[dict[str, Any]]:
    async with call.ctx.store.read() as conn:
        hall = await get_hall(conn, hall_code)
        call.check(hall.target())
        owner = await conn.fetchval(q.STAFF_HALL, staff_id)
        if owner != hall.id:
            raise NotFound("工作人员不存在", code="unknown_staff", field="staff_id")
        rows = await conn.fetch(q.STAFF_SESSIONS, staff_id)
    return [
        {
            "session": r["token_hex"][:SESSION_ID_HEX],
            "created_at": r["created_at"],
            "expires_at": r["expires_at"],
        }
        for r in rows
    ]


async def end_session(
    call: Call, hall_code: str, staff_id: int, session: str
) -> tuple[dict, list[EventRecord]]:
    """Ends one session of a member of staff (a terminal left logged in): its live connections
    close in every process."""
    async with call.command() as tx:
        hall = await get_hall(tx.conn, hall_code)
        tx.detail.update(hall=hall.code, staff_id=staff_id, session=session)
        call.check(hall.target())
        await _staff_of_hall(tx, hall, staff_id)
        revoked = await tx.conn.fetch(q.REVOKE_STAFF_SESSION, staff_id, session, SESSION_ID_HEX)
        if not revoked:
            raise NotFound("该会话不存在或已结束", code="unknown_session", field="session")
        tx.emit(
            SESSION_ENDED, session_ended(session, "revoked", staff_id=staff_id), hall_id=hall.id
        )
    return {"ended": len(revoked)}, tx.records


async def change_password(
    call: Call, current: str, new: str
) -> tuple[dict[str, Any], list[EventRecord]]:
    """A member of staff sets their own password: the current one proves it is them, the new
    one keeps the rules and is none of the last five. Clears a forced change; their other
    sessions end (a password changed because it leaked must lock the thief out)."""
    actor = call.actor
    if actor.kind != "staff" or actor.id is None:
        raise Forbidden("只有工作人员可以修改密码", code="wrong_role")
    async with call.ctx.store.read() as conn:
        username = await conn.fetchval(q.STAFF_USERNAME, actor.id)
        recent = [
            r["password_hash"]
            for r in await conn.fetch(q.RECENT_PASSWORDS, actor.id, passwords.HISTORY - 1)
        ]
    if not recent or not await asyncio.to_thread(passwords.verify_password, recent[0], current):
        raise Invalid("当前密码不正确", code="wrong_password", field="current")
    problem = passwords.password_problem(new, username or "")
    if problem is not None:
        raise Invalid(problem, code="weak_password", field="new")
    for old in recent:
        if await asyncio.to_thread(passwords.verify_password, old, new):
            raise Invalid(
                f"新密码不能与最近 {passwords.HISTORY} 次使用过的密码相同",
                code="password_reused",
                field="new",
            )
    new_hash = await asyncio.to_thread(passwords.hash_password, new)
    async with call.command() as tx:
        tx.detail["staff_id"] = actor.id
        await tx.conn.execute(q.SET_PASSWORD, actor.id, new_hash, False)
        # every other session of theirs ends; this one goes on
        others = await tx.conn.fetch(
            q.REVOKE_OTHER_SESSIONS,
            actor.id,
            actor.session or "",
            SESSION_ID_HEX,
        )
        for r in others:
            tx.emit(
                SESSION_ENDED,
                session_ended(r["token_hash"].hex()[:SESSION_ID_HEX], "revoked", staff_id=actor.id),
            )
        tx.emit(STAFF_CHANGED, {"staff_id": actor.id, "username": username, "change": "password"})
    return {"ok": True, "sessions_ended": len(others)}, tx.records
