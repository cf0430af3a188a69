"""Property tests of the case clock (server/domain/case_clock.py), with hypothesis.

Random hall calendars (a hall's usual hours or one to three periods anywhere in the day; random
overrides over a 120-day window: weekday holidays and working weekend days) and random valid
histories of one case in all three units: a start, then pauses, resumes and extensions in time
order, maybe a stop. Where the limit counts from (`History.origin`: the acceptance day is day 0
for the day units) and the limit rule (`limit_deadline`) are restated here from the module
docstring, not imported."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from server.domain.calendar import HallCalendar
from server.domain.case_clock import (
    LIMIT_UNITS,
    PAUSE_KINDS,
    ClockEvent,
    ClockState,
    replay,
    step,
    view,
)

SH = ZoneInfo("Asia/Shanghai")
WINDOW = date(2027, 3, 1)  # past the statutory data: only the generated overrides apply
WINDOW_DAYS = 120
FAST = settings(max_examples=150, deadline=None)


@st.composite
def calendars(draw) -> HallCalendar:
    # half the time a hall's usual hours (08:30–09:00 to 12:00, 13:00–14:30 to 17:00–18:00), else
    # any one to three periods, down to a minute long, anywhere in the day
    usual = st.tuples(
        st.integers(510, 540), st.just(720), st.integers(780, 870), st.integers(1020, 1080)
    ).map(list)
    anywhere = st.lists(st.integers(0, 1439), min_size=2, max_size=6, unique=True).map(sorted)
    minutes = draw(st.one_of(usual, anywhere))
    minutes = minutes[: len(minutes) // 2 * 2]
    periods = tuple(
        (time(b // 60, b % 60), time(e // 60, e % 60))
        for b, e in zip(minutes[::2], minutes[1::2], strict=True)
    )
    # Each set bit turns a day of the window over: a weekday into a holiday, a weekend day into
    # an adjusted working day. Three masks and-ed: about one day in eight (cheap to draw).
    flips = 2**WINDOW_DAYS - 1
    for _ in range(3):
        flips &= draw(st.integers(0, 2**WINDOW_DAYS - 1))
    overrides = {}
    for i in range(WINDOW_DAYS):
        if flips >> i & 1:
            day = WINDOW + timedelta(days=i)
            overrides[day] = day.weekday() >= 5
    return HallCalendar(overrides=overrides, work_periods=periods)


@dataclass(frozen=True)
class History:
    cal: HallCalendar
    events: tuple[ClockEvent, ...]

    @property
    def unit(self) -> str:
        assert self.events[0].unit is not None
        return self.events[0].unit

    @property
    def origin(self) -> datetime:
        """Where the limit starts counting: the acceptance day is day 0 for the day units."""
        first = self.events[0]
        if self.unit == "working_hour":
            return first.at
        return datetime.combine(first.at.astimezone(SH).date() + timedelta(days=1), time(), SH)


GAPS = st.one_of(
    st.just(0),
    st.integers(1, 3600),
    st.integers(3600, 86400),
    st.integers(86400, 6 * 86400),
)


@st.composite
def histories(draw, ops=True) -> History:
    cal = draw(calendars())
    unit = draw(st.sampled_from(LIMIT_UNITS))
    # limits of a few weeks at most, however short the working day (a minute is possible)
    day_minutes = sum(e.hour * 60 + e.minute - b.hour * 60 - b.minute for b, e in cal.work_periods)
    most = min(40, max(1, day_minutes // 6)) if unit == "working_hour" else 15
    amount = draw(st.integers(0, most))
    t = datetime.combine(WINDOW, time(), tzinfo=SH) + timedelta(
        seconds=draw(st.integers(0, 50 * 86400))
    )
    events = [ClockEvent(at=t, op="start", amount=amount, unit=unit)]  # type: ignore[arg-type]
    status = "running"
    for _ in range(draw(st.integers(2, 9)) if ops else 0):
        t += timedelta(seconds=draw(GAPS))
        if status == "running":
            op = draw(st.sampled_from(["pause", "pause", "extend", "pause", "extend", "stop"]))
        else:
            op = draw(st.sampled_from(["resume", "resume", "resume", "stop"]))
        if op == "pause":
            events.append(ClockEvent(at=t, op="pause", kind=draw(st.sampled_from(PAUSE_KINDS))))
            status = "paused"
        elif op == "extend":
            extra = draw(st.integers(1, max(1, min(10, most // 2))))
            events.append(ClockEvent(at=t, op="extend", amount=extra))
        else:
            events.append(ClockEvent(at=t, op=op))  # type: ignore[arg-type]
            status = "running"
        if op == "stop":
            break
    return History(cal, tuple(events))


def worked(cal: HallCalendar, unit: str, a: datetime, b: datetime) -> int:
    """Working seconds in [a, b), computed here without the clock's helpers."""
    if unit == "calendar_day":
        return max(0, int((b - a).total_seconds()))
    return int(cal.working_time_between(a, b).total_seconds())


def intervals(events: tuple[ClockEvent, ...]):
    """(pause kind or None for running, from, to) for every closed interval of the history."""
    out = []
    for ev, nxt in itertools.pairwise(events):
        if ev.op != "stop":
            out.append((ev.kind if ev.op == "pause" else None, ev.at, nxt.at))
    return out


