"""The case clock (办件计时): the promised time limit of one case, as a pure function.

Pure Python, no I/O. A case's clock is `replay(its clock events, the hall calendar)`. The case
service keeps the resulting `ClockState` on the case row (`to_json`) and moves it one event at a
time with `step`; when the hall calendar changes it replays the whole event list with the new
calendar (a holiday added later reprices open cases, and never makes one due earlier). The
property tests prove that stepping, with a JSON round trip after every step, gives exactly the
state `replay` gives.

Working time
    For the ``"working_day"`` and ``"working_hour"`` units, time inside the work periods of
    working days (`HallCalendar.working_time_between`); for ``"calendar_day"``, wall-clock
    time. Every amount of time the clock keeps is an int number of seconds of working time in
    this sense, and every instant it keeps is truncated to the whole second (the event's `at`,
    the `now` of `view`), so all its arithmetic is exact.

The acceptance day is day 0
    As in `HallCalendar.add_working_time`, a day-unit limit (``working_day``,
    ``calendar_day``) starts counting at midnight after the acceptance day (`counts_from`);
    nothing before that is used from the limit, so a pause on the acceptance day moves no
    deadline (its time is still recorded in `paused_s`), and an immediate item (limit 0) in a
    day unit is overdue only once the next working day begins. A ``working_hour`` limit counts
    from acceptance.

Events (`ClockEvent`, each at an aware instant, never earlier than the previous one:
``clock_out_of_order``; a naive instant: ``naive_datetime``)
    start(amount, unit)
        Only as the first event (again: ``clock_started``; any other first event:
        ``clock_not_started``). The limit's deadline: ``working_day``/``working_hour`` →
        `cal.add_working_time(at, amount, unit)`; ``calendar_day`` → the end of the last work
        period of the day `at.date() + amount` (in the hall's zone), rolled forward to the next
        working day when that day is not one (a period ending on a holiday ends on the next
        working day). `amount == 0` (即办件): the deadline is `at`. `remaining_s` is the working
        time from `counts_from` to that deadline (``working_day``: `amount` whole days).
    pause(kind)
        Only while running (``clock_not_running``). The limit's working time since the last
        event is used; no deadline while paused. Kinds: ``supplement`` (补正), ``escalation``
        (报批) and the special procedures of 行政许可法 §45 (hearing, testing, inspection,
        expert review), none of which count in the limit.
    resume
        Only while paused (``clock_not_paused``). The pause's working time goes to
        `paused_s[kind]`. The new deadline is the instant at which `budget_s` of working time
        has accrued from `at` (or from `counts_from` if later) (`HallCalendar.add_working_seconds`;
        wall clock for ``calendar_day``); for the day units it is rounded up to the first end of
        a working day's last work period at or after that instant (a day-unit deadline always
        ends a working day), and `remaining_s` becomes the working time to the rounded deadline,
        so a pause never costs the limit anything. The rounding is not added to the budget: the
        next resume counts from the budget again, so a day-unit case paused and resumed mid-day
        many times gets the rest of a day once, not once per resume. A case whose budget ran
        out while its deadline (the end of that day) had not passed yet gets, on resume, the
        end of the resume day (the end of the next working day after closing). A case already
        due when paused (`remaining_s <= 0`) stays due: the deadline stays the one that passed,
        and `remaining_s` keeps the overdue time from before the pause (the overdue count goes
        on from there; the pause is not overdue time).
    extend(amount)
        §42 extension, only while running (``clock_not_running``), `amount > 0` in the clock's
        unit (``invalid_amount``; another unit: ``invalid_unit``). The limit grows by `amount`
        from the current deadline D: D' = `cal.add_working_time(D, amount, unit)`, or for
        ``calendar_day`` the start rule counted from D's day; `remaining_s` grows by the working
        time from D to D' (none of it before `counts_from`), and so does `budget_s`; `limit` grows
        by `amount`. The deadline becomes D' (exactly D' when no pause was resumed mid-day;
        otherwise, as at resume, the instant the grown budget runs out, rounded up for the day
        units; still due after the extension: D').
    stop
        From running or paused (a paused case can be withdrawn or completed): closes the pause,
        `remaining_s` as of `at` (negative: overdue by that much; positive: time saved), and
        keeps as `deadline` the deadline that applied last (`last_deadline`; stopped while
        paused, the one from before the pause). After stop every event is ``clock_stopped``.

`budget_s` is what is left of the limit itself (its working time, extensions added, used
time taken off), never rounded; `remaining_s` is the working time to the deadline. They differ
only by a day unit's rounding up at resume (`remaining_s >= budget_s` while the deadline has not
passed); without a pause resumed mid-day they are equal.

While running, `remaining_s` is the limit's working time from `since` to `deadline` when
positive; zero or negative means due since `deadline` (`deadline <= since`), overdue by
`-remaining_s`. `elapsed_s` is the limit's working time used while running (pauses excluded),
so `elapsed_s + remaining_s` only grows by extensions and by the rounding up at resume.

`view(state, now)` — what a screen shows at `now`: running, elapsed/remaining/overdue are moved
on from `since` to `now` (a `now` before `since` counts as `since`); paused, they are frozen and
`paused_s` includes the pause under way up to `now`; stopped, as of `stopped_at`.

Every error is `Invalid` with an English code, a Chinese message and ``field="clock"``, except
a calendar with no working day for years (``no_working_day``, from the calendar).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any, Literal, cast, get_args

from server.domain.calendar import HallCalendar
from server.domain.errors import Invalid
from server.wire import instant, maybe_instant

LimitUnit = Literal["working_day", "working_hour", "calendar_day"]
LIMIT_UNITS: tuple[str, ...] = get_args(LimitUnit)
PauseKind = Literal["supplement", "escalation", "hearing", "testing", "inspection", "expert_review"]
PAUSE_KINDS: tuple[str, ...] = get_args(PauseKind)
# 行政许可法 §45: time for these is not counted in the limit.
SPECIAL_PROCEDURES: tuple[str, ...] = ("hearing", "testing", "inspection", "expert_review")
ClockOp = Literal["start", "pause", "resume", "extend", "stop"]
CLOCK_OPS: tuple[str, ...] = get_args(ClockOp)
ClockStatus = Literal["running", "paused", "stopped"]

_SECOND = timedelta(seconds=1)


def _invalid(message: str, code: str) -> Invalid:
    return Invalid(message, code=code, field="clock")


def _aware(value: object, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise _invalid(f"{what}必须是日期时间", "invalid_clock_event")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise _invalid(f"{what}必须带时区", "naive_datetime")
    return value


def _instant(value: datetime, cal: HallCalendar) -> datetime:
    # Whole seconds keep every sum exact; the zone is the hall's so dates are local dates.
    return value.replace(microsecond=0).astimezone(cal.tz)


def _parse(value: Any, what: str, code: str) -> datetime:
    if not isinstance(value, str):
        raise _invalid(f"{what}格式错误", code)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _invalid(f"{what}格式错误：{value!r}", code) from None
    return _aware(parsed, what)


def _parse_opt(value: Any, what: str, code: str) -> datetime | None:
    return None if value is None else _parse(value, what, code)


# --- events ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockEvent:
    at: datetime  # aware
    op: ClockOp
    amount: int = 0  # start: the limit; extend: the extra amount, in the clock's unit
    unit: LimitUnit | None = None  # start (an extend may repeat the clock's unit)
    kind: PauseKind | None = None  # pause only

    def __post_init__(self) -> None:
        # A malformed event cannot exist, so a stored history is always replayable.
        _aware(self.at, "计时事件时间")
        if self.op not in CLOCK_OPS:
            raise _invalid(f"未知的计时操作：{self.op!r}", "invalid_clock_event")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise _invalid("时限必须是整数", "invalid_amount")
        if self.amount < 0:
            raise _invalid("时限不能为负数", "invalid_amount")
        if self.amount and self.op not in ("start", "extend"):
            raise _invalid(f"{self.op} 不带时限", "invalid_amount")
        if self.unit is not None and (
            self.unit not in LIMIT_UNITS or self.op not in ("start", "extend")
        ):
            raise _invalid(f"时限单位无效：{self.unit!r}", "invalid_unit")
        if self.kind is not None and (self.kind not in PAUSE_KINDS or self.op != "pause"):
            raise _invalid(f"暂停类型无效：{self.kind!r}", "invalid_pause_kind")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"at": instant(self.at), "op": self.op}
        if self.amount:
            out["amount"] = self.amount
        if self.unit is not None:
            out["unit"] = self.unit
        if self.kind is not None:
            out["kind"] = self.kind
        return out

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ClockEvent:
        if not isinstance(d, Mapping):
            raise _invalid("计时事件格式错误", "invalid_clock_event")
        return cls(
            at=_parse(d.get("at"), "计时事件时间", "invalid_clock_event"),
            op=d.get("op"),  # type: ignore[arg-type]  # checked in __post_init__
            amount=d.get("amount", 0),
            unit=d.get("unit"),
            kind=d.get("kind"),
        )


# --- state -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockState:
    unit: LimitUnit
    limit: int  # the limit amount, extensions included
    started_at: datetime
    status: ClockStatus
    remaining_s: int  # working seconds of the limit left as of `since`; negative: overdue
    since: datetime  # the instant of the last event
    deadline: datetime | None  # running: due; paused: None; stopped: the one that applied last
    paused_s: dict[str, int]  # working seconds paused, by kind (only kinds that occurred)
    pause_kind: str | None  # while paused
    stopped_at: datetime | None
    elapsed_s: int = 0  # working seconds used while running, as of `since`
    last_deadline: datetime | None = None  # the deadline that applied last (kept while paused)
    counts_from: datetime | None = None  # the limit's time counts from here (None: started_at)
    # what is left of the limit itself as of `since`, never rounded up (a state stored before
    # the field existed reads it as `remaining_s`)
    budget_s: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "limit": self.limit,
            "started_at": maybe_instant(self.started_at),
            "status": self.status,
            "remaining_s": self.remaining_s,
            "since": maybe_instant(self.since),
            "deadline": maybe_instant(self.deadline),
            "paused_s": {k: self.paused_s[k] for k in PAUSE_KINDS if k in self.paused_s},
            "pause_kind": self.pause_kind,
            "stopped_at": maybe_instant(self.stopped_at),
            "elapsed_s": self.elapsed_s,
            "last_deadline": maybe_instant(self.last_deadline),
            "counts_from": maybe_instant(self.counts_from),
            "budget_s": self.budget_s,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ClockState:
        bad = "invalid_clock_state"
        try:
            paused = {str(k): int(v) for k, v in d["paused_s"].items()}
            started_at = _parse(d["started_at"], "计时开始时间", bad)
            since = _parse(d["since"], "计时时间", bad)
            state = cls(
                unit=d["unit"],
                limit=int(d["limit"]),
                started_at=started_at,
                status=d["status"],
                remaining_s=int(d["remaining_s"]),
                since=since,
                deadline=_parse_opt(d.get("deadline"), "期限", bad),
                paused_s=paused,
                pause_kind=d.get("pause_kind"),
                stopped_at=_parse_opt(d.get("stopped_at"), "计时结束时间", bad),
                elapsed_s=int(d.get("elapsed_s", 0)),
                last_deadline=_parse_opt(d.get("last_deadline"), "期限", bad),
                counts_from=_parse_opt(d.get("counts_from"), "计时起点", bad),
                budget_s=int(d["remaining_s" if d.get("budget_s") is None else "budget_s"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise _invalid("办件计时状态格式错误", bad) from None
        paused_ok = (state.status == "paused") == (state.pause_kind in PAUSE_KINDS)
        if (
            state.unit not in LIMIT_UNITS
            or state.status not in ("running", "paused", "stopped")
            or not paused_ok
            or not set(paused) <= set(PAUSE_KINDS)
        ):
            raise _invalid("办件计时状态格式错误", bad)
        return state


@dataclass(frozen=True)
class ClockView:
    status: ClockStatus
    deadline: datetime | None
    elapsed_s: int  # working seconds used while running
    remaining_s: int  # working seconds to the deadline, 0 once due
    overdue_s: int  # working seconds past the deadline, 0 if not
    paused_s: dict[str, int]
    paused_total_s: int
    limit: int
    unit: LimitUnit

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "deadline": maybe_instant(self.deadline),
            "elapsed_s": self.elapsed_s,
            "remaining_s": self.remaining_s,
            "overdue_s": self.overdue_s,
            "paused_s": dict(self.paused_s),
            "paused_total_s": self.paused_total_s,
            "limit": self.limit,
            "unit": self.unit,
        }


# --- working time by unit --------------------------------------------------------------------


def _worked(cal: HallCalendar, unit: str, start: datetime, end: datetime) -> int:
    """Working seconds in [start, end): zero when end <= start."""
    if unit == "calendar_day":
        return max(0, (end - start) // _SECOND)
    return cal.working_time_between(start, end) // _SECOND


def _used(cal: HallCalendar, state: ClockState, start: datetime, end: datetime) -> int:
    """Working seconds of the limit in [start, end): none before the limit counts."""
    return _worked(cal, state.unit, max(start, state.counts_from or state.started_at), end)


def _accrue(cal: HallCalendar, unit: str, start: datetime, seconds: int) -> datetime:
    """The instant at which `seconds` (> 0) of working time have accrued from `start`."""
    if unit == "calendar_day":
        return (start + timedelta(seconds=seconds)).astimezone(cal.tz)
    return cal.add_working_seconds(start, seconds)


def working_instant(cal: HallCalendar, unit: str, start: datetime, seconds: int) -> datetime:
    """The instant at which `seconds` of the clock's working time (by its unit) have accrued
    from `start` (`start` itself for 0): what supervision's alarm ladder counts with."""
    if seconds <= 0:
        return start.astimezone(cal.tz)
    return _accrue(cal, unit, start, seconds)


