"""The kinds of supervision alarm (电子监察的触发条件): the one list, with the names people read.
The catalogue's alarm.issued payload, the wall's filters and the monthly scoring take it from
here."""

from __future__ import annotations

from typing import Final, Literal

AlarmKind = Literal[
    "case_deadline",
    "step_overrun",
    "supplement_late",
    "refusal_without_reason",
    "fee_irregular",
    "ticket_wait",
    "service_overlong",
    "signoff_wait",
    "window_unattended",
    "pause_overlong",
    "rectification_overdue",
    "rectification_late",
    "manual",
]

KIND_NAMES: Final[dict[str, str]] = {
    "case_deadline": "办件超期",
    "step_overrun": "环节超时",
    "supplement_late": "补正告知超期",
    "refusal_without_reason": "不予受理或不予许可未说明理由",
    "fee_irregular": "违规收费",
    "ticket_wait": "排队等候超时",
    "service_overlong": "办理时间超长",
    "signoff_wait": "签批等候超时",
    "window_unattended": "窗口无人值守",
    "pause_overlong": "暂停超时",
    "rectification_overdue": "督办逾期未答复",
    "rectification_late": "差评整改逾期",
    "manual": "人工督办",
}
