"""The case's life as a `hypothesis.stateful` machine against the real API.

Every case command is tried in whatever state the case is in, with the server's clock moved on
by a random amount (minutes, working hours, days) before each one, from start instants just
before weekends and holidays. A model holds what the case must be: its state follows
server.domain.case_flow.TRANSITIONS and nothing else, plus the documented guards (a reason, the
item's sign-off, a paused clock, materials outstanding, an open supplement notice, the leader on
duty today). Besides the rule for each command (with its arguments drawn at random), a
`progress` rule does what a clerk or the leader would do next, and the acceptance may take the
case some way along its life first, so that the examples reach every state and linger in each;
once a case is closed, `progress` accepts the next one. Checked after every step:

- a command succeeds exactly when the model says so, and a refusal carries the model's status
  and code and changes nothing (the case row, its history, materials, notices, sign-offs, the
  event log and the SMS outbox are as before);
- the state in GET /api/cases/{id} is the model's, and so are the clock's status and the
  sequence of clock events in the case's history (start, pause of a kind, resume, extend, stop);
- the clock in GET /api/cases/{id} equals server.domain.case_clock.view over a replay of the
  clock events in its history with the hall calendar, at the same now, and the clock kept on
  the case row equals that replay; running and paused time add up to the working time since
  acceptance; the deadline never moves earlier;
- the leader's list of waiting sign-offs holds the case exactly while it awaits sign-off.

The machine runs in a worker thread; each HTTP call and database read is handed to the test's
event loop, where the live server runs."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
from aiohttp import ClientSession
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from db.queries.calendar import load_hall_calendar
from server.domain import case_clock as clock
from server.domain import case_flow as flow
from server.domain.calendar import HallCalendar
from tests.cases.helpers import IMMEDIATE, PROMISED, SIGNOFF, Clock, at, use_clock
from tests.conftest import login
from tests.queue_helpers import bearer, clerk_at_window

# Just before a weekend or a holiday of 2026 (the hall calendar's data), at odd hours too.
STARTS = [
    at("2026-09-30 10:00"),  # National Day follows; Saturday 10-10 is a working day
    at("2026-09-24 15:30"),  # Mid-Autumn Friday
    at("2026-12-04 17:20"),  # Friday, ten minutes before closing
    at("2026-02-13 11:00"),  # Spring Festival; Saturday 02-14 is a working day
    at("2026-04-30 16:00"),  # Labour Day
    at("2026-06-18 09:30"),  # Dragon Boat Friday
    at("2026-12-07 12:30"),  # a Monday at lunch
]
GAPS = st.one_of(
    st.integers(0, 90).map(lambda m: timedelta(minutes=m)),
    st.integers(1, 9).map(lambda h: timedelta(hours=h)),
    st.tuples(st.integers(1, 4), st.integers(0, 23)).map(
        lambda t: timedelta(days=t[0], hours=t[1])
    ),
)
REASON = st.sampled_from(["", "  ", "申请人要求"])  # blank counts as no reason
PAUSE_KINDS = st.sampled_from(["hearing", "testing", "inspection", "expert_review"])
# amr-001 and amr-012 list 7 materials, 1-5 key; amr-002 lists 5, 1-3 key.
POSITIONS = st.integers(1, 7)

Outcome = tuple[int, str] | None  # a refusal (status, code), or None: it must succeed


@dataclass
class Model:
    """What the case must be."""

    case_id: int
    item: str
    requires_signoff: bool
    state: str
    clock: str  # running | paused | stopped
    pause_kind: str | None
    materials: dict[int, dict[str, Any]]  # position -> {status, deferred, is_key}
    notice_open: bool = False
    asked: set[int] = field(default_factory=set)  # the open notice's materials
    signoff: str | None = None  # the open request's purpose
    clock_ops: list[tuple[str, str | None]] = field(default_factory=list)
    rows: int = 1  # history rows
    visits: int = 1
    last_visit_day: date | None = None
    deadline: datetime | None = None  # the latest deadline seen

    def outstanding(self) -> list[int]:
        return [p for p, m in self.materials.items() if m["status"] in ("missing", "faulty")]


class Env:
    """The live server seen from the machine's thread."""

    def __init__(self, live: Any, http: ClientSession, db: asyncpg.Connection):
        self.live = live
        self.http = http
        self.db = db
        self.loop = asyncio.get_running_loop()
        self.clock: Clock = use_clock(live, STARTS[0])
        self.tokens: dict[str, str] = {}
        self.cal: HallCalendar | None = None
        self.duty: set[date] = set()
        self.materials: dict[str, list[tuple[int, bool]]] = {}
        self.hall_id = 0
        self.steps = 0

    async def setup(self) -> None:
        self.tokens["clerk"] = await clerk_at_window(self.db, 1)
        self.tokens["leader"] = (await login(self.http, "leader.amr"))["token"]
        self.hall_id = await self.db.fetchval("select id from hall where code = 'rizhao'")
        self.cal = await load_hall_calendar(
            self.db, self.hall_id, date(2025, 1, 1), date(2029, 12, 31)
        )
        self.duty = {
            r["duty_date"]
            for r in await self.db.fetch(
                "select duty_date from leader_duty l join staff s on s.id = l.staff_id "
                "where s.username = 'leader.amr'"
            )
        }
        for item in (PROMISED, IMMEDIATE, SIGNOFF):
            rows = await self.db.fetch(
                "select m.position, m.is_key from item_material m join item i on i.id = m.item_id "
                "where i.hall_id = $1 and i.code = $2 order by m.position",
                self.hall_id,
                item,
            )
            self.materials[item] = [(r["position"], r["is_key"]) for r in rows]

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def request(self, who: str, method: str, url: str, body: Any = None) -> tuple[int, Any]:
        async def go() -> tuple[int, Any]:
            resp = await self.http.request(method, url, json=body, headers=bearer(self.tokens[who]))
            return resp.status, await resp.json()

        return self.run(go())

    def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return self.run(self.db.fetch(sql, *args))

    def fetchval(self, sql: str, *args: Any) -> Any:
        return self.run(self.db.fetchval(sql, *args))

    def fingerprint(self, case_id: int) -> str:
        """Everything a command on the case could write."""
        row = self.fetch(
            """
            select
              (select row_to_json(c) from (select state, kind, clock, clock_status, deadline,
                      visits, last_visit_day, reason, decided_at, completed_at, delivered_at
                      from service_case where id = $1) c) as case_row,
              (select count(*) from case_history where case_id = $1) as history,
              (select json_agg(json_build_object('p', position, 's', status, 'd', deferred,
                               'x', problem) order by position)
               from case_material where case_id = $1) as materials,
              (select json_agg(json_build_object('id', id, 'r', received_at) order by id)
               from supplement_notice where case_id = $1) as notices,
              (select json_agg(json_build_object('id', id, 'd', decision) order by id)
               from signoff_request where case_id = $1) as signoffs,
              (select count(*) from event) as events,
              (select count(*) from notification) as sms
            """,
            case_id,
        )[0]
        return json.dumps(dict(row), sort_keys=True, default=str)


