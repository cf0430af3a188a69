"""Bulk-loads open cases straight into the database for `run.py bench cases`: what a hall
accumulates over weeks, in seconds.

Every case is made the way the product would have made it: an item of the hall with its
version, limits and material list; a window of the item's department and the clerk signed in
there; a history of commands (accept, start, supplement request and receipt, special
procedures, escalation, the leader's sign-off, decisions) at working instants between the
acceptance and now; and the clock kept on the case is `case_clock.replay` of exactly the clock
events in that history with the hall's calendar, so `reprice_open_cases`, the timeline and
every later command read valid rows. Open supplement notices and sign-off requests have their
rows. Acceptances are spread over the last weeks so that deadlines are spread too: most still
ahead, some already past (open cases that are overdue).

Rows go in with `insert ... select from unnest(...)`, a few thousand per statement, ids
reserved up front so that a case's history keeps its order."""

from __future__ import annotations

import random
import secrets
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
import orjson

from db.queries.calendar import load_hall_calendar
from server.domain import case_clock as clock
from server.domain.calendar import HallCalendar
from server.domain.queueing import TZ

BATCH = 5_000
# what the open cases are doing, in shares of all of them (the rest: in progress, running)
SHARES = {
    "accepted": 0.15,  # accepted, not started yet
    "supplement": 0.08,  # paused: a supplement notice is out
    "special": 0.02,  # paused: a §45 special procedure
    "escalated": 0.02,  # paused: forwarded to a higher authority (报批)
    "signoff": 0.06,  # waiting for the leader (items that need a sign-off)
    "approved": 0.12,  # decided, result being prepared
    "refused": 0.01,
}
URGENT_SHARE = 0.05  # 急办 where the item has an urgent limit
DEFICIENCY_SHARE = 0.03  # 容缺: accepted with a non-key material deferred
PAST_SUPPLEMENT_SHARE = 0.10  # a supplement cycle already closed in the history
WORKING_DAY_S = 7 * 3600  # the demo hall's day: 09:00-12:00, 13:00-17:00
MAX_AGE_DAYS = 60


@dataclass
class ItemSpec:
    id: int
    code: str
    department_id: int
    kind: str
    unit: str
    statutory: int
    promised: int
    urgent: int | None
    version: int
    signoff: bool
    materials: list[tuple[int, str, bool, int]]  # position, name, is_key, copies


@dataclass
class WindowSpec:
    id: int
    no: int
    department_id: int
    clerk_id: int


@dataclass
class LoadedCase:
    """What the bench needs to know of a loaded case to pick a command for it."""

    id: int
    department_id: int
    window_no: int
    state: str
    clock_status: str
    pause_kind: str | None
    signoff_item: bool
    materials: int
    outstanding: bool  # missing or faulty materials (a complete would be refused)
    supplement_open: bool
    item_code: str = ""


@dataclass
class Loaded:
    hall_id: int
    cases: list[LoadedCase]
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)
    items: dict[str, ItemSpec] = field(default_factory=dict)
    leaders: dict[int, int] = field(default_factory=dict)  # department id -> leader staff id


class _Rows:
    def __init__(self, *names: str):
        self.cols: dict[str, list[Any]] = {n: [] for n in names}

    def add(self, **values: Any) -> None:
        for k, v in values.items():
            self.cols[k].append(v)

    def __len__(self) -> int:
        return len(next(iter(self.cols.values())))

    def clear(self) -> None:
        for v in self.cols.values():
            v.clear()


