"""HTTP handlers for the hall, its reference data, windows and admin commands. Thin: parse,
call the domain, return JSON."""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, Field
from pypinyin import Style, lazy_pinyin

from db.queries import calendar as cq
from db.queries import events as eq
from db.queries import hall as q
from server.api.registry import api
from server.api.routing import json_response, path_int, query_int
from server.domain import calendar_service, windows
from server.domain import hall as hall_domain
from server.domain.actor import Actor
from server.domain.errors import Invalid, NotFound
from server.domain.hall import visible_hall
from server.domain.permissions import POLICY, authorize
from server.domain.snapshot import snapshot
from server.keys import STORE

HALL = "/api/halls/{hall}"


def _date(raw: str, field: str) -> date:
    try:
        return date.fromisoformat(raw)
    except (TypeError, ValueError):
        raise Invalid(f"{field} 应为 YYYY-MM-DD 格式的日期", code="invalid_date", field=field)


@api.route("GET", "/api/halls", summary="Halls this actor can see", tag="hall")
async def handle_list_halls(request: web.Request, actor: Actor) -> web.Response:
    supervises = POLICY["hall.read"].get(actor.role) == "supervised"
    async with request.app[STORE].read() as conn:
        rows = await conn.fetch(q.HALLS_VISIBLE, actor.hall_id, supervises)
    return json_response({"halls": [dict(r) for r in rows]})


@api.route("GET", HALL, summary="A hall with its counts", tag="hall")
async def handle_get_hall(request: web.Request, actor: Actor) -> web.Response:
    async with request.app[STORE].read() as conn:
        hall = await visible_hall(conn, actor, request.match_info["hall"])
        counts = dict(await conn.fetchrow(q.COUNTS, hall.id))
        row = await conn.fetchrow(q.HALL_BY_ID, hall.id)
    return json_response(
        {
            "code": hall.code,
            "name": hall.name,
            "level": hall.level,
            "work_periods": row["work_periods"],
            "notice_line": row["notice_line"],
            "counts": counts,
        }
    )


@api.route(
    "GET", HALL + "/snapshot", summary="Live state and the sequence number it matches", tag="hall"
)
async def handle_snapshot(request: web.Request, actor: Actor) -> web.Response:
    store = request.app[STORE]
    async with store.read() as conn:
        hall = await visible_hall(conn, actor, request.match_info["hall"])
    return json_response(await snapshot(store, hall))


@api.route(
    "GET",
    HALL + "/events",
    summary="Events after a sequence number, in order",
    tag="hall",
    query={
        "since": "last sequence number seen (default 0)",
        "limit": "at most this many (default 500, max 2000)",
    },
)
async def handle_events(request: web.Request, actor: Actor) -> web.Response:
    since = query_int(request, "since", 0)
    limit = query_int(request, "limit", 500, minimum=1, maximum=2000)
    async with request.app[STORE].read() as conn:
        hall = await visible_hall(conn, actor, request.match_info["hall"], "events.read")
        head = await eq.last_seq(conn, hall.id)
        records = await eq.events_after(conn, hall.id, since, min(head, since + limit))
    return json_response({"head": head, "events": [r.to_wire() for r in records]})


@api.route("GET", HALL + "/departments", summary="Departments of a hall", tag="hall")
async def handle_departments(request: web.Request, actor: Actor) -> web.Response:
    async with request.app[STORE].read() as conn:
        hall = await visible_hall(conn, actor, request.match_info["hall"])
        rows = await conn.fetch(q.DEPARTMENTS, hall.id)
    return json_response({"departments": [dict(r) for r in rows]})


@api.route("GET", HALL + "/windows", summary="Windows with status and signed-in clerk", tag="hall")
async def handle_windows(request: web.Request, actor: Actor) -> web.Response:
    async with request.app[STORE].read() as conn:
        hall = await visible_hall(conn, actor, request.match_info["hall"])
        rows = await conn.fetch(q.WINDOWS, hall.id)
    return json_response({"windows": [hall_domain.window_view(r) for r in rows]})


@api.route("GET", HALL + "/queues", summary="Queues of a hall", tag="hall")
async def handle_queues(request: web.Request, actor: Actor) -> web.Response:
    async with request.app[STORE].read() as conn:
        hall = await visible_hall(conn, actor, request.match_info["hall"])
        rows = await conn.fetch(q.QUEUES, hall.id)
    return json_response({"queues": [dict(r) for r in rows]})


