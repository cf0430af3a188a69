"""The live queue, declared: registration at the kiosk, the window terminal's ticket commands,
the public queue reads, the events they append and the timer jobs that end tickets.

The window commands are measured hot (see docs/python-or-sql.md): each is one database
function that changes the tickets, appends its events and audits itself under the command's
name in one statement. Their Python side only authorizes and validates."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from db.queries import queueing as qq
from server.catalogue.params import HallParams, Int4Id, Int8Id, Params, WindowParams
from server.catalogue.spine import (
    Call,
    Capability,
    EventType,
    Operation,
    Reply,
    TimerContext,
    TimerJob,
    merge_errors,
)
from server.domain import case_views, queueing
from server.domain.events import EventRecord
from server.domain.identity import validate_id_number, validate_phone
from server.domain.notice import barcode_svg
from server.domain.policies import KIOSK_REGISTER, REGISTRATION_READ, TICKET_WINDOW, WINDOW_BOARD

# ------------------------------------------------------------------------ event payloads


class _Payload(BaseModel):
    # an undeclared field (say a citizen's query code) fails the contract tests
    model_config = ConfigDict(extra="forbid")


class QueueFigures(_Payload):
    """A queue's figures as the server computed them (one SQL function, hq_queue_figures)."""

    code: str
    waiting: int
    open_windows: int
    avg_service_seconds: int
    # None: no window of the queue is open, so no wait can be promised
    estimated_wait_seconds: int | None


class TicketPayload(_Payload):
    id: int
    ticket_no: str
    queue: str
    status: Literal["waiting", "called", "serving", "parked", "done"]
    outcome: str | None = None
    rank: int
    window_no: int | None = None
    recalls: int
    note: str
    target_window_no: int | None = None
    target_clerk_id: int | None = None
    item: str | None = None
    registration_id: int | None = None
    priority: str | None = None
    queued_at: str | None = None
    called_at: str | None = None
    service_started_at: str | None = None
    parked_at: str | None = None
    # figures of the queues whose waiting count, windows or service time this event changed
    queues: list[QueueFigures] | None = None


class Registered(TicketPayload):
    waiting: int
    reg_no: str


class Called(TicketPayload):
    window_name: str
    waiting: int
    out_of_order: bool
    reason: str | None = None


class Recalled(TicketPayload):
    window_name: str


class NoShow(TicketPayload):
    requeued: bool


class Requeued(TicketPayload):
    waiting: int


class Finished(TicketPayload):
    service_seconds: int


class Transferred(TicketPayload):
    from_window_no: int
    from_ticket_id: int
    front: bool
    waiting: int


class Cancelled(TicketPayload):
    reason: str


class DayClosed(_Payload):
    closed_at: str
    closed: int
    queues: list[QueueFigures] | None = None


_TICKET = {
    "id": 41,
    "ticket_no": "A012",
    "queue": "amr",
    "status": "called",
    "outcome": None,
    "rank": 2,
    "window_no": 15,
    "recalls": 0,
    "note": "",
    "target_window_no": None,
    "target_clerk_id": None,
    "item": "企业设立登记",
    "registration_id": 40,
    "priority": "normal",
    "queued_at": "2026-12-01T09:58:00+08:00",
    "called_at": "2026-12-01T10:02:11+08:00",
    "service_started_at": None,
    "parked_at": None,
}
_FIGURES = {
    "code": "amr",
    "waiting": 7,
    "open_windows": 3,
    "avg_service_seconds": 300,
    "estimated_wait_seconds": 900,
}


def _ticket(**changes: Any) -> dict[str, Any]:
    return {**_TICKET, **changes}


