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
             `warning_share` of the limit is used; never after the deadline. A limit no longer
             than `warning_days_left` days is warned by the share alone (else it would warn at
             acceptance);
    yellow   the deadline;
    red      `red_after_days` working days after the deadline.
A paused or stopped clock has no ladder: a paused case must not alarm (its deadline is not
known until it resumes), and the ladder is computed again at every command that moves it.

All the alarms of a case (`case_rungs`, from `CaseFacts`: its clock, state, when it entered
that state, its materials and supplement notices), each a `Rung` (kind, level, subject, due):
    case_deadline   the ladder above, subject ``case:<id>``.
    step_overrun    黄牌 (yellow): the case stayed in one step longer than the step's own limit
                    (`step_limits[item code][step]`, in the item's unit) while the case itself
                    is still on time: only when that instant is before the case's deadline
                    (after it, the deadline's 黄牌 says it). Steps are the states in which the
                    hall works on the case: accepted (受理), in_progress (办理),
                    awaiting_signoff (审批); rules name them in English or Chinese. A step's
                    time is the case clock's used time since the case entered the step:
                    working time, pauses excluded, the acceptance day not counted for day
                    units (as for the limit itself); a working day is the hall's working day
                    of working time. None while the clock is paused. Subject
                    ``case:<id>:step:<state>``: once per step and case.
    supplement_late 黄牌: §32 — the case has missing or faulty materials that were not
                    deferred by commitment (容缺), no supplement notice was issued, and
                    `supplement_notice_days` working days have passed since acceptance
                    (`add_working_time`, the acceptance day is day 0). Only while the case is
                    accepted or in progress. Subject ``case:<id>:supplement``.
    pause_overlong  黄牌: the clock has been paused (any pause kind) longer than
                    `pause_max_days[kind]` working days (defaults `DEFAULT_PAUSE_MAX_DAYS`),
                    counted like a limit from the pause's instant. Subject
                    ``case:<id>:pause:<n>``, n the pause's number in the case (one per pause).
A stopped clock has no rungs at all.

A refusal's reason (`reason_shortfalls`) is inadequate when it has fewer than ten letters or
digits (spaces and punctuation not counted) or is one of the generic phrases; a refusal of the
permit (不予许可, 行政许可法 §38) must also name its legal basis (依据/根据/按照/依照, or
法/条例/规定/办法) and the applicant's right to 行政复议 or 行政诉讼.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Final, Literal

from server.domain.alarm_kinds import AlarmKind
from server.domain.calendar import HallCalendar
from server.domain.case_clock import (
    PAUSE_KINDS,
    ClockEvent,
    ClockState,
    replay,
    view,
    working_instant,
)
from server.domain.errors import Invalid
from server.wire import instant

Level = Literal["warning", "yellow", "red"]
LEVELS: Final[tuple[Level, ...]] = ("warning", "yellow", "red")
LEVEL_NAMES: Final = {"warning": "预警", "yellow": "黄牌", "red": "红牌"}

_DAY = 86_400

# The steps of a case (the states in which the hall works on it) and their names in rules.
STEPS: Final = {"accepted": "受理", "in_progress": "办理", "awaiting_signoff": "审批"}
_STEP_ALIASES: Final = {**{s: s for s in STEPS}, **{name: s for s, name in STEPS.items()}}
# Working days a pause may last when a hall's rules say nothing: 补正 waits on the applicant;
# 报批 and the §45 procedures on other bodies (a hearing is organised within 20 days, §48).
DEFAULT_PAUSE_MAX_DAYS: Final = {
    "supplement": 30,
    "escalation": 20,
    "hearing": 20,
    "testing": 30,
    "inspection": 20,
    "expert_review": 30,
}
PAUSE_NAMES: Final = {
    "supplement": "补正",
    "escalation": "报批",
    "hearing": "听证",
    "testing": "检验检测",
    "inspection": "现场核查",
    "expert_review": "专家评审",
}


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

    def pause_limit(self, kind: str) -> int:
        """Working days a pause of `kind` may last."""
        return self.pause_max_days.get(kind, DEFAULT_PAUSE_MAX_DAYS.get(kind, 30))

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
            if step_name not in _STEP_ALIASES:
                known = "、".join(f"{s}（{n}）" for s, n in STEPS.items())
                raise _bad(f"未知的环节「{step_name}」，应为：{known}", "step_limits")
            if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
                raise _bad(f"事项 {item} 环节「{step_name}」的时限应为正整数", "step_limits")
        if len({_STEP_ALIASES[n] for n in limits}) != len(limits):
            raise _bad(f"事项 {item} 的环节重复", "step_limits")
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
        step_limits={
            str(k): {_STEP_ALIASES[s]: int(a) for s, a in v.items()} for k, v in steps.items()
        },
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
    kind: AlarmKind = "case_deadline"
    subject: str = ""  # the alarm's once-key (see the module docstring)
    detail: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def key(self) -> tuple[str, str, str]:
        """What makes an alarm once (alarm_once: hall, kind, level, subject)."""
        return (self.kind, self.level, self.subject)


def case_ladder(state: ClockState, rules: SupervisionRules, cal: HallCalendar) -> list[Rung]:
    """The alarms a running clock will raise, in order (see the module docstring)."""
    if state.status != "running" or state.deadline is None or state.limit == 0:
        return []
    deadline = state.deadline.astimezone(cal.tz)
    since = max(state.since, state.counts_from or state.started_at)
    remaining, used = state.remaining_s, state.elapsed_s
    day = _DAY if state.unit == "calendar_day" else working_day_seconds(cal)
    left = rules.warning_days_left * day
    threshold = math.ceil(rules.warning_share * (used + remaining))
    by_share = working_instant(cal, state.unit, since, threshold - used)
    warning = min(by_share, deadline)
    if used + remaining > left:
        # "one working day left" says nothing of a limit of a day or less: it would warn at
        # the moment of acceptance; such a case is warned by the share alone
        warning = min(warning, working_instant(cal, state.unit, since, remaining - left))
    red = cal.add_working_time(deadline, rules.red_after_days, "working_day")
    return [Rung("warning", warning), Rung("yellow", deadline), Rung("red", red)]


@dataclass(frozen=True)
class CaseFacts:
    """What a case's alarms are computed from, as the database has it now."""

    case_id: int
    item_code: str
    state: str  # case_flow state
    clock: ClockState
    accepted_at: datetime
    state_since: datetime  # when the case entered `state`
    step_used_s: int  # the clock's used time (elapsed_s) when it entered `state`
    lacking: bool  # missing or faulty materials not deferred by commitment (容缺)
    first_notice_at: datetime | None  # the first supplement notice, if any
    pauses: int  # pause events so far: the number of the pause under way


def used_at(events: list[ClockEvent], when: datetime, cal: HallCalendar) -> int:
    """The clock's used working time at `when` (its elapsed_s, pauses excluded), replayed from
    the events up to then with the calendar as it is now."""
    before = [e for e in events if e.at <= when]
    if not before:
        return 0
    return view(replay(before, cal), when, cal).elapsed_s


def step_rung(f: CaseFacts, rules: SupervisionRules, cal: HallCalendar) -> Rung | None:
    """The step overrun of the step the case is in (see the module docstring)."""
    s = f.clock
    limit = rules.step_limits.get(f.item_code, {}).get(f.state)
    if limit is None or s.status != "running" or s.deadline is None or s.limit == 0:
        return None
    per = {"calendar_day": _DAY, "working_hour": 3600}.get(s.unit) or working_day_seconds(cal)
    used = s.elapsed_s - f.step_used_s
    since = max(s.since, s.counts_from or s.started_at)
    due = working_instant(cal, s.unit, since, limit * per - used)
    if due >= s.deadline:
        return None  # not while the case is on time: the deadline's own 黄牌 says it
    return Rung(
        "yellow",
        due,
        "step_overrun",
        f"case:{f.case_id}:step:{f.state}",
        {"step": f.state, "limit": limit, "unit": s.unit, "since": instant(f.state_since)},
    )


def supplement_rung(f: CaseFacts, rules: SupervisionRules, cal: HallCalendar) -> Rung | None:
    """§32: missing materials and no supplement notice within the days allowed."""
    if f.state not in ("accepted", "in_progress") or f.clock.status == "stopped" or not f.lacking:
        return None
    due = cal.add_working_time(f.accepted_at, rules.supplement_notice_days, "working_day")
    if f.first_notice_at is not None and f.first_notice_at <= due:
        return None
    return Rung(
        "yellow",
        due,
        "supplement_late",
        f"case:{f.case_id}:supplement",
        {"days": rules.supplement_notice_days},
    )


def pause_rung(f: CaseFacts, rules: SupervisionRules, cal: HallCalendar) -> Rung | None:
    """The pause under way lasting longer than its kind allows."""
    s = f.clock
    if s.status != "paused" or s.pause_kind is None:
        return None
    days = rules.pause_limit(s.pause_kind)
    return Rung(
        "yellow",
        cal.add_working_time(s.since, days, "working_day"),
        "pause_overlong",
        f"case:{f.case_id}:pause:{f.pauses}",
        {"pause_kind": s.pause_kind, "days": days, "since": instant(s.since)},
    )


def case_rungs(f: CaseFacts, rules: SupervisionRules, cal: HallCalendar) -> list[Rung]:
    """Every alarm the case will raise as it stands, in order of their instants."""
    if f.clock.status == "stopped":
        return []
    subject = f"case:{f.case_id}"
    rungs = [replace(r, subject=subject) for r in case_ladder(f.clock, rules, cal)]
    for extra in (
        step_rung(f, rules, cal),
        supplement_rung(f, rules, cal),
        pause_rung(f, rules, cal),
    ):
        if extra is not None:
            rungs.append(extra)
    return sorted(rungs, key=lambda r: r.due)  # stable: the ladder's rungs keep their order


Fired = AbstractSet[str | tuple[str, str, str]]


def _is_fired(rung: Rung, fired: Fired) -> bool:
    # a bare level stands for that rung of the deadline ladder (one case's ladder alone)
    return rung.key in fired or (rung.kind == "case_deadline" and rung.level in fired)


def next_rung(ladder: list[Rung], fired: Fired) -> Rung | None:
    """The first rung not fired yet (due or not): what the case row keeps as its next alarm.
    Rungs are fired in order, so a case found past several fires them one by one. `fired`:
    the keys (kind, level, subject) of the alarms raised already."""
    for rung in ladder:
        if not _is_fired(rung, fired):
            return rung
    return None


def due_rungs(ladder: list[Rung], fired: Fired, now: datetime) -> list[Rung]:
    """The rungs due at `now` and not fired yet, in order: never one before its instant."""
    return [r for r in ladder if not _is_fired(r, fired) and r.due <= now]


MIN_REASON_CHARS: Final = 10
# Said of any application, so no reason at all (compared on letters and digits only).
GENERIC_REASONS: Final = frozenset(
    {
        "经审查不符合条件",
        "经审查不符合要求",
        "经审查不符合规定",
        "经审查不符合法定条件",
        "申请材料不符合要求",
        "申请材料不符合法定形式",
        "不符合法定条件和标准",
        "不符合相关规定不予受理",
        "不符合有关规定不予受理",
        "不符合相关规定不予许可",
        "不符合有关规定不予许可",
        "经研究决定不予许可",
        "经研究决定不予受理",
    }
)
_LEGAL_BASIS: Final = ("依据", "根据", "按照", "依照", "法", "条例", "规定", "办法")
_REMEDY: Final = ("复议", "诉讼")


def reason_shortfalls(reason: str, permit_refusal: bool) -> list[str]:
    """What a refusal's reason lacks (see the module docstring); empty when adequate.
    `permit_refusal`: 不予许可 (§38), as opposed to 不予受理."""
    text = "".join(ch for ch in reason if ch.isalnum())
    out = []
    if len(text) < MIN_REASON_CHARS or text in GENERIC_REASONS:
        out.append("too_short")
    if permit_refusal:
        if not any(w in reason for w in _LEGAL_BASIS):
            out.append("no_legal_basis")
        if not any(w in reason for w in _REMEDY):
            out.append("no_remedy")
    return out


__all__ = [
    "DEFAULT_PAUSE_MAX_DAYS",
    "LEVELS",
    "LEVEL_NAMES",
    "STEPS",
    "CaseFacts",
    "Rung",
    "SupervisionRules",
    "case_ladder",
    "case_rungs",
    "check_step_limits",
    "due_rungs",
    "next_rung",
    "parse_rules",
    "reason_shortfalls",
    "used_at",
]
