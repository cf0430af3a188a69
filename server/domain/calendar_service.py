"""Commands and reads on a hall's calendar, and the promised deadline of an item."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from db.queries import calendar as cq
from db.queries import hall as hq
from server.domain.calendar import WORKING_UNITS
from server.domain.errors import Invalid, NotFound
from server.domain.events import EventRecord
from server.domain.hall import HallRef, get_hall
from server.domain.store import Store

if TYPE_CHECKING:
    from server.catalogue.spine import Call

# Limits run to a few hundred working days at most: load the overrides of ~2.5 years.
_HORIZON = timedelta(days=900)


async def set_day(
    call: Call, hall_code: str, day: date, is_working: bool, note: str
) -> tuple[dict[str, Any], list[EventRecord]]:
    async with call.command() as tx:
        hall = await get_hall(tx.conn, hall_code)
        tx.detail.update(hall=hall.code, day=day.isoformat(), is_working=is_working)
        call.check(hall.target())
        await cq.set_calendar_day(tx.conn, hall.id, day, is_working, note)
        tx.emit(
            "calendar.day_set",
            {"day": day.isoformat(), "is_working": is_working, "note": note},
            hall_id=hall.id,
        )
    return {"day": day.isoformat(), "is_working": is_working, "note": note}, tx.records


async def deadline(
    store: Store,
    hall: HallRef,
    start: datetime,
    *,
    amount: int | None = None,
    unit: str | None = None,
    item_code: str | None = None,
) -> dict[str, Any]:
    """When a limit that starts at `start` runs out: from an item's promised limit, or a given
    amount and unit."""
    async with store.read() as conn:
        if item_code is not None:
            item = await conn.fetchrow(hq.ITEM, hall.id, item_code)
            if item is None:
                raise NotFound(f"事项 {item_code} 不存在", code="unknown_item", field="item")
            amount, unit = item["promised_limit"], item["limit_unit"]
        if amount is None or unit not in WORKING_UNITS:
            raise Invalid("请给出事项，或时限数值与单位", code="invalid_query", field="unit")
        day = start.date()
        cal = await cq.load_hall_calendar(conn, hall.id, day - timedelta(days=7), day + _HORIZON)
    due = cal.add_working_time(start, amount, unit)  # type: ignore[arg-type]
    return {"start": start.isoformat(), "amount": amount, "unit": unit, "due": due.isoformat()}