def limit_deadline(cal: HallCalendar, unit: str, base: datetime, amount: int) -> datetime:
    """`amount` of `unit` from `base`, by the rule the module docstring states."""
    if amount == 0:
        return base
    if unit != "calendar_day":
        return cal.add_working_time(base, amount, unit)  # type: ignore[arg-type]
    day = base.astimezone(SH).date() + timedelta(days=amount)
    while not cal.is_working_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, cal.work_periods[-1][1], tzinfo=SH)


def _at(t: time) -> datetime:
    """`t` on an ordinary working Monday outside the window (for the length of a day)."""
    return datetime.combine(date(2027, 1, 11), t, SH)


def signed_remaining(v) -> int:
    return v.remaining_s - v.overdue_s


# --- the server's contract: stepping through JSON == replay ---------------------------------


@FAST
@given(histories())
def test_stepping_through_json_after_every_event_equals_replay(h: History):
    state: ClockState | None = None
    for i, ev in enumerate(h.events):
        state = step(state, ev, h.cal)
        blob = json.loads(json.dumps(state.to_json()))
        state = ClockState.from_json(blob)
        stored_events = [
            ClockEvent.from_json(json.loads(json.dumps(e.to_json()))) for e in h.events[: i + 1]
        ]
        replayed = replay(stored_events, h.cal)
        assert replayed == state
        assert replayed.to_json() == blob  # what the service compares after a calendar change
        # the state's own invariants
        assert state.since == ev.at
        if state.last_deadline is not None and h.unit != "working_hour":
            # a day-unit deadline ends a working day (an immediate item's is its acceptance)
            local = state.last_deadline.astimezone(SH)
            closing = h.cal.is_working_day(local.date()) and (
                local.timetz().replace(tzinfo=None) == h.cal.work_periods[-1][1]
            )
            assert closing or state.last_deadline == h.events[0].at
        if state.status == "running":
            assert state.deadline is not None and state.deadline == state.last_deadline
            if state.remaining_s > 0:
                counted_from = max(state.since, h.origin)
                assert state.remaining_s == worked(h.cal, h.unit, counted_from, state.deadline)
            else:
                assert state.deadline <= state.since
        elif state.status == "paused":
            assert state.deadline is None and state.pause_kind in PAUSE_KINDS
        else:
            assert state.deadline == state.last_deadline and state.stopped_at == ev.at


# --- a plain limit --------------------------------------------------------------------------


@FAST
@given(histories(ops=False))
def test_without_pauses_or_extensions_the_deadline_is_the_calendars(h: History):
    s = replay(h.events, h.cal)
    first = h.events[0]
    # working units: cal.add_working_time; calendar days: the date rule, rolled to a working day
    expected = limit_deadline(h.cal, h.unit, first.at, first.amount)
    assert s.deadline == expected and s.counts_from == h.origin
    assert s.remaining_s == worked(h.cal, h.unit, h.origin, expected)
    if h.unit == "working_day":  # whole working days
        day = sum(worked(h.cal, h.unit, *map(_at, p)) for p in h.cal.work_periods)
        assert s.remaining_s == first.amount * day
    assert s.limit == first.amount and s.elapsed_s == 0 and s.paused_s == {}


# --- pauses ---------------------------------------------------------------------------------


@FAST
@given(histories(), st.integers(0, 10 * 86400))
def test_pauses_never_make_the_deadline_earlier_and_are_counted_by_kind(h: History, later: int):
    with_pauses = replay(h.events, h.cal)
    without = replay([e for e in h.events if e.op not in ("pause", "resume")], h.cal)
    assert with_pauses.last_deadline is not None and without.last_deadline is not None
    assert with_pauses.last_deadline >= without.last_deadline

    paused: dict[str, int] = {}
    running = 0
    for kind, a, b in intervals(h.events):
        if kind is None:
            running += worked(h.cal, h.unit, max(a, h.origin), b)
        else:
            paused[kind] = paused.get(kind, 0) + worked(h.cal, h.unit, a, b)
    assert with_pauses.elapsed_s == running
    assert with_pauses.paused_s == paused
    # a screen also counts the pause under way
    now = with_pauses.since + timedelta(seconds=later)
    v = view(with_pauses, now, h.cal)
    if with_pauses.status == "paused":
        kind = with_pauses.pause_kind
        assert kind is not None
        paused[kind] = paused.get(kind, 0) + worked(h.cal, h.unit, with_pauses.since, now)
    assert v.paused_s == paused and v.paused_total_s == sum(paused.values())