@api.route(
    "GET",
    HALL + "/items",
    summary="Items (审批服务事项), by department or keyword",
    tag="items",
    query={"department": "department code", "q": "keyword or item code"},
)
async def handle_items(request: web.Request, actor: Actor) -> web.Response:
    keyword = request.query.get("q") or None
    if keyword is not None and len(keyword) > 50:
        raise Invalid("关键词过长", code="invalid_query", field="q")
    async with request.app[STORE].read() as conn:
        hall = await visible_hall(conn, actor, request.match_info["hall"])
        rows = await conn.fetch(q.ITEMS, hall.id, request.query.get("department") or None, keyword)
    return json_response(
        {"items": [dict(r, pinyin_initials=pinyin_initials(r["name"])) for r in rows]}
    )


@functools.lru_cache(maxsize=4096)
def pinyin_initials(name: str) -> str:
    """'企业设立登记' -> 'QYSLDJ': the kiosk's search by pinyin initials (首字母检索)."""
    return "".join(
        s[:1] for s in lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")
    ).upper()


@api.route("GET", HALL + "/items/{code}", summary="One item with materials and fees", tag="items")
async def handle_item(request: web.Request, actor: Actor) -> web.Response:
    async with request.app[STORE].read() as conn:
        hall = await visible_hall(conn, actor, request.match_info["hall"])
        row = await conn.fetchrow(q.ITEM, hall.id, request.match_info["code"])
        if row is None:
            raise NotFound("事项不存在", code="unknown_item", field="code")
        materials = [dict(r) for r in await conn.fetch(q.ITEM_MATERIALS, row["id"])]
        fees = [dict(r) for r in await conn.fetch(q.ITEM_FEES, row["id"])]
    item = dict(row)
    item.pop("id")
    return json_response({**item, "materials": materials, "fees": fees})


@api.route("GET", HALL + "/staff", summary="Staff of a hall (leaders: own department)", tag="hall")
async def handle_staff(request: web.Request, actor: Actor) -> web.Response:
    async with request.app[STORE].read() as conn:
        # staff.read alone decides (not hall.read first): a role that may never read staff
        # gets wrong_role in any hall, like every other route
        hall = await hall_domain.get_hall(conn, request.match_info["hall"])
        scope = POLICY["staff.read"].get(actor.role)
        authorize(actor, "staff.read", hall.target(department_id=actor.department_id))
        department = actor.department_id if scope == "department" else None
        rows = await conn.fetch(q.STAFF, hall.id, department)
    return json_response({"staff": [dict(r) for r in rows]})


@api.route(
    "GET",
    HALL + "/audit",
    summary="Audit trail, newest first",
    tag="hall",
    query={"before": "audit id to page from", "limit": "page size (max 500)"},
)
async def handle_audit(request: web.Request, actor: Actor) -> web.Response:
    before = query_int(request, "before", 2**62)
    limit = query_int(request, "limit", 100, minimum=1, maximum=500)
    async with request.app[STORE].read() as conn:
        hall = await visible_hall(conn, actor, request.match_info["hall"], "audit.read")
        rows = await conn.fetch(q.AUDIT, hall.id, before, limit)
    return json_response({"audit": [{**dict(r), "at": r["at"].isoformat()} for r in rows]})


@api.route(
    "GET",
    HALL + "/calendar",
    summary="Calendar overrides (holidays, 调休) in a range",
    tag="calendar",
    query={"from": "first day (YYYY-MM-DD)", "to": "last day"},
)
async def handle_calendar(request: web.Request, actor: Actor) -> web.Response:
    today = date.today()
    start = _date(request.query.get("from", f"{today.year}-01-01"), "from")
    end = _date(request.query.get("to", f"{today.year}-12-31"), "to")
    if end < start or (end - start).days > 3660:
        raise Invalid("日期范围不合法", code="invalid_range", field="to")
    async with request.app[STORE].read() as conn:
        hall = await visible_hall(conn, actor, request.match_info["hall"])
        days = await cq.list_calendar_days(conn, hall.id, start, end)
    return json_response({"days": [{**d, "day": d["day"].isoformat()} for d in days]})


class CalendarDayBody(BaseModel):
    is_working: bool
    note: str = Field("", max_length=100)


@api.route(
    "PUT",
    HALL + "/calendar/{day}",
    summary="Set a day working or not (admin)",
    tag="calendar",
    body=CalendarDayBody,
)
async def handle_set_calendar_day(
    request: web.Request, actor: Actor, body: CalendarDayBody
) -> web.Response:
    day = _date(request.match_info["day"], "day")
    result = await calendar_service.set_day(
        request.app[STORE], actor, request.match_info["hall"], day, body.is_working, body.note
    )
    return json_response(result)


