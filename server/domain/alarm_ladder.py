"""Electronic supervision (电子监察): a hall's rules as versioned data, and the alarm ladder of a
case's clock. Pure Python, no I/O: the hall timers (issue 9's engine) store each case's next
due alarm from `case_ladder` and fire it once it is due.

Rules (`SupervisionRules`, parsed and checked by `parse_rules`; defaults are the city's measures)
    warning_days_left   预警 when this many working days of the limit remain …
    warning_share       … or when this share of the limit has been used, whichever comes first
    red_after_days      红牌 when this many working days of 督办 have passed after the deadline
    ticket_wait_minutes a ticket waiting longer raises an alarm
    supplement_notice_days  补正 must be notified within this many working days (§32)
    answer_days         a department answers a 督办 within this many working days
    service_norm_factor a service longer than this times the item's norm raises an alarm
    unattended_minutes  an open window with no clerk signed in this long raises an alarm
    window_pause_minutes a window paused (暂停服务) this long raises an alarm
    pause_max_days      per pause kind: a pause longer than this many working days alarms
    step_limits         per item code, per step name: the step's own limit in the item's unit;
                        their sum may not exceed the item's promised limit (`check_step_limits`)

The ladder of a running clock (`case_ladder`), for a case with a limit (not immediate):
    warning  the earlier of: the instant `warning_days_left` working days (each the length of the
             hall's working day; calendar days for calendar-day limits) remain, and the instant
             `warning_share` of the limit is used; never after the deadline;
    yellow   the deadline;
    red      `red_after_days` working days after the deadline.
A paused or stopped clock has no ladder: a paused case must not alarm (its deadline is not
known until it resumes), and the ladder is computed again at every command that moves it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final, Literal

from server.domain.calendar import HallCalendar
from server.domain.case_clock import PAUSE_KINDS, ClockState, working_instant
from server.domain.errors import Invalid

Level = Literal["warning", "yellow", "red"]
LEVELS: Final[tuple[Level, ...]] = ("warning", "yellow", "red")
LEVEL_NAMES: Final = {"warning": "预警", "yellow": "黄牌", "red": "红牌"}

_DAY = 86_400


@dataclass(frozen=True)
class SupervisionRules:
    version: int = 1
    warning_days_left: int = 1
    warning_share: float = 0.75
    red_after_days: int = 3
    ticket_wait_minutes: int = 30
    supplement_notice_days: int = 5
    answer_days: int = 5
    service_norm_factor: float = 2.0
    unattended_minutes: int = 5
    window_pause_minutes: int = 30
    pause_max_days: Mapping[str, int] = field(default_factory=dict)
    step_limits: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "warning_days_left": self.warning_days_left,
            "warning_share": self.warning_share,
            "red_after_days": self.red_after_days,
            "ticket_wait_minutes": self.ticket_wait_minutes,
            "supplement_notice_days": self.supplement_notice_days,
            "answer_days": self.answer_days,
            "service_norm_factor": self.service_norm_factor,
            "unattended_minutes": self.unattended_minutes,
            "window_pause_minutes": self.window_pause_minutes,
            "pause_max_days": dict(self.pause_max_days),
            "step_limits": {k: dict(v) for k, v in self.step_limits.items()},
        }


_INTS: Final = {
    # name: (low, high, Chinese name)
    "version": (1, 1_000_000, "规则版本"),
    "warning_days_left": (0, 30, "预警剩余工作日"),
    "red_after_days": (1, 60, "红牌督办期"),
    "ticket_wait_minutes": (5, 480, "排队等候上限"),
    "supplement_notice_days": (1, 30, "补正告知期限"),
    "answer_days": (1, 30, "督办答复期限"),
    "unattended_minutes": (1, 120, "窗口无人值守上限"),
    "window_pause_minutes": (5, 480, "窗口暂停服务上限"),
}


def _bad(message: str, name: str) -> Invalid:
    return Invalid(message, code="invalid_rule", field=name)


def _int(raw: Mapping[str, Any], name: str, default: int) -> int:
    value = raw.get(name, default)
    low, high, label = _INTS[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _bad(f"{label}应为 {low} 到 {high} 的整数", name)
    return value


def _share(raw: Mapping[str, Any], name: str, default: float, low: float, high: float) -> float:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(f"{name} 应为数值", name)
    if not low <= float(value) <= high or math.isnan(float(value)):
        raise _bad(f"{name} 应在 {low} 到 {high} 之间", name)
    return float(value)


def parse_rules(raw: Mapping[str, Any]) -> SupervisionRules:
    """A hall's rule set from its stored or submitted JSON; Invalid (invalid_rule, the field
    named) on anything out of range. Absent fields take the defaults."""
    if not isinstance(raw, Mapping):
        raise _bad("规则应为对象", "rules")
    unknown = set(raw) - set(SupervisionRules().to_json())
    if unknown:
        raise _bad(f"未知的规则项：{'、'.join(sorted(unknown))}", min(unknown))
    d = SupervisionRules()
    pauses = raw.get("pause_max_days", {})
    if not isinstance(pauses, Mapping):
        raise _bad("pause_max_days 应为对象", "pause_max_days")
    for kind, days in pauses.items():
        if kind not in PAUSE_KINDS:
            raise _bad(f"未知的暂停类型：{kind}", "pause_max_days")
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
            raise _bad(f"{kind} 的暂停上限应为 1 到 365 个工作日", "pause_max_days")
    steps = raw.get("step_limits", {})
    if not isinstance(steps, Mapping):
        raise _bad("step_limits 应为对象", "step_limits")
    for item, limits in steps.items():
        if not isinstance(limits, Mapping) or not limits:
            raise _bad(f"事项 {item} 的环节时限应为非空对象", "step_limits")
        for step_name, amount in limits.items():
            if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
                raise _bad(f"事项 {item} 环节「{step_name}」的时限应为正整数", "step_limits")
    return SupervisionRules(
        version=_int(raw, "version", d.version),
        warning_days_left=_int(raw, "warning_days_left", d.warning_days_left),
        warning_share=_share(raw, "warning_share", d.warning_share, 0.05, 1.0),
        red_after_days=_int(raw, "red_after_days", d.red_after_days),
        ticket_wait_minutes=_int(raw, "ticket_wait_minutes", d.ticket_wait_minutes),
        supplement_notice_days=_int(raw, "supplement_notice_days", d.supplement_notice_days),
        answer_days=_int(raw, "answer_days", d.answer_days),
        service_norm_factor=_share(raw, "service_norm_factor", d.service_norm_factor, 1.0, 20.0),
        unattended_minutes=_int(raw, "unattended_minutes", d.unattended_minutes),
        window_pause_minutes=_int(raw, "window_pause_minutes", d.window_pause_minutes),
        pause_max_days={str(k): int(v) for k, v in pauses.items()},
        step_limits={str(k): {str(s): int(a) for s, a in v.items()} for k, v in steps.items()},
    )


def check_step_limits(rules: SupervisionRules, promised: Mapping[str, tuple[str, int]]) -> None:
    """A rule set whose step limits add up to more than an item's promised limit is refused,
    with the item named. `promised`: item code -> (name, promised limit in the item's unit)."""
    for code, limits in sorted(rules.step_limits.items()):
        if code not in promised:
            raise Invalid(f"事项 {code} 不存在", code="unknown_item", field="step_limits")
        name, limit = promised[code]
        total = sum(limits.values())
        if total > limit:
            raise Invalid(
                f"「{name}」各环节时限合计 {total}，超过其承诺时限 {limit}",
                code="step_limits_exceed",
                field="step_limits",
            )


def working_day_seconds(cal: HallCalendar) -> int:
    """The working time of one working day of the hall."""
    return sum(
        int((datetime.combine(date.min, e) - datetime.combine(date.min, b)).total_seconds())
        for b, e in cal.work_periods
    )


@dataclass(frozen=True)
class Rung:
    level: Level
    due: datetime


def case_ladder(state: ClockState, rules: SupervisionRules, cal: HallCalendar) -> list[Rung]:
    """The alarms a running clock will raise, in order (see the module docstring)."""
    if state.status != "running" or state.deadline is None or state.limit == 0:
        return []
    deadline = state.deadline.astimezone(cal.tz)
    since = max(state.since, state.counts_from or state.started_at)
    remaining, used = state.remaining_s, state.elapsed_s
    day = _DAY if state.unit == "calendar_day" else working_day_seconds(cal)
    left = rules.warning_days_left * day
    by_days = working_instant(cal, state.unit, since, remaining - left)
    threshold = math.ceil(rules.warning_share * (used + remaining))
    by_share = working_instant(cal, state.unit, since, threshold - used)
    warning = min(by_days, by_share, deadline)
    red = cal.add_working_time(deadline, rules.red_after_days, "working_day")
    return [Rung("warning", warning), Rung("yellow", deadline), Rung("red", red)]


def next_rung(ladder: list[Rung], fired: set[str]) -> Rung | None:
    """The first rung not fired yet (due or not): what the case row keeps as its next alarm.
    Rungs are fired in order, so a case found past several fires them one by one."""
    for rung in ladder:
        if rung.level not in fired:
            return rung
    return None


def due_rungs(ladder: list[Rung], fired: set[str], now: datetime) -> list[Rung]:
    """The rungs due at `now` and not fired yet, in order: never one before its instant."""
    return [r for r in ladder if r.level not in fired and r.due <= now]


__all__ = [
    "LEVELS",
    "LEVEL_NAMES",
    "Rung",
    "SupervisionRules",
    "case_ladder",
    "check_step_limits",
    "due_rungs",
    "next_rung",
    "parse_rules",
]