EVENTS = (
    EventType(
        "ticket.registered",
        "A citizen registered at the kiosk: a new waiting ticket",
        Registered,
        ("queue",),
        _ticket(
            status="waiting",
            window_no=None,
            called_at=None,
            waiting=8,
            reg_no="26120100000040",
            queues=[{**_FIGURES, "waiting": 8}],
        ),
    ),
    EventType(
        "ticket.called",
        "A ticket is called to a window (next in line, or out of order with a reason)",
        Called,
        ("window", "queue"),
        _ticket(window_name="15号窗口 市场监管", waiting=7, out_of_order=False, queues=[_FIGURES]),
    ),
    EventType(
        "ticket.recalled",
        "The called ticket is announced again",
        Recalled,
        ("window", "queue"),
        _ticket(recalls=1, window_name="15号窗口 市场监管"),
    ),
    EventType(
        "ticket.no_show",
        "The called citizen did not come (optionally requeued)",
        NoShow,
        ("window", "queue"),
        _ticket(status="done", outcome="no_show", recalls=2, requeued=False),
    ),
    EventType(
        "ticket.requeued",
        "A no-show's ticket goes back to the end of its queue",
        Requeued,
        ("queue",),
        _ticket(id=42, status="waiting", window_no=None, note="过号重排", waiting=8),
    ),
    EventType(
        "ticket.service_started",
        "The citizen arrived at the window: service starts",
        TicketPayload,
        ("window", "queue"),
        _ticket(status="serving", service_started_at="2026-12-01T10:03:00+08:00"),
    ),
    EventType(
        "ticket.finished",
        "Service done (outcome served)",
        Finished,
        ("window", "queue"),
        _ticket(status="done", outcome="served", service_seconds=420, queues=[_FIGURES]),
    ),
    EventType(
        "ticket.transferred",
        "The ticket moves to another queue, window or clerk, keeping its number",
        Transferred,
        ("window", "queue", "target_window"),
        _ticket(
            id=43,
            status="waiting",
            queue="tax",
            window_no=None,
            target_window_no=16,
            from_window_no=15,
            from_ticket_id=41,
            front=False,
            waiting=3,
        ),
    ),
    EventType(
        "ticket.parked",
        "The ticket waits at its window while the citizen fetches a document",
        TicketPayload,
        ("window", "queue"),
        _ticket(status="parked", parked_at="2026-12-01T10:05:00+08:00"),
    ),
    EventType(
        "ticket.resumed",
        "A parked ticket is served again",
        TicketPayload,
        ("window", "queue"),
        _ticket(status="serving", service_started_at="2026-12-01T10:03:00+08:00"),
    ),
    EventType(
        "ticket.cancelled",
        "The ticket at the window is cancelled with a reason",
        Cancelled,
        ("window", "queue"),
        _ticket(status="done", outcome="cancelled", note="群众撤回", reason="群众撤回"),
    ),
    EventType(
        "ticket.parked_expired",
        "A parked ticket waited past the hall's limit and ended",
        TicketPayload,
        ("window", "queue"),
        _ticket(status="done", outcome="parked_expired", parked_at="2026-12-01T09:00:00+08:00"),
    ),
    EventType(
        "queue.day_closed",
        "Closing time: every ticket still open ended as closed_unserved",
        DayClosed,
        ("all",),
        {"closed_at": "2026-12-01T17:30:00+08:00", "closed": 12},
    ),
)

# ------------------------------------------------------------------------ inputs


class RegistrationBody(BaseModel):
    item: str = Field(min_length=1, max_length=40, description="item code")
    # the formats are documented here and checked by server.domain.identity, which answers
    # with the field's own code (invalid_phone, invalid_id_number) and a message for the kiosk
    phone: str | None = Field(
        None,
        max_length=20,
        description="mainland mobile number, for SMS",
        json_schema_extra={"pattern": r"^1[3-9]\d{9}$"},
    )
    id_number: str | None = Field(
        None,
        max_length=20,
        description="resident ID number (GB 11643, check character verified)",
        json_schema_extra={"pattern": r"^\d{17}[\dXx]$"},
    )
    priority: queueing.Priority = "normal"


class QueryCodeParams(Params):
    query_code: str = Field(pattern=r"^[A-Za-z0-9]{4,16}$")


class BarcodeParams(Params):
    reg_no: str = Field(pattern=r"^[0-9]{6,24}$")


class RegistrationParams(HallParams):
    reg_no: str = Field(pattern=r"^[0-9]{6,24}$")


class CallTicketBody(BaseModel):
    ticket_no: str = Field(min_length=2, max_length=10)
    reason: str = Field(min_length=1, max_length=200)


class NoShowBody(BaseModel):
    requeue: bool = False


