"""`python run.py simulate --fast --days 365`: a year of a hall's operation generated in-process,
straight through the product's own commands, with no real time passing (issue 11).

The day simulator (server/simulate.py) plays days through the HTTP API at a speed factor, for
people to watch. This mode plays them as fast as the database takes them:

- **The product's code paths.** Every write is an operation of the catalogue called as the API
  calls it: the declared handler with a `Call` (operation, actor, the server's `Context`), its
  typed parameters and body validated by the operation's own models. So each command runs the
  domain service, its SQL, its transaction, its events, audit line and alarm plan, exactly as
  it does behind `POST /api/...`. What is left out is the transport (HTTP, sessions looked up
  per request, the live fan-out: events are committed to the log, nobody is subscribed) and
  the kiosk's printed notice (the registration itself is the product's `QueueService.register`,
  what the kiosk handler calls). Actors are resolved from sessions by the product's
  `AuthService`, as a request would be.
- **A controllable clock.** The `Context`'s clock reads a context variable: each command sees
  the simulated instant of the task that runs it, so many windows run at once, each at its own
  instant. Tickets (their service day, waits and service times, the windows' idle spells),
  case clocks, deadlines, ratings and alarms are all simulated time: the queue's SQL functions
  take their instant from the same clock.
- **Lockstep slices.** A day is played in slices of `SLICE` simulated seconds. Within a slice,
  each group of windows that share queues (a department's, as a rule) plays its instants in
  order: an arrival registers at its instant, a free window calls at its instant (so the
  database's call-next picks among exactly the citizens already there, and nobody is called
  before registering), a window with nobody to call waits for the next arrival in its queues;
  the rest of each service (start, the case, finish, the rating) runs concurrently, and groups
  run concurrently with each other. Then what was scheduled for the slice (promised cases'
  decisions, completions and collections on later days, SMS ratings) runs.
- **Timers on the simulated clock.** The hall's alarm jobs (the case ladder, joint-step
  overruns) run through `HallTimers.tick(now=...)` every `TIMER_EVERY` simulated seconds.
- **Ratings** (issue 11) through their three channels, at response rates chosen below.

What this mode does not play yet (the HTTP simulator does): supplement notices, §45 pauses,
escalations, fees, transfers and 一表通 projects. The mix of items, the immediate share,
promised cases on time or late, the leader's sign-off, no-shows, 多证联办 company setups with
their departments' steps, ratings and rectifications are played."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import heapq
import math
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from server.simulate import (
    CITY_PER_DAY,
    CITY_WINDOWS,
    GIVEN_NAMES,
    IMMEDIATE_SHARE,
    ON_TIME_SHARE,
    SIGNOFF_APPROVED_SHARE,
    SURNAMES,
    TZ,
    WORK_DAY_SECONDS,
    Quota,
    arrival_times,
    promised_probability,
    work_instant,
    working_day,
    working_later,
)

SLICE = 600.0  # simulated seconds a lockstep slice lasts
TIMER_EVERY = 300.0  # simulated seconds between two looks of the hall's timers
NO_SHOW_SHARE = 0.03
COLLECTED_SHARE = 0.95
# 好差评 response: the window's rating device is offered at the end of most services and
# answered at half of them; of the SMS invitations (a completed case with a phone, not rated
# at the window) about 30 % are answered, within a day; a few notices come back as ballot
# slips (keyed by supervision at the end of the month). Levels: ~1 % bad reviews.
DEVICE_SHARE = 0.50
SMS_SHARE = 0.30
SLIP_SHARE = 0.005
LEVEL_WEIGHTS = {5: 0.78, 4: 0.17, 3: 0.04, 2: 0.007, 1: 0.003}
BAD_REASONS = ("attitude", "efficiency", "service", "other")
# 多证联办, as the HTTP simulator plays it (server/simulate_joint.py): 14 % of the 市场监管
# queue's citizens, 8 % of the steps past their limit, 15 % picked up the same afternoon
STEP_OVERRUN_SHARE = 0.08
SAME_DAY_PICKUP_SHARE = 0.15
_INVITE = re.compile(r"/rate/([A-Za-z0-9]+)")

# The hall's timer jobs played on the simulated clock (cases, sign-offs, joint steps,
# rectifications). The floor's (a ticket's wait, a long service, a window left unattended or
# paused too long) and the day's closing are not played: windows' status changes are stamped by
# PostgreSQL's now() in a trigger, and this mode serves every citizen before the day ends.
TIMER_JOBS = (
    "alarm.fire_case",
    "alarm.fire_signoff_wait",
    "alarm.answer_overdue",
    "case.remind_deficiency",
    "joint_step.fire_overrun",
    "rectification.fire_overdue",
)

SIM_NOW: contextvars.ContextVar[datetime] = contextvars.ContextVar("hallops_sim_now")


def sim_clock() -> datetime:
    """The Context's clock in this mode: the simulated instant of the running task."""
    return SIM_NOW.get()


class _NoLimit:
    def check(self, key: str) -> None:  # the kiosks' rate limit is for people, not this run
        return None


@dataclass
class FastOptions:
    hall: str = "rizhao"
    days: int = 1
    date: str | None = None  # the first day (YYYY-MM-DD), default today
    per_day: int | None = None
    windows: int | None = None
    departments: tuple[str, ...] | None = None  # staff only these departments' windows
    seed: int | None = None
    immediate_share: float = IMMEDIATE_SHARE
    device_share: float = DEVICE_SHARE
    sms_share: float = SMS_SHARE
    slip_share: float = SLIP_SHARE
    company_setup_share: float = 0.14  # of the 市场监管 queue's citizens (COMPANY_SETUP_SHARE)
    concurrency: int = 24  # commands in flight at once
    pool_size: int = 12
    timers: bool = True
    quiet: bool = False


@dataclass
class FastStats:
    days: int = 0
    arrived: int = 0
    registered: int = 0
    called: int = 0
    no_shows: int = 0
    served: int = 0
    cases: int = 0
    immediate: int = 0
    promised: int = 0
    completed: int = 0
    completed_immediate: int = 0
    completed_late: int = 0
    delivered: int = 0
    signoffs: int = 0
    # 多证联办 company setups (issue 10): accepted at the 市场监管 window, their steps claimed and
    # completed by the departments, picked up at the pick-up window
    joint: int = 0
    joint_completed: int = 0
    joint_delivered: int = 0
    steps_done: int = 0
    steps_late: int = 0
    refused: int = 0
    # completed cases whose applicant left a phone (an SMS invitation) and did not rate at the
    # window: those the SMS link can still bring a rating
    with_phone: int = 0
    rating_requests: int = 0
    ratings: Counter = field(default_factory=Counter)  # channel -> count
    levels: Counter = field(default_factory=Counter)  # level -> count
    slips_refused: int = 0  # a slip of a service already rated, or never served
    timer_events: int = 0
    commands: int = 0
    errors: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def rated(self) -> int:
        return sum(self.ratings.values())


