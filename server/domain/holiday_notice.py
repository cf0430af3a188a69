"""The State Council's yearly holiday notice (国务院办公厅关于XXXX年部分节假日安排的通知) as data,
and how far ahead a hall's calendar holds official data. Pure Python, no I/O.

The `chinesecalendar` package carries these notices up to the year it was released for; each
later year comes into a hall's calendar by loading its notice (docs/calendar.md has the format):

    {"year": 2027, "title": "国务院办公厅关于2027年部分节假日安排的通知",
     "holidays": [{"name": "春节", "from": "2027-02-05", "to": "2027-02-12",
                   "working_days": ["2027-01-31", "2027-02-20"]}, ...]}

`parse_notice` refuses anything wrong with `Invalid` (code, the field as a dotted path such as
``holidays.1.working_days.0``, a Chinese message naming the holiday), before anything is
written: the HTTP command and the file import (`run.py calendar-import`) both go through it, so
a file is held to exactly the rules of the API. The pydantic body model of the HTTP command
(server/catalogue/hall.py) only documents the shape; the rules are here."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from server.domain.calendar import ADJUSTED_WORKING_NOTE
from server.domain.errors import Invalid

# A notice names 7 holidays (8 in 2015); 20 leaves room for a local one, not for a runaway file.
MAX_HOLIDAYS = 20
MAX_NAME = 20
MAX_TITLE = 200
# The longest official break so far is 9 days (春节 2026); a longer range is a typo in a date
# (2027-10-07 typed 2027-12-07 would close the hall for two months).
MAX_RANGE_DAYS = 15
FIRST_YEAR, LAST_YEAR = 2000, 2099
# How far ahead /healthz, the start-up log and calendar.years look for missing years.
HORIZON_DAYS = 60

# every refusal parse_notice can give (400), for the command's declaration
NOTICE_ERRORS = (
    "invalid_field",
    "invalid_date",
    "invalid_year",
    "no_holidays",
    "too_many_holidays",
    "empty_name",
    "date_outside_year",
    "invalid_range",
    "range_too_long",
    "working_day_not_weekend",
    "day_listed_twice",
)

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NOTICE_KEYS = frozenset({"year", "title", "holidays"})
_HOLIDAY_KEYS = frozenset({"name", "from", "to", "working_days"})
_WEEKDAYS = "一二三四五六日"


def default_title(year: int) -> str:
    return f"国务院办公厅关于{year}年部分节假日安排的通知"


@dataclass(frozen=True)
class Holiday:
    name: str
    first: date  # "from"
    last: date  # "to", inclusive
    working_days: tuple[date, ...]  # adjusted working weekend days (调休上班)

    def range(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


@dataclass(frozen=True)
class HolidayNotice:
    year: int
    title: str
    holidays: tuple[Holiday, ...]

    def days(self) -> dict[date, tuple[bool, str]]:
        """The calendar_day rows the notice implies, as calendar_from_library writes them for
        the years the package knows: a weekday inside a holiday -> (False, its name); an
        adjusted working weekend day -> (True, '调休上班'). A weekend day inside a holiday needs
        no row: the default rule already makes it a day off."""
        out: dict[date, tuple[bool, str]] = {}
        for h in self.holidays:
            for day in h.range():
                if day.weekday() < 5:
                    out[day] = (False, h.name)
            for day in h.working_days:
                out[day] = (True, ADJUSTED_WORKING_NOTE)
        return dict(sorted(out.items()))

    def days_off(self) -> list[date]:
        return [d for d, (working, _) in self.days().items() if not working]

    def working_days(self) -> list[date]:
        return [d for d, (working, _) in self.days().items() if working]


# ------------------------------------------------------------------------------ parsing


def _bad_field(field: str, message: str) -> Invalid:
    # the same code the HTTP layer gives a body that breaks its schema
    return Invalid(message, code="invalid_field", field=field or None)


def _object(value: Any, field: str, keys: frozenset[str], what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad_field(field, f"{what}应为 JSON 对象")
    unknown = sorted(k for k in value if k not in keys)
    if unknown:
        where = f"{field}.{unknown[0]}" if field else str(unknown[0])
        raise _bad_field(where, f"{what}中有未知字段 {unknown[0]}")
    return value


def _text(value: Any, field: str, limit: int, what: str) -> str:
    if not isinstance(value, str):
        raise _bad_field(field, f"{what}应为字符串")
    text = value.strip()
    if len(text) > limit:
        raise _bad_field(field, f"{what}不能超过 {limit} 个字")
    return text


def _day(value: Any, field: str, year: int, what: str) -> date:
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise Invalid(f"{what}应为 YYYY-MM-DD 格式的日期", code="invalid_date", field=field)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise Invalid(f"{what} {value} 不是有效日期", code="invalid_date", field=field) from None
    if day.year != year:
        raise Invalid(
            f"{what} {value} 不在通知的年份 {year} 年内", code="date_outside_year", field=field
        )
    return day


def parse_notice(raw: Any) -> HolidayNotice:
    """A notice from its JSON (already decoded), every rule checked; raises `Invalid` on the
    first thing wrong, in document order.

    Rules: the year is 2000–2099; 1–20 holidays; a holiday's name is not blank (at most 20
    characters); its dates are YYYY-MM-DD inside the notice's year, from <= to, at most 15 days;
    each adjusted working day is a Saturday or Sunday; no day appears twice in the whole notice
    (two overlapping holidays, a working day inside a holiday, a working day listed twice).
    The title is optional (default: the State Council notice's title for the year)."""
    notice = _object(raw, "", _NOTICE_KEYS, "通知")
    for key in ("year", "holidays"):
        if key not in notice:
            raise _bad_field(key, f"缺少字段 {key}")
    year = notice["year"]
    if isinstance(year, bool) or not isinstance(year, int):
        raise _bad_field("year", "year 应为整数年份")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise Invalid(
            f"年份 {year} 超出范围（{FIRST_YEAR}–{LAST_YEAR}）", code="invalid_year", field="year"
        )
    title = _text(notice.get("title", ""), "title", MAX_TITLE, "标题") or default_title(year)
    items = notice["holidays"]
    if not isinstance(items, list):
        raise _bad_field("holidays", "holidays 应为数组")
    if not items:
        raise Invalid("通知中没有任何节假日", code="no_holidays", field="holidays")
    if len(items) > MAX_HOLIDAYS:
        raise Invalid(
            f"节假日最多 {MAX_HOLIDAYS} 项，通知中有 {len(items)} 项",
            code="too_many_holidays",
            field="holidays",
        )

    seen: dict[date, str] = {}  # day -> where it was first listed (for the message)
    holidays = []
    for i, item in enumerate(items):
        at = f"holidays.{i}"
        row = f"第 {i + 1} 项"
        h = _object(item, at, _HOLIDAY_KEYS, f"{row}节假日")
        for key in ("name", "from", "to"):
            if key not in h:
                raise _bad_field(f"{at}.{key}", f"{row}节假日缺少字段 {key}")
        name = _text(h["name"], f"{at}.name", MAX_NAME, f"{row}节假日的名称")
        if not name:
            raise Invalid(f"{row}节假日的名称不能为空", code="empty_name", field=f"{at}.name")
        row = f"{row}（{name}）"
        first = _day(h["from"], f"{at}.from", year, f"{row}的开始日期")
        last = _day(h["to"], f"{at}.to", year, f"{row}的结束日期")
        if last < first:
            raise Invalid(
                f"{row}的结束日期 {last} 早于开始日期 {first}",
                code="invalid_range",
                field=f"{at}.to",
            )
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            raise Invalid(
                f"{row}放假 {(last - first).days + 1} 天，超过 {MAX_RANGE_DAYS} 天，请检查日期",
                code="range_too_long",
                field=f"{at}.to",
            )
        span = Holiday(name, first, last, ())
        for day in span.range():
            _once(seen, day, f"{row}的放假日期", f"{at}.from")
        raw_working = h.get("working_days", [])
        if not isinstance(raw_working, list):
            raise _bad_field(f"{at}.working_days", f"{row}的调休上班日应为数组")
        working = []
        for j, value in enumerate(raw_working):
            field = f"{at}.working_days.{j}"
            day = _day(value, field, year, f"{row}的调休上班日")
            if day.weekday() < 5:
                raise Invalid(
                    f"{row}的调休上班日 {day} 是星期{_WEEKDAYS[day.weekday()]}，"
                    "调休上班日应为周六或周日",
                    code="working_day_not_weekend",
                    field=field,
                )
            _once(seen, day, f"{row}的调休上班日", field)
            working.append(day)
        holidays.append(Holiday(name, first, last, tuple(working)))
    return HolidayNotice(year, title, tuple(holidays))


def _once(seen: dict[date, str], day: date, what: str, field: str) -> None:
    if day in seen:
        raise Invalid(
            f"{what} {day} 已列为{seen[day]}，同一天不能列两次",
            code="day_listed_twice",
            field=field,
        )
    seen[day] = what


# ------------------------------------------------------------------------------ coverage


def calendar_coverage(
    years_loaded: Iterable[int], today: date, horizon_days: int = HORIZON_DAYS
) -> list[str]:
    """The years between `today` and `today + horizon_days` (both included) for which the
    hall's calendar holds no official data, as strings, in order: e.g. ['2027'] on 2026-12-06
    when 2027's notice has not been loaded. Empty: nothing to warn about."""
    loaded = set(years_loaded)
    last = today + timedelta(days=horizon_days)
    return [str(y) for y in range(today.year, last.year + 1) if y not in loaded]


def missing_message(hall_name: str, years: list[str], horizon_days: int = HORIZON_DAYS) -> str:
    return (
        f"{hall_name}的日历缺少 {'、'.join(years)} 年的法定节假日安排（未来 {horizon_days} 天内"
        "要用到），期限将按周一至周五计算；请导入国务院办公厅的节假日安排通知"
    )