def _closing(cal: HallCalendar, day: date) -> datetime:
    return datetime.combine(day, cal.work_periods[-1][1], tzinfo=cal.tz)


def _day_deadline(cal: HallCalendar, day: date) -> datetime:
    """The end of `day`, or of the next working day when `day` is not one."""
    if not cal.is_working_day(day):
        day = cal.next_working_day(day)
    return _closing(cal, day)


def _limit_deadline(cal: HallCalendar, unit: str, base: datetime, amount: int) -> datetime:
    """`amount` of `unit` from `base` (start's rule; extend's from the current deadline)."""
    if amount == 0:
        return base.astimezone(cal.tz)
    if unit == "calendar_day":
        return _day_deadline(cal, base.astimezone(cal.tz).date() + timedelta(days=amount))
    return cal.add_working_time(base, amount, cast(Any, unit))


def _settle(cal: HallCalendar, state: ClockState, at: datetime, seconds: int) -> datetime:
    """The deadline once `seconds` of the limit are left at `at` (none left: `at` rounded up)."""
    start = max(at, state.counts_from or state.started_at)
    point = _accrue(cal, state.unit, start, seconds) if seconds > 0 else start
    if state.unit == "working_hour":
        return point
    local = point.astimezone(cal.tz)
    closing = _closing(cal, local.date())
    if not cal.is_working_day(local.date()) or local > closing:
        closing = _closing(cal, cal.next_working_day(local.date()))
    return closing