class TransferBody(BaseModel):
    queue: str | None = Field(None, max_length=40, description="target queue code")
    to_window_no: int | None = Field(None, ge=1, le=999)
    to_clerk_id: Int4Id | None = None
    front: bool = Field(False, description="to the front of the target queue")
    note: str = Field("", max_length=200)


class CancelBody(BaseModel):
    reason: str = Field(min_length=1, max_length=200)


class ResumeBody(BaseModel):
    ticket_id: Int8Id


# ------------------------------------------------------------------------ responses


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class CommandReply(_Open):
    """Every command answers with the sequence numbers of the events it committed."""

    seq: list[int]


class TicketCommandReply(CommandReply):
    events: list[dict[str, Any]]
    ticket: dict[str, Any] | None


class Notice(_Open):
    reg_no: str
    query_code: str
    track_url: str  # /track?code=<query_code> under HALLOPS_PUBLIC_URL
    item: dict[str, Any]
    queue: str
    ticket: dict[str, Any] | None
    materials: list[dict[str, Any]]
    windows: list[dict[str, Any]]
    ahead: int
    # None: no window of the queue is open, so no wait can be promised
    estimated_wait_seconds: int | None


class RegisteredReply(Notice):
    seq: list[int]


class QueueStatusReply(_Open):
    hall: dict[str, Any]
    queues: list[dict[str, Any]]


class Registration(_Open):
    reg_no: str
    item: dict[str, Any]
    ticket: dict[str, Any] | None


class Board(_Open):
    window_no: int
    current: dict[str, Any] | None
    parked: list[dict[str, Any]]
    waiting: list[dict[str, Any]]
    counts: dict[str, Any]


# ------------------------------------------------------------------------ handlers


async def register(call: Call, p: HallParams, body: RegistrationBody) -> Reply:
    call.ctx.kiosk_limit.check(call.actor.label)
    reg = await call.ctx.queue.register(
        call,
        p.hall,
        body.item,
        phone=None if body.phone is None else validate_phone(body.phone),
        id_number=None if body.id_number is None else validate_id_number(body.id_number),
        priority=body.priority,
    )
    notice = await _notice(call, reg.query_code)
    return Reply(notice, events=reg.events, status=201)


async def notice(call: Call, p: QueryCodeParams, body: None) -> Any:
    return await _notice(call, p.query_code)


async def _notice(call: Call, query_code: str) -> dict[str, Any]:
    """The notice with its /track link built from the public base URL, as the acceptance
    notice's is: the page printing it runs on the kiosk, whose own address (often loopback, or
    a name only the hall's LAN knows) is no address for a citizen's phone."""
    n = await call.ctx.queue.notice(query_code)
    return {**n, "track_url": case_views.track_url(call.ctx.public_url, n["query_code"])}


async def barcode(call: Call, p: BarcodeParams, body: None) -> Reply:
    return Reply(barcode_svg(p.reg_no), media_type="image/svg+xml", cache_seconds=86400)


async def queue_status(call: Call, p: HallParams, body: None) -> Any:
    return await call.ctx.queue.queue_status_of(p.hall)


async def registration(call: Call, p: RegistrationParams, body: None) -> Any:
    return await call.ctx.queue.registration_by_barcode(call, p.hall, p.reg_no)


async def board(call: Call, p: WindowParams, body: None) -> Any:
    return await call.ctx.queue.window_board(call, p.hall, p.window_no)


def _ticket_reply(records: list) -> Reply:
    return Reply(
        {
            "events": [r.to_wire() for r in records],
            "ticket": records[-1].payload if records else None,
        },
        events=records,
    )


async def call_next(call: Call, p: WindowParams, body: None) -> Reply:
    return _ticket_reply(await call.ctx.queue.call_next(call, p.hall, p.window_no))


async def call_ticket(call: Call, p: WindowParams, body: CallTicketBody) -> Reply:
    return _ticket_reply(
        await call.ctx.queue.call_ticket(call, p.hall, p.window_no, body.ticket_no, body.reason)
    )


async def recall(call: Call, p: WindowParams, body: None) -> Reply:
    return _ticket_reply(await call.ctx.queue.recall(call, p.hall, p.window_no))