INSERT_CASES = """
insert into service_case (
    id, hall_id, case_no, query_code, item_id, item_version, department_id, kind, state,
    applicant_name, applicant_phone, applicant_id_no, window_id, clerk_id, accepted_at,
    limit_amount, limit_unit, statutory_amount, clock, clock_status, deadline, deficiency_due,
    reason, decided_at, visits, last_visit_day)
select t.id, $1, t.case_no, t.query_code, t.item_id, t.item_version, t.department_id, t.kind,
       t.state, t.applicant_name, t.applicant_phone, null, t.window_id, t.clerk_id,
       t.accepted_at, t.limit_amount, t.limit_unit, t.statutory_amount, t.clock::jsonb,
       t.clock_status, t.deadline, t.deficiency_due, t.reason, t.decided_at, t.visits,
       t.last_visit_day
from unnest($2::bigint[], $3::text[], $4::text[], $5::int[], $6::int[], $7::int[], $8::text[],
            $9::text[], $10::text[], $11::text[], $12::int[], $13::int[], $14::timestamptz[],
            $15::int[], $16::text[], $17::int[], $18::text[], $19::text[], $20::timestamptz[],
            $21::timestamptz[], $22::text[], $23::timestamptz[], $24::int[], $25::date[])
     as t(id, case_no, query_code, item_id, item_version, department_id, kind, state,
          applicant_name, applicant_phone, window_id, clerk_id, accepted_at, limit_amount,
          limit_unit, statutory_amount, clock, clock_status, deadline, deficiency_due, reason,
          decided_at, visits, last_visit_day)
"""
CASE_COLS = [
    "id",
    "case_no",
    "query_code",
    "item_id",
    "item_version",
    "department_id",
    "kind",
    "state",
    "applicant_name",
    "applicant_phone",
    "window_id",
    "clerk_id",
    "accepted_at",
    "limit_amount",
    "limit_unit",
    "statutory_amount",
    "clock",
    "clock_status",
    "deadline",
    "deficiency_due",
    "reason",
    "decided_at",
    "visits",
    "last_visit_day",
]

INSERT_MATERIALS = """
insert into case_material (case_id, position, name, is_key, copies, status, deferred, problem,
                           updated_at)
select * from unnest($1::bigint[], $2::int[], $3::text[], $4::bool[], $5::int[], $6::text[],
                     $7::bool[], $8::text[], $9::timestamptz[])
"""
MATERIAL_COLS = [
    "case_id",
    "position",
    "name",
    "is_key",
    "copies",
    "status",
    "deferred",
    "problem",
    "updated_at",
]

INSERT_HISTORY = """
insert into case_history (id, case_id, at, action, actor_kind, actor_id, window_id, from_state,
                          to_state, clock, reason, detail)
select t.id, t.case_id, t.at, t.action, 'staff', t.actor_id, t.window_id, t.from_state,
       t.to_state, t.clock::jsonb, t.reason, t.detail::jsonb
from unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::text[], $5::int[], $6::int[],
            $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
     as t(id, case_id, at, action, actor_id, window_id, from_state, to_state, clock, reason,
          detail)
"""
HISTORY_COLS = [
    "id",
    "case_id",
    "at",
    "action",
    "actor_id",
    "window_id",
    "from_state",
    "to_state",
    "clock",
    "reason",
    "detail",
]

INSERT_NOTICES = """
insert into supplement_notice (case_id, issued_at, issued_by, window_id, materials, received_at)
select t.case_id, t.issued_at, t.issued_by, t.window_id, t.materials::jsonb, t.received_at
from unnest($1::bigint[], $2::timestamptz[], $3::int[], $4::int[], $5::text[],
            $6::timestamptz[]) as t(case_id, issued_at, issued_by, window_id, materials,
                                    received_at)
"""
NOTICE_COLS = ["case_id", "issued_at", "issued_by", "window_id", "materials", "received_at"]

INSERT_SIGNOFFS = """
insert into signoff_request (case_id, hall_id, department_id, purpose, note, requested_by,
                             window_id, requested_at, decision, comment, decided_by, decided_at)
select t.case_id, $1, t.department_id, 'decision', t.note, t.requested_by, t.window_id,
       t.requested_at, t.decision, t.comment, t.decided_by, t.decided_at
from unnest($2::bigint[], $3::int[], $4::text[], $5::int[], $6::int[], $7::timestamptz[],
            $8::text[], $9::text[], $10::int[], $11::timestamptz[])
     as t(case_id, department_id, note, requested_by, window_id, requested_at, decision,
          comment, decided_by, decided_at)
"""
SIGNOFF_COLS = [
    "case_id",
    "department_id",
    "note",
    "requested_by",
    "window_id",
    "requested_at",
    "decision",
    "comment",
    "decided_by",
    "decided_at",
]

_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红建国志文辉力斌宇浩凯鹏飞亮"


async def _reserve(conn: asyncpg.Connection, seq_of: str, n: int) -> int:
    """The first of `n` consecutive ids taken from the table's sequence."""
    seq = await conn.fetchval("select pg_get_serial_sequence($1, 'id')", seq_of)
    first = await conn.fetchval("select nextval($1::regclass)", seq)
    await conn.execute("select setval($1::regclass, $2)", seq, first + n)
    return int(first)


