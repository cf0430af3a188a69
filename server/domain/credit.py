"""The credit blacklist (失信名单): an applicant on it cannot be accepted with deficiency (容缺受理),
in any case or workflow stage. A city and its county halls keep one list (on the city's hall);
an applicant is known by their ID number when given, else by their name (a company's registered
name). The admin keeps it; every change is audited like any command."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from db.pool import Conn
from db.queries import projects as q
from server.domain.errors import Conflict, Invalid
from server.domain.hall import get_hall
from server.domain.identity import validate_id_number
from server.domain.queueing import TZ

if TYPE_CHECKING:
    from server.catalogue.spine import Call


def applicant_key(name: str, id_number: str | None) -> str:
    return id_number.strip().upper() if id_number else name.strip()


async def check_deficiency(conn: Conn, hall_id: int, name: str, id_number: str | None) -> None:
    """Refuses 容缺 to a blacklisted applicant (409 credit_blacklisted)."""
    list_hall = await conn.fetchval(q.CREDIT_HALL, hall_id)
    flag = await conn.fetchrow(q.CREDIT_FLAG, list_hall, applicant_key(name, id_number))
    if flag is not None and flag["blacklisted"]:
        raise Conflict(
            "申请人在失信名单中，不能容缺受理，请补齐全部材料后受理",
            code="credit_blacklisted",
            field="deficiency",
        )


async def set_flag(
    call: Call,
    hall_code: str,
    name: str,
    id_number: str | None,
    blacklisted: bool,
    reason: str,
) -> tuple[dict[str, Any], list]:
    now = call.ctx.clock()
    name = name.strip()
    if not name:
        raise Invalid("请填写申请人姓名或单位名称", code="invalid_field", field="applicant_name")
    id_no = validate_id_number(id_number, now.astimezone(TZ).date()) if id_number else None
    if blacklisted and not reason.strip():
        raise Invalid("列入失信名单须写明依据", code="reason_required", field="reason")
    async with call.command() as tx:
        hall = await get_hall(tx.conn, hall_code)
        call.check(hall.target())
        list_hall = await tx.conn.fetchval(q.CREDIT_HALL, hall.id)
        key = applicant_key(name, id_no)
        await tx.conn.execute(
            q.SET_CREDIT_FLAG, list_hall, key, name, blacklisted, reason.strip(), now, call.actor.id
        )
        tx.detail.update(hall=hall.code, applicant=name, blacklisted=blacklisted)
    return {"hall": hall.code, "applicant_name": name, "blacklisted": blacklisted}, tx.records


async def list_flags(call: Call, hall_code: str, everyone: bool) -> dict[str, Any]:
    async with call.ctx.store.read() as conn:
        hall = await get_hall(conn, hall_code)
        call.check(hall.target())
        list_hall = await conn.fetchval(q.CREDIT_HALL, hall.id)
        rows = await conn.fetch(q.CREDIT_FLAGS, list_hall, everyone)
    return {
        "hall": hall.code,
        "flags": [
            {
                "applicant_name": r["applicant_name"],
                "blacklisted": r["blacklisted"],
                "reason": r["reason"],
                "set_at": r["set_at"].astimezone(TZ).isoformat(),
                "set_by": r["set_by"],
            }
            for r in rows
        ],
    }
