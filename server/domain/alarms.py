"""Supervision alarms from the cases (电子监察): a case's 预警 / 黄牌 / 红牌, a step overrunning
its own limit, a supplement notice not issued in time (§32), a pause too long (the rungs of
alarm_ladder.case_rungs), and, at command time, a refusal without an adequate reason and a fee
outside the item's list.

Every command on a case plans its alarms (`schedule`): the rungs not raised yet, each with its
instant and its words, on the case row (alarm_plan; next_alarm_at is the first instant). A
change of the calendar or of the rules plans the open cases again, so a plan is always the case
as it stands: nothing fires early. The hall timers' job `alarm.fire_case` probes the one index
range and raises the due part of many plans in one statement (hq_fire_case_alarms in
db/functions/case_alarms.sql: the alarm rows, once per hall, kind, level and subject, their
alarm.issued events and the clerks' SMS), so the burst at the end of a working day, when every
day-limit deadline of the day falls, is set-based work rather than a ladder per case.

`raise_alarm` is the way every other trigger raises an alarm: its row (once per hall, kind,
level and subject), its alarm.issued event and the SMS to the handling clerk through the
outbox, inside the caller's transaction. The statement writes the same three things with the
same words; tests/supervision/test_alarm_paths.py holds the two to one payload."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from db.pool import Conn
from db.queries import alarms as q
from db.queries import calendar as cq
from db.queries import cases as cq_cases
from server.domain import alarm_ladder as ladder
from server.domain.actor import Actor
from server.domain.alarm_kinds import KIND_NAMES, AlarmKind
from server.domain.calendar import HallCalendar
from server.domain.case_clock import ClockEvent, ClockState
from server.domain.errors import Invalid
from server.domain.events import EventRecord
from server.domain.hall import get_hall
from server.domain.queueing import TZ
from server.wire import instant

if TYPE_CHECKING:
    from server.catalogue.spine import Call, TimerContext
    from server.domain.store import Tx

BATCH = 500  # due cases without a plan, planned per look
LOOK_BUDGET_S = 2.0  # a look raises batch after batch for this long, then lets the other jobs run


async def hall_rules(conn: Conn, hall_id: int) -> ladder.SupervisionRules:
    """The hall's latest rule set; version 0 is the built-in defaults. The §32 period is the
    hall's setting unless the rules set their own, so the clerk's warning and the alarm agree."""
    row = await conn.fetchrow(q.LATEST_RULES, hall_id)
    hall_days = (
        row["supplement_notice_days"] if row else ladder.SupervisionRules().supplement_notice_days
    )
    if row is None or row["version"] is None:
        return ladder.SupervisionRules(version=0, supplement_notice_days=hall_days)
    return ladder.parse_rules(
        {"supplement_notice_days": hall_days, **row["rules"], "version": row["version"]}
    )


def case_facts(r: Any, cal: HallCalendar) -> ladder.CaseFacts:
    """The facts of a case row of q.DUE_CASES / q.CASE_FACTS."""
    state = ClockState.from_json(r["clock"])
    events = [ClockEvent.from_json(e) for e in r["events"]]
    return ladder.CaseFacts(
        case_id=r["id"],
        item_code=r["item_code"],
        state=r["state"],
        clock=state,
        accepted_at=r["accepted_at"],
        state_since=r["state_since"],
        step_used_s=ladder.used_at(events, r["state_since"], cal) if events else 0,
        lacking=r["lacking"],
        first_notice_at=r["first_notice_at"],
        pauses=sum(1 for e in events if e.op == "pause"),
    )


def _fired(r: Any) -> set[tuple[str, str, str]]:
    return {(k, lv, s) for k, lv, s in r["fired"]}


def plan_entry(r: Any, deadline: datetime | None, rung: ladder.Rung, rule_version: int) -> dict:
    """One rung of a case's alarm plan, with the words it will be raised with: what the timers'
    statement (db/functions/case_alarms.sql) copies into the alarm, its event and its SMS.
    `r`: the case's id, case_no, item_name, department_id, window_id and clerk_id."""
    alarm = case_alarm(r, deadline, rung)
    return {
        "kind": alarm.kind,
        "kind_name": KIND_NAMES[alarm.kind],
        "level": alarm.level,
        "level_name": ladder.LEVEL_NAMES[alarm.level],
        "subject": alarm.subject,
        "due_at": alarm.due_at.astimezone(TZ).isoformat(),
        "summary": alarm.summary,
        "detail": dict(alarm.detail),
        "rule_version": rule_version,
    }