# --- the clock -------------------------------------------------------------------------------


def step(state: ClockState | None, ev: ClockEvent, cal: HallCalendar) -> ClockState:
    """The clock after `ev` (see the module docstring). Raises `Invalid`."""
    if not isinstance(ev, ClockEvent):
        raise _invalid("计时事件格式错误", "invalid_clock_event")
    at = _instant(ev.at, cal)
    if state is None:
        if ev.op != "start":
            raise _invalid("办件计时尚未开始", "clock_not_started")
        return _start(at, ev, cal)
    if state.status == "stopped":
        raise _invalid("办件计时已结束", "clock_stopped")
    if ev.op == "start":
        raise _invalid("办件计时已经开始", "clock_started")
    if at < state.since:
        raise _invalid(
            f"计时事件时间 {at:%Y-%m-%d %H:%M:%S} 早于上一事件 {state.since:%Y-%m-%d %H:%M:%S}",
            "clock_out_of_order",
        )
    if ev.op == "pause":
        return _pause(state, at, ev, cal)
    if ev.op == "resume":
        return _resume(state, at, cal)
    if ev.op == "extend":
        return _extend(state, at, ev, cal)
    return _stop(state, at, cal)


def replay(events: Iterable[ClockEvent], cal: HallCalendar) -> ClockState:
    """The clock after all `events`, in order. Raises `Invalid` (``clock_not_started`` if none)."""
    state: ClockState | None = None
    for ev in events:
        state = step(state, ev, cal)
    if state is None:
        raise _invalid("办件计时尚未开始", "clock_not_started")
    return state


