"""The hall, declared: its reference data and event log read back, the admin's hall-wide
commands (notice line, calendar, duty roster) and the windows' sign-in and status."""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator
from pydantic_core import PydanticCustomError
from pypinyin import Style, lazy_pinyin

from db.queries import calendar as cq
from db.queries import events as eq
from db.queries import hall as q
from server.catalogue.params import (
    DayParams,
    HallParams,
    Int4Id,
    Params,
    Seq,
    SignInParams,
    WindowParams,
)
from server.catalogue.queue import QueueFigures
from server.catalogue.spine import Call, Capability, EventType, Operation, Reply, query
from server.domain import calendar_service, holiday_notice, windows
from server.domain import hall as hall_domain
from server.domain.calendar_service import YEAR_LOADED
from server.domain.errors import Gone, Invalid, NotFound
from server.domain.policies import (
    ANYONE,
    AUDIT_READ,
    HALL_ADMIN,
    HALL_EVENTS,
    HALL_READ,
    HALL_STREAM,
    STAFF_READ,
    WINDOW_OWN_OR_ADMIN,
    WINDOW_SIGN_IN,
    WINDOW_SIGN_OUT,
)
from server.domain.queueing import service_day
from server.domain.snapshot import snapshot
from server.wire import instant

# ------------------------------------------------------------------------ event payloads


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChangedBy(_Payload):
    id: int | None = None  # staff id; None for the system (a timer)
    name: str
    role: str


class WindowStatusChanged(_Payload):
    window_no: int
    status: Literal["open", "paused", "closed"]
    previous: Literal["open", "paused", "closed"]
    queues: list[QueueFigures] | None = None
    # who changed it: the window's clerk sees a change made by someone else (an admin, a
    # leader) on their terminal
    by: ChangedBy | None = None


class WindowSignedIn(_Payload):
    window_no: int
    clerk_id: int
    clerk_name: str


class WindowSignedOut(_Payload):
    window_no: int
    clerk_id: int


class NoticeSet(_Payload):
    text: str


class CalendarDaySet(_Payload):
    day: str
    is_working: bool
    note: str


class CalendarYearLoaded(_Payload):
    year: int
    title: str
    days_off: list[str]  # weekdays off (YYYY-MM-DD), in order
    working_days: list[str]  # adjusted working weekend days (调休上班)


class DutyLeader(_Payload):
    staff_id: int
    username: str
    name: str
    department: str
    department_name: str


class DutySet(_Payload):
    day: str
    leaders: list[DutyLeader]


EVENTS = (
    EventType(
        "window.status_changed",
        "A window opened, paused or closed",
        WindowStatusChanged,
        ("all",),
        {
            "window_no": 15,
            "status": "paused",
            "previous": "open",
            "by": {"id": 1, "name": "系统管理员", "role": "admin"},
        },
    ),
    EventType(
        "window.signed_in",
        "A clerk signed in at a window",
        WindowSignedIn,
        ("all",),
        {"window_no": 15, "clerk_id": 15, "clerk_name": "张敏"},
    ),
    EventType(
        "window.signed_out",
        "A clerk left a window (or an admin signed them out)",
        WindowSignedOut,
        ("all",),
        {"window_no": 15, "clerk_id": 15},
    ),
    EventType(
        "hall.notice_set",
        "The lobby's scrolling notice line changed",
        NoticeSet,
        ("all",),
        {"text": "今天下午 16:00 起社保窗口暂停受理"},
    ),
    EventType(
        "calendar.day_set",
        "A day of the hall calendar was set working or not",
        CalendarDaySet,
        ("all",),
        {"day": "2027-01-01", "is_working": False, "note": "元旦"},
    ),
    EventType(
        "calendar.year_loaded",
        "A year's official holiday notice was loaded into the hall calendar",
        CalendarYearLoaded,
        ("all",),
        {
            "year": 2027,
            "title": "国务院办公厅关于2027年部分节假日安排的通知",
            "days_off": ["2027-01-01", "2027-02-05", "2027-02-08"],
            "working_days": ["2027-01-31", "2027-02-20"],
        },
    ),
    EventType(
        "duty.set",
        "The leaders on duty of a day were set",
        DutySet,
        ("all",),
        {
            "day": "2026-12-01",
            "leaders": [
                {
                    "staff_id": 140,
                    "username": "leader.amr",
                    "name": "王强",
                    "department": "amr",
                    "department_name": "市场监管局",
                }
            ],
        },
    ),
)

