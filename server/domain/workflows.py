"""Workflow definitions kept as versioned data (issue 10): publishing a new version (checked by
workflow_def.check against the hall's departments and windows), and reading them. A case of a
workflow keeps the version it was accepted under; a county hall runs its city's definitions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from db.pool import Conn
from db.queries import calendar as cq
from db.queries import workflows as q
from server.domain import workflow_def as wd
from server.domain.alarm_ladder import working_day_seconds
from server.domain.calendar import HallCalendar, parse_work_periods
from server.domain.errors import Conflict, Invalid, NotFound
from server.domain.hall import get_hall
from server.wire import instant

if TYPE_CHECKING:
    from server.catalogue.spine import Call


async def _judge(conn: Conn, hall_id: int, d: wd.WorkflowDefinition) -> wd.CriticalPath:
    departments = {r["code"]: r["name"] for r in await conn.fetch(q.DEPARTMENTS, hall_id)}
    windows = {r["window_no"]: r["code"] for r in await conn.fetch(q.WINDOWS, hall_id)}
    # a working day is the hall's working-day length (its work periods), whatever the date
    periods = parse_work_periods(await conn.fetchval(cq.SELECT_WORK_PERIODS, hall_id))
    day_s = working_day_seconds(HallCalendar(overrides={}, work_periods=periods))
    items = {r["code"] for r in await conn.fetch(q.ITEMS, hall_id)}
    return wd.check(d, departments, windows, day_s, items)


@dataclass(frozen=True)
class InForce:
    """A workflow's version a hall runs: its stored row (code, version, name, kind…) and the
    definition it holds."""

    row: Any
    definition: wd.WorkflowDefinition

    @property
    def version(self) -> int:
        return int(self.row["version"])


async def in_force(
    conn: Conn, hall_id: int, code: str, version: int | None = None, field: str = "code"
) -> InForce:
    """The version of `code` the hall runs (its city's for a county hall): the latest, or
    `version`; 404 unknown_workflow (naming `field`) when there is none."""
    defining = await conn.fetchval(q.DEFINING_HALL, hall_id)
    row = await conn.fetchrow(q.ONE, defining, code, version)
    if row is None:
        raise NotFound("联办定义不存在", code="unknown_workflow", field=field)
    return InForce(row, wd.WorkflowDefinition.model_validate(row["definition"]))


async def definition_at(conn: Conn, hall_id: int, code: str, version: int) -> wd.WorkflowDefinition:
    """The version a case or project of `hall_id` runs (a county hall's is its city's): it
    exists, as a version is never deleted."""
    return (await in_force(conn, hall_id, code, version)).definition


async def store_definition(
    conn: Conn, hall_id: int, d: wd.WorkflowDefinition, now: datetime, staff_id: int | None
) -> int:
    """Checks the definition against the hall and stores it as the next version of its code
    (inside the caller's transaction). Returns the version."""
    await _judge(conn, hall_id, d)
    await conn.execute(q.LOCK_CODE, hall_id, d.code)
    return int(
        await conn.fetchval(
            q.INSERT_VERSION,
            hall_id,
            d.code,
            d.kind,
            d.name,
            d.model_dump(mode="json"),
            now,
            staff_id,
        )
    )


def _view(hall_code: str, row: Any, path: wd.CriticalPath | None = None) -> dict[str, Any]:
    out = {
        "hall": hall_code,
        "code": row["code"],
        "version": row["version"],
        "kind": row["kind"],
        "name": row["name"],
        "definition": row["definition"],
        "created_at": instant(row["created_at"]),
        "created_by": row["created_by"],
    }
    if path is not None:
        out["critical_path"] = {"hours": path.seconds / 3600, "steps": list(path.steps)}
    return out


async def publish(
    call: Call, hall_code: str, code: str, d: wd.WorkflowDefinition
) -> tuple[dict[str, Any], list]:
    """A new version of a hall's workflow (admins of the hall that defines it: a city's serve
    its county halls)."""
    if d.code != code:
        raise Invalid("定义中的编码与地址不一致", code="code_mismatch", field="code")
    async with call.command() as tx:
        hall = await get_hall(tx.conn, hall_code)
        call.check(hall.target())
        tx.detail.update(hall=hall.code, workflow=code)
        if hall.parent_id is not None:
            raise Conflict(
                "县级大厅使用市级大厅发布的联办定义，请由市级管理员发布",
                code="defined_by_city",
                field="hall",
            )
        staff = call.actor.id if call.actor.kind == "staff" else None
        version = await store_definition(tx.conn, hall.id, d, call.ctx.clock(), staff)
        tx.detail["version"] = version
        row = await tx.conn.fetchrow(q.ONE, hall.id, code, version)
        path = await _judge(tx.conn, hall.id, d)
    return _view(hall.code, row, path), tx.records


async def list_definitions(call: Call, hall_code: str) -> dict[str, Any]:
    async with call.ctx.store.read() as conn:
        hall = await get_hall(conn, hall_code)
        call.check(hall.target())
        defining = await conn.fetchval(q.DEFINING_HALL, hall.id)
        rows = await conn.fetch(q.LATEST, defining)
    return {"hall": hall.code, "workflows": [_view(hall.code, r) for r in rows]}


async def get_definition(
    call: Call, hall_code: str, code: str, version: int | None
) -> dict[str, Any]:
    async with call.ctx.store.read() as conn:
        hall = await get_hall(conn, hall_code)
        call.check(hall.target())
        defining = await conn.fetchval(q.DEFINING_HALL, hall.id)
        found = await in_force(conn, hall.id, code, version)
        row, d = found.row, found.definition
        path = await _judge(conn, defining, d)
        versions = await conn.fetchval(q.VERSIONS, defining, code)
    return {**_view(hall.code, row, path), "versions": versions}
