"""Electronic supervision (电子监察), declared: the alarm events, the case clocks' ladder (the hall
timers' job alarm.fire_case), and, from their own modules, the floor triggers' timer jobs
(supervision_floor), the alarm's lifecycle commands (supervision_commands), the rules
(supervision_rules) and the wall's queries (supervision_wall)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from server.catalogue import (
    supervision_commands,
    supervision_floor,
    supervision_rules,
    supervision_wall,
)
from server.catalogue.spine import Capability, EventType, TimerJob
from server.domain.alarm_kinds import AlarmKind
from server.domain.alarms import fire_case_alarms

ALARM_STATES = ("issued", "rectifying", "withdrawn", "cancelled", "closed")


class AlarmIssued(BaseModel):
    model_config = ConfigDict(extra="forbid")
    alarm_id: int
    kind: AlarmKind
    kind_name: str
    level: Literal["warning", "yellow", "red"]
    level_name: str
    subject: str
    summary: str
    case_id: int | None
    case_no: str | None
    item_name: str | None
    ticket_no: str | None
    department: str | None
    window_no: int | None
    due_at: str
    issued_at: str
    rule_version: int


class AlarmChanged(BaseModel):
    """A step of an alarm's life: acknowledged, annotated, put under 督办, answered, appealed,
    decided, closed. `state` is the alarm's state after it."""

    model_config = ConfigDict(extra="forbid")
    alarm_id: int
    action: str
    state: Literal["issued", "rectifying", "withdrawn", "cancelled", "closed"]
    department: str | None
    window_no: int | None
    by: str  # who did it, as people read it
    at: str
    note: str
    acknowledged: bool
    rectify_due_at: str | None
    appeal_pending: bool


EVENTS = (
    EventType(
        "alarm.issued",
        "Supervision raised an alarm (a case's 预警, 黄牌 or 红牌, or any other trigger), once",
        AlarmIssued,
        ("window", "department"),
        {
            "alarm_id": 1,
            "kind": "case_deadline",
            "kind_name": "办件超期",
            "level": "yellow",
            "level_name": "黄牌",
            "subject": "case:1",
            "summary": "办件 RIZHAO-20261207-00001（企业设立登记）已超过办结时限（时限 12月09日 17:00）",
            "case_id": 1,
            "case_no": "RIZHAO-20261207-00001",
            "item_name": "企业设立登记",
            "ticket_no": None,
            "department": "amr",
            "window_no": 1,
            "due_at": "2026-12-09T17:00:00+08:00",
            "issued_at": "2026-12-09T17:00:00+08:00",
            "rule_version": 0,
        },
    ),
    EventType(
        "alarm.changed",
        "An alarm was acknowledged, annotated, put under 督办, answered, appealed, decided or closed",
        AlarmChanged,
        ("window", "department"),
        {
            "alarm_id": 1,
            "action": "alarm.acknowledge",
            "state": "issued",
            "department": "amr",
            "window_no": 1,
            "by": "监察员 刘洋",
            "at": "2026-12-09T17:00:05+08:00",
            "note": "",
            "acknowledged": True,
            "rectify_due_at": None,
            "appeal_pending": False,
        },
    ),
)

TIMERS = (
    TimerJob(
        "alarm.fire_case",
        "Raise the due rungs of the case clocks' alarm ladder, each once",
        fire_case_alarms,
        emits=("alarm.issued",),
        sql="hq_fire_case_alarms",
        every=0.5,
    ),
)

CAPABILITY = Capability(
    "supervision",
    operations=(
        supervision_commands.OPERATIONS + supervision_rules.OPERATIONS + supervision_wall.OPERATIONS
    ),
    events=EVENTS,
    timers=TIMERS + supervision_floor.TIMERS + supervision_commands.TIMERS,
)
