"""The supervision wall's reads, declared: the hall's alarms and one alarm with its timeline,
the hall live (the wall's snapshot, with a city's county halls in totals) and the month's
scoring (server/domain/supervision_views.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.catalogue.params import HallParams, Int8Id, Params, WindowNo
from server.catalogue.spine import Call, Operation, query
from server.domain import supervision_views as views
from server.domain.alarm_kinds import AlarmKind
from server.domain.policies import ALARM_READ, SUPERVISION_READ


class AlarmListParams(HallParams):
    state: Literal["open", "all"] = "open"
    department: str | None = Field(default=None, pattern=r"^[a-z0-9_-]{1,40}$")
    window_no: WindowNo | None = None
    kind: AlarmKind | None = None
    case_id: Int8Id | None = None
    limit: int | None = Field(default=None, ge=1, le=1000)


class AlarmParams(Params):
    alarm_id: Int8Id


class MonthParams(HallParams):
    month: str | None = Field(default=None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$")


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class AlarmListReply(_Open):
    alarms: list[dict[str, Any]]


class AlarmReply(_Open):
    alarm_id: int
    kind: str
    level: str
    state: str
    timeline: list[dict[str, Any]]


class WallReply(_Open):
    hall: dict[str, Any]
    alarms: dict[str, Any]


class MonthReply(_Open):
    month: str
    formula: str
    departments: list[dict[str, Any]]


async def list_alarms(call: Call, p: AlarmListParams, body: None) -> Any:
    return await views.list_alarms(
        call, p.hall, p.state, p.department, p.window_no, p.kind, p.case_id, p.limit
    )


async def get_alarm(call: Call, p: AlarmParams, body: None) -> Any:
    return await views.get_alarm(call, p.alarm_id)


async def get_wall(call: Call, p: HallParams, body: None) -> Any:
    return await views.wall(call, p.hall)


async def get_month(call: Call, p: MonthParams, body: None) -> Any:
    return await views.month(call, p.hall, p.month)


HALL = "/api/halls/{hall}"

OPERATIONS: tuple[Operation, ...] = (
    query(
        "alarm.list",
        "The hall's alarms, newest first: open or all, by department, window, kind or case "
        "(a clerk sees their window's, a leader their department's)",
        list_alarms,
        ALARM_READ,
        HALL + "/alarms",
        AlarmListParams,
        AlarmListReply,
        {404: ("unknown_department", "unknown_window")},
        tag="supervision",
    ),
    query(
        "alarm.get",
        "An alarm with its timeline (issued, acknowledged, annotated, 督办, answered, appealed, "
        "decided, closed) and its case",
        get_alarm,
        ALARM_READ,
        "/api/alarms/{alarm_id}",
        AlarmParams,
        AlarmReply,
        {404: ("unknown_alarm",)},
        tag="supervision",
    ),
    query(
        "supervision.wall",
        "The supervision wall's snapshot: open alarms by colour, overdue and near-due cases, "
        "the longest waits, windows' states, waiting sign-offs, today's rates, county halls",
        get_wall,
        SUPERVISION_READ,
        HALL + "/supervision",
        HallParams,
        WallReply,
        tag="supervision",
    ),
    query(
        "supervision.month",
        "A month's alarms per department and window (by kind, response times, rectification "
        "outcomes) and each department's score, with the formula",
        get_month,
        SUPERVISION_READ,
        HALL + "/supervision/month",
        MonthParams,
        MonthReply,
        {400: ("invalid_month",)},
        tag="supervision",
    ),
)