async def schedule(
    conn: Conn,
    case_id: int,
    hall_id: int,
    cal: HallCalendar,
    rules: ladder.SupervisionRules | None = None,
) -> None:
    """Plans the case's alarms from the case as the database has it (call it once the command
    wrote the case, its materials and its history): every rung not raised yet, in order, on its
    row (alarm_plan), and the first one's instant as next_alarm_at."""
    rules = rules or await hall_rules(conn, hall_id)
    r = await conn.fetchrow(q.CASE_FACTS, case_id)
    facts = case_facts(r, cal)
    fired = _fired(r)
    rungs = sorted(ladder.case_rungs(facts, rules, cal), key=lambda g: g.due)  # first = next
    plan = [
        plan_entry(r, facts.clock.deadline, rung, rules.version)
        for rung in rungs
        if rung.key not in fired
    ]
    await conn.execute(q.SET_ALARM_PLAN, case_id, plan)


@dataclass(frozen=True)
class Alarm:
    """An alarm to raise: what, on which subject, whose (department, window, handling clerk),
    and the words of its event and SMS."""

    kind: AlarmKind
    level: ladder.Level
    subject: str  # what it is raised on, its once-key: 'case:17', 'ticket:88', ...
    due_at: datetime
    summary: str  # one line people read: the wall, the terminal, the SMS
    department_id: int | None = None
    window_id: int | None = None
    staff_id: int | None = None
    case_id: int | None = None
    case_no: str | None = None
    item_name: str | None = None
    ticket_id: int | None = None
    ticket_no: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


async def raise_alarm(
    tx: Tx,
    hall_id: int,
    alarm: Alarm,
    rule_version: int,
    now: datetime,
    *,
    raised_by_hall: int | None = None,
) -> int | None:
    """Raises the alarm inside the caller's transaction: its row, its alarm.issued event and
    the SMS to the handling clerk, all or nothing. None when it was raised already (a retry, a
    second process, a restart after kill -9): no second event, no second SMS."""
    row = await tx.conn.fetchrow(
        q.INSERT_ALARM,
        hall_id,
        alarm.kind,
        alarm.level,
        alarm.subject,
        alarm.case_id,
        alarm.ticket_id,
        alarm.department_id,
        alarm.window_id,
        alarm.staff_id,
        rule_version,
        alarm.due_at,
        now,
        raised_by_hall,
        {**alarm.detail, "summary": alarm.summary},  # the wall shows the trigger's own words
    )
    if row is None:
        return None
    tx.emit(
        "alarm.issued",
        {
            "alarm_id": row["id"],
            "kind": alarm.kind,
            "kind_name": KIND_NAMES[alarm.kind],
            "level": alarm.level,
            "level_name": ladder.LEVEL_NAMES[alarm.level],
            "subject": alarm.subject,
            "summary": alarm.summary,
            "case_id": alarm.case_id,
            "case_no": alarm.case_no,
            "item_name": alarm.item_name,
            "ticket_no": alarm.ticket_no,
            "department": row["department_code"],
            "window_no": row["window_no"],
            "due_at": instant(alarm.due_at),
            "issued_at": instant(now),
            "rule_version": rule_version,
        },
        hall_id=hall_id,
        window_id=alarm.window_id,
    )
    if row["staff_phone"]:
        body = f"【电子监察】{ladder.LEVEL_NAMES[alarm.level]}：{alarm.summary}，请及时处理。"
        await tx.conn.execute(
            cq_cases.INSERT_SMS, hall_id, f"alarm:{row['id']}", row["staff_phone"], body
        )
    return int(row["id"])


async def fire_case_alarms(ctx: TimerContext, hall: Any, now: datetime) -> list[EventRecord]:
    """Raises the due rungs of the hall's case plans: batches of one statement each, until a
    batch raises nothing or the look has taken its share of time (the rest on the next look)."""
    async with ctx.store.read() as conn:
        first = await conn.fetchval(q.NEXT_DUE, hall["id"])
        if first is None or first > now:
            return []  # the common look: one index probe, no transaction
    await _plan_unplanned(ctx, hall["id"], now)
    records: list[EventRecord] = []
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < LOOK_BUDGET_S:
        # each batch at its own instant: the look's clock moved on while the ones before ran
        # (a backlog), and an alarm is issued when it is raised
        at = now + timedelta(seconds=elapsed)
        batch = await ctx.store.statement(
            hall["id"], q.FIRE_CASE_ALARMS, hall["id"], at, instant(at), ctx.alarm_batch
        )
        records += batch
        if not batch:
            break
    return records