@FAST
@given(histories(), st.lists(st.integers(0, 5 * 86400), min_size=1, max_size=3))
def test_pauses_do_not_consume_the_limit(h: History, offsets: list[int]):
    """elapsed + remaining == the working time from where the limit counts to the first
    deadline, plus each extension's (from the deadline it extended): exactly for working hours,
    and for the day units when nothing paused; a resume's rounding up to closing may only add
    to it."""
    paused = any(e.op == "pause" for e in h.events)
    budget = 0
    state: ClockState | None = None
    for ev in h.events:
        before, state = state, step(state, ev, h.cal)
        if before is None:
            assert state.deadline is not None
            budget = worked(h.cal, h.unit, h.origin, state.deadline)
        elif ev.op == "extend":
            assert before.deadline is not None
            extended = limit_deadline(h.cal, h.unit, before.deadline, ev.amount)
            budget += worked(h.cal, h.unit, max(before.deadline, h.origin), extended)
        elif ev.op == "resume":
            # a resume never takes from the limit, and its deadline is not before the limit
            # runs out; a case due when paused stays due as it was
            assert state.budget_s == before.budget_s
            if before.remaining_s <= 0:
                assert state.remaining_s == before.remaining_s
            elif state.budget_s > 0:
                assert state.remaining_s >= state.budget_s
        # the limit itself: its working time, extensions added, less what was used, never
        # rounded up (the rounding at resume is not added to it)
        assert state.budget_s == budget - state.elapsed_s
        if state.status != "running":
            continue
        for offset in offsets:
            v = view(state, state.since + timedelta(seconds=offset), h.cal)
            used_and_left = v.elapsed_s + signed_remaining(v)
            if h.unit == "working_hour":
                assert used_and_left == budget == state.limit * 3600
            elif not paused:
                assert used_and_left == budget
            else:
                assert used_and_left >= budget


# --- view agrees with stop ------------------------------------------------------------------


@FAST
@given(histories(), st.integers(0, 8 * 86400))
def test_view_at_a_moment_is_what_stopping_then_would_record(h: History, offset: int):
    state = replay(h.events, h.cal)
    if state.status == "stopped":
        return
    now = state.since + timedelta(seconds=offset)
    v = view(state, now, h.cal)
    done = step(state, ClockEvent(at=now, op="stop"), h.cal)
    assert signed_remaining(v) == done.remaining_s
    assert v.elapsed_s == done.elapsed_s and v.paused_s == done.paused_s
    assert min(v.remaining_s, v.overdue_s) == 0
    if state.status == "running" and state.remaining_s > 0:
        assert state.deadline is not None
        # running, remaining is the limit's working time to the deadline, overdue past it
        left = worked(h.cal, h.unit, max(now, h.origin), state.deadline)
        assert v.remaining_s == left
        assert v.overdue_s == worked(h.cal, h.unit, state.deadline, now)


# --- repricing ------------------------------------------------------------------------------


@FAST
@given(histories(), st.data())
def test_one_more_holiday_never_brings_the_deadline_forward(h: History, data):
    # the day that becomes a holiday: mostly one the history touches (acceptance, a pause, a
    # resume and the days after them), else any day of the window
    near = data.draw(st.sampled_from(h.events)).at.astimezone(SH).date()
    day = data.draw(
        st.one_of(
            st.integers(0, 3).map(lambda i: near + timedelta(days=i)),
            st.integers(0, WINDOW_DAYS - 1).map(lambda i: WINDOW + timedelta(days=i)),
        )
    )
    assume(h.cal.is_working_day(day))
    holiday = HallCalendar(
        overrides={**h.cal.overrides, day: False}, work_periods=h.cal.work_periods
    )
    before = replay(h.events, h.cal).last_deadline
    after = replay(h.events, holiday).last_deadline
    assert before is not None and after is not None
    assert after >= before


# --- found by the holiday property on a CI run (7 December 2026) ------------------------------
# A resume used to re-derive the limit from the day-end-rounded deadline, so pauses resumed mid-day
# added the rest of that day to the limit, once per resume; with one more holiday on the resume
# day there was nothing to add, and the deadline came out earlier.


def test_pauses_resumed_mid_day_do_not_inflate_the_budget():
    minute_days = ((time(0, 0), time(0, 1)),)  # a one-minute working day shows it in seconds
    plain = HallCalendar(overrides={}, work_periods=minute_days)
    holiday = HallCalendar(overrides={date(2027, 3, 2): False}, work_periods=minute_days)

    def t(day: int, second: int = 0) -> datetime:
        return datetime(2027, 3, day, 0, 0, second, tzinfo=SH)

    events = [
        ClockEvent(at=t(1), op="start", amount=0, unit="working_day"),
        ClockEvent(at=t(1), op="extend", amount=1),
        ClockEvent(at=t(1, 1), op="pause", kind="supplement"),
        ClockEvent(at=t(2, 1), op="resume"),
        ClockEvent(at=t(2, 1), op="pause", kind="supplement"),
        ClockEvent(at=t(2, 2), op="resume"),
        ClockEvent(at=t(2, 2), op="pause", kind="supplement"),
    ]
    before = replay(events, plain)
    after = replay(events, holiday)
    assert before.last_deadline is not None and after.last_deadline is not None
    assert after.last_deadline >= before.last_deadline
    # the extension's minute of day 2 is the whole limit; the two resumes on day 2 add nothing
    # to it: due at the end of day 3's minute, 60 s of the limit left (none used while paused)
    assert before.budget_s == 60 and before.last_deadline == datetime(2027, 3, 3, 0, 1, tzinfo=SH)