# ------------------------------------------------------------------------ inputs


class EventsParams(HallParams):
    since: Seq = Field(0, description="last sequence number seen (default 0)")
    limit: int = Field(500, ge=1, le=2000, description="at most this many (default 500)")


class ItemsParams(HallParams):
    department: str | None = Field(None, pattern=r"^[a-z0-9_-]{1,40}$", description="department")
    q: str | None = Field(None, max_length=50, description="keyword, item code or pinyin initials")


class ItemParams(HallParams):
    code: str = Field(pattern=r"^[A-Za-z0-9._-]{1,40}$")


class AuditParams(HallParams):
    before: int = Field(2**62, ge=1, le=2**62, description="audit id to page from")
    limit: int = Field(100, ge=1, le=500, description="page size")


class CalendarParams(HallParams):
    from_: date | None = Field(None, alias="from", description="first day (YYYY-MM-DD)")
    to: date | None = Field(None, description="last day")


class DeadlineParams(HallParams):
    start: datetime | None = Field(None, description="ISO datetime with offset (default now)")
    item: str | None = Field(None, pattern=r"^[A-Za-z0-9._-]{1,40}$", description="item code")
    amount: int | None = Field(None, ge=0, le=1000, description="limit amount")
    unit: Literal["working_day", "working_hour"] | None = None


class DutyParams(HallParams):
    # a field named like its type would shadow it in the annotation: `day` is read from `date`
    day: date | None = Field(
        None, alias="date", description="YYYY-MM-DD (default the hall's service day)"
    )


class CalendarDayBody(BaseModel):
    is_working: bool
    note: str = Field("", max_length=100)


class NoticeHolidayBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: StrictStr = Field(description=f"e.g. 春节 (at most {holiday_notice.MAX_NAME} characters)")
    from_: StrictStr = Field(
        alias="from", description="first day off, YYYY-MM-DD", json_schema_extra={"format": "date"}
    )
    to: StrictStr = Field(
        description="last day off, YYYY-MM-DD (inclusive)", json_schema_extra={"format": "date"}
    )
    working_days: list[StrictStr] = Field(
        [], description="adjusted working weekend days (调休上班), YYYY-MM-DD"
    )


class HolidayNoticeBody(BaseModel):
    """The State Council's notice of a year's holidays (国务院办公厅关于XXXX年部分节假日安排的通知);
    the rules it must keep are server/domain/holiday_notice.parse_notice's (docs/calendar.md)."""

    model_config = ConfigDict(extra="forbid")
    year: int = Field(description=f"{holiday_notice.FIRST_YEAR}–{holiday_notice.LAST_YEAR}")
    title: StrictStr = Field("", description="default: the notice's title for the year")
    holidays: list[NoticeHolidayBody] = Field(
        description=f"1–{holiday_notice.MAX_HOLIDAYS} holidays, no day listed twice"
    )

    @field_validator("year", mode="before")
    @classmethod
    def _a_number(cls, value: Any) -> Any:
        # bodies are validated lax (StrictInt is overridden): "2027" must be refused here as
        # parse_notice refuses it in a file
        if isinstance(value, bool) or not isinstance(value, int):
            raise PydanticCustomError("int_type", "year 应为整数年份")
        return value


class DutyBody(BaseModel):
    staff_ids: list[Int4Id] = Field(max_length=100)


class NoticeBody(BaseModel):
    text: str = Field(max_length=500)


class StatusBody(BaseModel):
    status: Literal["open", "paused", "closed"]


# ------------------------------------------------------------------------ responses


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class HallsReply(_Open):
    halls: list[dict[str, Any]]


class HallReply(_Open):
    code: str
    name: str
    level: str
    work_periods: list[Any]
    notice_line: str
    counts: dict[str, int]