async def _plan_unplanned(ctx: TimerContext, hall_id: int, now: datetime) -> None:
    """Plans the due cases that have no plan (scheduled before plans existed, or loaded in
    bulk), so the statement can raise them."""
    async with ctx.store.read() as conn, conn.transaction():
        # locked, so that a command planning one of them meanwhile is not overwritten by a
        # plan of the case as it was before the command
        ids = await conn.fetch(q.DUE_UNPLANNED, hall_id, now, BATCH)
        if not ids:
            return
        rules = await hall_rules(conn, hall_id)
        first = min(r["accepted_at"] for r in ids).astimezone(TZ).date()
        cal = await cq.load_hall_calendar(
            conn, hall_id, first - timedelta(days=30), first + timedelta(days=900)
        )
        for r in ids:
            await schedule(conn, r["id"], hall_id, cal, rules)


_UNITS = {"working_day": "个工作日", "working_hour": "个工作小时", "calendar_day": "个自然日"}


def case_alarm(r: Any, deadline: datetime | None, rung: ladder.Rung) -> Alarm:
    """The alarm of a case's rung: whose it is and the words people read."""
    head = f"办件 {r['case_no']}（{r['item_name']}）"
    d = rung.detail
    deadline = deadline.astimezone(TZ) if deadline else None
    detail: dict[str, Any] = {**d, "deadline": instant(deadline) if deadline else None}
    if rung.kind == "case_deadline":
        what = {
            "warning": "临近办结时限",
            "yellow": "已超过办结时限",
            "red": "超期督办期满仍未办结",
        }
        due = deadline.strftime("%m月%d日 %H:%M") if deadline else ""
        summary = f"{head}{what[rung.level]}（时限 {due}）"
    elif rung.kind == "step_overrun":
        step = ladder.STEPS.get(str(d["step"]), str(d["step"]))
        summary = f"{head}「{step}」环节超过本环节时限（{d['limit']}{_UNITS[str(d['unit'])]}）"
    elif rung.kind == "supplement_late":
        summary = f"{head}材料不全，受理后 {d['days']} 个工作日内未发出补正告知"
    else:
        name = ladder.PAUSE_NAMES.get(str(d["pause_kind"]), str(d["pause_kind"]))
        summary = f"{head}{name}暂停已超过 {d['days']} 个工作日"
    return Alarm(
        kind=rung.kind,
        level=rung.level,
        subject=rung.subject,
        due_at=rung.due,
        summary=summary,
        department_id=r["department_id"],
        window_id=r["window_id"],
        staff_id=r["clerk_id"],
        case_id=r["id"],
        case_no=r["case_no"],
        item_name=r["item_name"],
        detail=detail,
    )


async def check_refusal_reason(
    tx: Tx,
    case_id: int,
    reason: str,
    permit_refusal: bool,
    staff_id: int | None,
    now: datetime,
) -> int | None:
    """A refusal (不予受理 / 不予许可) whose reason is inadequate (alarm_ladder.reason_shortfalls)
    raises 黄牌 refusal_without_reason on the case, in the refusing command's transaction. The
    refusing staff member is the one it reaches."""
    lacks = ladder.reason_shortfalls(reason, permit_refusal)
    if not lacks:
        return None
    c = await tx.conn.fetchrow(q.CASE_FOR_ALARM, case_id)
    assert c is not None  # the command holds the case
    rules = await hall_rules(tx.conn, c["hall_id"])
    words = {
        "too_short": "理由过于简单",
        "no_legal_basis": "未说明法律依据",
        "no_remedy": "未告知申请行政复议或提起行政诉讼的权利",
    }
    what = "不予许可" if permit_refusal else "不予受理"
    return await raise_alarm(
        tx,
        c["hall_id"],
        Alarm(
            kind="refusal_without_reason",
            level="yellow",
            subject=f"case:{case_id}:refusal",
            due_at=now,
            summary=f"办件 {c['case_no']}（{c['item_name']}）{what}："
            + "、".join(words[x] for x in lacks),
            department_id=c["department_id"],
            window_id=c["window_id"],
            staff_id=staff_id,
            case_id=case_id,
            case_no=c["case_no"],
            item_name=c["item_name"],
            detail={"reason": reason, "lacks": lacks, "permit_refusal": permit_refusal},
        ),
        rules.version,
        now,
    )


