"""The item catalogue (审批服务事项), kept by the hall's admin and versioned.

Publishing an item writes its whole definition as a new version: version 1 when new, the next
one otherwise, and the definition is kept in item_version. A case keeps the version it was
accepted under: acceptance copies the limits and the materials onto the case, so a later
version never changes an accepted case. The published fee list is replaced by the new one (the
old rows are only unlisted: a paid fee refers to its row)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Final

import asyncpg

from db.queries import admin as q
from db.queries import hall as hq
from server.domain.errors import Invalid, NotFound
from server.domain.events import EventRecord
from server.domain.hall import HallRef, department_id, get_hall
from server.domain.store import Tx

if TYPE_CHECKING:
    from server.catalogue.spine import Call

ITEM_PUBLISHED: Final = "item.published"
KINDS: Final = ("immediate", "promised")
LIMIT_UNITS: Final = ("working_day", "working_hour")


@dataclass(frozen=True)
class Material:
    name: str
    is_key: bool = True
    copies: int = 1
    note: str = ""


@dataclass(frozen=True)
class Fee:
    name: str
    amount_cents: int
    basis: str = ""


@dataclass(frozen=True)
class ItemDefinition:
    name: str
    department: str
    kind: str
    limit_unit: str
    statutory_limit: int
    promised_limit: int = 0
    urgent_limit: int | None = None
    queue: str | None = None
    category: str = ""
    requires_signoff: bool = False
    service_norm_minutes: int | None = None
    active: bool = True
    materials: list[Material] = field(default_factory=list)
    fees: list[Fee] = field(default_factory=list)

    def problem(self) -> tuple[str, str, str] | None:
        """(code, field, message) of the first rule the definition breaks, or None."""
        if self.kind not in KINDS:
            return ("invalid_kind", "kind", "办理类型只能是即办件或承诺件")
        if self.limit_unit not in LIMIT_UNITS:
            return ("invalid_limit", "limit_unit", "时限单位只能是工作日或工作小时")
        if self.statutory_limit < 0 or self.promised_limit < 0:
            return ("invalid_limit", "statutory_limit", "时限不能为负数")
        if self.kind == "immediate" and self.promised_limit != 0:
            return ("invalid_limit", "promised_limit", "即办件没有承诺时限（应为 0）")
        if self.kind == "promised" and self.promised_limit == 0:
            return ("invalid_limit", "promised_limit", "承诺件须有承诺时限")
        if self.promised_limit > self.statutory_limit:
            return ("invalid_limit", "promised_limit", "承诺时限不能超过法定时限")
        if self.urgent_limit is not None and not 0 <= self.urgent_limit <= self.promised_limit:
            return ("invalid_limit", "urgent_limit", "急办时限须短于承诺时限")
        names = [m.name for m in self.materials]
        if len(set(names)) != len(names):
            return ("invalid_materials", "materials", "材料名称不能重复")
        if any(m.copies < 1 for m in self.materials):
            return ("invalid_materials", "materials", "材料份数至少为 1")
        if any(f.amount_cents < 0 for f in self.fees):
            return ("invalid_fees", "fees", "收费金额不能为负数")
        return None


def item_view(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "code": row["code"],
        "name": row["name"],
        "department": row["department_code"],
        "department_name": row["department_name"],
        "category": row["category"],
        "kind": row["kind"],
        "limit_unit": row["limit_unit"],
        "statutory_limit": row["statutory_limit"],
        "promised_limit": row["promised_limit"],
        "urgent_limit": row["urgent_limit"],
        "queue": row["queue_code"],
        "requires_signoff": row["requires_signoff"],
        "service_norm_minutes": row["service_norm_minutes"],
        "active": row["active"],
        "version": row["version"],
        "materials": row["materials"],
        "fees": row["fees"],
    }


async def list_items(conn: Any, hall: HallRef, code: str | None = None) -> list[dict[str, Any]]:
    return [item_view(r) for r in await conn.fetch(q.ITEMS_ADMIN, hall.id, code)]


async def publish_in(tx: Tx, hall: HallRef, code: str, item: ItemDefinition) -> tuple[int, int]:
    """Writes one item's new version inside a command (also the import's, row by row).
    Returns (item id, version)."""
    problem = item.problem()
    if problem is not None:
        raise Invalid(problem[2], code=problem[0], field=problem[1])
    dept = await department_id(tx.conn, hall, item.department)
    queue_id = None
    if item.queue is not None:
        queue_id = await tx.conn.fetchval(q.QUEUE_ID, hall.id, item.queue)
        if queue_id is None:
            raise NotFound(f"队列 {item.queue} 不存在", code="unknown_queue", field="queue")
    columns = (
        dept,
        item.name,
        item.category,
        item.kind,
        item.limit_unit,
        item.statutory_limit,
        item.promised_limit,
        item.urgent_limit,
        queue_id,
        item.requires_signoff,
        item.service_norm_minutes,
        item.active,
    )
    row = await tx.conn.fetchrow(q.ITEM_FOR_UPDATE, hall.id, code)
    if row is None:
        item_id = await tx.conn.fetchval(q.INSERT_ITEM, hall.id, dept, code, *columns[1:])
        version = 1
    else:
        item_id = row["id"]
        if not await tx.conn.fetchval(q.ITEM_VERSION_KEPT, item_id, row["version"]):
            # an item from before versions were kept (the seed): its current definition is
            # kept as what its cases were accepted under
            current = await list_items(tx.conn, hall, code)
            await tx.conn.execute(
                q.INSERT_ITEM_VERSION, item_id, row["version"], _definition(current[0]), None
            )
        version = await tx.conn.fetchval(q.UPDATE_ITEM, item_id, *columns)
    await tx.conn.execute(q.DELETE_ITEM_MATERIALS, item_id)
    await tx.conn.executemany(
        q.INSERT_ITEM_MATERIAL,
        [
            (item_id, pos, m.name, m.is_key, m.copies, m.note)
            for pos, m in enumerate(item.materials, 1)
        ],
    )
    await tx.conn.execute(q.UNLIST_ITEM_FEES, item_id)
    await tx.conn.executemany(
        q.INSERT_ITEM_FEE, [(item_id, f.name, f.amount_cents, f.basis) for f in item.fees]
    )
    definition = {"code": code, **asdict(item)}
    await tx.conn.execute(
        q.INSERT_ITEM_VERSION,
        item_id,
        version,
        definition,
        tx.actor.id if tx.actor.kind == "staff" else None,
    )
    tx.emit(
        ITEM_PUBLISHED,
        {"code": code, "name": item.name, "version": version, "active": item.active},
        hall_id=hall.id,
    )
    return item_id, version


def _definition(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if k not in ("department_name", "version")}


async def publish(
    call: Call, hall_code: str, code: str, item: ItemDefinition
) -> tuple[dict[str, Any], list[EventRecord]]:
    async with call.command() as tx:
        hall = await get_hall(tx.conn, hall_code)
        tx.detail.update(hall=hall.code, item=code)
        call.check(hall.target())
        _, version = await publish_in(tx, hall, code, item)
        tx.detail["version"] = version
        view = (await list_items(tx.conn, hall, code))[0]
    return view, tx.records


async def versions(call: Call, hall_code: str, code: str) -> list[dict[str, Any]]:
    async with call.ctx.store.read() as conn:
        hall = await get_hall(conn, hall_code)
        call.check(hall.target())
        item = await conn.fetchrow(hq.ITEM, hall.id, code)
        if item is None:
            raise NotFound(f"事项 {code} 不存在", code="unknown_item", field="code")
        rows = await conn.fetch(q.ITEM_VERSIONS, item["id"])
    return [
        {
            "version": r["version"],
            "definition": r["definition"],
            "published_at": r["published_at"],
            "published_by": r["published_by"],
        }
        for r in rows
    ]