def on(cal: HallCalendar, when: datetime) -> date:
    return when.astimezone(cal.tz).date()


class CaseMachine(RuleBasedStateMachine):
    env: Env  # set by the test before the machine runs

    def __init__(self) -> None:
        super().__init__()
        self.m: Model | None = None

    # ------------------------------------------------------------------ plumbing

    @property
    def cal(self) -> HallCalendar:
        assert self.env.cal is not None
        return self.env.cal

    @property
    def now(self) -> datetime:
        return self.env.clock.now

    def advance(self, gap: timedelta) -> None:
        self.env.clock.set(self.now + gap)

    def attempt(
        self,
        gap: timedelta,
        method: str,
        url: str,
        body: Any,
        expect: Outcome,
        apply: Callable[[Model, dict], None],
        who: str = "clerk",
    ) -> None:
        """One command: `expect` is the refusal the model predicts, or None for success, after
        which `apply` moves the model."""
        m = self.m
        assert m is not None
        self.advance(gap)
        self.env.steps += 1
        before = self.env.fingerprint(m.case_id)
        status, answer = self.env.request(who, method, url, body)
        where = f"{method} {url} {body} in {m.state}/{m.clock}/{m.pause_kind} at {self.now}"
        if expect is None:
            assert 200 <= status < 300, f"{where}: the model allows it, got {status} {answer}"
            assert answer["seq"], f"{where}: no events"
            apply(m, answer)
        else:
            got = (status, answer.get("error", {}).get("code"))
            assert got == expect, f"{where}: want {expect}, got {status} {answer}"
            after = self.env.fingerprint(m.case_id)
            assert after == before, f"{where}: refused but wrote\n{before}\n{after}"

    def case_url(self, verb: str) -> str:
        assert self.m is not None
        return f"/api/cases/{self.m.case_id}/{verb}"

    def moved(self, m: Model, state: str, op: str | None = None, kind: str | None = None) -> None:
        m.state = state
        m.rows += 1
        if op is not None:
            m.clock_ops.append((op, kind))
            m.clock = {"pause": "paused", "stop": "stopped"}.get(op, "running")
            m.pause_kind = kind if op == "pause" else None

    def visit(self, m: Model) -> None:
        today = on(self.cal, self.now)
        assert m.last_visit_day is not None
        if today > m.last_visit_day:
            m.visits += 1
            m.last_visit_day = today

    @staticmethod
    def table(transition: str, state: str) -> str | None:
        return flow.TRANSITIONS[transition].get(state)

    # ------------------------------------------------------------------ acceptance

    @initialize(
        start=st.sampled_from(STARTS),
        item=st.sampled_from([PROMISED, PROMISED, SIGNOFF, IMMEDIATE]),
        variant=st.sampled_from(["plain", "plain", "missing", "deficiency", "urgent", "refused"]),
        deferred=st.sampled_from([6, 7]),  # the first or second non-key material
        life=st.lists(st.tuples(GAPS, st.integers(0, 5)), max_size=5),
    )
    def accept(
        self,
        start: datetime,
        item: str,
        variant: str,
        deferred: int,
        life: list[tuple[timedelta, int]],
    ) -> None:
        """A case, taken some way along its life: the rules then act on every state."""
        self._accept(start, item, variant, deferred)
        for gap, choice in life:
            self.the_case_is_the_models()  # as after every rule
            self.progress(gap, choice)

    def _accept(self, start: datetime, item: str, variant: str, deferred: int) -> None:
        # each example is a case of its own: its clock starts where the example says
        self.env.clock.set(start)
        promised = item != IMMEDIATE
        if not promised and variant in ("deficiency", "urgent"):
            variant = "plain"
        body: dict[str, Any] = {
            "item": item,
            "applicant": {"name": "张小三", "phone": "13800138000"},
        }
        listed = self.env.materials[item]
        statuses = {p: "submitted" for p, _ in listed}
        deferred_at: set[int] = set()
        if variant in ("missing", "deficiency"):
            deferred = [p for p, key in listed if not key][deferred - 6]
            statuses[deferred] = "missing"
            body["materials"] = [{"position": deferred, "status": "missing"}]
        if variant == "deficiency":
            limit = 10 if item == SIGNOFF else 2
            first = clock.step(
                None,
                clock.ClockEvent(at=self.now, op="start", amount=limit, unit="working_day"),
                self.cal,
            )
            assert first.deadline is not None
            body["deficiency"] = {
                "commitment_signed": True,
                "due": on(self.cal, first.deadline).isoformat(),
            }
            deferred_at = {deferred}
        if variant == "urgent":
            body["urgent"] = True
        if variant == "refused":
            body["reason"] = "材料不属于本部门受理范围"
            status, answer = self.env.request(
                "clerk", "POST", "/api/halls/rizhao/cases/not-accepted", body
            )
        else:
            status, answer = self.env.request("clerk", "POST", "/api/halls/rizhao/cases", body)
        assert status == 201, (variant, body, answer)
        want = "not_accepted" if variant == "refused" else "accepted"
        assert answer["state"] == want, answer
        self.m = Model(
            case_id=answer["case_id"],
            item=item,
            requires_signoff=item == SIGNOFF,
            state=want,
            clock="stopped" if variant == "refused" else "running",
            pause_kind=None,
            materials={
                p: {"status": statuses[p], "deferred": p in deferred_at, "is_key": key}
                for p, key in listed
            },
            clock_ops=[("start", None)] + ([("stop", None)] if variant == "refused" else []),
            rows=2 if variant == "refused" else 1,
            last_visit_day=on(self.cal, self.now),
        )

    # ------------------------------------------------------------------ a case's life

    @rule(gap=GAPS, choice=st.integers(0, 5))
    def progress(self, gap: timedelta, choice: int) -> None:
        """What a clerk or the leader would do next, so that examples reach every state and
        linger in each (each step is judged by the model like any other); once the case is
        closed, the next application is accepted."""
        m = self.m
        assert m is not None
        running = m.clock == "running"
        if m.state in flow.FINAL:
            self.advance(gap)
            item = [PROMISED, SIGNOFF, IMMEDIATE, PROMISED, SIGNOFF, PROMISED][choice]
            variant = ["plain", "missing", "plain", "deficiency", "urgent", "missing"][choice]
            self._accept(self.now, item, variant, 6 + choice % 2)
        elif m.state in flow.WORKING and m.clock == "paused":
            if m.pause_kind == "supplement":
                self.supplement_receive(gap, None)
            else:
                self.resume(gap)
        elif m.state in flow.WORKING and choice == 0 and running:
            self.supplement_request(gap, [(5, "faulty"), (7, "missing")])
        elif m.state in flow.WORKING and choice == 1:
            self.materials(gap, [(6, "missing")], "any")
        elif m.state == "accepted":
            if choice == 2 and running:
                self.escalate(gap, "报上级审批")
            else:
                self.start(gap)
        elif m.state == "in_progress":
            if choice == 2 and running:
                self.pause(gap, "expert_review", "专家评审")
            elif m.requires_signoff or choice == 3:
                purpose = "extension" if choice in (3, 4) and running else "decision"
                self.request_signoff(gap, purpose, "请签批", 1 + choice % 3)
            else:
                self.decide(gap, "refuse" if choice == 5 else "approve", "不符合条件")
        elif m.state == "awaiting_signoff":
            # the leader signs on the next day on duty (the rule alone also tries the others)
            when = self.now + gap
            while on(self.cal, when) not in self.env.duty:
                when += timedelta(days=1)
            self.signoff(when - self.now, "reject" if choice == 4 else "approve", "同意")
        elif m.state == "approved" and m.outstanding():
            self.supplement_receive(gap, None)
        elif m.state in ("approved", "refused"):
            self.complete(gap)
        else:
            self.deliver(gap)

    # ------------------------------------------------------------------ the plain transitions

    @rule(gap=GAPS)
    def start(self, gap: timedelta) -> None:
        m = self.m
        assert m is not None
        to = self.table("case.start", m.state)
        expect = None if to else (409, "case_state")
        self.attempt(
            gap, "POST", self.case_url("start"), None, expect, lambda m, a: self.moved(m, to)
        )

    @rule(gap=GAPS, decision=st.sampled_from(["approve", "refuse"]), reason=REASON)
    def decide(self, gap: timedelta, decision: str, reason: str) -> None:
        m = self.m
        assert m is not None
        to = self.table(f"case.decide:{decision}", m.state)
        expect: Outcome = None
        if to is None:
            expect = (409, "case_state")
        elif decision == "refuse" and not reason.strip():
            expect = (400, "reason_required")
        elif m.requires_signoff:
            expect = (409, "signoff_required")
        elif m.clock != "running":
            expect = (409, "clock_paused")
        self.attempt(
            gap,
            "POST",
            self.case_url("decision"),
            {"decision": decision, "reason": reason},
            expect,
            lambda m, a: self.moved(m, to),
        )

    @rule(gap=GAPS)
    def complete(self, gap: timedelta) -> None:
        m = self.m
        assert m is not None
        to = self.table("case.complete", m.state)
        expect: Outcome = None
        if to is None:
            expect = (409, "case_state")
        elif m.state == "approved" and m.outstanding():
            expect = (409, "materials_outstanding")
        self.attempt(
            gap,
            "POST",
            self.case_url("complete"),
            None,
            expect,
            lambda m, a: self.moved(m, to, "stop"),
        )

    @rule(gap=GAPS)
    def deliver(self, gap: timedelta) -> None:
        m = self.m
        assert m is not None
        to = self.table("case.deliver", m.state)

        def apply(m: Model, a: dict) -> None:
            self.moved(m, to)
            self.visit(m)

        expect = None if to else (409, "case_state")
        self.attempt(gap, "POST", self.case_url("deliver"), None, expect, apply)

    @rule(gap=GAPS, reason=REASON)
    def withdraw(self, gap: timedelta, reason: str) -> None:
        m = self.m
        assert m is not None
        to = self.table("case.withdraw", m.state)
        expect: Outcome = None
        if to is None:
            expect = (409, "case_state")
        elif not reason.strip():
            expect = (400, "reason_required")

        def apply(m: Model, a: dict) -> None:
            self.moved(m, to, "stop")
            m.signoff = None  # nothing waits for the leader on a withdrawn case

        self.attempt(gap, "POST", self.case_url("withdraw"), {"reason": reason}, expect, apply)

    @rule(gap=GAPS, reason=REASON)
    def not_accept(self, gap: timedelta, reason: str) -> None:
        m = self.m
        assert m is not None
        to = self.table("case.not_accept", m.state)
        expect: Outcome = None
        if not reason.strip():
            expect = (400, "reason_required")  # checked before the case is read
        elif to is None:
            expect = (409, "case_state")
        self.attempt(
            gap,
            "POST",
            "/api/halls/rizhao/cases/not-accepted",
            {"case_id": m.case_id, "reason": reason},
            expect,
            lambda m, a: self.moved(m, to, "stop"),
        )

    # ------------------------------------------------------------------ the leader's sign-off

    @rule(
        gap=GAPS,
        purpose=st.sampled_from(["decision", "decision", "extension"]),
        note=st.sampled_from(["", "材料齐全，请签批"]),
        extension=st.integers(1, 3),
    )
    def request_signoff(self, gap: timedelta, purpose: str, note: str, extension: int) -> None:
        m = self.m
        assert m is not None
        to = self.table(f"case.request_signoff:{purpose}", m.state)
        expect: Outcome = None
        if purpose == "extension" and not note:
            expect = (400, "reason_required")  # checked before the case is read
        elif to is None:
            expect = (409, "case_state")
        elif m.clock != "running":
            expect = (409, "clock_paused")
        body: dict[str, Any] = {"purpose": purpose, "note": note}
        if purpose == "extension":
            body["extension"] = extension

        def apply(m: Model, a: dict) -> None:
            self.moved(m, to)
            m.signoff = purpose

        self.attempt(gap, "POST", self.case_url("signoff-request"), body, expect, apply)

    @rule(
        gap=GAPS,
        decision=st.sampled_from(["approve", "reject"]),
        comment=st.sampled_from(["", "同意"]),
    )
    def signoff(self, gap: timedelta, decision: str, comment: str) -> None:
        m = self.m
        assert m is not None
        variant = "extension" if m.signoff == "extension" else decision
        to = self.table(f"case.signoff:{variant}", m.state)
        expect: Outcome = None
        self.advance(gap)  # on duty is judged by the day of the decision
        if decision == "reject" and not comment:
            expect = (400, "reason_required")
        elif on(self.cal, self.now) not in self.env.duty:
            expect = (403, "not_on_duty")
        elif to is None:
            expect = (409, "case_state")
        purpose = m.signoff

        def apply(m: Model, a: dict) -> None:
            extend = purpose == "extension" and decision == "approve"
            self.moved(m, to, "extend" if extend else None)
            m.signoff = None

        self.attempt(
            timedelta(0),
            "POST",
            self.case_url("signoff"),
            {"decision": decision, "comment": comment},
            expect,
            apply,
            who="leader",
        )

    # ------------------------------------------------------------------ materials

    @rule(
        gap=GAPS,
        notes=st.lists(
            st.tuples(POSITIONS, st.sampled_from(["submitted", "missing", "faulty"])),
            min_size=1,
            max_size=2,
            unique_by=lambda n: n[0],
        ),
        review=st.sampled_from(["outstanding", "any"]),
    )
    def materials(self, gap: timedelta, notes: list[tuple[int, str]], review: str) -> None:
        m = self.m
        assert m is not None
        if review == "outstanding" and m.outstanding():
            # the clerk reviews again what is missing: the same statuses, on those materials
            notes = list(zip(m.outstanding(), [s for _, s in notes] * 7, strict=False))
        notes = [(p, s) for p, s in notes if p in m.materials] or [(1, "submitted")]
        to = self.table("case.materials", m.state)
        expect: Outcome = None
        if to is None:
            expect = (409, "case_state")
        elif any(s == "submitted" and p in m.asked and p in m.outstanding() for p, s in notes):
            expect = (409, "supplement_open")  # what the notice asked for is received instead

        def apply(m: Model, a: dict) -> None:
            for p, s in notes:
                mat = m.materials[p]
                mat["deferred"] = mat["deferred"] and s == "missing"
                mat["status"] = s
            self.moved(m, to)

        body = {"materials": [{"position": p, "status": s} for p, s in notes]}
        self.attempt(gap, "PUT", self.case_url("materials"), body, expect, apply)

    @rule(
        gap=GAPS,
        notes=st.lists(
            st.tuples(POSITIONS, st.sampled_from(["missing", "faulty"])),
            min_size=1,
            max_size=2,
            unique_by=lambda n: n[0],
        ),
    )
    def supplement_request(self, gap: timedelta, notes: list[tuple[int, str]]) -> None:
        m = self.m
        assert m is not None
        notes = [(p, s) for p, s in notes if p in m.materials] or [(5, "faulty")]
        to = self.table("case.supplement_request", m.state)
        expect: Outcome = None
        if to is None:
            expect = (409, "case_state")
        elif m.notice_open:
            expect = (409, "supplement_open")
        elif m.clock != "running":
            expect = (409, "clock_paused")

        def apply(m: Model, a: dict) -> None:
            named = {p for p, _ in notes}
            for p, s in notes:
                mat = m.materials[p]
                mat["deferred"] = mat["deferred"] and s == "missing"
                mat["status"] = s
            # 一次性告知: everything else missing is on the same notice
            m.asked = named | {p for p in m.outstanding() if not m.materials[p]["deferred"]}
            m.notice_open = True
            self.moved(m, to, "pause", "supplement")

        body = {"materials": [{"position": p, "status": s, "problem": "需补正"} for p, s in notes]}
        self.attempt(gap, "POST", self.case_url("supplement"), body, expect, apply)

    @rule(gap=GAPS, which=st.one_of(st.none(), POSITIONS))
    def supplement_receive(self, gap: timedelta, which: int | None) -> None:
        m = self.m
        assert m is not None
        if which is not None and which not in m.materials:
            which = None
        to = self.table("case.supplement_receive", m.state)
        outstanding = m.outstanding()
        wanted = [which] if which is not None else outstanding
        expect: Outcome = None
        if to is None:
            expect = (409, "case_state")
        elif not wanted:
            expect = (409, "nothing_missing")
        elif any(p not in outstanding for p in wanted):
            expect = (409, "not_missing")

        def apply(m: Model, a: dict) -> None:
            left = [p for p in outstanding if p not in wanted and not m.materials[p]["deferred"]]
            for p in wanted:
                m.materials[p]["status"] = "supplemented"
            self.visit(m)
            resume = False
            if m.notice_open and not left:
                m.notice_open = False
                m.asked = set()
                resume = m.clock == "paused" and m.pause_kind == "supplement"
            self.moved(m, to, "resume" if resume else None)

        body = {"positions": [which]} if which is not None else {}
        self.attempt(gap, "POST", self.case_url("supplement/received"), body, expect, apply)

    # ------------------------------------------------------------------ pauses

    @rule(gap=GAPS, kind=PAUSE_KINDS, reason=REASON)
    def pause(self, gap: timedelta, kind: str, reason: str) -> None:
        self._pause(gap, "case.pause", "pause", {"kind": kind, "reason": reason}, kind, reason)

    @rule(gap=GAPS, reason=REASON)
    def escalate(self, gap: timedelta, reason: str) -> None:
        self._pause(gap, "case.escalate", "escalate", {"reason": reason}, "escalation", reason)

    def _pause(self, gap: timedelta, name: str, verb: str, body: dict, kind: str, reason: str):
        m = self.m
        assert m is not None
        to = self.table(name, m.state)
        expect: Outcome = None
        if to is None:
            expect = (409, "case_state")
        elif not reason.strip():
            expect = (400, "reason_required")
        elif m.clock != "running":
            expect = (409, "clock_paused")
        self.attempt(
            gap,
            "POST",
            self.case_url(verb),
            body,
            expect,
            lambda m, a: self.moved(m, to, "pause", kind),
        )

    @rule(gap=GAPS)
    def resume(self, gap: timedelta) -> None:
        m = self.m
        assert m is not None
        to = self.table("case.resume", m.state)
        expect: Outcome = None
        if to is None:
            expect = (409, "case_state")
        elif m.clock != "paused":
            expect = (409, "clock_running")
        elif m.pause_kind == "supplement":
            expect = (409, "supplement_pause")
        self.attempt(
            gap,
            "POST",
            self.case_url("resume"),
            {"note": "核查结束"},
            expect,
            lambda m, a: self.moved(m, to, "resume"),
        )

    # ------------------------------------------------------------------ invariants

    def worked(self, start: datetime, end: datetime) -> int:
        return self.cal.working_time_between(start, end) // timedelta(seconds=1)

    @invariant()
    def the_case_is_the_models(self) -> None:
        m = self.m
        if m is None:
            return
        status, d = self.env.request("clerk", "GET", f"/api/cases/{m.case_id}")
        assert status == 200, d
        history = d["history"]
        assert d["state"] == m.state, (d["state"], m)
        assert len(history) == m.rows, ([h["action"] for h in history], m)
        events = [clock.ClockEvent.from_json(h["clock"]) for h in history if h["clock"]]
        assert [(e.op, e.kind) for e in events] == m.clock_ops, ([h["clock"] for h in history], m)
        assert d["clock"]["status"] == m.clock and d["clock_paused_kind"] == m.pause_kind, d
        assert d["visits"] == m.visits, (d["visits"], m)
        statuses = {x["position"]: x["status"] for x in d["materials"]}
        assert statuses == {p: x["status"] for p, x in m.materials.items()}, (statuses, m)

        # the clock: a pure function of the history and the hall calendar, at the same now
        replayed = clock.replay(events, self.cal)
        assert d["clock"] == clock.view(replayed, self.now, self.cal).to_json(), (
            d["clock"],
            replayed,
        )
        kept = self.env.fetchval("select clock from service_case where id = $1", m.case_id)
        assert kept == replayed.to_json(), (kept, replayed)
        # running and paused time make up the working time since acceptance, less the running
        # time before the limit counts (the acceptance day is day 0 for the day units)
        started = datetime.fromisoformat(d["accepted_at"])
        counts = replayed.counts_from or started
        end = replayed.stopped_at if replayed.stopped_at else max(self.now, replayed.since)
        total = d["clock"]["elapsed_s"] + d["clock"]["paused_total_s"]
        assert self.worked(max(counts, started), end) <= total <= self.worked(started, end), (
            d["clock"],
            m,
        )
        # paused for a supplement only while the notice is open and something on it is due
        if m.pause_kind == "supplement":
            notices = self.env.fetchval(
                "select count(*) from supplement_notice where case_id = $1 and received_at is null",
                m.case_id,
            )
            assert notices == 1 and m.outstanding(), ("stuck supplement pause", d["materials"], m)
        # paused: no deadline; otherwise one, never earlier than before
        deadline = d["clock"]["deadline"]
        assert (deadline is None) == (m.clock == "paused"), d["clock"]
        if deadline is not None:
            when = datetime.fromisoformat(deadline)
            assert m.deadline is None or when >= m.deadline, (when, m.deadline)
            m.deadline = when

        # the leader sees the request exactly while the case awaits sign-off
        status, waiting = self.env.request("leader", "GET", "/api/halls/rizhao/signoffs")
        assert status == 200, waiting
        listed = [r["case"]["case_id"] for r in waiting["requests"]]
        assert listed.count(m.case_id) == (m.state == "awaiting_signoff"), (listed, m)


async def test_no_illegal_transition_and_the_clock_stays_right(live, http, db):
    env = Env(live, http, db)
    await env.setup()
    machine = type("Machine", (CaseMachine,), {"env": env})
    runs = settings(
        # HALLOPS_CASE_EXAMPLES=500 for a longer search on a developer's machine
        max_examples=int(os.environ.get("HALLOPS_CASE_EXAMPLES", "40")),
        stateful_step_count=15,
        deadline=None,
        database=None,  # nothing written into the work tree
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        # a failure prints its (at most 15) steps as found: shrinking against a live server
        # takes minutes
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
    )
    await asyncio.to_thread(run_state_machine_as_test, machine, settings=runs)
    assert env.steps >= 200, f"only {env.steps} commands were tried"