async def fee_irregular(
    tx: Tx,
    hall_id: int,
    irregularity_id: int,
    case_id: int | None,
    code: str,
    detail: Mapping[str, Any],
    actor: Actor,
    now: datetime,
) -> int | None:
    """A fee outside the item's published list, or above it: 黄牌 fee_irregular on the
    irregularity, raised with its row (the refused fee itself rolled back)."""
    c = await tx.conn.fetchrow(q.CASE_FOR_ALARM, case_id) if case_id is not None else None
    rules = await hall_rules(tx.conn, hall_id)
    what = "收取未公示的费用" if code == "fee_not_listed" else "收费超过公示标准"
    amount = int(detail.get("amount_cents", 0)) / 100
    head = f"办件 {c['case_no']}（{c['item_name']}）" if c is not None else ""
    return await raise_alarm(
        tx,
        hall_id,
        Alarm(
            kind="fee_irregular",
            level="yellow",
            subject=f"irregularity:{irregularity_id}",
            due_at=now,
            summary=f"{head}{what}（{amount:.2f} 元），已拒收",
            department_id=c["department_id"] if c is not None else None,
            window_id=actor.window_id,
            staff_id=actor.id if actor.kind == "staff" else None,
            case_id=case_id,
            case_no=c["case_no"] if c is not None else None,
            item_name=c["item_name"] if c is not None else None,
            detail={**detail, "code": code, "irregularity_id": irregularity_id},
        ),
        rules.version,
        now,
    )


# ------------------------------------------------------------------------------ the rules


async def reschedule_hall(
    conn: Conn, hall_id: int, rules: ladder.SupervisionRules, now: datetime
) -> int:
    """Every case of the hall whose clock runs or is paused gets its next rung under `rules`
    (new step or pause limits move rungs both ways). Returns how many have one."""
    rows = await conn.fetch(q.HALL_OPEN_CASES, hall_id)
    if not rows:
        return 0
    first = min(r["accepted_at"] for r in rows).astimezone(TZ).date()
    cal = await cq.load_hall_calendar(
        conn, hall_id, first - timedelta(days=30), max(first, now.date()) + timedelta(days=900)
    )
    ids, dues, levels, kinds = [], [], [], []
    for r in rows:
        rung = ladder.next_rung(ladder.case_rungs(case_facts(r, cal), rules, cal), _fired(r))
        ids.append(r["id"])
        dues.append(rung.due if rung else None)
        levels.append(rung.level if rung else None)
        kinds.append(rung.kind if rung else None)
    await conn.execute(q.SET_NEXT_ALARMS, ids, dues, levels, kinds)
    return sum(d is not None for d in dues)


def _rules_view(hall_code: str, row: Any) -> dict[str, Any]:
    if row is None:
        rules = ladder.SupervisionRules(version=0)
        return {"hall": hall_code, **rules.to_json(), "created_at": None, "created_by": None}
    rules = ladder.parse_rules({**row["rules"], "version": row["version"]})
    return {
        "hall": hall_code,
        **rules.to_json(),
        "created_at": instant(row["created_at"]),
        "created_by": row["created_by"],
    }


async def get_rules(call: Call, hall_code: str) -> dict[str, Any]:
    """The hall's rule set in force (version 0: the built-in defaults, none published)."""
    async with call.ctx.store.read() as conn:
        hall = await get_hall(conn, hall_code)
        await call.authorize(hall.target())
        return _rules_view(hall.code, await conn.fetchrow(q.RULES_NOW, hall.id))


async def set_rules(
    call: Call, hall_code: str, raw: Mapping[str, Any]
) -> tuple[dict[str, Any], list[EventRecord]]:
    """Publishes a new version of the hall's rules (the latest + 1): checked field by field,
    and refused when an item's step limits add up to more than its promised limit (the item
    named). Every case whose clock runs or is paused is rescheduled under the new rules; the
    alarms raised keep the version that raised them."""
    if "version" in raw:
        raise Invalid("规则版本由系统按发布顺序分配", code="invalid_rule", field="version")
    now = call.ctx.clock()
    async with call.command() as tx:
        hall = await get_hall(tx.conn, hall_code)
        tx.detail.update(hall=hall.code)
        call.check(hall.target())
        rules = ladder.parse_rules(raw)
        promised = {
            r["code"]: (r["name"], int(r["promised_limit"]))
            for r in await tx.conn.fetch(q.PROMISED_LIMITS, hall.id)
        }
        ladder.check_step_limits(rules, promised)
        await tx.conn.execute(q.LOCK_RULES, hall.id)
        stored = {k: v for k, v in rules.to_json().items() if k != "version"}
        actor = call.actor.id if call.actor.kind == "staff" else None
        version = await tx.conn.fetchval(q.INSERT_RULES, hall.id, stored, now, actor)
        rules = ladder.parse_rules({**stored, "version": version})
        scheduled = await reschedule_hall(tx.conn, hall.id, rules, now)
        tx.detail.update(version=version, scheduled=scheduled)
        row = await tx.conn.fetchrow(q.RULES_NOW, hall.id)
    return {**_rules_view(hall.code, row), "scheduled": scheduled}, tx.records