@dataclass
class _Window:
    no: int
    id: int
    department: str
    queues: list[str]
    staff_id: int
    rater_id: int | None
    token: str = ""
    rater_token: str = ""
    actor: Any = None
    rater: Any = None
    free_at: datetime | None = None
    rng: random.Random = field(default_factory=random.Random)
    # the rest of the service under way (start, the case, finish, the rating), running while
    # the group goes on; the window's next call waits for it
    task: asyncio.Task | None = None


@dataclass
class _Group:
    """Windows that share queues (a connected group: a department's windows, as a rule) and
    the citizens of those queues. A group plays its instants in order, one after the other:
    each arrival registers, and each call is made, at its instant, so the database's
    call-next picks exactly among the citizens already there, as it would in the hall; the
    services themselves run concurrently. Groups run concurrently with each other."""

    windows: list[_Window]
    queues: set[str]
    arrivals: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)
    next_arrival: int = 0
    waiting: Counter = field(default_factory=Counter)
    idle: list[_Window] = field(default_factory=list)  # free, nobody to call


def _groups(windows: list[_Window]) -> list[_Group]:
    """The windows grouped by the queues they share (connected groups)."""
    groups: list[_Group] = []
    for w in windows:
        joined = [g for g in groups if g.queues & set(w.queues)]
        merged = _Group([w], set(w.queues))
        for g in joined:
            groups.remove(g)
            merged.windows += g.windows
            merged.queues |= g.queues
        merged.windows.sort(key=lambda x: x.no)
        groups.append(merged)
    return groups


