"""An alarm's life, declared: acknowledge, annotate, 督办, answer, appeal, the supervisor's
decision, close, cancel, a manual alarm (server/domain/alarm_life.py, each a row of its
transition table), and the timer job that raises an alarm when a 督办 goes unanswered."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.catalogue.params import HallParams, Int8Id, Params, WindowNo
from server.catalogue.spine import Call, Operation, Reply, TimerJob, merge_errors
from server.domain import alarm_life as life
from server.domain.policies import ALARM_DEPARTMENT, ALARM_SUPERVISE


class AlarmParams(Params):
    alarm_id: Int8Id


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoteBody(_Body):
    note: str = Field(min_length=1, max_length=500)


class CloseBody(_Body):
    note: str = Field(default="", max_length=500)


class AnswerBody(_Body):
    answer: str = Field(min_length=1, max_length=2000)


class ReasonBody(_Body):
    reason: str = Field(min_length=1, max_length=1000)


class DecideBody(_Body):
    decision: Literal["withdraw", "send_back", "escalate"]
    note: str = Field(min_length=1, max_length=500)


class RaiseBody(_Body):
    level: Literal["warning", "yellow", "red"]
    note: str = Field(min_length=1, max_length=500)
    case_id: Int8Id | None = None
    window_no: WindowNo | None = None


class AlarmCommandReply(BaseModel):
    model_config = ConfigDict(extra="allow")
    alarm_id: int
    state: str
    allowed: list[str]
    seq: list[int]


async def acknowledge(call: Call, p: AlarmParams, body: None) -> Reply:
    data, events = await life.acknowledge(call, p.alarm_id)
    return Reply(data, events=events)


async def annotate(call: Call, p: AlarmParams, body: NoteBody) -> Reply:
    data, events = await life.annotate(call, p.alarm_id, body.note)
    return Reply(data, events=events)


async def supervise(call: Call, p: AlarmParams, body: NoteBody) -> Reply:
    data, events = await life.supervise(call, p.alarm_id, body.note)
    return Reply(data, events=events)


async def answer(call: Call, p: AlarmParams, body: AnswerBody) -> Reply:
    data, events = await life.answer(call, p.alarm_id, body.answer)
    return Reply(data, events=events)


async def appeal(call: Call, p: AlarmParams, body: ReasonBody) -> Reply:
    data, events = await life.appeal(call, p.alarm_id, body.reason)
    return Reply(data, events=events)


async def decide_appeal(call: Call, p: AlarmParams, body: DecideBody) -> Reply:
    data, events = await life.decide_appeal(call, p.alarm_id, body.decision, body.note)
    return Reply(data, events=events)


async def close(call: Call, p: AlarmParams, body: CloseBody | None) -> Reply:
    data, events = await life.close(call, p.alarm_id, body.note if body else "")
    return Reply(data, events=events)


async def cancel(call: Call, p: AlarmParams, body: ReasonBody) -> Reply:
    data, events = await life.cancel(call, p.alarm_id, body.reason)
    return Reply(data, events=events)


async def raise_manual(call: Call, p: HallParams, body: RaiseBody) -> Reply:
    data, events = await life.raise_manual(
        call, p.hall, life.ManualAlarm(body.level, body.note, body.case_id, body.window_no)
    )
    return Reply(data, events=events, status=201)


ALARM = "/api/alarms/{alarm_id}"

_ERRORS: dict[int, tuple[str, ...]] = {
    400: ("reason_required",),
    404: ("unknown_alarm",),
    409: ("alarm_state",),
}


def _command(
    name: str,
    summary: str,
    handler: Any,
    path: str,
    body: type[BaseModel] | None,
    policy: Any = ALARM_SUPERVISE,
    errors: dict[int, tuple[str, ...]] | None = None,
) -> Operation:
    return Operation(
        name,
        summary,
        "command",
        handler,
        policy,
        http=("POST", ALARM + path),
        params=AlarmParams,
        body=body,
        response=AlarmCommandReply,
        emits=("alarm.changed",),
        errors=merge_errors(_ERRORS, errors),
        tag="supervision",
    )


OPERATIONS: tuple[Operation, ...] = (
    _command(
        "alarm.acknowledge",
        "A supervisor acknowledges an alarm (seen, being handled), once",
        acknowledge,
        "/acknowledge",
        None,
        errors={409: ("already_acknowledged",)},
    ),
    _command(
        "alarm.annotate",
        "A supervisor adds a note to an alarm's timeline",
        annotate,
        "/annotate",
        NoteBody,
    ),
    _command(
        "alarm.supervise",
        "督办: the alarm's department must answer online within the hall's answer_days "
        "working days",
        supervise,
        "/supervise",
        NoteBody,
    ),
    _command(
        "alarm.answer",
        "The leader of the alarm's department answers the 督办 online, once",
        answer,
        "/answer",
        AnswerBody,
        policy=ALARM_DEPARTMENT,
        errors={409: ("already_answered",)},
    ),
    _command(
        "alarm.appeal",
        "The leader of the alarm's department appeals it (申诉), once; pending until decided",
        appeal,
        "/appeal",
        ReasonBody,
        policy=ALARM_DEPARTMENT,
        errors={409: ("appeal_pending", "appeal_decided")},
    ),
    _command(
        "alarm.decide_appeal",
        "A supervisor decides an appeal: withdraw the alarm, send the appeal back, or refer it "
        "to the city hall",
        decide_appeal,
        "/decide-appeal",
        DecideBody,
        errors={
            403: ("alarm_raised_by_city", "appeal_escalated"),
            409: ("no_appeal", "cannot_escalate"),
        },
    ),
    _command(
        "alarm.close",
        "A supervisor closes an alarm (rectified, or nothing more to do)",
        close,
        "/close",
        CloseBody,
        errors={409: ("appeal_pending",)},
    ),
    _command(
        "alarm.cancel",
        "A supervisor cancels an alarm raised in error, with the reason",
        cancel,
        "/cancel",
        ReasonBody,
        errors={403: ("alarm_raised_by_city",)},
    ),
    Operation(
        "alarm.raise",
        "A supervisor raises an alarm by hand (人工督办) on a case or a window of the hall, or "
        "of a county hall under the supervisor's city",
        "command",
        raise_manual,
        ALARM_SUPERVISE,
        http=("POST", "/api/halls/{hall}/alarms"),
        params=HallParams,
        body=RaiseBody,
        response=AlarmCommandReply,
        status=201,
        emits=("alarm.issued",),
        errors={
            400: ("reason_required", "subject_required"),
            404: ("unknown_case", "unknown_window"),
            409: ("already_raised",),
        },
        tag="supervision",
    ),
)

TIMERS: tuple[TimerJob, ...] = (
    TimerJob(
        "alarm.answer_overdue",
        "A 督办 not answered by its instant raises a red alarm (督办逾期未答复), once",
        life.raise_answer_overdue,
        emits=("alarm.issued",),
        every=0.5,
    ),
)

__all__ = ["OPERATIONS", "TIMERS", "AlarmParams"]
