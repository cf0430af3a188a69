"""The kiosk's registration hours, declared: whether the kiosks register now (public, shown on
the kiosk), and the admin's opening outside the hours (server/domain/registration_hours.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.catalogue.hall import ChangedBy
from server.catalogue.params import HallParams
from server.catalogue.spine import Call, Capability, EventType, Operation, Reply
from server.domain import registration_hours
from server.domain.policies import HALL_ADMIN

# ------------------------------------------------------------------------ event payloads


class OpenSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # registration open outside the hours until this instant; None: the hours alone
    open_until: str | None
    by: ChangedBy


EVENTS = (
    EventType(
        registration_hours.OPEN_SET,
        "The admin opened registration outside the opening hours, or withdrew that",
        OpenSet,
        ("all",),
        {
            "open_until": "2026-12-05T12:00:00+08:00",
            "by": {"id": 1, "name": "系统管理员", "role": "admin"},
        },
    ),
)

# ------------------------------------------------------------------------ inputs and answers


class OpenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    open: bool = Field(description="true: open outside the hours; false: back to the hours alone")
    until: datetime | None = Field(
        None,
        description="with open: until this instant (ISO 8601 with offset, at most 7 days "
        "ahead); default the end of the hall's day (midnight)",
    )


class Hours(BaseModel):
    opens: str
    closes: str
    work_periods: list[list[str]]
    lead_minutes: int
    text: str


class StatusReply(BaseModel):
    model_config = ConfigDict(extra="allow")
    open: bool
    # why it is open: the hours, the admin's opening, or a server told to ignore the hours
    by: Literal["hours", "admin", "unrestricted"] | None
    hours: Hours
    open_until: str | None
    changes_at: str | None  # the next opening or closing (the kiosk looks again then)
    message: str


class SetReply(StatusReply):
    seq: list[int]


# ------------------------------------------------------------------------ handlers


async def get_status(call: Call, p: HallParams, body: None) -> Any:
    return await registration_hours.status(call, p.hall)


async def set_open(call: Call, p: HallParams, body: OpenBody) -> Reply:
    data, events = await registration_hours.set_open(call, p.hall, body.open, body.until)
    return Reply(data, events=events)


PATH = "/api/halls/{hall}/registration-hours"

OPERATIONS = (
    Operation(
        "registration.status",
        "Whether the kiosks register now, the opening hours and the next change (public)",
        "query",
        get_status,
        None,
        http=("GET", PATH),
        params=HallParams,
        response=StatusReply,
        tag="queue",
    ),
    Operation(
        "registration.set_open",
        "Open registration outside the opening hours until an instant, or back to the hours "
        "(admin)",
        "command",
        set_open,
        HALL_ADMIN,
        http=("PUT", PATH),
        params=HallParams,
        body=OpenBody,
        response=SetReply,
        emits=(registration_hours.OPEN_SET,),
        errors={400: ("invalid_until",)},
        tag="queue",
    ),
)

CAPABILITY = Capability("registration", operations=OPERATIONS, events=EVENTS)
