"""The case clock (server/domain/case_clock.py): golden cases, pure, no database.

The calendar is the real 2025–2026 statutory one from chinese_calendar 1.11.0 (via
calendar_from_library) with work periods 09:00–12:00 and 13:00–17:00 (7 working hours a day) in
Asia/Shanghai. Every date the expectations lean on is asserted against the library data first;
the expected instants and second counts are derived by hand in the comments."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.domain.calendar import HallCalendar, calendar_from_library, parse_work_periods
from server.domain.case_clock import (
    PAUSE_KINDS,
    SPECIAL_PROCEDURES,
    ClockEvent,
    ClockState,
    replay,
    step,
    view,
)
from server.domain.errors import Invalid

SH = ZoneInfo("Asia/Shanghai")
LIBRARY = calendar_from_library([2025, 2026])
CAL = HallCalendar(
    overrides={day: working for day, (working, _note) in LIBRARY.items()},
    work_periods=parse_work_periods([["09:00", "12:00"], ["13:00", "17:00"]]),
)
H = 3600  # one working hour in seconds
D = 7 * H  # one whole working day


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SH)


def start(when: datetime, amount: int, unit: str) -> ClockEvent:
    return ClockEvent(at=when, op="start", amount=amount, unit=unit)  # type: ignore[arg-type]


def pause(when: datetime, kind: str = "supplement") -> ClockEvent:
    return ClockEvent(at=when, op="pause", kind=kind)  # type: ignore[arg-type]


def resume(when: datetime) -> ClockEvent:
    return ClockEvent(at=when, op="resume")


def extend(when: datetime, amount: int) -> ClockEvent:
    return ClockEvent(at=when, op="extend", amount=amount)


def stop(when: datetime) -> ClockEvent:
    return ClockEvent(at=when, op="stop")


def run(*events: ClockEvent) -> ClockState:
    """replay(), checked against stepping with a JSON round trip after every event."""
    state: ClockState | None = None
    for ev in events:
        state = step(state, ev, CAL)
        state = ClockState.from_json(json.loads(json.dumps(state.to_json())))
    assert state is not None
    assert replay(events, CAL) == state
    return state


def test_constants():
    assert PAUSE_KINDS == (
        "supplement",
        "escalation",
        "hearing",
        "testing",
        "inspection",
        "expert_review",
    )
    assert SPECIAL_PROCEDURES == ("hearing", "testing", "inspection", "expert_review")


# --- start: the deadline of a fresh limit ---------------------------------------------------


def test_three_working_days_before_national_day_2026_end_on_the_adjusted_saturday():
    # Oct 1–7 off (weekday holidays 1, 2, 5, 6, 7; 3/4 weekend); Sat Oct 10 is 调休, Sun 11 off.
    assert [d for d in range(1, 8) if CAL.is_working_day(date(2026, 10, d))] == []
    assert LIBRARY[date(2026, 10, 10)] == (True, "调休上班")
    assert date(2026, 10, 10).weekday() == 5 and not CAL.is_working_day(date(2026, 10, 11))
    # Wed Sep 30 10:00 is day 0; Thu Oct 8 (1), Fri Oct 9 (2), Sat Oct 10 (3)
    s = run(start(at(2026, 9, 30, 10), 3, "working_day"))
    assert s.deadline == at(2026, 10, 10, 17)
    assert s.status == "running" and s.limit == 3 and s.unit == "working_day"
    assert s.started_at == s.since == at(2026, 9, 30, 10)
    # the acceptance day is day 0: the limit counts from midnight, three whole days
    assert s.counts_from == at(2026, 10, 1)
    assert s.remaining_s == 3 * D
    v = view(s, at(2026, 9, 30, 16), CAL)  # later on day 0 nothing is used yet
    assert (v.elapsed_s, v.remaining_s) == (0, 3 * D)
    assert s.paused_s == {} and s.pause_kind is None and s.stopped_at is None
    # one day more skips the Sunday
    assert run(start(at(2026, 9, 30, 10), 4, "working_day")).deadline == at(2026, 10, 12, 17)


def test_spring_festival_2026_counts_both_adjusted_saturdays():
    # Sat Feb 14 and Sat Feb 28 are 调休 working days; Feb 15–23 are off.
    assert LIBRARY[date(2026, 2, 14)] == (True, "调休上班")
    assert LIBRARY[date(2026, 2, 28)] == (True, "调休上班")
    assert [d for d in range(14, 29) if not CAL.is_working_day(date(2026, 2, d))] == list(
        range(15, 24)
    )
    # Accepted on Sat Feb 14, the last working day before the festival: Feb 24, 25, 26, 27 and
    # the 调休 Saturday Feb 28 are working days 1–5.
    s = run(start(at(2026, 2, 14, 10), 5, "working_day"))
    assert s.deadline == at(2026, 2, 28, 17)
    assert s.remaining_s == 5 * D
    # Feb 26 noon: Feb 24, 25 and that morning used (2 days 3 h), the afternoon and 2 days left
    v = view(s, at(2026, 2, 26, 12), CAL)
    assert (v.elapsed_s, v.remaining_s) == (2 * D + 3 * H, 2 * D + 4 * H)
    # Accepted Fri Feb 13: the 调休 Saturday Feb 14 is day 1, then Feb 24–27 -> Fri Feb 27.
    assert run(start(at(2026, 2, 13, 11), 5, "working_day")).deadline == at(2026, 2, 27, 17)


def test_accepted_friday_after_hours():
    assert date(2026, 3, 13).weekday() == 4 and all(
        date(2026, 3, d) not in LIBRARY for d in range(13, 17)
    )
    friday_evening = at(2026, 3, 13, 17, 20)
    # one working day: the acceptance day is day 0, Mon Mar 16 is day 1
    day = run(start(friday_evening, 1, "working_day"))
    assert day.deadline == at(2026, 3, 16, 17) and day.remaining_s == D
    # four working hours: Mon 09–12 and 13–14
    hours = run(start(friday_evening, 4, "working_hour"))
    assert hours.deadline == at(2026, 3, 16, 14) and hours.remaining_s == 4 * H
    # over the weekend nothing is used
    v = view(hours, at(2026, 3, 15, 12), CAL)
    assert (v.elapsed_s, v.remaining_s, v.overdue_s) == (0, 4 * H, 0)
    # Mon 13:30: three and a half hours used
    v = view(hours, at(2026, 3, 16, 13, 30), CAL)
    assert (v.elapsed_s, v.remaining_s, v.overdue_s) == (3 * H + 1800, 1800, 0)
    # Mon 16:00: two hours overdue
    v = view(hours, at(2026, 3, 16, 16), CAL)
    assert (v.elapsed_s, v.remaining_s, v.overdue_s) == (6 * H, 0, 2 * H)


def test_immediate_item_is_due_at_once():
    # in working hours, overdue from acceptance
    s = run(start(at(2026, 3, 11, 10), 0, "working_hour"))
    assert s.deadline == at(2026, 3, 11, 10) and s.remaining_s == 0
    v = view(s, at(2026, 3, 11, 10), CAL)
    assert (v.remaining_s, v.overdue_s) == (0, 0)
    assert view(s, at(2026, 3, 11, 11, 30), CAL).overdue_s == 5400
    # in working days, day 0 is not counted: done the same day is on time, overdue from day 1
    day = run(start(at(2026, 3, 11, 10), 0, "working_day"))
    assert day.deadline == at(2026, 3, 11, 10) and day.remaining_s == 0
    assert view(day, at(2026, 3, 11, 16), CAL).overdue_s == 0
    assert view(day, at(2026, 3, 12, 10), CAL).overdue_s == H
    done = run(start(at(2026, 3, 11, 10), 0, "working_day"), stop(at(2026, 3, 11, 15)))
    assert done.status == "stopped" and done.remaining_s == 0
    assert done.deadline == at(2026, 3, 11, 10)
    # extended by a day on day 0: Thu Mar 12 at closing
    more = run(start(at(2026, 3, 11, 10), 0, "working_day"), extend(at(2026, 3, 11, 11), 1))
    assert more.deadline == at(2026, 3, 12, 17) and more.remaining_s == D


# --- calendar days --------------------------------------------------------------------------


def test_calendar_days_ending_on_a_holiday_roll_to_the_next_working_day():
    assert LIBRARY[date(2026, 10, 1)] == (False, "国庆节")
    # Mon Sep 21 + 10 days = Thu Oct 1 (国庆) -> the next working day, Thu Oct 8, at closing
    s = run(start(at(2026, 9, 21, 10), 10, "calendar_day"))
    assert s.deadline == at(2026, 10, 8, 17)
    # wall clock from midnight after the acceptance day: Sep 22 00:00 -> Oct 8 17:00
    assert s.remaining_s == 16 * 86400 + 17 * H
    # Wed Sep 30 + 10 = Sat Oct 10, a 调休 working day: no roll
    assert run(start(at(2026, 9, 30, 10), 10, "calendar_day")).deadline == at(2026, 10, 10, 17)
    # Fri Mar 6 + 9 = Sun Mar 15 -> Mon Mar 16
    assert run(start(at(2026, 3, 6, 10), 9, "calendar_day")).deadline == at(2026, 3, 16, 17)
    # accepted after closing: the day still counts from the acceptance date
    assert run(start(at(2026, 3, 9, 20), 1, "calendar_day")).deadline == at(2026, 3, 10, 17)


def test_calendar_day_pause_moves_the_deadline_by_wall_clock_time():
    # 10 days from Mon Mar 2 -> Thu Mar 12 17:00. A hearing from Wed Mar 4 10:00 to Fri Mar 6
    # 10:00 (48 h) leaves 8 d 7 h at resume: Sat Mar 14 17:00, not a working day -> Mon 16.
    s = run(
        start(at(2026, 3, 2, 10), 10, "calendar_day"),
        pause(at(2026, 3, 4, 10), "hearing"),
        resume(at(2026, 3, 6, 10)),
    )
    assert s.deadline == at(2026, 3, 16, 17)
    assert s.paused_s == {"hearing": 48 * H}
    assert s.remaining_s == 10 * 86400 + 7 * H  # Fri 10:00 -> Mon 16 17:00


# --- pauses ---------------------------------------------------------------------------------


def test_supplement_pause_across_a_weekend_extends_by_exactly_the_working_time_paused():
    # 20 working hours from Thu Mar 12 10:00: Thu 6 + Fri 7 + Mon 7 -> Mon Mar 16 17:00
    accepted = start(at(2026, 3, 12, 10), 20, "working_hour")
    assert run(accepted).deadline == at(2026, 3, 16, 17)
    # paused Fri 15:00: used Thu 6 h + Fri 09–12, 13–15 = 11 h, 9 h left
    paused = run(accepted, pause(at(2026, 3, 13, 15)))
    assert paused.status == "paused" and paused.pause_kind == "supplement"
    assert paused.deadline is None and paused.last_deadline == at(2026, 3, 16, 17)
    assert paused.remaining_s == 9 * H and paused.elapsed_s == 11 * H
    v = view(paused, at(2026, 3, 14, 12), CAL)  # Saturday: the pause so far is Fri 15–17
    assert (v.status, v.deadline, v.remaining_s, v.overdue_s) == ("paused", None, 9 * H, 0)
    assert v.paused_s == {"supplement": 2 * H} and v.paused_total_s == 2 * H
    # resumed Mon 11:00: paused Fri 15–17 and Mon 09–11 = 4 working hours, so the deadline
    # moves from Mon 17:00 by 4 working hours: Tue 09–12, 13–14 -> Tue Mar 17 14:00
    s = run(accepted, pause(at(2026, 3, 13, 15)), resume(at(2026, 3, 16, 11)))
    assert s.paused_s == {"supplement": 4 * H}
    assert s.deadline == at(2026, 3, 17, 14)
    assert s.deadline == CAL.add_working_time(at(2026, 3, 16, 17), 4, "working_hour")
    assert s.remaining_s == 9 * H and s.status == "running" and s.pause_kind is None
    # the pause did not use the limit: 20 h in all
    v = view(s, at(2026, 3, 17, 10), CAL)
    assert v.elapsed_s + v.remaining_s == 20 * H and v.elapsed_s == 11 * H + 5 * H + H


def test_working_day_pause_rounds_the_deadline_up_to_closing():
    # 5 working days from Mon Mar 9 10:00 -> Mon Mar 16 17:00. Paused Fri 16:00 to Mon 10:00:
    # 2 working hours, so 8 h are left at Mon 10:00 -> Tue 11:00 -> that day's closing.
    s = run(
        start(at(2026, 3, 9, 10), 5, "working_day"),
        pause(at(2026, 3, 13, 16)),
        resume(at(2026, 3, 16, 10)),
    )
    assert s.paused_s == {"supplement": 2 * H}
    assert s.deadline == at(2026, 3, 17, 17)
    assert s.remaining_s == 6 * H + D  # Mon 10–17 without lunch, all Tuesday


def test_escalation_pause():
    # 3 working days from Mon Mar 2 09:30 -> Thu Mar 5 17:00; 6.5 h of Monday used
    accepted = start(at(2026, 3, 2, 9, 30), 3, "working_day")
    assert run(accepted).deadline == at(2026, 3, 5, 17)
    # Monday is day 0 and Tuesday had not opened yet: nothing of the limit is used
    escalated = run(accepted, pause(at(2026, 3, 3, 9), "escalation"))
    assert escalated.remaining_s == 3 * D and escalated.elapsed_s == 0
    v = view(escalated, at(2026, 3, 6, 12), CAL)  # Tue, Wed, Thu and Fri morning paused
    assert v.paused_s == {"escalation": 3 * D + 3 * H} and v.remaining_s == 3 * D
    # back on Tue Mar 10 09:00 after five whole working days (Mar 3–6, 9): 21 h left -> Thu 12
    s = run(accepted, pause(at(2026, 3, 3, 9), "escalation"), resume(at(2026, 3, 10, 9)))
    assert s.paused_s == {"escalation": 5 * D}
    assert s.deadline == at(2026, 3, 12, 17)
    assert s.deadline == CAL.add_working_time(at(2026, 3, 5, 17), 5, "working_day")


def test_a_pause_on_the_acceptance_day_moves_no_day_unit_deadline():
    # 1 working day from Wed Mar 11 10:00 -> Thu Mar 12 17:00. A supplement requested at 10:30
    # and brought in at 16:00 the same day: day 0 does not count, so nothing moves.
    accepted = start(at(2026, 3, 11, 10), 1, "working_day")
    same_day = run(accepted, pause(at(2026, 3, 11, 10, 30)), resume(at(2026, 3, 11, 16)))
    assert same_day.deadline == at(2026, 3, 12, 17) and same_day.remaining_s == D
    assert same_day.paused_s == {"supplement": 4 * H + 1800}  # still recorded
    # brought in on Thu at 10:00: only Thu 09–10 is paused time of the limit; 6 h are left at
    # 10:00 -> Thu 17:00 -> Fri 10:00 -> Fri's closing
    next_day = run(accepted, pause(at(2026, 3, 11, 10, 30)), resume(at(2026, 3, 12, 10)))
    assert next_day.deadline == at(2026, 3, 13, 17)
    assert next_day.paused_s == {"supplement": 6 * H + 1800}  # Wed 10:30–12, 13–17; Thu 09–10
    # the same for calendar days: 2 days from Wed 10:00 -> Fri 13 17:00; a pause on Wed only
    cal_days = run(
        start(at(2026, 3, 11, 10), 2, "calendar_day"),
        pause(at(2026, 3, 11, 11), "testing"),
        resume(at(2026, 3, 11, 23)),
    )
    assert cal_days.deadline == at(2026, 3, 13, 17) and cal_days.paused_s == {"testing": 12 * H}


def test_a_holiday_declared_on_the_acceptance_day_changes_no_deadline():
    # Repricing: the hall marks Wed Mar 11 closed after the fact. Day 0 was not counted anyway.
    closed = HallCalendar(
        overrides={**CAL.overrides, date(2026, 3, 11): False}, work_periods=CAL.work_periods
    )
    events = (
        start(at(2026, 3, 11, 10), 1, "working_day"),
        pause(at(2026, 3, 11, 10)),
        resume(at(2026, 3, 11, 16)),
    )
    assert replay(events, CAL).deadline == replay(events, closed).deadline == at(2026, 3, 12, 17)
    # a holiday on day 1 moves it a day later
    thursday = HallCalendar(
        overrides={**CAL.overrides, date(2026, 3, 12): False}, work_periods=CAL.work_periods
    )
    assert replay(events, thursday).deadline == at(2026, 3, 13, 17)


def test_pauses_of_several_kinds_add_up_by_kind():
    s = run(
        start(at(2026, 3, 2, 9), 10, "working_day"),
        pause(at(2026, 3, 3, 9), "testing"),
        resume(at(2026, 3, 3, 11)),
        pause(at(2026, 3, 4, 14), "supplement"),
        resume(at(2026, 3, 4, 16)),
        pause(at(2026, 3, 5, 9), "testing"),
        resume(at(2026, 3, 5, 10)),
    )
    assert s.paused_s == {"testing": 3 * H, "supplement": 2 * H}
    assert list(s.to_json()["paused_s"]) == ["supplement", "testing"]  # PAUSE_KINDS order
    v = view(s, at(2026, 3, 5, 10), CAL)
    assert v.paused_total_s == 5 * H


def test_a_case_paused_when_overdue_stays_due_and_keeps_its_overdue_time():
    # 1 working hour from Wed Mar 11 09:00 -> 10:00; paused at 11:00, an hour overdue
    accepted = start(at(2026, 3, 11, 9), 1, "working_hour")
    late = run(accepted, pause(at(2026, 3, 11, 11)))
    assert late.remaining_s == -H
    v = view(late, at(2026, 3, 11, 15), CAL)
    assert (v.remaining_s, v.overdue_s) == (0, H)
    back = run(accepted, pause(at(2026, 3, 11, 11)), resume(at(2026, 3, 12, 9)))
    assert back.deadline == at(2026, 3, 11, 10) and back.remaining_s == -H
    assert back.paused_s == {"supplement": 5 * H}  # Wed 11–12, 13–17
    v = view(back, at(2026, 3, 12, 10), CAL)  # the pause is not overdue time
    assert (v.remaining_s, v.overdue_s, v.elapsed_s) == (0, 2 * H, 3 * H)
    # an extension then counts from the deadline that passed, as without the pause: Wed 10:00
    # + 6 h = Wed 17:00; 2 h overdue by Thu 10:00, so 4 h are left -> Thu 10–12, 13–15
    extended = run(
        accepted,
        pause(at(2026, 3, 11, 11)),
        resume(at(2026, 3, 12, 9)),
        extend(at(2026, 3, 12, 10), 6),
    )
    assert extended.remaining_s == 4 * H and extended.deadline == at(2026, 3, 12, 15)
    # without the pause Wed 10–12, 13–17 and Thu 09–10 were all overdue: 1 h short
    unpaused = run(accepted, extend(at(2026, 3, 12, 10), 6))
    assert unpaused.deadline == at(2026, 3, 11, 17) and unpaused.remaining_s == -H


# --- extension (§42) ------------------------------------------------------------------------


def test_extension_of_ten_working_days():
    # 端午 Fri Jun 19 2026 is the only holiday in June and July
    assert [d for d in LIBRARY if date(2026, 6, 1) <= d <= date(2026, 7, 31)] == [date(2026, 6, 19)]
    # 20 working days from Mon Jun 1: Jun 2–5 (4), 8–12 (9), 15–18 (13), 22–26 (18), 29, 30
    accepted = start(at(2026, 6, 1, 10), 20, "working_day")
    assert run(accepted).deadline == at(2026, 6, 30, 17)
    # extended on Thu Jun 25 by 10: Jul 1–3 (3), 6–10 (8), 13, 14 -> Tue Jul 14
    s = run(accepted, extend(at(2026, 6, 25, 10), 10))
    assert s.deadline == at(2026, 7, 14, 17) and s.last_deadline == s.deadline
    assert s.limit == 30
    # Thu 25 from 10:00 (6 h), Jun 26, 29, 30, then ten whole days
    assert s.remaining_s == 6 * H + 3 * D + 10 * D
    v = view(s, at(2026, 6, 25, 10), CAL)
    # Jun 2–24 are 16 working days, then Jun 25 09–10
    assert v.elapsed_s == 16 * D + H and v.elapsed_s + v.remaining_s == 30 * D
    # the clock's unit may be repeated on the event
    same = ClockEvent(at=at(2026, 6, 25, 10), op="extend", amount=10, unit="working_day")
    assert run(accepted, same) == s


def test_extension_of_calendar_days_counts_from_the_deadline_day():
    # Mon Sep 21 + 10 -> Oct 1 (holiday) -> Oct 8; extended by 2 from Oct 8 -> Sat Oct 10 (调休)
    s = run(start(at(2026, 9, 21, 10), 10, "calendar_day"), extend(at(2026, 9, 28, 9), 2))
    assert s.deadline == at(2026, 10, 10, 17) and s.limit == 12


def test_extension_after_the_deadline_keeps_the_overdue_time():
    # 2 working hours from Wed Mar 11 09:00 -> 11:00; extended at 13:00 (1 h late) by 3 h
    s = run(start(at(2026, 3, 11, 9), 2, "working_hour"), extend(at(2026, 3, 11, 13), 3))
    assert s.deadline == at(2026, 3, 11, 15)  # 11–12, 13–15
    assert s.remaining_s == 2 * H
    # extended at 16:00 by 1 h only: still overdue, due since the new deadline 12:00 (11–12;
    # an amount used up at a period's end ends there), 13–16 overdue
    late = run(start(at(2026, 3, 11, 9), 2, "working_hour"), extend(at(2026, 3, 11, 16), 1))
    assert late.deadline == at(2026, 3, 11, 12) and late.remaining_s == -3 * H


# --- stop -----------------------------------------------------------------------------------


def test_stop_early_saves_time_and_stop_late_is_overdue():
    # 4 working hours from Wed Mar 11 09:00 -> 09–12, 13–14
    accepted = start(at(2026, 3, 11, 9), 4, "working_hour")
    early = run(accepted, stop(at(2026, 3, 11, 11)))
    assert early.status == "stopped" and early.stopped_at == at(2026, 3, 11, 11)
    assert early.deadline == at(2026, 3, 11, 14)
    assert early.remaining_s == 2 * H and early.elapsed_s == 2 * H  # 11–12, 13–14 saved
    v = view(early, at(2026, 3, 20, 12), CAL)  # long after: still as of the stop
    assert (v.status, v.elapsed_s, v.remaining_s, v.overdue_s) == ("stopped", 2 * H, 2 * H, 0)
    late = run(accepted, stop(at(2026, 3, 11, 16)))
    assert late.remaining_s == -2 * H
    v = view(late, at(2026, 3, 11, 16), CAL)
    assert (v.remaining_s, v.overdue_s, v.elapsed_s) == (0, 2 * H, 6 * H)
    # 1 working day from Thu Mar 12 -> Fri 17:00; stopped Mon 10:00: the weekend is not overdue
    weekend = run(start(at(2026, 3, 12, 10), 1, "working_day"), stop(at(2026, 3, 16, 10)))
    assert weekend.remaining_s == -H and weekend.deadline == at(2026, 3, 13, 17)


def test_stop_while_paused_closes_the_pause_and_keeps_the_last_deadline():
    s = run(
        start(at(2026, 3, 11, 9), 4, "working_hour"),
        pause(at(2026, 3, 11, 10), "expert_review"),
        stop(at(2026, 3, 12, 10)),
    )
    assert s.status == "stopped" and s.pause_kind is None
    assert s.paused_s == {"expert_review": 6 * H + H}  # Wed 10–12, 13–17; Thu 09–10
    assert s.deadline == s.last_deadline == at(2026, 3, 11, 14)
    assert s.remaining_s == 3 * H and s.elapsed_s == H


# --- instants -------------------------------------------------------------------------------


def test_instants_are_truncated_to_the_second_and_kept_in_the_hall_zone():
    utc = ZoneInfo("UTC")
    accepted = ClockEvent(
        at=datetime(2026, 3, 11, 1, 0, 0, 900_000, tzinfo=utc),  # 09:00:00.9 in Shanghai
        op="start",
        amount=1,
        unit="working_hour",
    )
    fresh = step(None, accepted, CAL)
    assert fresh.since.tzinfo == fresh.deadline.tzinfo == SH  # type: ignore[union-attr]
    assert fresh.to_json()["since"] == "2026-03-11T09:00:00+08:00"
    s = run(accepted)
    assert s.since == at(2026, 3, 11, 9)
    assert s.deadline == at(2026, 3, 11, 10) and s.remaining_s == H
    # the same second is not out of order
    assert step(s, pause(at(2026, 3, 11, 9) + timedelta(microseconds=1)), CAL).remaining_s == H


def test_view_before_the_last_event_counts_from_it():
    s = run(start(at(2026, 3, 11, 10), 2, "working_hour"))
    v = view(s, at(2026, 3, 11, 9), CAL)  # a clock set back
    assert (v.elapsed_s, v.remaining_s) == (0, 2 * H)


# --- JSON -----------------------------------------------------------------------------------


def test_state_event_and_view_json_round_trip():
    events = (
        start(at(2026, 3, 12, 10), 20, "working_hour"),
        pause(at(2026, 3, 13, 15), "inspection"),
    )
    s = run(*events)
    blob = json.loads(json.dumps(s.to_json()))
    assert blob == {
        "unit": "working_hour",
        "limit": 20,
        "started_at": "2026-03-12T10:00:00+08:00",
        "status": "paused",
        "remaining_s": 9 * H,
        "since": "2026-03-13T15:00:00+08:00",
        "deadline": None,
        "paused_s": {},
        "pause_kind": "inspection",
        "stopped_at": None,
        "elapsed_s": 11 * H,
        "last_deadline": "2026-03-16T17:00:00+08:00",
        "counts_from": "2026-03-12T10:00:00+08:00",  # working hours count from acceptance
        "budget_s": 9 * H,
    }
    assert ClockState.from_json(blob) == s
    # a state stored before budget_s existed reads it as remaining_s (equal without a mid-day
    # resume)
    assert ClockState.from_json({k: v for k, v in blob.items() if k != "budget_s"}) == s
    for ev in events:
        assert ClockEvent.from_json(json.loads(json.dumps(ev.to_json()))) == ev
    assert events[0].to_json() == {
        "at": "2026-03-12T10:00:00+08:00",
        "op": "start",
        "amount": 20,
        "unit": "working_hour",
    }
    v = view(s, at(2026, 3, 16, 10), CAL).to_json()
    assert json.loads(json.dumps(v)) == {
        "status": "paused",
        "deadline": None,
        "elapsed_s": 11 * H,
        "remaining_s": 9 * H,
        "overdue_s": 0,
        "paused_s": {"inspection": 3 * H},  # Fri 15–17, Mon 09–10
        "paused_total_s": 3 * H,
        "limit": 20,
        "unit": "working_hour",
    }


# --- errors ---------------------------------------------------------------------------------


def _code(fn) -> str:
    with pytest.raises(Invalid) as err:
        fn()
    assert err.value.field == "clock"
    assert err.value.message and not err.value.message.isascii()  # a Chinese message
    return err.value.code


RUNNING = run(start(at(2026, 3, 11, 10), 2, "working_day"))
PAUSED = step(RUNNING, pause(at(2026, 3, 11, 11)), CAL)
STOPPED = step(RUNNING, stop(at(2026, 3, 11, 11)), CAL)
LATER = at(2026, 3, 11, 12)


@pytest.mark.parametrize(
    ("state", "event", "code"),
    [
        (RUNNING, start(LATER, 1, "working_day"), "clock_started"),
        (PAUSED, start(LATER, 1, "working_day"), "clock_started"),
        (None, pause(LATER), "clock_not_started"),
        (None, stop(LATER), "clock_not_started"),
        (PAUSED, pause(LATER), "clock_not_running"),
        (PAUSED, extend(LATER, 5), "clock_not_running"),
        (RUNNING, resume(LATER), "clock_not_paused"),
        (STOPPED, pause(LATER), "clock_stopped"),
        (STOPPED, resume(LATER), "clock_stopped"),
        (STOPPED, stop(LATER), "clock_stopped"),
        (STOPPED, start(LATER, 1, "working_day"), "clock_stopped"),
        (RUNNING, pause(at(2026, 3, 11, 9, 59, 59)), "clock_out_of_order"),
        (PAUSED, resume(at(2026, 3, 11, 10, 30)), "clock_out_of_order"),
        (RUNNING, extend(LATER, 0), "invalid_amount"),
        (
            RUNNING,
            ClockEvent(at=LATER, op="extend", amount=1, unit="working_hour"),
            "invalid_unit",
        ),
        (None, ClockEvent(at=LATER, op="start", amount=3), "invalid_unit"),
        (RUNNING, ClockEvent(at=LATER, op="pause"), "invalid_pause_kind"),
    ],
)
def test_step_refuses(state, event, code):
    assert _code(lambda: step(state, event, CAL)) == code


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"at": datetime(2026, 3, 11, 10), "op": "stop"}, "naive_datetime"),
        ({"at": "2026-03-11T10:00:00+08:00", "op": "stop"}, "invalid_clock_event"),
        ({"at": LATER, "op": "restart"}, "invalid_clock_event"),
        ({"at": LATER, "op": "start", "amount": -1, "unit": "working_day"}, "invalid_amount"),
        ({"at": LATER, "op": "start", "amount": 1.5, "unit": "working_day"}, "invalid_amount"),
        ({"at": LATER, "op": "start", "amount": True, "unit": "working_day"}, "invalid_amount"),
        ({"at": LATER, "op": "pause", "amount": 1, "kind": "testing"}, "invalid_amount"),
        ({"at": LATER, "op": "start", "amount": 1, "unit": "month"}, "invalid_unit"),
        ({"at": LATER, "op": "stop", "unit": "working_day"}, "invalid_unit"),
        ({"at": LATER, "op": "pause", "kind": "lunch"}, "invalid_pause_kind"),
        ({"at": LATER, "op": "resume", "kind": "supplement"}, "invalid_pause_kind"),
    ],
)
def test_malformed_events_cannot_be_built(kwargs, code):
    assert _code(lambda: ClockEvent(**kwargs)) == code


def test_other_refusals():
    assert _code(lambda: replay([], CAL)) == "clock_not_started"
    assert _code(lambda: view(RUNNING, datetime(2026, 3, 11, 12), CAL)) == "naive_datetime"
    assert _code(lambda: ClockEvent.from_json({"op": "stop"})) == "invalid_clock_event"
    assert (
        _code(lambda: ClockEvent.from_json({"at": "yesterday", "op": "stop"}))
        == "invalid_clock_event"
    )
    assert _code(lambda: ClockState.from_json({"unit": "working_day"})) == "invalid_clock_state"
    broken = {**RUNNING.to_json(), "status": "paused"}  # paused without a kind
    assert _code(lambda: ClockState.from_json(broken)) == "invalid_clock_state"
    # a refused step leaves the state as it was (frozen values)
    before = RUNNING.to_json()
    with pytest.raises(Invalid):
        step(RUNNING, resume(LATER), CAL)
    assert RUNNING.to_json() == before