def _start(at: datetime, ev: ClockEvent, cal: HallCalendar) -> ClockState:
    if ev.unit is None:
        raise _invalid("开始计时须给出时限单位", "invalid_unit")
    deadline = _limit_deadline(cal, ev.unit, at, ev.amount)
    counts_from = at
    if ev.unit != "working_hour":
        # the acceptance day is day 0: a day-unit limit counts from the next midnight
        counts_from = datetime.combine(at.date() + timedelta(days=1), time(), tzinfo=cal.tz)
    remaining = _worked(cal, ev.unit, counts_from, deadline)
    return ClockState(
        unit=ev.unit,
        limit=ev.amount,
        started_at=at,
        status="running",
        remaining_s=remaining,
        since=at,
        deadline=deadline,
        paused_s={},
        pause_kind=None,
        stopped_at=None,
        elapsed_s=0,
        last_deadline=deadline,
        counts_from=counts_from,
        budget_s=remaining,
    )


def _require_running(state: ClockState) -> None:
    if state.status != "running":
        raise _invalid("办件计时未在运行", "clock_not_running")


def _pause(state: ClockState, at: datetime, ev: ClockEvent, cal: HallCalendar) -> ClockState:
    _require_running(state)
    if ev.kind is None:
        raise _invalid("暂停计时须给出暂停类型", "invalid_pause_kind")
    used = _used(cal, state, state.since, at)
    return replace(
        state,
        status="paused",
        remaining_s=state.remaining_s - used,
        budget_s=state.budget_s - used,
        elapsed_s=state.elapsed_s + used,
        since=at,
        deadline=None,
        pause_kind=ev.kind,
    )