class SnapshotReply(_Open):
    seq: int
    day: str
    hall: dict[str, Any]
    windows: list[dict[str, Any]]
    queues: list[dict[str, Any]]
    calls: list[dict[str, Any]]  # being called now (ticket still called at its window)
    recent_calls: list[dict[str, Any]]
    calls_kept: int  # how many recent calls a screen keeps: one number, the server's
    notice_line: str


class EventsReply(_Open):
    head: int
    events: list[dict[str, Any]]


class ListReply(_Open):
    pass


class ItemReply(_Open):
    code: str
    name: str
    materials: list[dict[str, Any]]
    fees: list[dict[str, Any]]


class DeadlineReply(_Open):
    start: str
    amount: int
    unit: str
    due: str


class CalendarYearsReply(_Open):
    years: list[dict[str, Any]]
    today: str
    horizon_days: int
    missing: list[str]  # years within the horizon without official data
    message: str


class CalendarImportReply(_Open):
    year: int
    title: str
    days_off: list[str]
    working_days: list[str]
    removed: list[str]  # days of an earlier notice (or the library) the new one no longer lists
    kept_manual: list[str]  # days of that year set by hand that the notice does not touch
    changed: list[str]  # days whose working status changed
    seq: list[int]


class DutyReply(_Open):
    date: str
    leaders: list[dict[str, Any]]


class CommandReply(_Open):
    seq: list[int]


# ------------------------------------------------------------------------ handlers


async def list_halls(call: Call, p: Params, body: None) -> Any:
    supervises = HALL_READ.get(call.actor.role) == "supervised"
    async with call.ctx.store.read() as conn:
        rows = await conn.fetch(q.HALLS_VISIBLE, call.actor.hall_id, supervises)
    return {"halls": [dict(r) for r in rows]}


async def get_hall(call: Call, p: HallParams, body: None) -> Any:
    async with call.ctx.store.read() as conn:
        hall = await hall_domain.visible_hall(conn, call.actor, p.hall, call.name)
        counts = await conn.fetchrow(q.COUNTS, hall.id)
        row = await conn.fetchrow(q.HALL_BY_ID, hall.id)
    # COUNTS is one row of scalar subqueries; the hall was just resolved and is never deleted
    assert counts is not None and row is not None
    return {
        "code": hall.code,
        "name": hall.name,
        "level": hall.level,
        "work_periods": row["work_periods"],
        "notice_line": row["notice_line"],
        "counts": dict(counts),
    }


async def get_snapshot(call: Call, p: HallParams, body: None) -> Any:
    async with call.ctx.store.read() as conn:
        hall = await hall_domain.visible_hall(conn, call.actor, p.hall, call.name)
    return await snapshot(call.ctx.store, hall)


async def list_events(call: Call, p: EventsParams, body: None) -> Any:
    async with call.ctx.store.read() as conn:
        hall = await hall_domain.visible_hall(conn, call.actor, p.hall, call.name)
        head = await eq.last_seq(conn, hall.id)
        records = await eq.events_after(conn, hall.id, p.since, min(head, p.since + p.limit))
    if p.since < head and (not records or records[0].seq != p.since + 1):
        # the events after `since` are older than the retention keeps (server/domain/retention.py)
        raise Gone(
            "所请求序号之后的事件已超过保留期限并已归档，请重新获取快照后从快照的序号继续",
            code="events_archived",
            field="since",
        )
    # as on the live stream (to_wire): an internal event is a skip frame holding its number
    return {"head": head, "events": [r.to_wire() for r in records]}


def _lister(sql: str, key: str, view: Any = dict) -> Any:
    async def handler(call: Call, p: HallParams, body: None) -> Any:
        async with call.ctx.store.read() as conn:
            hall = await hall_domain.visible_hall(conn, call.actor, p.hall, call.name)
            rows = await conn.fetch(sql, hall.id)
        return {key: [view(r) for r in rows]}

    return handler


