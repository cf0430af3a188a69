"""整改 (issue 11), declared: a bad review's task worked by its department's leader (verify,
rectify, call back, close), appealed by them and decided by supervision (an upheld appeal
excludes the review from the statistics), read by the department, supervision and the admin;
the hall's rectification days set by its admin; the ratings read back for the screens and the
reports; and the timer job that raises 差评整改逾期 once at a task's due instant
(server/domain/rectification.py)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.catalogue.params import HallParams, Int8Id, Params, WindowNo
from server.catalogue.spine import (
    Call,
    Capability,
    EventType,
    Operation,
    Reply,
    TimerJob,
    merge_errors,
    query,
)
from server.domain import rectification as rect
from server.domain.policies import (
    HALL_ADMIN,
    RATINGS_READ,
    RECTIFICATION_DECIDE,
    RECTIFICATION_READ,
    RECTIFICATION_WORK,
)

DeptCode = Field(default=None, pattern=r"^[a-z0-9_-]{1,40}$")


class TaskParams(Params):
    rectification_id: Int8Id


class TaskListParams(HallParams):
    state: (
        Literal[
            "open",
            "verified",
            "rectified",
            "called_back",
            "closed",
            "excluded",
            "active",
            "appealed",
        ]
        | None
    ) = Field(default=None, description="a state, 'active' (not finished) or 'appealed'")
    department: str | None = DeptCode


class RatingListParams(HallParams):
    from_: date | None = Field(default=None, alias="from", description="first day (YYYY-MM-DD)")
    to: date | None = Field(default=None, description="last day (YYYY-MM-DD)")
    window: WindowNo | None = None
    department: str | None = DeptCode
    bad: bool | None = Field(default=None, description="only bad reviews (true) or only others")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoteBody(_Body):
    note: str = Field(min_length=1, max_length=1000)


class CloseBody(_Body):
    note: str = Field(default="", max_length=1000)


class CallBackBody(_Body):
    reached: bool
    note: str = Field(default="", max_length=1000)
    followup_level: int | None = Field(
        default=None, ge=1, le=5, description="the citizen's rating of the rectification"
    )


class ReasonBody(_Body):
    reason: str = Field(min_length=1, max_length=1000)


class DecideBody(_Body):
    decision: Literal["upheld", "rejected"]
    note: str = Field(min_length=1, max_length=500)


class DaysBody(_Body):
    days: int = Field(ge=1, le=rect.MAX_DAYS, description="working days")


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class TaskCommandReply(_Open):
    rectification_id: int
    state: str
    allowed: list[str]
    seq: list[int]


class TaskReply(_Open):
    rectification_id: int
    state: str
    due_at: str
    rating: dict[str, Any]
    timeline: list[dict[str, Any]]
    callback_rate: dict[str, Any]


class TaskListReply(_Open):
    tasks: list[dict[str, Any]]
    callback_rate: dict[str, Any]


class RatingListReply(_Open):
    comments: bool
    ratings: list[dict[str, Any]]


class DaysReply(_Open):
    rectification_days: int


class RectificationChanged(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rectification_id: int
    rating_id: int
    action: str
    state: str
    state_name: str
    department: str | None
    window_no: int | None
    due_at: str
    appeal_pending: bool
    appeal_decision: Literal["upheld", "rejected"] | None
    by: str
    at: str


async def verify(call: Call, p: TaskParams, body: NoteBody) -> Reply:
    data, events = await rect.verify(call, p.rectification_id, body.note)
    return Reply(data, events=events)


async def rectify(call: Call, p: TaskParams, body: NoteBody) -> Reply:
    data, events = await rect.rectify(call, p.rectification_id, body.note)
    return Reply(data, events=events)


async def call_back(call: Call, p: TaskParams, body: CallBackBody) -> Reply:
    cb = rect.CallBack(body.reached, body.note, body.followup_level)
    data, events = await rect.call_back(call, p.rectification_id, cb)
    return Reply(data, events=events)


async def close(call: Call, p: TaskParams, body: CloseBody | None) -> Reply:
    data, events = await rect.close(call, p.rectification_id, body.note if body else "")
    return Reply(data, events=events)


async def appeal(call: Call, p: TaskParams, body: ReasonBody) -> Reply:
    data, events = await rect.appeal(call, p.rectification_id, body.reason)
    return Reply(data, events=events)


async def decide_appeal(call: Call, p: TaskParams, body: DecideBody) -> Reply:
    data, events = await rect.decide_appeal(call, p.rectification_id, body.decision, body.note)
    return Reply(data, events=events)


async def set_days(call: Call, p: HallParams, body: DaysBody) -> dict[str, Any]:
    return await rect.set_days(call, p.hall, body.days)


async def get_task(call: Call, p: TaskParams, body: None) -> dict[str, Any]:
    return await rect.get_task(call, p.rectification_id)


async def list_tasks(call: Call, p: TaskListParams, body: None) -> dict[str, Any]:
    return await rect.list_tasks(call, p.hall, p.state, p.department)


async def list_ratings(call: Call, p: RatingListParams, body: None) -> dict[str, Any]:
    return await rect.list_ratings(call, p.hall, p.from_, p.to, p.window, p.department, p.bad)


TASK = "/api/rectifications/{rectification_id}"

_ERRORS: dict[int, tuple[str, ...]] = {
    400: ("reason_required",),
    404: ("unknown_rectification",),
    409: ("rectification_state", "appeal_pending"),
}


def _command(
    name: str,
    summary: str,
    handler: Any,
    path: str,
    body: type[BaseModel],
    policy: Any = RECTIFICATION_WORK,
    errors: dict[int, tuple[str, ...]] | None = None,
) -> Operation:
    return Operation(
        name,
        summary,
        "command",
        handler,
        policy,
        http=("POST", TASK + path),
        params=TaskParams,
        body=body,
        response=TaskCommandReply,
        emits=("rectification.changed",),
        errors=merge_errors(_ERRORS, errors),
        tag="ratings",
    )


OPERATIONS: tuple[Operation, ...] = (
    _command(
        "rectification.verify",
        "核实: the department's leader records what the bad review was about",
        verify,
        "/verify",
        NoteBody,
    ),
    _command(
        "rectification.rectify",
        "整改: the department's leader records what was done about it",
        rectify,
        "/rectify",
        NoteBody,
    ),
    _command(
        "rectification.call_back",
        "回访: the department called the citizen back (reached or not; a note required when "
        "not), and the citizen's rating of the rectification when given",
        call_back,
        "/call-back",
        CallBackBody,
        errors={400: ("invalid_field",)},
    ),
    _command(
        "rectification.close",
        "The department's leader closes the task after the call-back",
        close,
        "/close",
        CloseBody,
    ),
    _command(
        "rectification.appeal",
        "申诉: the department's leader says the review is malicious or mistaken, once; the "
        "task and its overdue timer hold until supervision decides",
        appeal,
        "/appeal",
        ReasonBody,
        errors={409: ("appeal_decided",)},
    ),
    _command(
        "rectification.decide_appeal",
        "A supervisor decides an appeal: upheld, the task is excluded and the review out of "
        "the statistics; rejected, the task goes on where it was",
        decide_appeal,
        "/decide-appeal",
        DecideBody,
        policy=RECTIFICATION_DECIDE,
        errors={400: ("invalid_field",), 409: ("no_appeal",)},
    ),
    Operation(
        "rectification.set_days",
        "The hall's rectification days: working days a department has after a bad review "
        "(open tasks keep their due instant)",
        "command",
        set_days,
        HALL_ADMIN,
        http=("PUT", "/api/halls/{hall}/rectification-days"),
        params=HallParams,
        body=DaysBody,
        response=DaysReply,
        errors={400: ("invalid_field",)},
        tag="ratings",
    ),
    query(
        "rectification.get",
        "A rectification task: its review (level, reasons, comment; never the citizen's "
        "identity), window, state, timeline and its department's call-back rate",
        get_task,
        RECTIFICATION_READ,
        TASK,
        TaskParams,
        TaskReply,
        {404: ("unknown_rectification",)},
        tag="ratings",
    ),
    query(
        "rectification.list",
        "A hall's rectification tasks (a leader: their department's), by state; 'appealed' "
        "lists the appeals waiting for a decision",
        list_tasks,
        RECTIFICATION_READ,
        "/api/halls/{hall}/rectifications",
        TaskListParams,
        TaskListReply,
        {404: ("unknown_department",)},
        tag="ratings",
    ),
    query(
        "rating.list",
        "A hall's ratings over days (default the last 30), by window, department, bad or not: "
        "a clerk their own window's without comments, a leader their department's",
        list_ratings,
        RATINGS_READ,
        "/api/halls/{hall}/ratings",
        RatingListParams,
        RatingListReply,
        {400: ("invalid_field",), 404: ("unknown_department", "unknown_window")},
        tag="ratings",
    ),
)

EVENTS = (
    EventType(
        "rectification.changed",
        "A rectification task moved (verified, rectified, called back, closed, appealed, "
        "decided): its department's screens and supervision's follow it; no citizen identity",
        RectificationChanged,
        ("department",),
        {
            "rectification_id": 1,
            "rating_id": 1,
            "action": "rectification.verify",
            "state": "verified",
            "state_name": "已核实",
            "department": "amr",
            "window_no": 1,
            "due_at": "2026-12-14T17:00:00+08:00",
            "appeal_pending": False,
            "appeal_decision": None,
            "by": "市场监管局带班领导",
            "at": "2026-12-08T09:30:00+08:00",
        },
    ),
)

TIMERS: tuple[TimerJob, ...] = (
    TimerJob(
        "rectification.fire_overdue",
        "A rectification task not closed by its due instant (not excluded, no appeal waiting) "
        "raises a yellow alarm (差评整改逾期), once",
        rect.fire_overdue,
        emits=("alarm.issued",),
        every=0.5,
    ),
)

CAPABILITY = Capability("rectification", operations=OPERATIONS, events=EVENTS, timers=TIMERS)

__all__ = ["CAPABILITY", "TaskParams"]
