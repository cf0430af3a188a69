"""The holiday notice as data (server/domain/holiday_notice.py): what a notice writes, its rules,
and which years a calendar lacks within the horizon. Pure: no database."""

from __future__ import annotations

from datetime import date

import pytest

from server.domain.calendar import calendar_from_library
from server.domain.errors import Invalid
from server.domain.holiday_notice import calendar_coverage, default_title, parse_notice

# 国务院办公厅关于2026年部分节假日安排的通知 (4 November 2025), transcribed as docs/calendar.md says
NOTICE_2026 = {
    "year": 2026,
    "holidays": [
        {"name": "元旦", "from": "2026-01-01", "to": "2026-01-03", "working_days": ["2026-01-04"]},
        {
            "name": "春节",
            "from": "2026-02-15",
            "to": "2026-02-23",
            "working_days": ["2026-02-14", "2026-02-28"],
        },
        {"name": "清明节", "from": "2026-04-04", "to": "2026-04-06"},
        {
            "name": "劳动节",
            "from": "2026-05-01",
            "to": "2026-05-05",
            "working_days": ["2026-05-09"],
        },
        {"name": "端午节", "from": "2026-06-19", "to": "2026-06-21"},
        {"name": "中秋节", "from": "2026-09-25", "to": "2026-09-27"},
        {
            "name": "国庆节",
            "from": "2026-10-01",
            "to": "2026-10-07",
            "working_days": ["2026-09-20", "2026-10-10"],
        },
    ],
}


def test_the_2026_notice_writes_exactly_what_the_library_has_for_2026():
    notice = parse_notice(NOTICE_2026)
    assert notice.title == default_title(2026) == "国务院办公厅关于2026年部分节假日安排的通知"
    assert notice.days() == calendar_from_library([2026])


def test_weekend_days_of_a_holiday_need_no_row():
    notice = parse_notice(
        {"year": 2026, "holidays": [{"name": "国庆节", "from": "2026-10-01", "to": "2026-10-07"}]}
    )
    assert [d.isoformat() for d in notice.days_off()] == [
        "2026-10-01",
        "2026-10-02",
        "2026-10-05",
        "2026-10-06",
        "2026-10-07",
    ]
    assert notice.working_days() == []


def holiday(**changes) -> dict:
    return {"year": 2026, "holidays": [{"name": "春节", "from": "2026-02-15", **changes}]}


@pytest.mark.parametrize(
    ("raw", "code", "field"),
    [
        ([], "invalid_field", None),
        ({"year": 2026, "holidays": [], "notes": ""}, "invalid_field", "notes"),
        ({"year": True, "holidays": []}, "invalid_field", "year"),
        ({"year": 2100, "holidays": [{}]}, "invalid_year", "year"),
        ({"year": 2026, "holidays": {}}, "invalid_field", "holidays"),
        ({"year": 2026, "title": 7, "holidays": []}, "invalid_field", "title"),
        (holiday(), "invalid_field", "holidays.0.to"),
        (
            holiday(to="2026-02-23", working_days="2026-02-14"),
            "invalid_field",
            "holidays.0.working_days",
        ),
        (holiday(to="20260223"), "invalid_date", "holidays.0.to"),
        (holiday(to="2026-02-29"), "invalid_date", "holidays.0.to"),  # 2026 is no leap year
        (
            holiday(to="2026-02-23", working_days=[20260214]),
            "invalid_date",
            "holidays.0.working_days.0",
        ),
        (
            holiday(to="2026-02-23", working_days=["2026-02-14", "2026-02-14"]),
            "day_listed_twice",
            "holidays.0.working_days.1",
        ),
        (
            holiday(to="2026-02-23", working_days=["2026-02-21"]),
            "day_listed_twice",
            "holidays.0.working_days.0",
        ),
        (holiday(to="2026-03-01"), None, None),  # 15 days: still allowed
        (holiday(to="2026-03-02"), "range_too_long", "holidays.0.to"),
    ],
)
def test_rules(raw, code, field):
    if code is None:
        parse_notice(raw)
        return
    with pytest.raises(Invalid) as err:
        parse_notice(raw)
    assert (err.value.code, err.value.field) == (code, field)
    assert err.value.message


def test_the_first_fault_in_document_order_is_reported():
    raw = {
        "year": 2026,
        "holidays": [
            {
                "name": "元旦",
                "from": "2026-01-01",
                "to": "2026-01-03",
                "working_days": ["2026-01-05"],
            },
            {"name": "", "from": "2026-02-15", "to": "2026-02-23"},
        ],
    }
    with pytest.raises(Invalid) as err:
        parse_notice(raw)
    assert err.value.code == "working_day_not_weekend"
    assert "第 1 项（元旦）" in err.value.message and "星期一" in err.value.message


@pytest.mark.parametrize(
    ("loaded", "today", "missing"),
    [
        ({2024, 2025, 2026}, date(2026, 12, 6), ["2027"]),  # the task's day: 60 days reach 2027
        ({2024, 2025, 2026}, date(2026, 11, 1), []),  # + 60 = 2026-12-31
        ({2024, 2025, 2026}, date(2026, 11, 2), ["2027"]),  # + 60 = 2027-01-01
        ({2025, 2027}, date(2026, 12, 6), ["2026"]),
        (set(), date(2026, 12, 6), ["2026", "2027"]),
        ({2026, 2027}, date(2026, 12, 6), []),
    ],
)
def test_calendar_coverage(loaded, today, missing):
    assert calendar_coverage(loaded, today) == missing


def test_a_longer_horizon_spans_more_years():
    assert calendar_coverage([2026], date(2026, 6, 1), horizon_days=800) == ["2027", "2028"]