async def list_items(call: Call, p: ItemsParams, body: None) -> Any:
    async with call.ctx.store.read() as conn:
        hall = await hall_domain.visible_hall(conn, call.actor, p.hall, call.name)
        rows = await conn.fetch(q.ITEMS, hall.id, p.department, p.q or None)
    return {"items": [dict(r, pinyin_initials=pinyin_initials(r["name"])) for r in rows]}


@functools.lru_cache(maxsize=4096)
def pinyin_initials(name: str) -> str:
    """'企业设立登记' -> 'QYSLDJ': the kiosk's search by pinyin initials (首字母检索)."""
    return "".join(
        s[:1] for s in lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")
    ).upper()


async def get_item(call: Call, p: ItemParams, body: None) -> Any:
    async with call.ctx.store.read() as conn:
        hall = await hall_domain.visible_hall(conn, call.actor, p.hall, call.name)
        row = await conn.fetchrow(q.ITEM, hall.id, p.code)
        if row is None:
            raise NotFound("事项不存在", code="unknown_item", field="code")
        materials = [dict(r) for r in await conn.fetch(q.ITEM_MATERIALS, row["id"])]
        fees = [dict(r) for r in await conn.fetch(q.ITEM_FEES, row["id"])]
    item = dict(row)
    item.pop("id")
    return {**item, "materials": materials, "fees": fees}


async def list_staff(call: Call, p: HallParams, body: None) -> Any:
    actor = call.actor
    async with call.ctx.store.read() as conn:
        hall = await hall_domain.get_hall(conn, p.hall)
        call.check(hall.target(department_id=actor.department_id))
        own_department = STAFF_READ.get(actor.role) == "department"
        rows = await conn.fetch(q.STAFF, hall.id, actor.department_id if own_department else None)
    return {"staff": [dict(r) for r in rows]}


async def list_audit(call: Call, p: AuditParams, body: None) -> Any:
    async with call.ctx.store.read() as conn:
        hall = await hall_domain.visible_hall(conn, call.actor, p.hall, call.name)
        rows = await conn.fetch(q.AUDIT, hall.id, p.before, p.limit)
    return {"audit": [{**dict(r), "at": instant(r["at"])} for r in rows]}


async def list_calendar(call: Call, p: CalendarParams, body: None) -> Any:
    year = service_day(call.ctx.clock()).year
    start = p.from_ or date(year, 1, 1)
    end = p.to or date(year, 12, 31)
    if end < start or (end - start).days > 3660:
        raise Invalid("日期范围不合法", code="invalid_range", field="to")
    async with call.ctx.store.read() as conn:
        hall = await hall_domain.visible_hall(conn, call.actor, p.hall, call.name)
        days = await cq.list_calendar_days(conn, hall.id, start, end)
    return {"days": [{**d, "day": d["day"].isoformat()} for d in days]}


async def set_calendar_day(call: Call, p: DayParams, body: CalendarDayBody) -> Reply:
    data, events = await calendar_service.set_day(call, p.hall, p.day, body.is_working, body.note)
    return Reply(data, events=events)


async def list_calendar_years(call: Call, p: HallParams, body: None) -> Any:
    async with call.ctx.store.read() as conn:
        hall = await hall_domain.visible_hall(conn, call.actor, p.hall, call.name)
        return await calendar_service.list_years(conn, hall, service_day(call.ctx.clock()))


async def import_calendar_notice(call: Call, p: HallParams, body: HolidayNoticeBody) -> Reply:
    # the domain checks the notice whole, as it does for a file (run.py calendar-import)
    data, events = await calendar_service.import_notice(
        call, p.hall, body.model_dump(by_alias=True)
    )
    return Reply(data, events=events)


async def deadline(call: Call, p: DeadlineParams, body: None) -> Any:
    start = p.start or call.ctx.clock()
    if start.tzinfo is None:
        raise Invalid("start 需带时区", code="invalid_query", field="start")
    if not 1900 <= start.year <= 2999:  # the calendar's window around start must stay in range
        raise Invalid("start 超出支持的年份范围", code="invalid_query", field="start")
    async with call.ctx.store.read() as conn:
        hall = await hall_domain.visible_hall(conn, call.actor, p.hall, call.name)
    return await calendar_service.deadline(
        call.ctx.store, hall, start, amount=p.amount, unit=p.unit, item_code=p.item
    )