class FastSimulation:
    def __init__(
        self,
        opts: FastOptions,
        dsn: str,
        progress: Callable[[str], None] | None = None,
        secret: str = "simulate-fast",
    ):
        self.o = opts
        self.dsn = dsn
        self.secret = secret
        self.progress = progress or (lambda _: None)
        self.rng = random.Random(opts.seed)
        self.quota = Quota(random.Random(f"{opts.seed}:quota"))
        self.stats = FastStats()
        self.scheduled: list[tuple[datetime, int, Callable[[], Any]]] = []
        self._n = 0
        self.joint_tickets: set[int] = set()
        self.steps_seen: set[int] = set()
        self.joint_done: set[int] = set()
        # (registration id, level): notices dropped in the ballot box, keyed at the month's end
        self.slips: list[tuple[int, int]] = []

    # -- the product, in-process ------------------------------------------------------------
    async def open(self) -> None:
        from db.pool import create_pool
        from server.catalogue import CATALOGUE
        from server.domain.auth import AuthService
        from server.domain.context import Context
        from server.domain.queueing import QueueService
        from server.domain.store import Store

        async def no_fanout(records: Any) -> None:  # nobody watches a generated year
            return None

        # A generated year is bulk loading: its commits do not wait for the WAL's flush to disk
        # (PostgreSQL's synchronous_commit = off, for this run's connections only). Each
        # command is still one transaction; a crash would lose the last fraction of a second
        # of generated history, never consistency. The server itself never does this.
        self.pool = await create_pool(
            self.dsn, self.o.pool_size, settings={"synchronous_commit": "off"}
        )
        store = Store(self.pool, no_fanout, "https://hall.example")
        self.auth = AuthService(
            store,
            secret=self.secret,
            session_hours=24 * 400,
            lockout_attempts=5,
            lockout_minutes=15,
            cache_seconds=0,
        )

        async def health() -> dict[str, Any]:
            return {}

        self.ctx = Context(
            store=store,
            queue=QueueService(store),
            auth=self.auth,
            catalogue=CATALOGUE,
            kiosk_limit=_NoLimit(),
            session_seconds=3600,
            health=health,
            openapi=dict,
            clock=sim_clock,
            public_url="https://hall.example",
        )
        self.catalogue = CATALOGUE
        self.sem = asyncio.Semaphore(self.o.concurrency)

    async def op(self, name: str, actor: Any, params: dict[str, Any], body: Any = None) -> Any:
        """One operation of the catalogue, called as the dispatcher calls it: its typed
        parameters and body, its handler with a Call; the reply's data."""
        from server.catalogue.spine import Call, Reply

        op = self.catalogue.operations[name]
        p = op.params.model_validate(params) if op.params is not None else None
        b = op.body.model_validate(body if body is not None else {}) if op.body else None
        assert op.handler is not None
        async with self.sem:
            reply = await op.handler(Call(op, actor, self.ctx), p, b)
        self.stats.commands += op.kind == "command"
        return reply.data if isinstance(reply, Reply) else reply

    async def try_op(self, name: str, actor: Any, params: dict, body: Any = None) -> Any:
        """As `op`; a refusal is counted by its code and answers None."""
        from server.domain.errors import DomainError

        try:
            return await self.op(name, actor, params, body)
        except DomainError as exc:
            self._declared(name, exc)
            self.stats.errors[f"{name}: {exc.code}"] += 1
            return None

    def _declared(self, name: str, exc: Any) -> None:
        """As the API's strict contracts: a refusal the operation does not declare is a bug,
        not a refusal."""
        from server.api.errors import STATUS_OF_KIND

        op = self.catalogue.operations[name]
        if exc.code not in op.all_errors().get(STATUS_OF_KIND[exc.kind], set()):
            raise AssertionError(f"{name} refused with undeclared {exc.code}") from exc

    def at(self, when: datetime, job: Callable[[], Any]) -> None:
        self._n += 1
        self.scheduled.append((when, self._n, job))

    async def _session(self, staff_id: int | None = None, device_id: int | None = None) -> str:
        from server.bench.stage import db_session

        async with self.pool.acquire() as conn:
            return await db_session(
                conn,  # type: ignore[arg-type]  # a pool's connection proxy is a Connection
                staff_id=staff_id,
                device_id=device_id,
                hours=24 * 400,
            )

    async def _actor(self, token: str) -> Any:
        actor = await self.auth.resolve(token)
        if actor is None:
            raise SystemExit("a session written for the run does not resolve")
        return actor

    # -- set-up ------------------------------------------------------------------------------
    async def setup(self) -> None:
        from server import demo_hall

        o = self.o
        plan = next((h for h in demo_hall._plan() if h.code == o.hall), None)
        if plan is None:
            raise SystemExit(f"unknown demo hall {o.hall!r}")
        clerks = {s[4]: s[0] for s in plan.staff if s[2] == "clerk" and s[4] is not None}
        async with self.pool.acquire() as conn:
            hall = await conn.fetchrow("select id from hall where code = $1", o.hall)
            if hall is None:
                raise SystemExit(f"hall {o.hall} is not in the database: seed the demo first")
            self.hall_id = hall["id"]
            # the days played are the hall's working days: its kiosks refuse registration on
            # a holiday (server/domain/registration_hours.py), as a real hall's do
            from db.queries.calendar import load_hall_calendar

            first = self._first_day()
            self.calendar = await load_hall_calendar(
                conn, self.hall_id, first, first + timedelta(days=o.days + 40)
            )
            rows = await conn.fetch(
                "select w.id, w.window_no, d.code as department, "
                "array(select q.code from window_queue wq join queue q on q.id = wq.queue_id "
                "where wq.window_id = w.id order by wq.position) as queues "
                "from service_window w join department d on d.id = w.department_id "
                "where w.hall_id = $1 order by w.window_no",
                self.hall_id,
            )
            staff = {
                r["username"]: r["id"]
                for r in await conn.fetch(
                    "select id, username from staff where hall_id = $1", self.hall_id
                )
            }
            raters = {
                r["code"]: r["id"]
                for r in await conn.fetch(
                    "select id, code from device where hall_id = $1 and kind = 'rater'",
                    self.hall_id,
                )
            }
            items = await conn.fetch(
                "select i.code, i.name, i.kind, i.limit_unit, i.promised_limit, "
                "i.requires_signoff, d.code as department, q.code as queue_code from item i "
                "join department d on d.id = i.department_id join queue q on q.id = i.queue_id "
                "where i.hall_id = $1 and i.active",
                self.hall_id,
            )
        rows = rows[: o.windows] if o.windows else rows
        if o.departments:
            rows = [r for r in rows if r["department"] in o.departments]
        self.windows: list[_Window] = []
        for r in rows:
            username = clerks.get(r["window_no"])
            if username is None or username not in staff:
                continue
            rater = raters.get(demo_hall.rater_code(o.hall, r["window_no"]))
            self.windows.append(
                _Window(
                    r["window_no"],
                    r["id"],
                    r["department"],
                    list(r["queues"]),
                    staff[username],
                    rater,
                    rng=random.Random(f"{o.seed}:{r['window_no']}"),
                )
            )
        for w in self.windows:
            w.token = await self._session(staff_id=w.staff_id)
            w.actor = await self._actor(w.token)
            if w.rater_id is not None:
                w.rater_token = await self._session(device_id=w.rater_id)
                w.rater = await self._actor(w.rater_token)
        kiosk_id = next(
            iter(
                await self.pool.fetch(
                    "select id from device where hall_id = $1 and kind = 'kiosk' order by id limit 1",
                    self.hall_id,
                )
            ),
            None,
        )
        if kiosk_id is None:
            raise SystemExit("the hall has no kiosk")
        self.kiosk = await self._actor(await self._session(device_id=kiosk_id["id"]))
        self.leaders: dict[str, Any] = {}
        for dept in {w.department for w in self.windows}:
            sid = staff.get(f"leader.{dept}")
            if sid is not None:
                self.leaders[dept] = await self._actor(await self._session(staff_id=sid))
        sup = staff.get("supervisor1") or next(
            (sid for u, sid in staff.items() if u.startswith("supervisor")), None
        )
        self.supervisor = (
            await self._actor(await self._session(staff_id=sup)) if sup is not None else None
        )
        self.items_by_queue: dict[str, list[dict]] = {}
        for i in items:
            self.items_by_queue.setdefault(i["queue_code"], []).append(dict(i))
        self.item_of = {(i["department"], i["name"]): dict(i) for i in items}
        weight: dict[str, float] = {}
        for w in self.windows:
            for k, q in enumerate(w.queues):
                if q in self.items_by_queue:
                    weight[q] = weight.get(q, 0.0) + (1.0 if k == 0 else 0.3)
        self.queue_weights = weight
        # 多证联办 when the run staffs a window of every department of the bundle
        from server.demo_workflows import COMPANY_SETUP

        self.bundle = COMPANY_SETUP
        self.workers: dict[str, list[_Window]] = {}
        for w in self.windows:
            self.workers.setdefault(w.department, []).append(w)
        needed = {COMPANY_SETUP["lead_department"]} | {
            st["department"] for stage in COMPANY_SETUP["stages"] for st in stage["steps"]
        }
        item = COMPANY_SETUP["stages"][0]["item"]
        queue = next(
            (i["queue_code"] for q in self.items_by_queue.values() for i in q if i["code"] == item),
            None,
        )
        share = o.company_setup_share if needed <= set(self.workers) and queue else 0.0
        self.joint_share: dict[str, float] = {queue: share} if queue and share else {}
        self.bundle_item = item
        self.step_defs = {
            st["code"]: st for stage in COMPANY_SETUP["stages"] for st in stage["steps"]
        }
        self.groups = _groups(self.windows)
        self.promised_p = promised_probability(
            self.items_by_queue, weight, o.immediate_share, self.joint_share
        )
        self.per_day = o.per_day or round(CITY_PER_DAY * len(self.windows) / CITY_WINDOWS)

    # -- one day -----------------------------------------------------------------------------
    def _first_day(self) -> date:
        return date.fromisoformat(self.o.date) if self.o.date else datetime.now(TZ).date()

    def days(self) -> list[date]:
        """The working days played: the hall calendar's among `days` calendar days from the
        first (365 is a year, its ~250 working days: weekends and statutory holidays off, 调休
        Saturdays on); at least one."""
        cal = self.calendar
        first = self._first_day()
        end = first + timedelta(days=self.o.days)
        day = first if cal.is_working_day(first) else cal.next_working_day(first)
        out = []
        while day < end:
            out.append(day)
            day = cal.next_working_day(day)
        return out or [day]

    def _arrivals(self, day: datetime) -> list[tuple[datetime, dict[str, Any]]]:
        rng = self.rng
        queues = list(self.queue_weights)
        weights = [self.queue_weights[q] for q in queues]
        out = []
        for t in arrival_times(day, self.per_day, rng):
            queue = rng.choices(queues, weights)[0]
            joint = rng.random() < self.joint_share.get(queue, 0.0)
            promised = rng.random() < self.promised_p.get(queue, 0.0)
            choice = [
                i for i in self.items_by_queue[queue] if (i["kind"] != "immediate") == promised
            ]
            item = rng.choice(choice or self.items_by_queue[queue])
            if joint:  # sets up a company: the bundle's item, accepted as the joint case
                item = next(i for i in self.items_by_queue[queue] if i["code"] == self.bundle_item)
            phone = "13" + "".join(rng.choice("0123456789") for _ in range(9))
            out.append(
                (
                    t,
                    {
                        "item": item["code"],
                        "queue": queue,
                        "phone": phone if rng.random() < 0.6 else None,
                        "slip": self._level(rng) if rng.random() < self.o.slip_share else None,
                        "joint": joint,
                    },
                )
            )
        return out

    async def _register(self, t: datetime, a: dict[str, Any]) -> bool:
        from server.catalogue.spine import Call
        from server.domain.errors import DomainError

        SIM_NOW.set(t)
        self.stats.arrived += 1
        op = self.catalogue.operations["ticket.register"]
        try:
            async with self.sem:
                reg = await self.ctx.queue.register(
                    Call(op, self.kiosk, self.ctx), self.o.hall, a["item"], phone=a["phone"]
                )
        except DomainError as exc:
            self.stats.errors[f"ticket.register: {exc.code}"] += 1
            return False
        self.stats.commands += 1
        self.stats.registered += 1
        if a["joint"]:
            self.joint_tickets.add(int(reg.ticket["id"]))
        reg_id = reg.ticket.get("registration_id")
        if a["slip"] is not None and reg_id is not None:  # the notice comes back in the box
            self.slips.append((int(reg_id), a["slip"]))
        return True

    def _level(self, rng: random.Random) -> int:
        return rng.choices(list(LEVEL_WEIGHTS), list(LEVEL_WEIGHTS.values()))[0]

    def _verdict(self, rng: random.Random, level: int) -> dict[str, Any]:
        v: dict[str, Any] = {"level": level}
        if level <= 2:
            v["reasons"] = [rng.choice(BAD_REASONS)]
            v["comment"] = "等候时间太长，办事效率有待提高"
        return v

    def _applicant(self, rng: random.Random) -> dict[str, Any]:
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN_NAMES, k=rng.choice((1, 2))))
        a: dict[str, Any] = {"name": name}
        if rng.random() < 0.8:
            a["phone"] = "13" + "".join(rng.choice("0123456789") for _ in range(9))
        return a

    async def _group_slice(
        self, g: _Group, t1: datetime, calls_from: datetime | None, close: datetime
    ) -> None:
        """Plays the group's instants before t1 in order: arrivals register, free windows call
        (from `calls_from` on: a lunch pause defers them; None: no calls in this slice); a
        window with nobody to call waits for the next arrival in its queues. The slice ends
        with every service begun in it finished."""
        ready = [
            (w.free_at, w.no, w)
            for w in g.windows
            if w.free_at is not None and w.free_at < t1 and w not in g.idle
        ]
        heapq.heapify(ready)
        while True:
            arrival = g.arrivals[g.next_arrival] if g.next_arrival < len(g.arrivals) else None
            if arrival is not None and arrival[0] >= t1:
                arrival = None
            if arrival is None and not ready:
                break
            if arrival is not None and (not ready or arrival[0] <= ready[0][0]):
                g.next_arrival += 1
                at, a = arrival
                if await self._register(at, a):
                    g.waiting[a["queue"]] += 1
                    for w in [w for w in g.idle if a["queue"] in w.queues]:
                        g.idle.remove(w)
                        w.free_at = at
                        heapq.heappush(ready, (at, w.no, w))
                continue
            at, _, w = heapq.heappop(ready)
            if w.task is not None:
                await w.task
                w.task = None
            if calls_from is None or at >= close:
                continue  # the window calls again in a later slice (or not today)
            if at < calls_from:
                w.free_at = calls_from
                if calls_from < t1:
                    heapq.heappush(ready, (calls_from, w.no, w))
                continue
            q = next((q for q in w.queues if g.waiting[q] > 0), None)
            if q is None:
                g.idle.append(w)
                continue
            # the database's pick: the window's queues in serving order, then arrival order,
            # among the citizens registered by now (every one of this group's, in order)
            g.waiting[q] -= 1
            w.task = await self._serve(w, at)
            if w.free_at is not None and w.free_at < t1:
                heapq.heappush(ready, (w.free_at, w.no, w))
        running = [w.task for w in g.windows if w.task is not None]
        await asyncio.gather(*running)
        for w in g.windows:
            w.task = None

    async def _serve(self, w: _Window, t0: datetime) -> asyncio.Task | None:
        """Calls the window's next citizen at t0 and plans the service (the window is free
        again at w.free_at); the rest of the service runs as a task while the group goes on."""
        rng, s = w.rng, self.stats
        wp = {"hall": self.o.hall, "window_no": w.no}
        SIM_NOW.set(t0)
        data = await self.try_op("ticket.call_next", w.actor, wp)
        ticket = (data or {}).get("ticket")
        if not ticket:
            w.free_at = t0 + timedelta(seconds=SLICE)
            return None
        s.called += 1
        if rng.random() < NO_SHOW_SHARE:  # never comes: two recalls a minute apart, no-show
            w.free_at = t0 + timedelta(minutes=3, seconds=10)
            return asyncio.create_task(self._no_show(w, t0))
        t = t0 + timedelta(seconds=rng.uniform(20, 90))
        item = self.item_of.get((w.department, ticket.get("item")))
        kind = item["kind"] if item else "immediate"
        mean = 240 if kind == "immediate" else 720
        service = min(3600.0, rng.lognormvariate(math.log(mean), 0.5))
        t_end = t + timedelta(seconds=service)
        w.free_at = t_end + timedelta(seconds=rng.uniform(10, 40))
        return asyncio.create_task(self._guard(self._service(w, ticket, item, t, t_end)))

    async def _no_show(self, w: _Window, t0: datetime) -> None:
        wp = {"hall": self.o.hall, "window_no": w.no}
        for k in (1, 2):
            SIM_NOW.set(t0 + timedelta(minutes=k))
            await self.try_op("ticket.recall", w.actor, wp)
        SIM_NOW.set(t0 + timedelta(minutes=3))
        if await self.try_op("ticket.no_show", w.actor, wp, {"requeue": False}) is not None:
            self.stats.no_shows += 1

    async def _service(
        self, w: _Window, ticket: dict, item: dict | None, t: datetime, t_end: datetime
    ) -> None:
        """Start, the case, finish and the rating, at their instants."""
        rng, s = w.rng, self.stats
        wp = {"hall": self.o.hall, "window_no": w.no}
        SIM_NOW.set(t)
        if await self.try_op("ticket.start", w.actor, wp) is None:
            return
        case = None
        if int(ticket["id"]) in self.joint_tickets:
            await self._joint_intake(w, int(ticket["id"]), t, t_end)
        elif item is not None:
            case = await self._case(w, int(ticket["id"]), item, t, t_end)
        SIM_NOW.set(t_end)
        if await self.try_op("ticket.finish", w.actor, wp) is not None:
            s.served += 1
        # the clerk asks for a rating at the end of 90 % of the services; the citizen taps
        # the device at `device_share` of all services
        if self.o.device_share and rng.random() < 0.9:
            body = {"case_id": case["case_id"]} if case else {"ticket_id": int(ticket["id"])}
            if await self.try_op("rating.request", w.actor, wp, body) is not None:
                s.rating_requests += 1
                if w.rater is not None and rng.random() < self.o.device_share / 0.9:
                    level = self._level(rng)
                    SIM_NOW.set(t_end + timedelta(seconds=rng.uniform(3, 20)))
                    if (
                        await self.try_op(
                            "rating.by_device", w.rater, wp, self._verdict(rng, level)
                        )
                        is not None
                    ):
                        s.ratings["device"] += 1
                        s.levels[level] += 1
                        if case:
                            case["rated"] = True

    async def _case(
        self, w: _Window, ticket_id: int, item: dict, t: datetime, t_end: datetime
    ) -> dict[str, Any] | None:
        rng, s = w.rng, self.stats
        applicant = self._applicant(rng)
        SIM_NOW.set(t + (t_end - t) * 0.5)
        data = await self.try_op(
            "case.accept",
            w.actor,
            {"hall": self.o.hall},
            {"ticket_id": ticket_id, "applicant": applicant},
        )
        if data is None:
            return None
        s.cases += 1
        cid = {"case_id": data["case_id"]}
        case = {"case_id": data["case_id"], "phone": "phone" in applicant, "rated": False}
        if data["kind"] == "immediate":
            s.immediate += 1
            SIM_NOW.set(t + (t_end - t) * 0.8)
            if await self.try_op("case.decide", w.actor, cid, {"decision": "approve"}) is None:
                return case
            if await self.try_op("case.complete", w.actor, cid) is None:
                return case
            s.completed += 1
            s.completed_immediate += 1
            self._completed(w, case, t_end)
            if await self.try_op("case.deliver", w.actor, cid) is not None:
                s.delivered += 1
            return case
        s.promised += 1
        await self.try_op("case.start", w.actor, cid)
        deadline_s = (data.get("clock") or {}).get("deadline")
        deadline = datetime.fromisoformat(deadline_s) if deadline_s else t_end + timedelta(days=1)
        if self.quota.take("on_time", ON_TIME_SHARE):
            target = work_instant(
                rng, t_end + timedelta(minutes=30), deadline - timedelta(minutes=15)
            )
        else:
            late = datetime.combine(working_day(deadline.date(), 2), clock_time(16, 45), tzinfo=TZ)
            target = work_instant(rng, deadline + timedelta(minutes=15), late)
        self.at(target, lambda: self._decide(w, case, item, target))
        return case

    # -- 多证联办 -------------------------------------------------------------------------------
    async def _joint_intake(self, w: _Window, ticket_id: int, t: datetime, t_end: datetime) -> None:
        """The lead window accepts the served ticket as a company setup (every material once);
        its first steps go to the departments' inboxes."""
        rng = w.rng
        words = "".join(rng.sample("华盛鑫泰宏达信诚恒通瑞丰安和", 2))
        company = {
            "name": f"日照{words}{rng.choice(('科技', '商贸', '物流', '餐饮'))}有限公司",
            "phone": "13" + "".join(rng.choice("0123456789") for _ in range(9)),
        }
        SIM_NOW.set(t + (t_end - t) * 0.5)
        data = await self.try_op(
            "case.accept",
            w.actor,
            {"hall": self.o.hall},
            {"ticket_id": ticket_id, "workflow": self.bundle["code"], "applicant": company},
        )
        if data is None:
            return
        s = self.stats
        s.cases += 1
        s.promised += 1
        s.joint += 1
        when = t_end + timedelta(minutes=5)
        self.at(when, lambda: self._joint_look(w, data["case_id"], when))

    async def _joint_look(self, lead: _Window, case_id: int, now: datetime) -> None:
        """The departments find the case's ready steps in their inboxes: each is claimed and
        completed by a clerk of its department, most within 70 % of its limit, a few past it;
        once every step is settled the case is completed (by the product) and picked up."""
        SIM_NOW.set(now)
        steps = (await self.op("joint_step.list", lead.actor, {"case_id": case_id}))["steps"]
        if all(st["state"] in ("done", "consented") for st in steps):
            if case_id not in self.joint_done:
                self.joint_done.add(case_id)
                self.stats.completed += 1
                self.stats.joint_completed += 1
                self._joint_pickup(lead, case_id, now)
            return
        for st in steps:
            if st["state"] != "ready" or st["step_id"] in self.steps_seen:
                continue
            self.steps_seen.add(st["step_id"])
            d = self.step_defs[st["code"]]
            rng = lead.rng
            per = WORK_DAY_SECONDS if d["limit"]["unit"] == "working_day" else 3600
            limit = float(d["limit"]["amount"] * per)
            due = datetime.fromisoformat(st["due_at"]) if st.get("due_at") else None
            due = due or working_later(now, limit)
            if self.quota.take("step_overrun", STEP_OVERRUN_SHARE):
                done_at = work_instant(
                    rng, due + timedelta(minutes=20), working_later(now, limit * 1.6)
                )
            else:
                by = min(working_later(now, limit * 0.7), due - timedelta(minutes=10))
                done_at = work_instant(rng, now + timedelta(minutes=5), by)
            claim_at = work_instant(rng, now, now + (done_at - now) / 2)
            clerk = rng.choice(self.workers[st["department"]])
            self.at(
                done_at,
                functools.partial(self._step, lead, clerk, st, d, min(claim_at, done_at), done_at),
            )

    async def _step(
        self,
        lead: _Window,
        clerk: _Window,
        st: dict,
        d: dict,
        claim_at: datetime,
        done_at: datetime,
    ) -> None:
        sid = {"step_id": st["step_id"]}
        SIM_NOW.set(claim_at)
        if await self.try_op("joint_step.claim", clerk.actor, sid) is None:
            return
        SIM_NOW.set(done_at)
        body = {"note": "同意", "issued": list(d.get("issues", []))}
        done = await self.try_op("joint_step.complete", clerk.actor, sid, body)
        if done is None:
            return
        self.stats.steps_done += 1
        due = st.get("due_at")
        self.stats.steps_late += bool(due and done_at > datetime.fromisoformat(due))
        await self._joint_look(lead, st["case_id"], done_at)

    def _joint_pickup(self, lead: _Window, case_id: int, done: datetime) -> None:
        """Texted by the product, the applicant picks everything up at the pick-up window: the
        next working days mostly, now and then the same afternoon."""
        rng = lead.rng
        if done.hour < 15 and self.quota.take("same_day_pickup", SAME_DAY_PICKUP_SHARE):
            when = work_instant(rng, done + timedelta(minutes=30), done.replace(hour=16, minute=45))
        else:
            day = working_day(done.date(), rng.randint(1, 3))
            when = work_instant(
                rng,
                datetime.combine(day, clock_time(0), tzinfo=TZ),
                datetime.combine(day, clock_time(23, 59), tzinfo=TZ),
            )
        window = next(
            (w for w in self.windows if w.no == self.bundle["pickup_window"]),
            lead,
        )

        async def pickup() -> None:
            SIM_NOW.set(when)
            if await self.try_op("case.deliver", window.actor, {"case_id": case_id}) is not None:
                self.stats.delivered += 1
                self.stats.joint_delivered += 1

        self.at(when, pickup)

    async def _decide(self, w: _Window, case: dict, item: dict, target: datetime) -> None:
        s, rng = self.stats, w.rng
        cid = {"case_id": case["case_id"]}
        SIM_NOW.set(target)
        if item["requires_signoff"]:
            if (
                await self.try_op(
                    "case.request_signoff",
                    w.actor,
                    cid,
                    {"purpose": "decision", "note": "材料齐全，拟同意，请签批"},
                )
                is None
            ):
                return
            leader = self.leaders.get(w.department)
            if leader is None:
                return
            SIM_NOW.set(target + timedelta(minutes=rng.uniform(5, 40)))
            approve = self.quota.take("signoff_approved", SIGNOFF_APPROVED_SHARE)
            if (
                await self.try_op(
                    "case.signoff",
                    leader,
                    cid,
                    {"decision": "approve", "comment": "同意"}
                    if approve
                    else {"decision": "reject", "comment": "不符合法定条件，不予许可"},
                )
                is None
            ):
                return
            s.signoffs += 1
            s.refused += not approve
            SIM_NOW.set(target + timedelta(minutes=45))
        elif await self.try_op("case.decide", w.actor, cid, {"decision": "approve"}) is None:
            return
        data = await self.try_op("case.complete", w.actor, cid)
        if data is None:
            return
        s.completed += 1
        s.completed_late += ((data.get("clock") or {}).get("overdue_s") or 0) > 0
        done = SIM_NOW.get()
        self._completed(w, case, done)
        if self.quota.take("collected", COLLECTED_SHARE):
            day = working_day(done.date(), rng.randint(1, 3))
            when = work_instant(
                rng,
                datetime.combine(day, clock_time(0), tzinfo=TZ),
                datetime.combine(day, clock_time(23, 59), tzinfo=TZ),
            )
            self.at(when, lambda: self._deliver(w, case, when))

    async def _deliver(self, w: _Window, case: dict, when: datetime) -> None:
        SIM_NOW.set(when)
        if await self.try_op("case.deliver", w.actor, {"case_id": case["case_id"]}) is not None:
            self.stats.delivered += 1

    def _completed(self, w: _Window, case: dict, done: datetime) -> None:
        """A completed case: its applicant's SMS invitation, answered now and then."""
        if not case["phone"]:
            return
        rng = w.rng
        answers = rng.random() < self.o.sms_share
        when = done + timedelta(hours=rng.uniform(0.2, 20))
        level = self._level(rng)
        self.at(when, lambda: self._by_sms(case, answers, level, when))

    async def _by_sms(self, case: dict, answers: bool, level: int, when: datetime) -> None:
        if case["rated"]:
            return  # rated at the window already: the link says so
        self.stats.with_phone += 1  # invited, not rated at the window
        if not answers:
            return
        body = await self.pool.fetchval(
            "select body from notification where dedupe_key = $1",
            f"rate-invite:{case['case_id']}",
        )
        m = _INVITE.search(body or "")
        if m is None:
            self.stats.errors["sms: no invitation"] += 1
            return
        SIM_NOW.set(when)
        rng = random.Random(case["case_id"])
        if (
            await self.try_op(
                "rating.by_invite", None, {"token": m.group(1)}, self._verdict(rng, level)
            )
            is not None
        ):
            case["rated"] = True
            self.stats.ratings["sms"] += 1
            self.stats.levels[level] += 1

    async def _ballot(self, when: datetime) -> None:
        """The month's opening of the ballot box: supervision keys each slip."""
        if self.supervisor is None or not self.slips:
            return
        slips, self.slips = self.slips, []
        ids = [r for r, _ in slips if r is not None]
        regs = {
            r["id"]: r["reg_no"]
            for r in await self.pool.fetch(
                "select id, reg_no from registration where id = any($1::bigint[])", ids
            )
        }
        SIM_NOW.set(when)
        rng = random.Random(str(when))

        async def one(reg_id: int, level: int) -> None:
            if reg_id not in regs:
                return
            if await self._quiet_op(
                "rating.by_slip",
                self.supervisor,
                {"hall": self.o.hall},
                {"slip": regs[reg_id], **self._verdict(rng, level)},
            ):
                self.stats.ratings["ballot"] += 1
                self.stats.levels[level] += 1

        await asyncio.gather(*(one(r, lv) for r, lv in slips))

    async def _quiet_op(self, name: str, actor: Any, params: dict, body: Any) -> bool:
        """A slip of a notice never served or already rated is refused: that is the box."""
        from server.domain.errors import DomainError

        try:
            await self.op(name, actor, params, body)
            return True
        except DomainError as exc:
            self._declared(name, exc)
            self.stats.slips_refused += 1
            return False

    async def _set_status(self, status: str) -> None:
        await asyncio.gather(
            *(
                self.try_op(
                    "window.set_status",
                    w.actor,
                    {"hall": self.o.hall, "window_no": w.no},
                    {"status": status},
                )
                for w in self.windows
            )
        )

    async def _run_due(self, until: datetime) -> None:
        due = [j for j in self.scheduled if j[0] < until]
        if not due:
            return
        self.scheduled = [j for j in self.scheduled if j[0] >= until]
        due.sort(key=lambda j: (j[0], j[1]))
        await asyncio.gather(*(self._guard(job()) for _, _, job in due))

    async def _guard(self, aw: Any) -> None:
        """A deadlock between two commands is the database's verdict on the product, not the
        end of the year: counted (the summary shows it), the service lost."""
        import asyncpg

        try:
            await aw
        except asyncpg.exceptions.DeadlockDetectedError:
            self.stats.errors["internal: deadlock"] += 1

    async def day(self, day: date, timers: Any) -> None:
        o = self.o
        d0 = datetime.combine(day, clock_time(0), tzinfo=TZ)
        arrivals = self._arrivals(d0)
        opens, lunch, back = d0.replace(hour=8, minute=50), d0.replace(hour=12), d0.replace(hour=13)
        close, end = d0.replace(hour=17), d0.replace(hour=17, minute=30)
        # the clerks sign in and open before nine
        SIM_NOW.set(opens)

        async def sign_in(w: _Window) -> None:
            wp = {"hall": o.hall, "window_no": w.no}
            await self.try_op("window.sign_in", w.actor, wp)
            w.actor = await self._actor(w.token)  # the session now names the window
            await self.try_op("window.set_status", w.actor, wp, {"status": "open"})
            w.free_at = d0.replace(hour=9) + timedelta(seconds=w.rng.uniform(0, 120))

        await asyncio.gather(*(sign_in(w) for w in self.windows))
        for g in self.groups:
            g.arrivals = [(a_t, a) for a_t, a in arrivals if a["queue"] in g.queues]
            g.next_arrival, g.idle = 0, []
            g.waiting.clear()
        t = opens
        last_timer = t
        paused = False
        while t < end:
            t1 = t + timedelta(seconds=SLICE)
            SIM_NOW.set(t)
            if lunch <= t < back and not paused:
                await self._set_status("paused")
                paused = True
            elif not lunch <= t < back and paused:
                await self._set_status("open")
                paused = False
            calls_from = None if t >= close else back if lunch <= t < back else t
            await asyncio.gather(
                *(self._guard(self._group_slice(g, t1, calls_from, close)) for g in self.groups)
            )
            await self._run_due(t1)
            if timers is not None and (t1 - last_timer).total_seconds() >= TIMER_EVERY:
                SIM_NOW.set(t1)
                self.stats.timer_events += len(await timers.tick(now=t1))
                last_timer = t1
            t = t1
        # closing: the windows close and sign out; what is scheduled overnight runs
        SIM_NOW.set(end)

        async def sign_out(w: _Window) -> None:
            wp = {"hall": o.hall, "window_no": w.no}
            await self.try_op("window.set_status", w.actor, wp, {"status": "closed"})
            await self.try_op("window.sign_out", w.actor, wp)

        await asyncio.gather(*(sign_out(w) for w in self.windows))
        following = self.calendar.next_working_day(day)  # the next day played
        nxt = datetime.combine(following, clock_time(8, 50), tzinfo=TZ)
        await self._run_due(nxt)
        if following.month != day.month:
            await self._ballot(end)
        if timers is not None:
            self.stats.timer_events += len(await timers.tick(now=nxt - timedelta(minutes=5)))

    # -- the run -----------------------------------------------------------------------------
    async def run(self) -> FastStats:
        from server.catalogue import CATALOGUE
        from server.outbox import LogSender
        from server.timers import HallTimers

        await self.open()
        timers = None
        try:
            await self.setup()
            if self.o.timers:
                timers = HallTimers(
                    self.ctx.store,
                    self.dsn,
                    LogSender(),
                    jobs=[j for n, j in CATALOGUE.timers.items() if n in TIMER_JOBS],
                )
            days = self.days()
            t0 = time.monotonic()
            for n, day in enumerate(days):
                await self.day(day, timers)
                self.stats.days = n + 1
                self.stats.seconds = time.monotonic() - t0
                self.progress("\r" + progress_bar(self.stats, len(days), day))
            last = datetime.combine(days[-1], clock_time(17, 30), tzinfo=TZ)
            await self._ballot(last)
            self.stats.seconds = time.monotonic() - t0
            self.progress("\r" + progress_bar(self.stats, len(days), days[-1]) + "\n")
            self.first, self.last = days[0], days[-1]
        finally:
            if timers is not None:
                await timers.close()
        return self.stats

    async def figures(self) -> dict[str, Any]:
        """What the product reports for the run's days (the case metrics operation, as
        /api/halls/{hall}/case-metrics answers it) and its ratings and alarms."""
        SIM_NOW.set(datetime.combine(self.last, clock_time(18), tzinfo=TZ))
        out: dict[str, Any] = {}
        if self.supervisor is not None:
            m = await self.op(
                "case.metrics",
                self.supervisor,
                {
                    "hall": self.o.hall,
                    "from": self.first.isoformat(),
                    "to": self.last.isoformat(),
                    "by": "hall",
                },
            )
            out["metrics"] = m["groups"][0] if m["groups"] else {}
            # the reports (GET /api/halls/{hall}/reports), the hall's own row
            r = await self.op(
                "report.figures",
                self.supervisor,
                {
                    "hall": self.o.hall,
                    "from": self.first.isoformat(),
                    "to": self.last.isoformat(),
                    "by": "hall",
                },
            )
            out["report"] = next(
                (g for g in r["groups"] if g["key"] == self.o.hall), r["groups"][0]
            )
        lo = datetime.combine(self.first, clock_time(0), tzinfo=TZ)
        hi = datetime.combine(self.last + timedelta(days=1), clock_time(0), tzinfo=TZ)
        async with self.pool.acquire() as conn:
            # the ratings given in the run's days (a ballot's slips are keyed at its end)
            rows = await conn.fetch(
                "select channel, level, count(*) as n from rating where hall_id = $1 "
                "and rated_at >= $2 and rated_at < $3 group by 1, 2",
                self.hall_id,
                lo,
                hi + timedelta(days=3),
            )
            out["ratings"], out["levels"] = Counter(), Counter()
            for r in rows:
                out["ratings"][r["channel"]] += r["n"]
                out["levels"][r["level"]] += r["n"]
            out["rectifications"] = await conn.fetchval(
                "select count(*) from rectification where hall_id = $1 and opened_at >= $2 "
                "and opened_at < $3",
                self.hall_id,
                lo,
                hi + timedelta(days=3),
            )
            out["alarms"] = {
                f"{r['kind']}/{r['level']}": r["n"]
                for r in await conn.fetch(
                    "select kind, level, count(*) as n from alarm where hall_id = $1 "
                    "and due_at >= $2 and due_at < $3 group by 1, 2 order by 1, 2",
                    self.hall_id,
                    lo,
                    hi,
                )
            }
        return out

    async def close(self) -> None:
        await self.pool.close()


