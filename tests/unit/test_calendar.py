"""The hall calendar (server/domain/calendar.py): pure tests, no database.

Real 2025–2026 statutory data comes from chinese_calendar via calendar_from_library. Default work
periods 09:00–12:00 and 13:00–17:00, i.e. 7 working hours a day. Expected datetimes are derived
by hand in the comments."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.domain.calendar import (
    HallCalendar,
    calendar_from_library,
    format_work_periods,
    parse_work_periods,
)
from server.domain.errors import Invalid

SH = ZoneInfo("Asia/Shanghai")
PERIODS = parse_work_periods([["09:00", "12:00"], ["13:00", "17:00"]])
LIBRARY = calendar_from_library([2025, 2026])


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def hall(extra: dict[date, bool] | None = None, periods=PERIODS) -> HallCalendar:
    overrides = {day: working for day, (working, _note) in LIBRARY.items()}
    overrides.update(extra or {})
    return HallCalendar(overrides=overrides, work_periods=periods)


CAL = hall()


def wd(start: datetime, n: int) -> datetime:
    return CAL.add_working_time(start, n, "working_day")


def wh(start: datetime, n: int) -> datetime:
    return CAL.add_working_time(start, n, "working_hour")


# --- the library data ------------------------------------------------------------------------


def test_library_national_day_2025():
    # Oct 1 (Wed) .. Oct 8 (Wed) off; the weekday ones are overrides, Oct 4/5 are plain weekend.
    for d in (1, 2, 3, 7, 8):
        assert LIBRARY[date(2025, 10, d)] == (False, "国庆节")
    # Mid-autumn 2025 falls on Oct 6 (Mon), inside the National Day week: the library names it so.
    assert LIBRARY[date(2025, 10, 6)] == (False, "中秋节")
    assert date(2025, 10, 4) not in LIBRARY and date(2025, 10, 5) not in LIBRARY
    assert LIBRARY[date(2025, 9, 28)] == (True, "调休上班")  # Sunday
    assert LIBRARY[date(2025, 10, 11)] == (True, "调休上班")  # Saturday
    assert date(2025, 9, 28).weekday() == 6 and date(2025, 10, 11).weekday() == 5
    assert [d for d in range(1, 12) if not CAL.is_working_day(date(2025, 10, d))] == [
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        8,
    ]


def test_library_national_day_2026():
    # Oct 1 (Thu) .. Oct 7 (Wed) off; Sep 20 (Sun) and Oct 10 (Sat) worked.
    for d in (1, 2, 5, 6, 7):
        assert LIBRARY[date(2026, 10, d)] == (False, "国庆节")
    assert LIBRARY[date(2026, 9, 20)] == (True, "调休上班")
    assert LIBRARY[date(2026, 10, 10)] == (True, "调休上班")
    # In 2026 Mid-autumn is separate: Fri Sep 25 (Sat/Sun 26–27 are plain weekend).
    assert LIBRARY[date(2026, 9, 25)] == (False, "中秋节")
    assert [d for d in range(1, 11) if not CAL.is_working_day(date(2026, 10, d))] == [
        1,
        2,
        3,
        4,
        5,
        6,
        7,
    ]
    assert CAL.is_working_day(date(2026, 10, 8)) and CAL.is_working_day(date(2026, 10, 10))


def test_library_spring_festival_2026():
    # Feb 15 (Sun) .. Feb 23 (Mon): nine days off; weekday holidays 16–20 and 23.
    for d in (16, 17, 18, 19, 20, 23):
        assert LIBRARY[date(2026, 2, d)] == (False, "春节")
    assert LIBRARY[date(2026, 2, 14)] == (True, "调休上班")  # Saturday
    assert LIBRARY[date(2026, 2, 28)] == (True, "调休上班")  # Saturday
    off = [d for d in range(13, 29) if not CAL.is_working_day(date(2026, 2, d))]
    assert off == list(range(15, 24))


def test_library_other_2026_names_and_adjusted_days():
    assert LIBRARY[date(2026, 1, 1)] == (False, "元旦")
    assert LIBRARY[date(2026, 1, 2)] == (False, "元旦")
    assert LIBRARY[date(2026, 1, 4)] == (True, "调休上班")  # Sunday after New Year
    assert LIBRARY[date(2026, 4, 6)] == (False, "清明节")
    assert LIBRARY[date(2026, 5, 1)] == (False, "劳动节")
    assert LIBRARY[date(2026, 5, 5)] == (False, "劳动节")
    assert LIBRARY[date(2026, 5, 9)] == (True, "调休上班")
    assert LIBRARY[date(2026, 6, 19)] == (False, "端午节")
    # every row is either a weekday holiday or a weekend working day, nothing else
    for day, (working, note) in LIBRARY.items():
        assert working == (day.weekday() >= 5)
        assert (note == "调休上班") == working


def test_library_years_without_data_are_skipped():
    assert calendar_from_library([2099, 1990]) == {}
    both = calendar_from_library([2026, 2099])
    assert both and all(d.year == 2026 for d in both)


def test_adjusted_saturday_is_working_and_weekday_holiday_is_not():
    assert CAL.is_working_day(date(2026, 2, 14))  # 调休 Saturday
    assert not CAL.is_working_day(date(2026, 2, 16))  # Monday of Spring Festival
    assert not CAL.is_working_day(date(2025, 11, 15))  # ordinary Saturday
    assert CAL.is_working_day(date(2025, 11, 14))  # ordinary Friday
    assert CAL.is_working_day(date(2027, 3, 1))  # beyond library data: default rule (Mon)
    assert not CAL.is_working_day(date(2027, 3, 6))  # (Sat)


def test_next_working_day_is_strictly_after():
    assert CAL.next_working_day(date(2025, 11, 12)) == date(2025, 11, 13)
    assert CAL.next_working_day(date(2025, 11, 14)) == date(2025, 11, 17)  # Fri -> Mon
    assert CAL.next_working_day(date(2025, 9, 30)) == date(2025, 10, 9)  # over National Day
    assert CAL.next_working_day(date(2025, 10, 10)) == date(2025, 10, 11)  # 调休 Saturday
    assert CAL.next_working_day(date(2026, 2, 13)) == date(2026, 2, 14)
    assert CAL.next_working_day(date(2026, 2, 14)) == date(2026, 2, 24)


# --- working days ----------------------------------------------------------------------------


def test_working_day_national_day_2025():
    s = at(2025, 9, 30, 10)  # Tue, the last day before the holiday
    assert wd(s, 1) == at(2025, 10, 9, 17)  # Oct 1–8 off -> Thu Oct 9
    assert wd(s, 2) == at(2025, 10, 10, 17)  # Fri
    assert wd(s, 3) == at(2025, 10, 11, 17)  # Sat 调休 counts
    assert wd(s, 4) == at(2025, 10, 13, 17)  # Sun off -> Mon
    # Accepted Fri Sep 26: Sat 27 off, Sun 28 is 调休 -> day 1
    assert wd(at(2025, 9, 26, 16), 1) == at(2025, 9, 28, 17)


def test_working_day_national_day_2026():
    s = at(2026, 9, 30, 15)  # Wed
    assert wd(s, 1) == at(2026, 10, 8, 17)  # Oct 1–7 off -> Thu Oct 8
    assert wd(s, 2) == at(2026, 10, 9, 17)
    assert wd(s, 3) == at(2026, 10, 10, 17)  # 调休 Saturday
    assert wd(s, 4) == at(2026, 10, 12, 17)
    assert wd(at(2026, 9, 18, 11), 1) == at(2026, 9, 20, 17)  # Fri -> 调休 Sun 20
    # Thu Sep 24: Fri 25 Mid-autumn, 26/27 weekend -> Mon 28
    assert wd(at(2026, 9, 24, 9), 1) == at(2026, 9, 28, 17)


def test_working_day_spring_festival_2026():
    s = at(2026, 2, 13, 11)  # Fri
    assert wd(s, 1) == at(2026, 2, 14, 17)  # 调休 Saturday
    assert wd(s, 2) == at(2026, 2, 24, 17)  # Feb 15–23 off -> Tue 24
    # 24,25,26,27 (Tue–Fri), 28 (调休 Sat) -> 6 working days later is Feb 28
    assert wd(s, 6) == at(2026, 2, 28, 17)
    assert wd(s, 7) == at(2026, 3, 2, 17)
    assert wd(at(2026, 2, 27, 16), 1) == at(2026, 2, 28, 17)


def test_working_day_accepted_friday_evening():
    s = at(2025, 11, 14, 19, 30)  # Fri after closing, an ordinary week
    assert wd(s, 1) == at(2025, 11, 17, 17)  # acceptance day is day 0 -> Mon
    assert wd(s, 5) == at(2025, 11, 21, 17)  # Mon..Fri
    # the time of day on day 0 does not matter
    assert wd(at(2025, 11, 14, 8), 1) == wd(at(2025, 11, 14, 16, 59), 1) == at(2025, 11, 17, 17)


def test_working_day_accepted_on_a_holiday():
    # Oct 3 2025 is a holiday; it is still day 0, day 1 is the next working day Oct 9
    assert wd(at(2025, 10, 3, 10), 1) == at(2025, 10, 9, 17)
    # Accepted on Sat Nov 15 (online, say) -> Mon 17
    assert wd(at(2025, 11, 15, 10), 1) == at(2025, 11, 17, 17)


def test_amount_zero_returns_start_unchanged():
    s = at(2025, 10, 3, 10, 17)
    assert wd(s, 0) == s and wh(s, 0) == s
    utc = datetime(2025, 11, 12, 2, 30, tzinfo=UTC)
    out = wd(utc, 0)
    assert out == utc and out.tzinfo == SH and out.hour == 10


def test_negative_amount_and_naive_and_bad_unit_raise():
    with pytest.raises(Invalid):
        wd(at(2025, 11, 12, 10), -1)
    with pytest.raises(Invalid):
        wh(at(2025, 11, 12, 10), -3)
    with pytest.raises(Invalid):
        CAL.add_working_time(datetime(2025, 11, 12, 10), 1, "working_day")
    with pytest.raises(Invalid):
        CAL.add_working_time(datetime(2025, 11, 12, 10), 0, "working_hour")
    with pytest.raises(Invalid):
        CAL.add_working_time(at(2025, 11, 12, 10), 1, "calendar_day")  # type: ignore[arg-type]
    with pytest.raises(Invalid):
        CAL.working_time_between(datetime(2025, 11, 12, 10), at(2025, 11, 13))


def test_result_is_aware_in_hall_tz():
    utc = datetime(2025, 11, 12, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    out = wh(utc, 1)
    assert out.tzinfo == SH and out == at(2025, 11, 12, 10)
    assert wd(utc, 1).tzinfo == SH


# --- working hours ---------------------------------------------------------------------------


def test_working_hour_across_lunch_break():
    # Wed 11:00: 1h until 12:00, lunch, 1h from 13:00 -> 14:00
    assert wh(at(2025, 11, 12, 11), 2) == at(2025, 11, 12, 14)
    # starting inside lunch: accrual starts 13:00
    assert wh(at(2025, 11, 12, 12, 30), 1) == at(2025, 11, 12, 14)


def test_working_hour_across_evening():
    # Wed 16:00: 1h to 17:00, then Thu 09:00–11:00
    assert wh(at(2025, 11, 12, 16), 3) == at(2025, 11, 13, 11)
    # Fri after closing: Mon 09:00 + 1h
    assert wh(at(2025, 11, 14, 18), 1) == at(2025, 11, 17, 10)
    # Wed 10:30 + 8h: 1.5 + 4 = 5.5 left Wed, 2.5h Thu -> 09:00–11:30
    assert wh(at(2025, 11, 12, 10, 30), 8) == at(2025, 11, 13, 11, 30)


def test_working_hour_starting_on_a_holiday():
    # Oct 3 2025 (holiday) -> first period is Thu Oct 9 09:00; +2h -> 11:00
    assert wh(at(2025, 10, 3, 10), 2) == at(2025, 10, 9, 11)
    # Mon Feb 16 2026 (Spring Festival) + 8h: Tue Feb 24 gives 7h, Wed 25 09:00–10:00
    assert wh(at(2026, 2, 16, 9), 8) == at(2026, 2, 25, 10)


def test_working_hour_through_adjusted_saturday():
    # Fri Oct 10 2025 16:00: 1h, then 调休 Sat Oct 11 09:00–10:00
    assert wh(at(2025, 10, 10, 16), 2) == at(2025, 10, 11, 10)


def test_working_hour_before_opening():
    assert wh(at(2025, 11, 12, 7, 30), 1) == at(2025, 11, 12, 10)
    assert wh(at(2025, 11, 12, 0, 0), 7) == at(2025, 11, 12, 17)


def test_working_hour_lands_exactly_on_period_end():
    # 09:00 + 3h is 12:00 (end of the morning period), not 13:00
    assert wh(at(2025, 11, 12, 9), 3) == at(2025, 11, 12, 12)
    # 09:00 + 7h is 17:00 the same day, not 09:00 the next day
    assert wh(at(2025, 11, 12, 9), 7) == at(2025, 11, 12, 17)
    # Tue Sep 30 2025 09:00 + 14h: 7h that day, 7h on Oct 9 -> 17:00 Oct 9
    assert wh(at(2025, 9, 30, 9), 14) == at(2025, 10, 9, 17)
    # started during lunch, 4h: 13:00–17:00 -> 17:00
    assert wh(at(2025, 11, 12, 12, 15), 4) == at(2025, 11, 12, 17)


def test_working_hour_with_other_periods():
    periods = parse_work_periods([["14:00", "17:30"], ["08:30", "12:00"]])  # summer hours, unsorted
    cal = hall(periods=periods)
    # 11:30: 0.5h to 12:00, then 14:00–14:30
    assert cal.add_working_time(at(2025, 11, 12, 11, 30), 1, "working_hour") == at(
        2025, 11, 12, 14, 30
    )
    assert cal.add_working_time(at(2025, 11, 12, 11, 30), 1, "working_day") == at(
        2025, 11, 13, 17, 30
    )


# --- per-hall overrides ----------------------------------------------------------------------


def test_custom_non_working_weekday_shifts_deadline():
    closed = hall({date(2025, 11, 13): False})  # the hall closes on Thu Nov 13
    s = at(2025, 11, 12, 10)
    assert wd(s, 1) == at(2025, 11, 13, 17)
    assert closed.add_working_time(s, 1, "working_day") == at(2025, 11, 14, 17)
    # 10:00 + 6h = 17:00 Wed; +1h more lands on Fri, not Thu
    assert closed.add_working_time(s, 7, "working_hour") == at(2025, 11, 14, 10)


def test_custom_extra_working_saturday_and_cancelled_adjusted_day():
    extra = hall({date(2025, 11, 15): True})
    assert extra.add_working_time(at(2025, 11, 14, 10), 1, "working_day") == at(2025, 11, 15, 17)
    # the hall decides not to open on the 调休 Saturday Oct 11 2025
    no_adj = hall({date(2025, 10, 11): False})
    assert no_adj.add_working_time(at(2025, 9, 30, 10), 3, "working_day") == at(2025, 10, 13, 17)


def test_without_library_overrides_holidays_are_plain_weekdays():
    bare = HallCalendar(overrides={}, work_periods=PERIODS)
    assert bare.add_working_time(at(2025, 9, 30, 10), 1, "working_day") == at(2025, 10, 1, 17)
    assert not bare.is_working_day(date(2025, 10, 11))


class _NeverWorking(Mapping):
    def __getitem__(self, key):
        return False

    def __iter__(self) -> Iterator:
        return iter(())

    def __len__(self) -> int:
        return 0


def test_calendar_without_working_days_raises_instead_of_looping():
    dead = HallCalendar(overrides=_NeverWorking(), work_periods=PERIODS)
    with pytest.raises(Invalid):
        dead.next_working_day(date(2025, 1, 1))
    with pytest.raises(Invalid):
        dead.add_working_time(at(2025, 1, 1, 10), 1, "working_day")
    with pytest.raises(Invalid):
        dead.add_working_time(at(2025, 1, 1, 10), 1, "working_hour")


# --- working_time_between --------------------------------------------------------------------


def test_working_time_between():
    # Wed 10:00–14:00: 2h morning + 1h afternoon
    assert CAL.working_time_between(at(2025, 11, 12, 10), at(2025, 11, 12, 14)) == timedelta(
        hours=3
    )
    # Tue Sep 30 16:00 -> Thu Oct 9 10:00: 1h + 1h over the National Day week
    assert CAL.working_time_between(at(2025, 9, 30, 16), at(2025, 10, 9, 10)) == timedelta(hours=2)
    # a whole ordinary week Mon 00:00 -> next Mon 00:00: 5 x 7h
    assert CAL.working_time_between(at(2025, 11, 10), at(2025, 11, 17)) == timedelta(hours=35)
    # entirely outside work time, and reversed / empty intervals
    assert CAL.working_time_between(at(2025, 11, 12, 12), at(2025, 11, 12, 13)) == timedelta(0)
    assert CAL.working_time_between(at(2025, 11, 12, 14), at(2025, 11, 12, 10)) == timedelta(0)
    assert CAL.working_time_between(at(2025, 11, 12, 14), at(2025, 11, 12, 14)) == timedelta(0)
    # mixed time zones
    assert CAL.working_time_between(
        datetime(2025, 11, 12, 1, tzinfo=UTC), at(2025, 11, 12, 10, 30)
    ) == timedelta(minutes=90)


@pytest.mark.parametrize(
    "start",
    [
        at(2025, 9, 26, 16, 45),  # Fri before the 调休 Sunday
        at(2025, 9, 30, 11, 59),
        at(2025, 10, 3, 10),  # holiday
        at(2025, 11, 12, 12, 30),  # lunch
        at(2025, 11, 14, 19),  # Fri evening
        at(2026, 2, 13, 8, 5),  # before opening, before Spring Festival
        at(2026, 9, 24, 16, 59),
        at(2026, 12, 31, 15),  # runs past the library data
    ],
)
def test_working_time_between_inverts_add_working_time(start):
    for n in (0, 1, 2, 3, 5, 7, 8, 14, 20, 50, 123):
        end = CAL.add_working_time(start, n, "working_hour")
        assert CAL.working_time_between(start, end) == timedelta(hours=n)
        assert end >= start


def test_working_day_deadline_accrues_whole_days():
    # From the end of day 0 to the deadline exactly n full working days (7h each) accrue.
    s = at(2026, 2, 13, 11)
    for n in (1, 2, 6, 10):
        end = CAL.add_working_time(s, n, "working_day")
        assert CAL.working_time_between(at(2026, 2, 13, 17), end) == timedelta(hours=7 * n)


def test_long_limits_end_on_the_exact_day():
    # Counted with chinese_calendar.is_workday: 2025 has 247 working days after Thu 2 Jan, so
    # the 400th is the 153rd of 2026, Fri 14 Aug; the deadline is its closing time.
    assert wd(at(2025, 1, 2, 10), 400) == at(2026, 8, 14, 17)
    # 2000 h = 6 h left on 2 Jan (10-12, 13-17) + 284 whole days (1988 h) + 6 h on the 285th
    # working day after 2 Jan, Mon 2 Mar 2026 (09-12, 13-16).
    assert wh(at(2025, 1, 2, 10), 2000) == at(2026, 3, 2, 16)


# --- add_working_seconds ---------------------------------------------------------------------


def ws(start: datetime, seconds: int) -> datetime:
    return CAL.add_working_seconds(start, seconds)


def test_add_working_seconds_at_second_resolution():
    # Wed 11:59:30 + 60 s: 30 s before lunch, 30 s after it
    assert ws(at(2025, 11, 12, 11, 59) + timedelta(seconds=30), 60) == at(
        2025, 11, 12, 13, 0
    ) + timedelta(seconds=30)
    # exactly used up at a period end: that end, not the next period's start
    assert ws(at(2025, 11, 12, 9), 3 * 3600) == at(2025, 11, 12, 12)
    assert ws(at(2025, 11, 12, 9), 7 * 3600) == at(2025, 11, 12, 17)
    # Tue Sep 30 2025 16:59:59 + 2 s: 1 s that day, then the National Day week, then Oct 9
    assert ws(at(2025, 9, 30, 16, 59) + timedelta(seconds=59), 2) == at(2025, 10, 9, 9) + timedelta(
        seconds=1
    )
    # Fri Feb 13 2026 evening + 1 s: the 调休 Saturday Feb 14 opens at 09:00
    assert ws(at(2026, 2, 13, 20), 1) == at(2026, 2, 14, 9) + timedelta(seconds=1)


def test_add_working_seconds_zero_returns_start_in_hall_tz():
    utc = datetime(2025, 11, 12, 13, 30, 15, tzinfo=UTC)  # 21:30:15 in Shanghai, after hours
    out = ws(utc, 0)
    assert out == utc and out.tzinfo == SH


@pytest.mark.parametrize(
    "start", [at(2025, 9, 26, 16, 45), at(2025, 10, 3, 10), at(2026, 2, 13, 8, 5)]
)
def test_add_working_seconds_agrees_with_working_hours_and_inverts_between(start):
    for n in (1, 3, 7, 14, 50):
        assert ws(start, n * 3600) == wh(start, n)
    for seconds in (1, 59, 3599, 10_801, 25_199, 25_201, 1_000_003):
        end = ws(start, seconds)
        assert CAL.working_time_between(start, end) == timedelta(seconds=seconds)
        # the first such instant: one second earlier, one second less has accrued
        assert CAL.working_time_between(start, end - timedelta(seconds=1)) == timedelta(
            seconds=seconds - 1
        )


@pytest.mark.parametrize("seconds", [-1, 1.5, True, "60"])
def test_add_working_seconds_rejects_bad_amounts(seconds):
    with pytest.raises(Invalid) as err:
        CAL.add_working_seconds(at(2025, 11, 12, 10), seconds)  # type: ignore[arg-type]
    assert err.value.code == "invalid_amount"


def test_add_working_seconds_rejects_naive_and_dead_calendars():
    with pytest.raises(Invalid) as err:
        CAL.add_working_seconds(datetime(2025, 11, 12, 10), 60)
    assert err.value.code == "naive_datetime"
    dead = HallCalendar(overrides=_NeverWorking(), work_periods=PERIODS)
    with pytest.raises(Invalid) as err:
        dead.add_working_seconds(at(2025, 1, 1, 10), 60)
    assert err.value.code == "no_working_day"


# --- work periods ----------------------------------------------------------------------------


def test_parse_work_periods():
    assert PERIODS == ((time(9), time(12)), (time(13), time(17)))
    assert parse_work_periods([["13:00", "17:00"], ["09:00", "12:00"]]) == PERIODS
    assert parse_work_periods([("08:00", "12:00"), ("12:00", "18:00")])[1] == (time(12), time(18))
    assert format_work_periods(PERIODS) == [["09:00", "12:00"], ["13:00", "17:00"]]


@pytest.mark.parametrize(
    "raw",
    [
        [],
        None,
        "09:00-12:00",
        [["09:00"]],
        [["09:00", "12:00", "13:00"]],
        [["9:00", "12:00"]],
        [["09:00", "24:00"]],
        [["09:60", "12:00"]],
        [[900, 1200]],
        [["12:00", "09:00"]],
        [["09:00", "09:00"]],
        [["09:00", "12:00"], ["11:00", "17:00"]],
    ],
)
def test_parse_work_periods_rejects(raw):
    with pytest.raises(Invalid):
        parse_work_periods(raw)


def test_hall_calendar_rejects_bad_periods():
    with pytest.raises(Invalid):
        HallCalendar(overrides={}, work_periods=())
    with pytest.raises(Invalid):
        HallCalendar(overrides={}, work_periods=((time(13), time(17)), (time(9), time(14))))


def test_previous_working_day_mirrors_next_working_day():
    cal = HallCalendar(
        overrides={day: working for day, (working, _n) in calendar_from_library([2026]).items()},
        work_periods=parse_work_periods([["09:00", "12:00"], ["13:00", "17:00"]]),
    )
    # after National Day 2026 (Oct 1-7 off): the day before Thursday the 8th is Wednesday
    # September 30th; Monday the 12th follows Saturday the 10th, an adjusted working day
    assert cal.previous_working_day(date(2026, 10, 8)) == date(2026, 9, 30)
    assert cal.previous_working_day(date(2026, 10, 12)) == date(2026, 10, 10)
    for day in (date(2026, 10, 8), date(2026, 10, 12), date(2026, 12, 7)):
        assert cal.next_working_day(cal.previous_working_day(day)) == day