async def get_duty(call: Call, p: DutyParams, body: None) -> Any:
    day = p.day or service_day(call.ctx.clock())
    async with call.ctx.store.read() as conn:
        hall = await hall_domain.visible_hall(conn, call.actor, p.hall, call.name)
        duty = await hall_domain.duty_of_day(conn, hall, day)
    return {"date": day.isoformat(), "leaders": duty}


async def set_duty(call: Call, p: DayParams, body: DutyBody) -> Reply:
    duty, events = await hall_domain.set_duty(call, p.hall, p.day, body.staff_ids)
    return Reply({"date": p.day.isoformat(), "leaders": duty}, events=events)


async def set_notice(call: Call, p: HallParams, body: NoticeBody) -> Reply:
    data, events = await hall_domain.set_notice(call, p.hall, body.text)
    return Reply(data, events=events)


async def sign_in(call: Call, p: SignInParams, body: None) -> Reply:
    signed, events = await windows.sign_in(call, p.hall, p.window_no, p.move)
    return Reply({"window_no": signed.window_no}, events=events)


async def sign_out(call: Call, p: WindowParams, body: None) -> Reply:
    events = await windows.sign_out(call, p.hall, p.window_no)
    return Reply({"ok": True}, events=events)


async def set_status(call: Call, p: WindowParams, body: StatusBody) -> Reply:
    data, events = await windows.set_status(call, p.hall, p.window_no, body.status)
    return Reply(data, events=events)


# ------------------------------------------------------------------------ operations

HALL = "/api/halls/{hall}"
WINDOW = HALL + "/windows/{window_no}"


def _read(
    name: str,
    path: str,
    summary: str,
    handler: Any,
    params: type[BaseModel] = HallParams,
    response: type[BaseModel] = ListReply,
    policy: Any = HALL_READ,
    errors: dict[int, tuple[str, ...]] | None = None,
    tag: str = "hall",
) -> Operation:
    return query(name, summary, handler, policy, path, params, response, errors, tag)