async def no_show(call: Call, p: WindowParams, body: NoShowBody) -> Reply:
    return _ticket_reply(await call.ctx.queue.no_show(call, p.hall, p.window_no, body.requeue))


async def start(call: Call, p: WindowParams, body: None) -> Reply:
    return _ticket_reply(await call.ctx.queue.start(call, p.hall, p.window_no))


async def finish(call: Call, p: WindowParams, body: None) -> Reply:
    return _ticket_reply(await call.ctx.queue.finish(call, p.hall, p.window_no))


async def transfer(call: Call, p: WindowParams, body: TransferBody) -> Reply:
    return _ticket_reply(
        await call.ctx.queue.transfer(
            call,
            p.hall,
            p.window_no,
            queue=body.queue,
            to_window_no=body.to_window_no,
            to_clerk_id=body.to_clerk_id,
            front=body.front,
            note=body.note,
        )
    )


async def cancel(call: Call, p: WindowParams, body: CancelBody) -> Reply:
    return _ticket_reply(await call.ctx.queue.cancel(call, p.hall, p.window_no, body.reason))


async def park(call: Call, p: WindowParams, body: None) -> Reply:
    return _ticket_reply(await call.ctx.queue.park(call, p.hall, p.window_no))


async def resume(call: Call, p: WindowParams, body: ResumeBody) -> Reply:
    return _ticket_reply(await call.ctx.queue.resume(call, p.hall, p.window_no, body.ticket_id))


# ------------------------------------------------------------------------ operations

HALL = "/api/halls/{hall}"
WINDOW = HALL + "/windows/{window_no}"
_WINDOW_ERRORS = {404: ("unknown_window",), 409: ("not_signed_in",)}


def _window_command(
    name: str,
    verb: str,
    summary: str,
    handler: Any,
    sql: str,
    emits: tuple[str, ...],
    body: type[BaseModel] | None = None,
    errors: dict[int, tuple[str, ...]] | None = None,
) -> Operation:
    return Operation(
        name,
        summary,
        "command",
        handler,
        TICKET_WINDOW,
        http=("POST", f"{WINDOW}/{verb}"),
        params=WindowParams,
        body=body,
        response=TicketCommandReply,
        emits=emits,
        errors=merge_errors(_WINDOW_ERRORS, errors),
        sql=sql,
        tag="queue",
    )