@api.route(
    "GET",
    HALL + "/deadline",
    summary="When a limit starting at a time runs out",
    tag="calendar",
    query={
        "start": "ISO datetime with offset (default now)",
        "item": "item code (its promised limit)",
        "amount": "limit amount",
        "unit": "working_day|working_hour",
    },
)
async def handle_deadline(request: web.Request, actor: Actor) -> web.Response:
    raw = request.query.get("start")
    try:
        start = datetime.fromisoformat(raw) if raw else datetime.now().astimezone()
    except ValueError:
        raise Invalid("start 应为 ISO 8601 时间", code="invalid_query", field="start")
    if start.tzinfo is None:
        raise Invalid("start 需带时区", code="invalid_query", field="start")
    if not 1900 <= start.year <= 2999:  # the calendar's window around start must stay in range
        raise Invalid("start 超出支持的年份范围", code="invalid_query", field="start")
    store = request.app[STORE]
    async with store.read() as conn:
        hall = await visible_hall(conn, actor, request.match_info["hall"])
    result = await calendar_service.deadline(
        store,
        hall,
        start,
        amount=query_int(request, "amount", None, maximum=1000),
        unit=request.query.get("unit"),
        item_code=request.query.get("item"),
    )
    return json_response(result)


@api.route(
    "GET",
    HALL + "/duty",
    summary="Leaders on duty on a day",
    tag="hall",
    query={"date": "YYYY-MM-DD (default today)"},
)
async def handle_duty(request: web.Request, actor: Actor) -> web.Response:
    day = _date(request.query.get("date", date.today().isoformat()), "date")
    async with request.app[STORE].read() as conn:
        hall = await visible_hall(conn, actor, request.match_info["hall"])
        duty = await hall_domain.duty_of_day(conn, hall, day)
    return json_response({"date": day.isoformat(), "leaders": duty})


class DutyBody(BaseModel):
    # staff ids are int4 in the database: a bigger number is bad input, not a 500
    staff_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(max_length=100)


@api.route(
    "PUT",
    HALL + "/duty/{day}",
    summary="Set the leaders on duty on a day (admin)",
    tag="hall",
    body=DutyBody,
)
async def handle_set_duty(request: web.Request, actor: Actor, body: DutyBody) -> web.Response:
    day = _date(request.match_info["day"], "day")
    duty = await hall_domain.set_duty(
        request.app[STORE], actor, request.match_info["hall"], day, body.staff_ids
    )
    return json_response({"date": day.isoformat(), "leaders": duty})


class NoticeBody(BaseModel):
    text: str = Field(max_length=500)


@api.route(
    "PUT",
    HALL + "/notice",
    summary="Set the lobby's scrolling notice line (admin)",
    tag="hall",
    body=NoticeBody,
)
async def handle_set_notice(request: web.Request, actor: Actor, body: NoticeBody) -> web.Response:
    return json_response(
        await hall_domain.set_notice(
            request.app[STORE], actor, request.match_info["hall"], body.text
        )
    )


WINDOW = HALL + "/windows/{window_no}"


@api.route("POST", WINDOW + "/sign-in", summary="Clerk signs in at a window", tag="windows")
async def handle_sign_in(request: web.Request, actor: Actor) -> web.Response:
    signed = await windows.sign_in(
        request.app[STORE], actor, request.match_info["hall"], path_int(request, "window_no")
    )
    return json_response({"window_no": signed.window_no})


@api.route("POST", WINDOW + "/sign-out", summary="Clerk signs out (admin: force)", tag="windows")
async def handle_sign_out(request: web.Request, actor: Actor) -> web.Response:
    await windows.sign_out(
        request.app[STORE], actor, request.match_info["hall"], path_int(request, "window_no")
    )
    return json_response({"ok": True})


class StatusBody(BaseModel):
    status: Literal["open", "paused", "closed"]


@api.route(
    "POST",
    WINDOW + "/status",
    summary="Open, pause or close a window",
    tag="windows",
    body=StatusBody,
)
async def handle_window_status(
    request: web.Request, actor: Actor, body: StatusBody
) -> web.Response:
    return json_response(
        await windows.set_status(
            request.app[STORE],
            actor,
            request.match_info["hall"],
            path_int(request, "window_no"),
            body.status,
        )
    )