OPERATIONS = (
    # the live stream: no route of its own, both transports authorize under its name
    Operation(
        "hall.stream",
        "The hall's live event stream (Socket.IO /hall, /ws/display)",
        "stream",
        None,
        HALL_STREAM,
    ),
    _read(
        "hall.list",
        "/api/halls",
        "Halls this actor can see",
        list_halls,
        Params,
        HallsReply,
        ANYONE,
    ),
    _read("hall.get", HALL, "A hall with its counts", get_hall, response=HallReply),
    _read(
        "hall.snapshot",
        HALL + "/snapshot",
        "Live state and the sequence number it matches",
        get_snapshot,
        response=SnapshotReply,
    ),
    _read(
        "hall.events",
        HALL + "/events",
        "Events after a sequence number, in order (internal ones as {seq, type: skip})",
        list_events,
        EventsParams,
        EventsReply,
        HALL_EVENTS,
        # older than the retention: take the snapshot and go on from its seq
        errors={410: ("events_archived",)},
    ),
    _read(
        "hall.departments",
        HALL + "/departments",
        "Departments of a hall",
        _lister(q.DEPARTMENTS, "departments"),
    ),
    _read(
        "hall.windows",
        HALL + "/windows",
        "Windows with status and signed-in clerk",
        _lister(q.WINDOWS, "windows", hall_domain.window_view),
    ),
    _read("hall.queues", HALL + "/queues", "Queues of a hall", _lister(q.QUEUES, "queues")),
    _read(
        "item.list",
        HALL + "/items",
        "Items (审批服务事项), by department or keyword",
        list_items,
        ItemsParams,
        tag="items",
    ),
    _read(
        "item.get",
        HALL + "/items/{code}",
        "One item with materials and fees",
        get_item,
        ItemParams,
        ItemReply,
        errors={404: ("unknown_item",)},
        tag="items",
    ),
    _read(
        "staff.list",
        HALL + "/staff",
        "Staff of a hall (leaders: own department)",
        list_staff,
        policy=STAFF_READ,
    ),
    _read(
        "audit.list",
        HALL + "/audit",
        "Audit trail, newest first",
        list_audit,
        AuditParams,
        policy=AUDIT_READ,
    ),
    _read(
        "calendar.list",
        HALL + "/calendar",
        "Calendar overrides (holidays, 调休) in a range",
        list_calendar,
        CalendarParams,
        errors={400: ("invalid_range",)},
        tag="calendar",
    ),
    _read(
        "calendar.deadline",
        HALL + "/deadline",
        "When a limit starting at a time runs out",
        deadline,
        DeadlineParams,
        DeadlineReply,
        errors={404: ("unknown_item",)},
        tag="calendar",
    ),
    _read(
        "calendar.years",
        HALL + "/calendar/years",
        "Years of the calendar holding official holiday data, and those missing within 60 days",
        list_calendar_years,
        response=CalendarYearsReply,
        tag="calendar",
    ),
    _read("duty.get", HALL + "/duty", "Leaders on duty on a day", get_duty, DutyParams, DutyReply),
    Operation(
        "calendar.edit",
        "Set a day working or not (admin)",
        "command",
        set_calendar_day,
        HALL_ADMIN,
        http=("PUT", HALL + "/calendar/{day}"),
        params=DayParams,
        body=CalendarDayBody,
        response=CommandReply,
        emits=("calendar.day_set",),
        tag="calendar",
        timeout=120.0,  # reprices every open case of the hall
    ),
    Operation(
        "calendar.import",
        "Load a year's official holiday notice (国务院办公厅节假日安排通知) into the calendar (admin)",
        "command",
        import_calendar_notice,
        HALL_ADMIN,
        http=("POST", HALL + "/calendar/notice"),
        params=HallParams,
        body=HolidayNoticeBody,
        response=CalendarImportReply,
        emits=(YEAR_LOADED,),
        errors={400: holiday_notice.NOTICE_ERRORS},
        tag="calendar",
        timeout=120.0,  # reprices every open case of the hall
    ),
    Operation(
        "duty.set",
        "Set the leaders on duty on a day (admin)",
        "command",
        set_duty,
        HALL_ADMIN,
        http=("PUT", HALL + "/duty/{day}"),
        params=DayParams,
        body=DutyBody,
        response=CommandReply,
        emits=("duty.set",),
        errors={400: ("not_a_leader",)},
        tag="hall",
    ),
    Operation(
        "notice.set",
        "Set the lobby's scrolling notice line (admin)",
        "command",
        set_notice,
        HALL_ADMIN,
        http=("PUT", HALL + "/notice"),
        params=HallParams,
        body=NoticeBody,
        response=CommandReply,
        emits=("hall.notice_set",),
        errors={400: ("too_long",)},
        tag="hall",
    ),
    Operation(
        "window.sign_in",
        "Clerk signs in at a window",
        "command",
        sign_in,
        WINDOW_SIGN_IN,
        http=("POST", WINDOW + "/sign-in"),
        params=SignInParams,
        response=CommandReply,
        emits=("window.signed_in", "window.signed_out", "window.status_changed"),
        errors={404: ("unknown_window",), 409: ("window_taken", "signed_in_elsewhere")},
        tag="windows",
    ),
    Operation(
        "window.sign_out",
        "Clerk signs out (admin: force)",
        "command",
        sign_out,
        WINDOW_SIGN_OUT,
        http=("POST", WINDOW + "/sign-out"),
        params=WindowParams,
        response=CommandReply,
        emits=("window.signed_out", "window.status_changed", "session.ended"),
        errors={404: ("unknown_window",), 409: ("not_signed_in",)},
        tag="windows",
    ),
    Operation(
        "window.set_status",
        "Open, pause or close a window",
        "command",
        set_status,
        WINDOW_OWN_OR_ADMIN,
        http=("POST", WINDOW + "/status"),
        params=WindowParams,
        body=StatusBody,
        response=CommandReply,
        emits=("window.status_changed",),
        errors={404: ("unknown_window",), 409: ("no_clerk",)},
        tag="windows",
    ),
)

CAPABILITY = Capability("hall", operations=OPERATIONS, events=EVENTS)
