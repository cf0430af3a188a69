"""The hall calendar: the single function every deadline (承诺时限 / 法定时限) in the product uses.

Pure Python, no I/O. A `HallCalendar` is built from a hall's `calendar_day` rows (`overrides`)
and its `work_periods`; the database layer loads it (db/queries/calendar.py).

Working days
    A day is a working day if `overrides` says so; without an override the default rule applies:
    Monday–Friday working, Saturday/Sunday not. Statutory holidays falling on weekdays and the
    adjusted working weekend days (调休上班) are therefore plain override rows, which
    `calendar_from_library` derives from the `chinese_calendar` package and which each hall can
    edit (a local holiday, a closure, an extra working Saturday…).

Work periods
    The same periods every working day, as local wall-clock times in `tz`, sorted and
    non-overlapping, e.g. 09:00–12:00 and 13:00–17:00. Only time inside a work period of a
    working day counts as working time.

`add_working_time(start, amount, unit)` — the deadline of a limit that starts at `start`
    * `start` must be timezone-aware (`Invalid` otherwise); the result is aware, in `tz`.
    * `amount` is a non-negative int (`Invalid` otherwise). `amount == 0` returns `start`
      unchanged (as an instant, expressed in `tz`), for either unit: immediate items (即办件).
    * ``"working_day"``: the acceptance day is day 0, whatever the time of acceptance and
      whether or not it is itself a working day; counting starts with the first working day
      AFTER it. The deadline is the end of the last work period of the Nth working day.
      E.g. accepted Friday 16:59 (or Saturday, or on a holiday) with 1 working day → the end of
      the next working day, 17:00.
    * ``"working_hour"``: working time accrues only inside work periods of working days. A start
      outside a period (lunch break, evening, weekend, holiday, before opening) begins accruing at
      the next period start. The deadline is the instant at which `amount` hours have accrued;
      when that is exactly a period end, the period end is returned (not the next period start).
      Durations are measured on real elapsed time (UTC), so the rule holds across DST changes in
      zones that have them (Asia/Shanghai has none).

`add_working_seconds(start, seconds)` — the instant at which `seconds` of working time have
    accrued from `start`: the ``"working_hour"`` rule at one-second resolution (a start outside a
    period begins accruing at the next period start; a total reached exactly at a period end
    returns the period end; `seconds == 0` returns `start`). `seconds` is a non-negative int.
    The case clock (case_clock.py) resumes a paused limit with it.

`working_time_between(start, end)` — working time elapsed in [start, end) by the same rule; zero
    when `end <= start`. `working_time_between(s, add_working_time(s, n, "working_hour"))` is
    exactly n hours. Used by alarms (share of the limit used).

Loops go day by day (limits are at most a few hundred working days). A calendar with no working
day within `MAX_SEARCH_DAYS` (about three years) of a date raises `Invalid` instead of looping.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from server.domain.errors import Invalid

WorkingUnit = Literal["working_day", "working_hour"]
WORKING_UNITS: tuple[str, ...] = ("working_day", "working_hour")

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")
# No working day within this many days of a date means the calendar is broken.
MAX_SEARCH_DAYS = 3 * 366
ADJUSTED_WORKING_NOTE = "调休上班"

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_ONE_DAY = timedelta(days=1)


def _check_periods(periods: tuple[tuple[time, time], ...]) -> None:
    if not periods:
        raise Invalid("工作时段不能为空", code="invalid_work_periods", field="work_periods")
    previous_end: time | None = None
    for begin, end in periods:
        if not (isinstance(begin, time) and isinstance(end, time)):
            raise Invalid("工作时段格式错误", code="invalid_work_periods", field="work_periods")
        if begin.tzinfo is not None or end.tzinfo is not None:
            raise Invalid("工作时段应为当地时间", code="invalid_work_periods", field="work_periods")
        if not begin < end:
            raise Invalid(
                f"工作时段 {begin:%H:%M}–{end:%H:%M} 的开始时间须早于结束时间",
                code="invalid_work_periods",
                field="work_periods",
            )
        if previous_end is not None and begin < previous_end:
            raise Invalid(
                "工作时段须按时间排序且互不重叠", code="invalid_work_periods", field="work_periods"
            )
        previous_end = end


def parse_work_periods(raw: list[list[str]]) -> tuple[tuple[time, time], ...]:
    """Parse hall.work_periods (e.g. [["09:00","12:00"],["13:00","17:00"]]) into sorted time pairs.

    Each period is a pair of "HH:MM" strings (00:00–23:59) with start < end; periods may be given
    in any order but must not overlap (touching, 12:00–12:00, is allowed). Raises `Invalid`."""
    if not isinstance(raw, (list, tuple)) or not raw:
        raise Invalid("工作时段不能为空", code="invalid_work_periods", field="work_periods")
    parsed: list[tuple[time, time]] = []
    for item in raw:
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise Invalid(
                "每个工作时段应为 [开始, 结束]", code="invalid_work_periods", field="work_periods"
            )
        pair = []
        for text in item:
            m = _HHMM.match(text) if isinstance(text, str) else None
            if m is None:
                raise Invalid(
                    f"工作时段时间格式应为 HH:MM：{text!r}",
                    code="invalid_work_periods",
                    field="work_periods",
                )
            pair.append(time(int(m.group(1)), int(m.group(2))))
        parsed.append((pair[0], pair[1]))
    parsed.sort()
    result = tuple(parsed)
    _check_periods(result)
    return result


def format_work_periods(periods: Iterable[tuple[time, time]]) -> list[list[str]]:
    """The inverse of parse_work_periods, for storing in hall.work_periods or sending to clients."""
    return [[f"{b:%H:%M}", f"{e:%H:%M}"] for b, e in periods]


def _require_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime):
        raise Invalid(f"{name} 必须是日期时间", field=name)
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise Invalid(f"{name} 必须带时区", code="naive_datetime", field=name)


@dataclass(frozen=True)
class HallCalendar:
    overrides: Mapping[date, bool]  # day -> is_working, from calendar_day rows
    work_periods: tuple[tuple[time, time], ...]  # from hall.work_periods, sorted, non-overlapping
    tz: ZoneInfo = field(default=DEFAULT_TZ)

    def __post_init__(self) -> None:
        object.__setattr__(self, "work_periods", tuple((b, e) for b, e in self.work_periods))
        _check_periods(self.work_periods)

    # --- days -------------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        if isinstance(day, datetime):
            day = day.date()
        working = self.overrides.get(day)
        if working is None:
            return day.weekday() < 5
        return bool(working)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        if isinstance(day, datetime):
            day = day.date()
        candidate = day
        for _ in range(MAX_SEARCH_DAYS):
            candidate += _ONE_DAY
            if self.is_working_day(candidate):
                return candidate
        raise Invalid(
            f"{day.isoformat()} 之后约三年内没有工作日，请检查大厅日历",
            code="no_working_day",
            field="calendar",
        )

    def previous_working_day(self, day: date) -> date:
        """The last working day strictly before `day`."""
        if isinstance(day, datetime):
            day = day.date()
        candidate = day
        for _ in range(MAX_SEARCH_DAYS):
            candidate -= _ONE_DAY
            if self.is_working_day(candidate):
                return candidate
        raise Invalid(
            f"{day.isoformat()} 之前约三年内没有工作日，请检查大厅日历",
            code="no_working_day",
            field="calendar",
        )

    # --- instants ---------------------------------------------------------------------------

    def _periods_of(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's work periods as UTC instants (empty on a non-working day)."""
        if not self.is_working_day(day):
            return []
        return [
            (
                datetime.combine(day, b, tzinfo=self.tz).astimezone(UTC),
                datetime.combine(day, e, tzinfo=self.tz).astimezone(UTC),
            )
            for b, e in self.work_periods
        ]

    def add_working_time(self, start: datetime, amount: int, unit: WorkingUnit) -> datetime:
        """The deadline `amount` working days/hours after `start` (see the module docstring)."""
        _require_aware(start, "start")
        if unit not in WORKING_UNITS:
            raise Invalid(f"未知的时限单位：{unit!r}", code="invalid_unit", field="unit")
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise Invalid("时限必须是整数", code="invalid_amount", field="amount")
        if amount < 0:
            raise Invalid("时限不能为负数", code="invalid_amount", field="amount")
        local = start.astimezone(self.tz)
        if amount == 0:
            return local

        if unit == "working_day":
            day = local.date()
            for _ in range(amount):
                day = self.next_working_day(day)
            return datetime.combine(day, self.work_periods[-1][1], tzinfo=self.tz)

        return self.add_working_seconds(start, amount * 3600)  # working_hour

    def add_working_seconds(self, start: datetime, seconds: int) -> datetime:
        """The instant at which `seconds` of working time have accrued from `start`."""
        _require_aware(start, "start")
        if isinstance(seconds, bool) or not isinstance(seconds, int):
            raise Invalid("工作时长必须是整数秒", code="invalid_amount", field="seconds")
        if seconds < 0:
            raise Invalid("工作时长不能为负数", code="invalid_amount", field="seconds")
        local = start.astimezone(self.tz)
        if seconds == 0:
            return local
        start_utc = start.astimezone(UTC)
        remaining = timedelta(seconds=seconds)
        day = local.date()
        if not self.is_working_day(day):
            day = self.next_working_day(day)
        while True:
            for p_begin, p_end in self._periods_of(day):
                seg_begin = max(p_begin, start_utc)
                if seg_begin >= p_end:
                    continue
                available = p_end - seg_begin
                if remaining <= available:
                    return (seg_begin + remaining).astimezone(self.tz)
                remaining -= available
            day = self.next_working_day(day)

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time inside [start, end): zero when end <= start."""
        _require_aware(start, "start")
        _require_aware(end, "end")
        start_utc = start.astimezone(UTC)
        end_utc = end.astimezone(UTC)
        total = timedelta(0)
        if end_utc <= start_utc:
            return total
        day = start.astimezone(self.tz).date()
        last = end.astimezone(self.tz).date()
        while day <= last:
            for p_begin, p_end in self._periods_of(day):
                lo = max(p_begin, start_utc)
                hi = min(p_end, end_utc)
                if hi > lo:
                    total += hi - lo
            day += _ONE_DAY
        return total


# --- statutory holidays ----------------------------------------------------------------------

# chinese_calendar's Chinese names are the short forms (清明, 端午, 中秋); halls write the full ones.
_FULL_NAMES = {"清明": "清明节", "端午": "端午节", "中秋": "中秋节"}


def calendar_from_library(years: Iterable[int]) -> dict[date, tuple[bool, str]]:
    """The calendar_day overrides the `chinese_calendar` package implies for `years`.

    Statutory holidays on weekdays → (False, Chinese holiday name, e.g. 国庆节, 春节);
    adjusted working weekend days (调休) → (True, '调休上班'). Holidays on a weekend need no row
    (the default rule already makes them non-working). Years the library has no data for
    (it raises NotImplementedError) are skipped."""
    import chinese_calendar as cc

    result: dict[date, tuple[bool, str]] = {}
    for year in sorted(set(years)):
        try:
            cc.get_holiday_detail(date(year, 1, 1))
            cc.get_holiday_detail(date(year, 12, 31))
        except NotImplementedError:
            continue
        day = date(year, 1, 1)
        while day.year == year:
            is_holiday, name = cc.get_holiday_detail(day)
            weekend = day.weekday() >= 5
            if is_holiday and not weekend and name is not None:
                result[day] = (False, _chinese_name(cc, name))
            elif not is_holiday and weekend:
                result[day] = (True, ADJUSTED_WORKING_NOTE)
            day += _ONE_DAY
    return result


def _chinese_name(cc, english: str) -> str:
    try:
        chinese = cc.Holiday(english).chinese
    except ValueError:
        return english
    return _FULL_NAMES.get(chinese, chinese)
