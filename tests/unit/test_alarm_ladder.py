"""Supervision's alarm ladder and rule sets (server/domain/alarm_ladder.py): pure, no database.

The calendar is the real 2026 statutory one (chinese_calendar via calendar_from_library), work
periods 09:00-12:00 and 13:00-17:00 (7 working hours a day), Asia/Shanghai."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain.alarm_ladder import (
    CaseFacts,
    SupervisionRules,
    case_ladder,
    case_rungs,
    check_step_limits,
    due_rungs,
    next_rung,
    parse_rules,
    reason_shortfalls,
    used_at,
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


def events(*spec: tuple) -> list[ClockEvent]:
    evs = []
    for e in spec:
        op, when, *rest = e
        kw = {}
        if op == "start":
            kw = {"amount": rest[0], "unit": rest[1]}
        elif op == "pause":
            kw = {"kind": rest[0] if rest else "supplement"}
        elif op == "extend":
            kw = {"amount": rest[0]}
        evs.append(ClockEvent(at=when, op=op, **kw))
    return evs


def clock(*spec: tuple) -> object:
    return replay(events(*spec), CAL)


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


def test_a_limit_of_a_day_or_less_is_warned_by_the_share_not_at_acceptance():
    # 4 working hours from Mon 09:00: "one working day left" holds from the first second, so
    # only the share warns: 75 % (3 h) used at 12:00, the deadline at 14:00 (lunch between)
    got = ladder(clock(("start", at(2026, 12, 7, 9), 4, "working_hour")))
    assert got["warning"] == at(2026, 12, 7, 12)
    assert got["yellow"] == at(2026, 12, 7, 14)
    # exactly one working day (7 h): the share again, 5.25 h used at Mon 15:15
    got = ladder(clock(("start", at(2026, 12, 7, 9), 7, "working_hour")))
    assert got["warning"] == at(2026, 12, 7, 15, 15)


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


# --- every rung of a case ---------------------------------------------------------------


def facts(
    spec: list[tuple],
    state: str = "accepted",
    since: datetime | None = None,
    lacking: bool = False,
    notice: datetime | None = None,
    item: str = "amr-012",
) -> CaseFacts:
    evs = events(*spec)
    since = since or evs[0].at
    return CaseFacts(
        case_id=7,
        item_code=item,
        state=state,
        clock=replay(evs, CAL),
        accepted_at=evs[0].at,
        state_since=since,
        step_used_s=used_at(evs, since, CAL),
        lacking=lacking,
        first_notice_at=notice,
        pauses=sum(1 for e in evs if e.op == "pause"),
    )


STEPPED = parse_rules({"step_limits": {"amr-012": {"受理": 1, "办理": 3, "审批": 2}}})
MON = at(2026, 12, 7, 10)


def kinds(f: CaseFacts, rules: SupervisionRules = STEPPED) -> list[tuple[str, str, datetime]]:
    return [(r.kind, r.subject, r.due) for r in case_rungs(f, rules, CAL) if r.level == "yellow"]


def test_step_names_are_the_case_states_in_english_or_chinese():
    assert STEPPED.step_limits == {
        "amr-012": {"accepted": 1, "in_progress": 3, "awaiting_signoff": 2}
    }
    for bad in ({"发证": 1}, {"受理": 1, "accepted": 1}):
        with pytest.raises(Invalid) as exc:
            parse_rules({"step_limits": {"amr-012": bad}})
        assert exc.value.field == "step_limits"


def test_a_step_overrun_is_a_rung_only_while_the_case_is_on_time():
    # 10 working days from Monday: due Mon 12-21 17:00; 受理 may take 1 day (counted from Tue)
    f = facts([("start", MON, 10, "working_day")])
    assert ("step_overrun", "case:7:step:accepted", at(2026, 12, 8, 17)) in kinds(f)
    # 办理 entered Wed 10:00 with 8 h used: 3 days (21 h) end Mon 12-14 10:00
    f = facts([("start", MON, 10, "working_day")], "in_progress", at(2026, 12, 9, 10))
    assert f.step_used_s == 8 * 3600
    assert ("step_overrun", "case:7:step:in_progress", at(2026, 12, 14, 10)) in kinds(f)
    # the time of a pause in the step is not the step's: Thu 10:00 - Fri 10:00 paused
    f = facts(
        [
            ("start", MON, 10, "working_day"),
            ("pause", at(2026, 12, 10, 10), "testing"),
            ("resume", at(2026, 12, 11, 10)),
        ],
        "in_progress",
        at(2026, 12, 9, 10),
    )
    assert ("step_overrun", "case:7:step:in_progress", at(2026, 12, 15, 10)) in kinds(f)
    # a step whose limit reaches the deadline: the deadline's 黄牌 alone
    two = parse_rules({"step_limits": {"amr-001": {"accepted": 2}}})
    f = facts([("start", MON, 2, "working_day")], item="amr-001")
    assert [k for k, _, _ in kinds(f, two)] == ["case_deadline"]
    # no step limit for the state (approved), or a paused clock: none
    assert "step_overrun" not in [
        k for k, _, _ in kinds(facts([("start", MON, 10, "working_day")], "approved"))
    ]
    paused = facts([("start", MON, 10, "working_day"), ("pause", at(2026, 12, 8, 10))])
    assert [k for k, _, _ in kinds(paused)] == ["pause_overlong"]


def test_the_supplement_notice_is_due_within_five_working_days_of_acceptance():
    spec = [("start", MON, 10, "working_day")]
    due = at(2026, 12, 14, 17)
    assert ("supplement_late", "case:7:supplement", due) in kinds(facts(spec, lacking=True))
    assert "supplement_late" not in [k for k, _, _ in kinds(facts(spec))]  # nothing missing
    on_time = facts(spec, lacking=True, notice=at(2026, 12, 14, 16))
    assert "supplement_late" not in [k for k, _, _ in kinds(on_time)]
    late = facts(spec, lacking=True, notice=at(2026, 12, 15, 9))  # late is late
    assert "supplement_late" in [k for k, _, _ in kinds(late)]
    decided = facts(spec, "approved", lacking=True)
    assert "supplement_late" not in [k for k, _, _ in kinds(decided)]


def test_each_pause_has_its_own_limit_and_subject():
    spec = [
        ("start", MON, 10, "working_day"),
        ("pause", at(2026, 12, 8, 10), "escalation"),
        ("resume", at(2026, 12, 9, 10)),
        ("pause", at(2026, 12, 9, 11), "hearing"),
    ]
    got = [(s, d) for k, s, d in kinds(facts(spec)) if k == "pause_overlong"]
    # a hearing may last 20 working days by default, counted after the pause's day
    assert got == [("case:7:pause:2", CAL.add_working_time(at(2026, 12, 9, 11), 20, "working_day"))]
    short = parse_rules({"pause_max_days": {"hearing": 1}})
    assert [d for k, _, d in kinds(facts(spec), short) if k == "pause_overlong"] == [
        at(2026, 12, 10, 17)
    ]
    assert kinds(facts([*spec, ("stop", at(2026, 12, 10, 9))])) == []  # stopped: nothing


def test_rungs_are_in_order_and_fired_ones_are_skipped_by_key():
    f = facts([("start", MON, 10, "working_day")], lacking=True)
    rungs = case_rungs(f, STEPPED, CAL)
    assert [r.due for r in rungs] == sorted(r.due for r in rungs)
    first = rungs[0]
    assert (first.kind, first.due) == ("step_overrun", at(2026, 12, 8, 17))
    assert next_rung(rungs, {first.key}) == rungs[1]
    # the deadline's rung of the same level is another alarm
    assert next_rung(rungs, {("case_deadline", "yellow", "case:7")}) == first
    assert due_rungs(rungs, set(), at(2026, 12, 8, 16, 59, 59)) == []
    assert due_rungs(rungs, set(), at(2026, 12, 8, 17)) == [first]


@pytest.mark.parametrize(
    ("reason", "permit", "lacks"),
    [
        ("不属于受理范围", False, ["too_short"]),
        ("  材 料 不 全 ！！！！！！  ", False, ["too_short"]),
        ("经审查，不符合法定条件。", False, ["too_short"]),  # a generic phrase
        ("申请事项不属于本机关职权范围，请向市自然资源局申请", False, []),
        ("申请人提交的住所使用证明与实际经营场所不一致", True, ["no_legal_basis", "no_remedy"]),
        ("依据《条例》第二十一条，住所证明与实际不一致", True, ["no_remedy"]),
        ("依据《条例》第二十一条，住所证明不一致；可依法申请行政复议", True, []),
        ("不同意", True, ["too_short", "no_legal_basis", "no_remedy"]),
    ],
)
def test_a_refusals_reason(reason, permit, lacks):
    assert reason_shortfalls(reason, permit) == lacks