def _closed_pause(state: ClockState, at: datetime, cal: HallCalendar) -> dict[str, int]:
    assert state.pause_kind is not None
    paused = dict(state.paused_s)
    kind = state.pause_kind
    paused[kind] = paused.get(kind, 0) + _worked(cal, state.unit, state.since, at)
    return paused


def _resume(state: ClockState, at: datetime, cal: HallCalendar) -> ClockState:
    if state.status != "paused":
        raise _invalid("办件计时未暂停", "clock_not_paused")
    if state.remaining_s > 0:
        deadline = _settle(cal, state, at, state.budget_s)
        remaining = _used(cal, state, at, deadline)
    else:
        # due already: the deadline that passed stays the deadline
        assert state.last_deadline is not None
        deadline, remaining = state.last_deadline, state.remaining_s
    return replace(
        state,
        status="running",
        remaining_s=remaining,
        since=at,
        deadline=deadline,
        paused_s=_closed_pause(state, at, cal),
        pause_kind=None,
        last_deadline=deadline,
    )


def _extend(state: ClockState, at: datetime, ev: ClockEvent, cal: HallCalendar) -> ClockState:
    _require_running(state)
    if ev.amount <= 0:
        raise _invalid("延长的时限必须大于零", "invalid_amount")
    if ev.unit is not None and ev.unit != state.unit:
        raise _invalid(f"延长的时限单位应为 {state.unit}", "invalid_unit")
    assert state.deadline is not None
    used = _used(cal, state, state.since, at)
    extended = _limit_deadline(cal, state.unit, state.deadline, ev.amount)
    gained = _used(cal, state, state.deadline, extended)
    left, budget = state.remaining_s - used + gained, state.budget_s - used + gained
    if left > 0:
        deadline = _settle(cal, state, at, budget)
        left = _used(cal, state, at, deadline)
    else:
        deadline = extended
    return replace(
        state,
        limit=state.limit + ev.amount,
        remaining_s=left,
        budget_s=budget,
        elapsed_s=state.elapsed_s + used,
        since=at,
        deadline=deadline,
        last_deadline=deadline,
    )


def _stop(state: ClockState, at: datetime, cal: HallCalendar) -> ClockState:
    if state.status == "running":
        used = _used(cal, state, state.since, at)
        remaining, elapsed, paused = (
            state.remaining_s - used,
            state.elapsed_s + used,
            state.paused_s,
        )
    else:
        used, remaining, elapsed = 0, state.remaining_s, state.elapsed_s
        paused = _closed_pause(state, at, cal)
    return replace(
        state,
        status="stopped",
        remaining_s=remaining,
        budget_s=state.budget_s - used,
        elapsed_s=elapsed,
        since=at,
        deadline=state.last_deadline,
        paused_s=paused,
        pause_kind=None,
        stopped_at=at,
    )


def view(state: ClockState, now: datetime, cal: HallCalendar) -> ClockView:
    """The clock as a screen shows it at `now` (see the module docstring)."""
    now = _instant(_aware(now, "当前时间"), cal)
    t = max(now, state.since)
    left, elapsed, paused = state.remaining_s, state.elapsed_s, state.paused_s
    if state.status == "running":
        used = _used(cal, state, state.since, t)
        left, elapsed = left - used, elapsed + used
    elif state.status == "paused":
        paused = _closed_pause(state, t, cal)
    return ClockView(
        status=state.status,
        deadline=state.deadline,
        elapsed_s=elapsed,
        remaining_s=max(0, left),
        overdue_s=max(0, -left),
        paused_s={k: paused[k] for k in PAUSE_KINDS if k in paused},
        paused_total_s=sum(paused.values()),
        limit=state.limit,
        unit=state.unit,
    )


__all__ = [
    "CLOCK_OPS",
    "LIMIT_UNITS",
    "PAUSE_KINDS",
    "SPECIAL_PROCEDURES",
    "ClockEvent",
    "ClockOp",
    "ClockState",
    "ClockStatus",
    "ClockView",
    "LimitUnit",
    "PauseKind",
    "replay",
    "step",
    "view",
]
