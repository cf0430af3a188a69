"""Electronic supervision (电子监察), declared: the alarms raised from the case clocks' ladder
(the hall timers' job alarm.fire_case) and their live event. The supervision wall, the alarm
lifecycle commands and the other triggers come with the rest of issue 9."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from server.catalogue.spine import Capability, EventType, TimerJob
from server.domain.alarms import fire_case_alarms


class AlarmIssued(BaseModel):
    model_config = ConfigDict(extra="forbid")
    alarm_id: int
    kind: Literal["case_deadline"]
    level: Literal["warning", "yellow", "red"]
    level_name: str
    case_id: int
    case_no: str
    item_name: str
    department: str
    window_no: int
    due_at: str
    issued_at: str
    rule_version: int


EVENTS = (
    EventType(
        "alarm.issued",
        "Supervision raised an alarm: a case's 预警, 黄牌 or 红牌, at its second",
        AlarmIssued,
        ("window", "department"),
        {
            "alarm_id": 1,
            "kind": "case_deadline",
            "level": "yellow",
            "level_name": "黄牌",
            "case_id": 1,
            "case_no": "RIZHAO-20261207-00001",
            "item_name": "企业设立登记",
            "department": "amr",
            "window_no": 1,
            "due_at": "2026-12-09T17:00:00+08:00",
            "issued_at": "2026-12-09T17:00:00+08:00",
            "rule_version": 0,
        },
    ),
)

TIMERS = (
    TimerJob(
        "alarm.fire_case",
        "Raise the due rungs of the case clocks' alarm ladder, each once",
        fire_case_alarms,
        emits=("alarm.issued",),
    ),
)

CAPABILITY = Capability("supervision", events=EVENTS, timers=TIMERS)