async def _flush(conn: asyncpg.Connection, sql: str, rows: _Rows, cols: list[str], *pre) -> int:
    n = len(rows)
    if n:
        await conn.execute(sql, *pre, *(rows.cols[c] for c in cols))
        rows.clear()
    return n


def _work_instant(cal: HallCalendar, day: date, rng: random.Random) -> datetime:
    """A random instant inside the working periods of `day`."""
    periods = cal.work_periods
    total = sum(
        (datetime.combine(day, b) - datetime.combine(day, a)).total_seconds() for a, b in periods
    )
    x = rng.uniform(0, total)
    for a, b in periods:
        span = (datetime.combine(day, b) - datetime.combine(day, a)).total_seconds()
        if x <= span:
            return datetime.combine(day, a, tzinfo=cal.tz) + timedelta(seconds=int(x))
        x -= span
    return datetime.combine(day, periods[-1][1], tzinfo=cal.tz)


async def load_open_cases(
    conn: asyncpg.Connection,
    hall_code: str,
    count: int,
    now: datetime,
    seed: int = 1,
    progress: Callable[[str], None] = lambda _: None,
) -> Loaded:
    """Loads `count` open cases into hall `hall_code` (owner connection with the pool's codecs,
    db.pool._init_connection). Returns what the bench needs to command them."""
    t0 = time.monotonic()
    rng = random.Random(seed)
    # query codes are unique in the database: never the same twice, whatever the seed
    codes = random.Random(secrets.randbits(64))
    now = now.astimezone(TZ).replace(microsecond=0)
    hall_id = await conn.fetchval("select id from hall where code = $1", hall_code)
    prefix = hall_code.upper()
    items = [
        ItemSpec(
            r["id"],
            r["code"],
            r["department_id"],
            r["kind"],
            r["limit_unit"],
            r["statutory_limit"],
            r["promised_limit"],
            r["urgent_limit"],
            r["version"],
            r["requires_signoff"],
            [],
        )
        for r in await conn.fetch(
            "select id, code, department_id, kind, limit_unit, statutory_limit, promised_limit, "
            "urgent_limit, version, requires_signoff from item "
            "where hall_id = $1 and active and kind = 'promised' order by id",
            hall_id,
        )
    ]
    by_id = {i.id: i for i in items}
    for m in await conn.fetch(
        "select item_id, position, name, is_key, copies from item_material "
        "where item_id = any($1::int[]) order by item_id, position",
        list(by_id),
    ):
        by_id[m["item_id"]].materials.append((m["position"], m["name"], m["is_key"], m["copies"]))
    windows: dict[int, list[WindowSpec]] = defaultdict(list)
    for r in await conn.fetch(
        """select w.id, w.window_no, w.department_id, s.id as clerk_id
           from service_window w join staff s on s.hall_id = w.hall_id and s.role = 'clerk'
             and s.username = 'clerk' || lpad(w.window_no::text, 3, '0')
           where w.hall_id = $1 order by w.window_no""",
        hall_id,
    ):
        windows[r["department_id"]].append(
            WindowSpec(r["id"], r["window_no"], r["department_id"], r["clerk_id"])
        )
    leaders = {
        r["department_id"]: r["id"]
        for r in await conn.fetch(
            "select distinct on (department_id) department_id, id from staff "
            "where hall_id = $1 and role = 'leader' order by department_id, id",
            hall_id,
        )
    }
    items = [i for i in items if windows.get(i.department_id)]
    if not items:
        raise RuntimeError(f"hall {hall_code} has no promised item with a window")
    # an item's share of the open cases: in proportion to its department's windows, shared
    # among the department's promised items
    per_dept: dict[int, int] = defaultdict(int)
    for i in items:
        per_dept[i.department_id] += 1
    weights = [len(windows[i.department_id]) / per_dept[i.department_id] for i in items]

    first_day = now.date() - timedelta(days=MAX_AGE_DAYS * 7 // 5 + 20)
    cal = await load_hall_calendar(
        conn, hall_id, first_day - timedelta(days=30), now.date() + timedelta(days=900)
    )
    past_days = [
        first_day + timedelta(days=k)
        for k in range((now.date() - first_day).days + 1)
        if cal.is_working_day(first_day + timedelta(days=k))
    ]
    past_days.reverse()  # past_days[0] is today (or the last working day)

    case_id0 = await _reserve(conn, "service_case", count)
    numbers: dict[date, int] = defaultdict(int)
    for r in await conn.fetch("select day, last_number from case_day where hall_id = $1", hall_id):
        numbers[r["day"]] = r["last_number"]

    cases = _Rows(*CASE_COLS)
    mats = _Rows(*MATERIAL_COLS)
    hist = _Rows(*HISTORY_COLS)
    notices = _Rows(*NOTICE_COLS)
    signoffs = _Rows(*SIGNOFF_COLS)
    history_rows: list[dict[str, Any]] = []
    out: list[LoadedCase] = []
    totals: dict[str, int] = defaultdict(int)
    state_cut = []
    acc = 0.0
    for name, share in SHARES.items():
        acc += share
        state_cut.append((acc, name))

    async def flush_all() -> None:
        nonlocal history_rows
        first_hist = await _reserve(conn, "case_history", len(history_rows))
        for k, h in enumerate(history_rows):
            hist.add(id=first_hist + k, **h)
        history_rows = []
        totals["service_case"] += await _flush(conn, INSERT_CASES, cases, CASE_COLS, hall_id)
        totals["case_material"] += await _flush(conn, INSERT_MATERIALS, mats, MATERIAL_COLS)
        totals["case_history"] += await _flush(conn, INSERT_HISTORY, hist, HISTORY_COLS)
        totals["supplement_notice"] += await _flush(conn, INSERT_NOTICES, notices, NOTICE_COLS)
        totals["signoff_request"] += await _flush(
            conn, INSERT_SIGNOFFS, signoffs, SIGNOFF_COLS, hall_id
        )

    for n in range(count):
        cid = case_id0 + n
        item = rng.choices(items, weights)[0]
        win = rng.choice(windows[item.department_id])
        urgent = item.urgent is not None and rng.random() < URGENT_SHARE
        kind, amount = ("urgent", item.urgent) if urgent else ("promised", item.promised)
        assert amount is not None
        limit_days = amount if item.unit != "working_hour" else amount / 7
        age = min(MAX_AGE_DAYS, int(rng.uniform(0, 1.25 * max(limit_days, 1)) + 0.5))
        day = past_days[min(age, len(past_days) - 1)]
        accepted = _work_instant(cal, day, rng)
        if accepted >= now:
            accepted = now - timedelta(minutes=rng.randint(5, 120))
        x = rng.random()
        plan = "in_progress"
        for cut, name in state_cut:
            if x < cut:
                plan = name
                break
        if plan == "signoff" and not item.signoff:
            plan = "in_progress"
        if plan == "approved" and item.signoff:
            plan = "signoff_approved"
        if plan == "refused" and item.signoff:
            plan = "in_progress"  # only the leader refuses these (not modelled as open)
        deficiency = (
            plan in ("accepted", "in_progress")
            and rng.random() < DEFICIENCY_SHARE
            and any(not k for _, _, k, _ in item.materials)
        )
        past_supplement = plan != "accepted" and rng.random() < PAST_SUPPLEMENT_SHARE

        # the commands after acceptance, in order: (action, to_state, clock op, extra)
        steps: list[tuple[str, str, dict[str, Any] | None]] = []
        state = "accepted"
        if plan != "accepted":
            steps.append(("case.start", "in_progress", None))
            state = "in_progress"
        if past_supplement:
            steps.append(("case.supplement_request", state, {"op": "pause", "kind": "supplement"}))
            steps.append(("case.supplement_receive", state, {"op": "resume"}))
        if plan == "supplement":
            steps.append(("case.supplement_request", state, {"op": "pause", "kind": "supplement"}))
        elif plan == "special":
            steps.append(
                (
                    "case.pause",
                    state,
                    {"op": "pause", "kind": rng.choice(clock.SPECIAL_PROCEDURES)},
                )
            )
        elif plan == "escalated":
            steps.append(("case.escalate", state, {"op": "pause", "kind": "escalation"}))
            kind = "escalated"
        elif plan == "signoff":
            steps.append(("case.request_signoff:decision", "awaiting_signoff", None))
        elif plan == "signoff_approved":
            steps.append(("case.request_signoff:decision", "awaiting_signoff", None))
            steps.append(("case.signoff:approve", "approved", None))
        elif plan == "approved":
            steps.append(("case.decide:approve", "approved", None))
        elif plan == "refused":
            steps.append(("case.decide:refuse", "refused", None))

        # instants: the acceptance, then each step at a working instant up to now
        span = cal.working_time_between(accepted, now).total_seconds()
        offsets = sorted(rng.uniform(0, span) for _ in steps)
        instants = [
            max(accepted, min(now, cal.add_working_seconds(accepted, int(o)))) for o in offsets
        ]
        events = [clock.ClockEvent(at=accepted, op="start", amount=amount, unit=item.unit)]  # type: ignore[arg-type]
        local = accepted.astimezone(TZ)
        numbers[local.date()] += 1
        case_no = f"{prefix}-{local:%Y%m%d}-{numbers[local.date()]:05d}"

        deferred_pos = None
        if deficiency:
            deferred_pos = rng.choice([p for p, _, k, _ in item.materials if not k])
        supplement_pos = rng.choice(item.materials)[0] if item.materials else None
        history_rows.append(
            {
                "case_id": cid,
                "at": accepted,
                "action": "case.accept",
                "actor_id": win.clerk_id,
                "window_id": win.id,
                "from_state": None,
                "to_state": "accepted",
                "clock": orjson.dumps(events[0].to_json()).decode(),
                "reason": "",
                "detail": orjson.dumps({"kind": kind, "item_version": item.version}).decode(),
            }
        )
        prev = "accepted"
        decided_at = None
        reason = None
        open_notice_at = None
        receipt_at = None
        for k, ((action, to_state, op), at) in enumerate(zip(steps, instants, strict=True)):
            ev = None
            if op is not None:
                ev = clock.ClockEvent(at=at, op=op["op"], kind=op.get("kind"))
                events.append(ev)
            detail: dict[str, Any] = {}
            row_reason = ""
            if action == "case.supplement_request":
                listed = [
                    {
                        "position": supplement_pos,
                        "name": item.materials[supplement_pos - 1][1] if supplement_pos else "",
                        "status": "faulty",
                        "problem": "复印件不清晰",
                    }
                ]
                detail = {"materials": listed}
                received = None
                if plan == "supplement" and k == len(steps) - 1:
                    open_notice_at = at
                else:
                    received = instants[k + 1]  # closed by the receipt that follows
                notices.add(
                    case_id=cid,
                    issued_at=at,
                    issued_by=win.clerk_id,
                    window_id=win.id,
                    materials=orjson.dumps(listed).decode(),
                    received_at=received,
                )
            elif action == "case.supplement_receive":
                detail = {"materials": [supplement_pos]}
                receipt_at = at
            elif action in ("case.pause", "case.escalate"):
                row_reason = "需现场核查" if action == "case.pause" else "报上级机关审批"
                detail = {"kind": op["kind"] if op else None}
            elif action.startswith("case.request_signoff"):
                signoffs.add(
                    case_id=cid,
                    department_id=item.department_id,
                    note="材料齐全，请签批",
                    requested_by=win.clerk_id,
                    window_id=win.id,
                    requested_at=at,
                    decision="approved" if plan == "signoff_approved" else None,
                    comment="同意" if plan == "signoff_approved" else None,
                    decided_by=leaders.get(item.department_id)
                    if plan == "signoff_approved"
                    else None,
                    decided_at=instants[-1] if plan == "signoff_approved" else None,
                )
            elif action == "case.decide:refuse":
                row_reason = reason = "不符合法定条件"
            if action in ("case.decide:approve", "case.decide:refuse", "case.signoff:approve"):
                decided_at = at
            history_rows.append(
                {
                    "case_id": cid,
                    "at": at,
                    "action": action,
                    "actor_id": (
                        leaders.get(item.department_id, win.clerk_id)
                        if action.startswith("case.signoff")
                        else win.clerk_id
                    ),
                    "window_id": win.id,
                    "from_state": prev,
                    "to_state": to_state,
                    "clock": orjson.dumps(ev.to_json()).decode() if ev is not None else None,
                    "reason": row_reason,
                    "detail": orjson.dumps(detail).decode(),
                }
            )
            prev = to_state
        state = prev
        cs = clock.replay(events, cal)
        due = None
        if deferred_pos is not None and cs.deadline is not None:
            due = min(
                cs.deadline,
                datetime.combine(
                    cal.next_working_day(now.date()), cal.work_periods[-1][1], tzinfo=cal.tz
                ),
            )
            if due < accepted:
                due, deferred_pos = None, None
        # the applicant came back with the materials (a new day counts once)
        visits = 1 + (receipt_at is not None and receipt_at.date() > accepted.date())
        cases.add(
            id=cid,
            case_no=case_no,
            query_code="".join(codes.choices(_CODE_ALPHABET, k=10)),
            item_id=item.id,
            item_version=item.version,
            department_id=item.department_id,
            kind=kind,
            state=state,
            applicant_name=rng.choice(_SURNAMES)
            + "".join(rng.choices(_GIVEN, k=rng.randint(1, 2))),
            applicant_phone="13" + str(rng.randrange(10**8, 10**9)),
            window_id=win.id,
            clerk_id=win.clerk_id,
            accepted_at=accepted,
            limit_amount=amount,
            limit_unit=item.unit,
            statutory_amount=item.statutory,
            clock=orjson.dumps(cs.to_json()).decode(),
            clock_status=cs.status,
            deadline=cs.deadline,
            deficiency_due=due,
            reason=reason,
            decided_at=decided_at,
            visits=visits,
            last_visit_day=(receipt_at or accepted).astimezone(TZ).date(),
        )
        outstanding = False
        for pos, name, is_key, copies in item.materials:
            status, deferred, problem = "submitted", False, ""
            if pos == deferred_pos:
                status, deferred, outstanding = "missing", True, True
            if pos == supplement_pos and open_notice_at is not None:
                status, problem, outstanding = "faulty", "复印件不清晰", True
            elif pos == supplement_pos and past_supplement:
                status = "supplemented"
            mats.add(
                case_id=cid,
                position=pos,
                name=name,
                is_key=is_key,
                copies=copies,
                status=status,
                deferred=deferred,
                problem=problem,
                updated_at=accepted,
            )
        out.append(
            LoadedCase(
                id=cid,
                department_id=item.department_id,
                window_no=win.no,
                state=state,
                clock_status=cs.status,
                pause_kind=cs.pause_kind,
                signoff_item=item.signoff,
                materials=len(item.materials),
                outstanding=outstanding,
                supplement_open=open_notice_at is not None,
                item_code=item.code,
            )
        )
        if len(cases) >= BATCH:
            await flush_all()
            progress(f"loaded {n + 1:,} / {count:,} open cases")
    await flush_all()
    await conn.execute(
        """insert into case_day (hall_id, day, last_number)
           select $1, t.day, t.n from unnest($2::date[], $3::int[]) as t(day, n)
           on conflict (hall_id, day) do update
               set last_number = greatest(case_day.last_number, excluded.last_number)""",
        hall_id,
        list(numbers),
        list(numbers.values()),
    )
    for table in (
        "service_case",
        "case_material",
        "case_history",
        "supplement_notice",
        "signoff_request",
        "case_day",
    ):
        await conn.execute(f"analyze {table}")
    return Loaded(
        hall_id=hall_id,
        cases=out,
        seconds=time.monotonic() - t0,
        rows=dict(totals),
        items={i.code: i for i in items},
        leaders=leaders,
    )


OPEN_CASES = """
select c.id, c.department_id, w.window_no, c.state, c.clock_status,
       c.clock->>'pause_kind' as pause_kind, i.requires_signoff, i.code as item_code,
       (select count(*) from case_material m where m.case_id = c.id)::int as materials,
       exists (select 1 from case_material m where m.case_id = c.id
               and m.status in ('missing', 'faulty')) as outstanding,
       exists (select 1 from supplement_notice s where s.case_id = c.id
               and s.received_at is null) as supplement_open
from service_case c join service_window w on w.id = c.window_id join item i on i.id = c.item_id
where c.hall_id = $1 and c.state not in ('delivered', 'not_accepted', 'withdrawn')
"""


async def read_open_cases(conn: asyncpg.Connection, hall_id: int) -> list[LoadedCase]:
    """The hall's cases that a command may still take (open ones, and completed ones waiting
    to be delivered), as the bench tracks them."""
    return [
        LoadedCase(
            id=r["id"],
            department_id=r["department_id"],
            window_no=r["window_no"],
            state=r["state"],
            clock_status=r["clock_status"],
            pause_kind=r["pause_kind"],
            signoff_item=r["requires_signoff"],
            materials=r["materials"],
            outstanding=r["outstanding"],
            supplement_open=r["supplement_open"],
            item_code=r["item_code"],
        )
        for r in await conn.fetch(OPEN_CASES, hall_id)
    ]