def progress_bar(s: FastStats, total: int, day: date, width: int = 28) -> str:
    done = s.days / total if total else 1.0
    bar = "#" * round(done * width) + "." * (width - round(done * width))
    rate = s.cases / s.seconds if s.seconds else 0.0
    eta = s.seconds / s.days * (total - s.days) if s.days else 0.0
    return (
        f"[{bar}] day {s.days}/{total} ({day})  cases {s.cases:,}  {rate:,.0f} cases/s  "
        f"{s.commands / s.seconds if s.seconds else 0:,.0f} commands/s  "
        f"elapsed {_hms(s.seconds)}  ETA {_hms(eta)}"
    )


def _hms(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _pct(x: float | None) -> str:
    return "" if x is None else f"{x:.1%}"


def _n(x: int | None) -> str:
    return "" if x is None else f"{x:,}"


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def summary(s: FastStats, fig: dict[str, Any], o: FastOptions) -> str:
    """The configured truth beside what the simulator did and what the product's own figures
    say (the case metrics operation; ratings, rectifications and alarms as stored)."""
    m = fig.get("metrics") or {}
    ratings, levels = fig.get("ratings", {}), fig.get("levels", {})
    stored = sum(ratings.values())
    bad = sum(n for lv, n in levels.items() if lv <= 2)
    rows: list[tuple[str, str, str, str]] = [
        ("", "configured", "simulator", "product"),
        ("cases", "", _n(s.cases), _n(m.get("cases"))),
        ("completed", "", _n(s.completed), _n(m.get("completed"))),
        (
            "immediate share of cases",
            _pct(o.immediate_share),
            _pct(_ratio(s.immediate, s.cases)),
            "",
        ),
        (
            "immediate rate (of completions)",
            "",
            _pct(_ratio(s.completed_immediate, s.completed)),
            _pct(m.get("immediate_rate")),
        ),
        (
            "on-time rate",
            _pct(ON_TIME_SHARE),
            _pct(_ratio(s.completed - s.completed_late, s.completed)),
            _pct(m.get("on_time_rate")),
        ),
        ("visits per case", "", "", str(m.get("avg_visits", ""))),
        ("ratings", "", _n(s.rated), _n(stored)),
        (
            "  window device (of services)",
            _pct(o.device_share),
            _pct(_ratio(s.ratings["device"], s.served)),
            _n(ratings.get("device", 0)),
        ),
        (
            "  SMS link (of invitations)",
            _pct(o.sms_share),
            _pct(_ratio(s.ratings["sms"], s.with_phone)),
            _n(ratings.get("sms", 0)),
        ),
        ("  ballot slips", "", _n(s.ratings["ballot"]), _n(ratings.get("ballot", 0))),
        (
            "bad reviews (差评)",
            _pct(LEVEL_WEIGHTS[1] + LEVEL_WEIGHTS[2]),
            _pct(_ratio(s.levels[1] + s.levels[2], s.rated)),
            _pct(_ratio(bad, stored)),
        ),
        (
            "rectifications (one per bad review)",
            "",
            _n(s.levels[1] + s.levels[2]),
            _n(fig.get("rectifications")),
        ),
    ]
    rep = fig.get("report")
    if rep:  # the reports screen's figures for the run's days
        rows += [
            (
                "reports: cases / completed",
                "",
                f"{s.cases:,} / {s.completed:,}",
                f"{rep['cases']:,} / {rep['completed']:,}",
            ),
            ("reports: immediate rate", "", "", _pct(rep.get("immediate_rate"))),
            ("reports: on-time rate", "", "", _pct(rep.get("on_time_rate"))),
            ("reports: joint cases", "", _n(s.joint), _n(rep.get("joint_cases"))),
            ("reports: ratings (rated in the range)", "", _n(s.rated), _n(rep.get("ratings"))),
            ("reports: satisfaction rate", "", "", _pct(rep.get("satisfaction_rate"))),
            ("reports: bad reviews", "", _n(s.levels[1] + s.levels[2]), _n(rep.get("bad_reviews"))),
            ("reports: alarms", "", "", _n(rep.get("alarms"))),
        ]
    rate = s.cases / s.seconds if s.seconds else 0.0
    commands = s.commands / s.seconds if s.seconds else 0.0
    lines = [
        (
            f"{s.days} working days in {_hms(s.seconds)}: {rate:,.1f} cases/s, "
            f"{commands:,.0f} commands/s"
        ),
        (
            f"citizens registered {s.registered:,}, called {s.called:,}, served {s.served:,}, "
            f"no-shows {s.no_shows:,}"
        ),
    ]
    # a column as wide as its widest cell (a year's "cases / completed" needs 19 characters)
    w = [max(12, *(len(r[i]) + 2 for r in rows)) for i in (1, 2, 3)]
    lines += [f"{a:38}{b:>{w[0]}}{c:>{w[1]}}{d:>{w[2]}}" for a, b, c, d in rows]
    alarms = fig.get("alarms", {})
    lines.append(
        "alarms raised by the timers: "
        + (", ".join(f"{k} {v:,}" for k, v in alarms.items()) or "none")
    )
    if s.errors:
        lines.append("refusals: " + ", ".join(f"{k} {v}" for k, v in s.errors.most_common()))
    return "\n".join(lines)


async def simulate_fast(
    opts: FastOptions, dsn: str, progress: Callable[[str], None] | None = None
) -> tuple[FastStats, dict[str, Any]]:
    sim = FastSimulation(opts, dsn, progress)
    try:
        stats = await sim.run()
        fig = await sim.figures()
    finally:
        await sim.close()
    return stats, fig


def main(args: Any, dsn: str) -> int:
    opts = FastOptions(
        hall=args.hall,
        days=args.days,
        date=args.date,
        per_day=args.per_day,
        windows=args.windows,
        seed=args.seed if args.seed is not None else 1,
        immediate_share=args.immediate_share,
        quiet=args.quiet,
    )

    def progress(text: str) -> None:
        if opts.quiet:
            return
        if text.startswith("\r") and sys.stderr.isatty():
            sys.stderr.write("\r\033[K" + text[1:])  # one line, redrawn
        elif text.startswith("\r"):
            sys.stderr.write(text[1:].rstrip("\n") + "\n")  # a log: one line a day
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    try:
        import uvloop

        stats, fig = uvloop.run(simulate_fast(opts, dsn, progress))
    except ImportError:  # pragma: no cover
        stats, fig = asyncio.run(simulate_fast(opts, dsn, progress))
    print(summary(stats, fig, opts))
    return 0


__all__ = ["FastOptions", "FastStats", "replace", "simulate_fast", "summary"]