OPERATIONS = (
    Operation(
        "ticket.register",
        "Register at the kiosk: ticket and notice",
        "command",
        register,
        KIOSK_REGISTER,
        http=("POST", HALL + "/registrations"),
        params=HallParams,
        body=RegistrationBody,
        response=RegisteredReply,
        status=201,
        emits=("ticket.registered",),
        errors={
            400: ("item_without_queue", "invalid_priority", "invalid_phone", "invalid_id_number"),
            404: ("unknown_item",),
            # outside the opening hours (server/domain/registration_hours.py)
            409: ("hall_closed",),
            429: ("rate_limited",),
        },
        sql="hq_register",
        tag="queue",
    ),
    Operation(
        "notice.get",
        "The unified acceptance notice (public, by query code)",
        "query",
        notice,
        None,
        http=("GET", "/api/notice/{query_code}"),
        params=QueryCodeParams,
        response=Notice,
        errors={404: ("unknown_query_code",)},
        tag="queue",
    ),
    Operation(
        "barcode.get",
        "Code128 barcode of a registration number (image/svg+xml)",
        "query",
        barcode,
        None,
        http=("GET", "/api/barcode/{reg_no}.svg"),
        params=BarcodeParams,
        tag="queue",
    ),
    Operation(
        "queue.status",
        "Waiting count and estimated wait per queue (public)",
        "query",
        queue_status,
        None,
        http=("GET", HALL + "/queue-status"),
        params=HallParams,
        response=QueueStatusReply,
        tag="queue",
    ),
    Operation(
        "registration.get",
        "A registration by its barcode",
        "query",
        registration,
        REGISTRATION_READ,
        http=("GET", HALL + "/registrations/{reg_no}"),
        params=RegistrationParams,
        response=Registration,
        errors={404: ("unknown_registration",)},
        tag="queue",
    ),
    Operation(
        "window.board",
        "A window terminal's state: current, parked, waiting, counts",
        "query",
        board,
        WINDOW_BOARD,
        http=("GET", WINDOW + "/board"),
        params=WindowParams,
        response=Board,
        errors={404: ("unknown_window",)},
        tag="queue",
    ),
    _window_command(
        "ticket.call_next",
        "call-next",
        "Call the next ticket (atomic)",
        call_next,
        "hq_call_next",
        ("ticket.called",),
        errors={409: ("window_not_open", "window_busy", "queue_empty")},
    ),
    _window_command(
        "ticket.call_ticket",
        "call",
        "Call a specific waiting ticket out of order",
        call_ticket,
        "hq_call_ticket",
        ("ticket.called",),
        body=CallTicketBody,
        errors={
            400: ("reason_required",),
            404: ("unknown_ticket",),
            409: (
                "window_not_open",
                "window_busy",
                "ticket_for_other_window",
                "ticket_for_other_clerk",
                "queue_not_served",
            ),
        },
    ),
    _window_command(
        "ticket.recall",
        "recall",
        "Re-announce the called ticket",
        recall,
        "hq_recall",
        ("ticket.recalled",),
        errors={409: ("nothing_called",)},
    ),
    _window_command(
        "ticket.no_show",
        "no-show",
        "Mark the called ticket as no-show",
        no_show,
        "hq_no_show",
        ("ticket.no_show", "ticket.requeued"),
        body=NoShowBody,
        errors={409: ("nothing_called", "recall_first")},
    ),
    _window_command(
        "ticket.start",
        "start",
        "The citizen arrived: start service",
        start,
        "hq_start",
        ("ticket.service_started",),
        errors={409: ("nothing_called",)},
    ),
    _window_command(
        "ticket.finish",
        "finish",
        "Finish service (outcome served)",
        finish,
        "hq_finish",
        ("ticket.finished",),
        errors={409: ("nothing_serving",)},
    ),
    _window_command(
        "ticket.transfer",
        "transfer",
        "Transfer to another queue, window or clerk",
        transfer,
        "hq_transfer",
        ("ticket.transferred",),
        body=TransferBody,
        errors={
            400: ("transfer_target_required",),
            404: ("unknown_queue", "unknown_clerk"),
            409: ("nothing_current", "same_window"),
        },
    ),
    _window_command(
        "ticket.cancel",
        "cancel",
        "Cancel the current ticket (outcome cancelled)",
        cancel,
        "hq_cancel",
        ("ticket.cancelled",),
        body=CancelBody,
        errors={400: ("reason_required",), 409: ("nothing_current",)},
    ),
    _window_command(
        "ticket.park",
        "park",
        "Park the current ticket (citizen fetches a document)",
        park,
        "hq_park",
        ("ticket.parked",),
        errors={409: ("nothing_current",)},
    ),
    _window_command(
        "ticket.resume",
        "resume",
        "Resume a parked ticket",
        resume,
        "hq_resume",
        ("ticket.resumed",),
        body=ResumeBody,
        errors={404: ("unknown_ticket",), 409: ("window_busy",)},
    ),
)

# ------------------------------------------------------------------------ timer jobs


async def expire_parked(ctx: TimerContext, hall: Any, now: datetime) -> list[EventRecord]:
    return await ctx.store.statement(hall["id"], qq.EXPIRE_PARKED, hall["id"])


async def close_day(ctx: TimerContext, hall: Any, now: datetime) -> list[EventRecord]:
    closed_at = queueing.last_closing(now, hall["closes_at"])
    return await ctx.store.statement(hall["id"], qq.CLOSE_DAY, hall["id"], closed_at)


TIMERS = (
    TimerJob(
        "ticket.expire_parked",
        "Parked tickets past the hall's park limit end as parked_expired",
        expire_parked,
        emits=("ticket.parked_expired",),
        sql="hq_expire_parked",
    ),
    TimerJob(
        "queue.close_day",
        "Tickets still open at the hall's closing time end as closed_unserved",
        close_day,
        emits=("queue.day_closed",),
        sql="hq_close_day",
    ),
)

CAPABILITY = Capability("queue", operations=OPERATIONS, events=EVENTS, timers=TIMERS)
