"""Supervision's alarm ladder and rule sets (server/domain/alarm_ladder.py): pure, no database.

The calendar is the real 2026 statutory one (chinese_calendar via calendar_from_library), work
periods 09:00-12:00 and 13:00-17:00 (7 working hours a day), Asia/Shanghai."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain.alarm_ladder import (
    SupervisionRules,
    case_ladder,
    check_step_limits,
    due_rungs,
    next_rung,
    parse_rules,
)
from server.domain.calendar import HallCalendar, calendar_from_library, parse_work_periods
from server.domain.case_clock import ClockEvent, replay
from server.domain.errors import Invalid
from tests.unit.test_case_clock import SH, at

LIBRARY = calendar_from_library([2025, 2026])
CAL = HallCalendar(
    overrides={day: working for day, (working, _note) in LIBRARY.items()},
    work_periods=parse_work_periods([["09:00", "12:00"], ["13:00", "17:00"]]),
)
RULES = SupervisionRules()


def clock(*events: tuple) -> object:
    evs = []
    for e in events:
        op, when, *rest = e
        kw = {}
        if op == "start":
            kw = {"amount": rest[0], "unit": rest[1]}
        elif op == "pause":
            kw = {"kind": rest[0] if rest else "supplement"}
        elif op == "extend":
            kw = {"amount": rest[0]}
        evs.append(ClockEvent(at=when, op=op, **kw))
    return replay(evs, CAL)


def ladder(state) -> dict[str, datetime]:
    return {r.level: r.due for r in case_ladder(state, RULES, CAL)}


def test_two_working_days_from_a_monday():
    # accepted Mon 2026-12-07 10:00; the limit counts from Tuesday: due Wed 17:00 (14 h)
    got = ladder(clock(("start", at(2026, 12, 7, 10), 2, "working_day")))
    # one working day left at the end of Tuesday; 75 % (10.5 h) only on Wednesday 13:30
    assert got == {
        "warning": at(2026, 12, 8, 17),
        "yellow": at(2026, 12, 9, 17),
        "red": at(2026, 12, 14, 17),  # Thu, Fri, Mon: 3 working days of 督办
    }


def test_whichever_comes_first_one_day_left_or_the_share_used():
    # 8 working hours from Mon 09:00: due Tue 10:00. One working day (7 h) is left once 1 h is
    # used, at Mon 10:00; 75 % (6 h) is used only at Mon 16:00: the first wins
    got = ladder(clock(("start", at(2026, 12, 7, 9), 8, "working_hour")))
    assert got["warning"] == at(2026, 12, 7, 10)  # one working day (7 h) left comes first
    assert got["yellow"] == at(2026, 12, 8, 10)
    # 20 working days: 75 % (15 days used) comes long before the last day is left
    got = ladder(clock(("start", at(2026, 12, 7, 9), 20, "working_day")))
    assert got["warning"] < got["yellow"]
    state = clock(("start", at(2026, 12, 7, 9), 20, "working_day"))
    used = CAL.working_time_between(state.counts_from, got["warning"]).total_seconds()
    assert used == 0.75 * 20 * 7 * 3600


def test_national_day_lies_between_the_rungs():
    # accepted Wed 2026-09-30 10:00 (before National Day, Oct 1-7 off, Sat Oct 10 working)
    got = ladder(clock(("start", at(2026, 9, 30, 10), 3, "working_day")))
    assert date(2026, 10, 10) in LIBRARY and LIBRARY[date(2026, 10, 10)][0] is True
    assert got["yellow"] == at(2026, 10, 10, 17)
    assert got["warning"] == at(2026, 10, 9, 17)  # one working day left: end of Friday
    # red: 3 working days after Saturday the 10th: Mon 12, Tue 13, Wed 14
    assert got["red"] == at(2026, 10, 14, 17)


def test_a_paused_or_stopped_or_immediate_clock_has_no_ladder():
    t = at(2026, 12, 7, 10)
    assert ladder(clock(("start", t, 2, "working_day"), ("pause", at(2026, 12, 8, 10)))) == {}
    assert ladder(clock(("start", t, 2, "working_day"), ("stop", at(2026, 12, 8, 10)))) == {}
    assert ladder(clock(("start", t, 0, "working_day"))) == {}


def test_a_pause_moves_every_rung_later():
    t = at(2026, 12, 7, 10)
    before = ladder(clock(("start", t, 2, "working_day")))
    after = ladder(
        clock(
            ("start", t, 2, "working_day"),
            ("pause", at(2026, 12, 8, 10)),
            ("resume", at(2026, 12, 9, 10)),
        )
    )
    assert all(after[k] > before[k] for k in before)


def test_overdue_clock_fires_in_order_and_never_early():
    rungs = case_ladder(clock(("start", at(2026, 12, 7, 10), 2, "working_day")), RULES, CAL)
    assert due_rungs(rungs, set(), at(2026, 12, 8, 16, 59, 59)) == []
    assert [r.level for r in due_rungs(rungs, set(), at(2026, 12, 10, 9))] == ["warning", "yellow"]
    assert [r.level for r in due_rungs(rungs, {"warning"}, at(2026, 12, 10, 9))] == ["yellow"]
    assert next_rung(rungs, {"warning", "yellow"}).level == "red"
    assert next_rung(rungs, {"warning", "yellow", "red"}) is None


@settings(max_examples=150, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2026, 11, 30), timezones=st.just(SH)
    ),
    amount=st.integers(1, 30),
    unit=st.sampled_from(["working_day", "working_hour", "calendar_day"]),
    share=st.floats(0.05, 1.0),
    days_left=st.integers(0, 5),
)
def test_the_rungs_are_ordered_and_the_warning_never_after_the_deadline(
    start, amount, unit, share, days_left
):
    state = clock(("start", start.replace(microsecond=0), amount, unit))
    rules = SupervisionRules(warning_share=share, warning_days_left=days_left)
    rungs = case_ladder(state, rules, CAL)
    assert [r.level for r in rungs] == ["warning", "yellow", "red"]
    warning, yellow, red = (r.due for r in rungs)
    assert state.started_at <= warning <= yellow < red
    assert yellow == state.deadline


def test_rules_are_checked_field_by_field():
    assert parse_rules({}) == SupervisionRules()
    assert parse_rules({"version": 3, "warning_share": 0.8}).warning_share == 0.8
    for raw, field in (
        ({"warning_share": 1.5}, "warning_share"),
        ({"red_after_days": 0}, "red_after_days"),
        ({"ticket_wait_minutes": "30"}, "ticket_wait_minutes"),
        ({"colour": "red"}, "colour"),
        ({"pause_max_days": {"nap": 3}}, "pause_max_days"),
        ({"step_limits": {"amr-001": {"办理": 0}}}, "step_limits"),
    ):
        with pytest.raises(Invalid) as exc:
            parse_rules(raw)
        assert (exc.value.code, exc.value.field) == ("invalid_rule", field), raw


def test_step_limits_may_not_exceed_the_promised_limit_and_the_item_is_named():
    rules = parse_rules({"step_limits": {"amr-001": {"受理": 1, "办理": 1, "审批": 1}}})
    with pytest.raises(Invalid) as exc:
        check_step_limits(rules, {"amr-001": ("企业设立登记", 2)})
    assert exc.value.code == "step_limits_exceed" and "企业设立登记" in exc.value.message
    check_step_limits(rules, {"amr-001": ("企业设立登记", 3)})
    with pytest.raises(Invalid) as exc:
        check_step_limits(rules, {})
    assert exc.value.code == "unknown_item"
