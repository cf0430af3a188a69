"""`python run.py simulate`: a realistic day in a hall, played against a running server through
its public interfaces only (the HTTP API and the plain WebSocket feed), so a person can watch
/display and /window come alive.

    python run.py simulate --hall rizhao --speed 60            # one simulated minute a second

What happens, in simulated time (the clock starts at --start, 08:55 by default):
- citizens arrive at the kiosks from 09:00 to 12:00 and 13:00 to 17:00, more in the mid
  morning and mid afternoon (~2,600 a day in the city hall, scaled by windows elsewhere);
  each picks a service (its queue in proportion to the windows serving it), ~60 % leave a
  mobile number, ~6 % are priority (elderly, disabled, appointment);
- they register through all the hall's kiosks (POST .../registrations as the kiosk device).
  The server limits each kiosk (settings kiosk_per_minute / kiosk_burst, 20 a minute, 10 at
  once): the simulator keeps to the same limit (--kiosk-per-minute / --kiosk-burst, to match a
  server started with other HALLOPS_KIOSK_* values) and queues citizens at the kiosks when the
  limit is reached, as a real crowd would; at high --speed the limit, in real minutes, caps the
  day (the start tells how many registrations per real minute the day needs);
- every clerk logs in (POST /api/auth/login, bearer, demo password), signs in at their own
  window and opens it before 09:00, pauses it over lunch (12:00-13:00), closes it and signs
  out at 17:00;
- a window calls the next citizen, who walks over (20-90 s) and is served: immediate items take
  a few minutes, promised items (intake for a case decided later) longer; ~5 % are transferred
  to another queue, ~3 % never come (two recalls a minute apart, then no-show);
- idle windows wake up when the live feed reports a new ticket in one of their queues.

Cases (办件), as clerks make them through the case API (--no-cases: tickets only):
- a served ticket of the window's own department becomes a case: the clerk accepts it while
  serving (~1 % are not accepted, with a reason). The citizens' items are drawn so that ~93 %
  of the cases are immediate (--immediate-share): an immediate case is decided, completed
  and handed over at the window during the service;
- a promised case (5 % of them urgent, 急办) is accepted and started at the window; ~15 % get
  the one-time supplement notice there (补正: the clock pauses) and bring the materials back
  one or two working days later (a visit); ~5 % are accepted with a non-key material deferred
  (容缺, the applicant signs the commitment) and bring it the next working day; ~6 % go
  through a special procedure (§45: inspection, testing, expert review, hearing) and ~3 % are
  escalated (报批), each resumed one to three working days later. Items that need the leader's
  sign-off are sent to the department's leader on duty near the end, who finds the request in
  the department's list and decides after 5-40 minutes (~90 % approved, the rest rejected with
  a comment); the others are decided by the clerk (~3 % refused). ~90 % are completed before
  their deadline, the rest up to two working days late; the result is collected one to three
  working days later (a visit; ~5 % not within the run);
- the published fees of a case's item (most are free; ID cards, passports, realty) are
  collected at the window, with a receipt;
  ~3 % of them are first keyed above the standard: the server refuses, and raises a 违规收费
  (fee irregularity) alarm;
- --days N plays N working days in a row (nights and weekends pass at once), so promised
  cases can be followed to completion; --date sets the first day (default today).

Joint cases (issue 10, server/simulate_joint.py; with cases only):
- 多证联办: --company-setup-share (14 %, ~40 a working day in the city hall) of the 市场监管
  queue's citizens set up a company; the window accepts the ticket as `company-setup` (promised
  cases: the other queues draw fewer promised items, so the immediate share holds). The
  departments' clerks claim and complete the ready steps from their inboxes, 8 % past their
  limit; the applicant picks up at the pick-up window, mostly the next working day;
- 一表通: --projects-per-week (4 in the city hall) new construction projects, by appointment at
  a 规划 window; each later stage a few working days after the one before is completed; some
  联审 steps left silent (超时默许 by the server's timer), some stages accepted with a
  deferrable material missing (容缺) and handed in later;
- a department the run staffs no window of works at a back-office desk (its first window).

Supervision (电子监察) alarms follow from what happens, never from the simulator: the ~10 %
of promised cases completed late pass their 预警 and 黄牌, a crowd at a busy queue can wait
past the hall's limit, the fee attempts above are flagged; the server's timers raise them (on
the server's clock: against a running server a case's deadline is days of real time away, so
the case alarms come in a test that hands the server the simulated clock, or a run of days).
A few an hour of simulated time: the test checks the case ladder's through the real timer job.

A progress line shows the simulated clock and the counts. --duration ends it after so many
real seconds; otherwise it ends when the simulated day is over (17:30). Ctrl-C (or SIGTERM)
ends it at once, cleanly: a ticket being served is finished, one only called is cancelled, every
window it signed in is closed and signed out (the back-office desks too), and it prints the
summary (exit status 130). The server is where its settings put it (HALLOPS_HOST and
HALLOPS_PORT, then HALLOPS_PUBLIC_URL; --url overrides); none answering is one line, exit 2.

The server keeps its own clock: tickets belong to the real service day (Asia/Shanghai), and the
hall timers end every open ticket at the hall's real closing time (closes_at, 17:30). A
simulation run in the real evening sees its tickets closed within seconds (the progress line
says so); run it during the day, or set the hall's closes_at later for a demo. Its kiosks keep
the hall's opening hours on the server's clock too: outside them the run opens registration as
the hall's admin (registration.set_open) for as long as it should take, and withdraws that at
the end. A case's
times are the server's too: against a running server the simulated days of a case pass in
real minutes, so its clock (deadline, time saved or overdue) measures those minutes. The
simulated times reach the server's case clock only in-process (a test hands the server the
simulator's clock: Options.server_clock).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import random
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import orjson

TZ = ZoneInfo("Asia/Shanghai")  # the halls' zone: their opening hours are local

# relative arrival intensity per hour of the day (mid-morning and mid-afternoon peaks)
HOURLY_WEIGHT = {9: 1.25, 10: 1.45, 11: 1.0, 13: 0.75, 14: 1.2, 15: 1.15, 16: 0.7}
CITY_PER_DAY = 2600
CITY_WINDOWS = 130
# when clerks work cases away from the queue (signed in, not at lunch, not closing)
WORK_PERIODS = ((clock_time(9, 5), clock_time(11, 50)), (clock_time(13, 5), clock_time(16, 45)))
IMMEDIATE_SHARE = 0.93  # 即办率 of a city hall: the demo's items are drawn to give it
NOT_ACCEPTED_SHARE = 0.01
URGENT_SHARE = 0.05
SUPPLEMENT_SHARE = 0.15
DEFICIENCY_SHARE = 0.05
SPECIAL_SHARE = 0.06
ESCALATION_SHARE = 0.03
REFUSED_SHARE = 0.03
SIGNOFF_APPROVED_SHARE = 0.90
ON_TIME_SHARE = 0.90
COLLECTED_SHARE = 0.95
# of the fees collected, those a clerk first keys above the published standard: refused, and
# the attempt raises a 违规收费 alarm (a few a week in a city hall)
FEE_IRREGULAR_SHARE = 0.03
SPECIAL_PROCEDURES = ("inspection", "testing", "expert_review", "hearing")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜"
GIVEN_NAMES = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红建国志文辉力斌宇浩凯鹏飞亮"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = __doc__.split("\n\n")[0]
    p.add_argument("--hall", default="rizhao", help="hall code (default rizhao)")
    p.add_argument(
        "--speed",
        type=float,
        default=60.0,
        help="simulated seconds per real second (default 60: a minute a second)",
    )
    p.add_argument(
        "--url",
        default=None,
        help="the running server (default: where the server's settings put it, "
        "HALLOPS_HOST and HALLOPS_PORT, else HALLOPS_PUBLIC_URL)",
    )
    p.add_argument(
        "--duration",
        type=float,
        default=None,
        help="stop after this many real seconds (default: when the day is over)",
    )
    p.add_argument("--start", default="08:55", help="simulated clock at start (HH:MM)")
    p.add_argument(
        "--per-day",
        type=int,
        default=None,
        help="registrations in a day (default 2,600 in the city hall, by windows elsewhere)",
    )
    p.add_argument(
        "--windows", type=int, default=None, help="staff only the first N windows (default all)"
    )
    p.add_argument(
        "--kiosk-per-minute",
        type=float,
        default=None,
        help="the server's per-kiosk limit (default: HALLOPS_KIOSK_PER_MINUTE as the server "
        "reads it, 20)",
    )
    p.add_argument(
        "--kiosk-burst",
        type=int,
        default=None,
        help="the server's per-kiosk burst (default: HALLOPS_KIOSK_BURST, 10)",
    )
    p.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    p.add_argument(
        "--days",
        type=int,
        default=1,
        help="working days in a row (default 1); nights and weekends pass at once. With "
        "--fast: calendar days, their working days played (365: a year)",
    )
    p.add_argument(
        "--date", default=None, help="the first simulated day, YYYY-MM-DD (default today)"
    )
    p.add_argument(
        "--no-cases",
        action="store_true",
        help="tickets only: no case is accepted (the simulator before cases)",
    )
    p.add_argument(
        "--immediate-share",
        type=float,
        default=IMMEDIATE_SHARE,
        help=f"share of immediate cases (即办) among the cases (default {IMMEDIATE_SHARE})",
    )
    p.add_argument(
        "--company-setup-share",
        type=float,
        default=None,
        help="share of the 市场监管 queue's citizens who set up a company (多证联办; default "
        "0.14: ~40 a working day in the city hall)",
    )
    p.add_argument(
        "--projects-per-week",
        type=float,
        default=None,
        help="new 一表通 construction projects a week (default 4 in the city hall, by "
        "registrations elsewhere)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.add_argument(
        "--fast",
        action="store_true",
        help="generate the days in-process through the product's commands on a simulated "
        "clock, as fast as the database goes (server/simulate_fast.py; needs the database, "
        "not a running server: DATABASE_URL or --database-url)",
    )


@dataclass
class Options:
    hall: str = "rizhao"
    speed: float = 60.0
    url: str = "http://127.0.0.1:8080"
    duration: float | None = None
    start: str = "08:55"
    per_day: int | None = None
    windows: int | None = None
    kiosk_per_minute: float = 20.0
    kiosk_burst: int = 10
    seed: int | None = None
    quiet: bool = False
    days: int = 1
    date: str | None = None
    cases: bool = True
    immediate_share: float = IMMEDIATE_SHARE
    # 多证联办: share of the bundle's lead queue (None: COMPANY_SETUP_SHARE); 一表通: new
    # projects a week (None: PROJECTS_PER_WEEK scaled by registrations)
    company_setup_share: float | None = None
    projects_per_week: float | None = None
    # in-process only (tests): called once with the simulated clock, which the server then
    # uses as its own, so a case's timestamps are simulated time
    server_clock: Callable[[Callable[[], datetime]], None] | None = None
    # the command line's run: SIGINT and SIGTERM end it cleanly (Simulation.interrupt)
    signals: bool = False


@dataclass
class Stats:
    arrived: int = 0
    registered: int = 0
    kiosk_refused: int = 0
    called: int = 0
    started: int = 0
    served: int = 0
    transferred: int = 0
    recalls: int = 0
    no_shows: int = 0
    queue_empty: int = 0
    errors: int = 0
    feed_events: int = 0
    feed_gaps: int = 0
    day_closed: int = 0  # tickets the server's closing-time timer ended
    # cases, as the server confirmed them
    cases: int = 0  # accepted or not accepted: every case made
    immediate: int = 0  # accepted immediate cases
    promised: int = 0  # accepted promised cases (urgent ones included)
    urgent: int = 0
    not_accepted: int = 0
    deficiency: int = 0  # 容缺 acceptances
    supplements: int = 0
    supplements_received: int = 0  # the notice's materials (or deferred ones) brought back
    pauses: int = 0  # special procedures
    escalations: int = 0
    resumes: int = 0
    signoffs_requested: int = 0
    signoffs_approved: int = 0
    signoffs_rejected: int = 0
    refused: int = 0  # decided against (by the clerk or the leader)
    completed: int = 0
    completed_immediate: int = 0  # immediate, completed the day it was accepted
    completed_late: int = 0  # after the deadline
    delivered: int = 0
    fees: int = 0  # fees collected
    fee_irregular: int = 0  # attempts above the published standard (refused, alarmed)
    # joint cases (issue 10), also counted above as cases, promised, completed, delivered
    joint: int = 0  # company setups accepted (多证联办)
    joint_completed: int = 0  # their last step done: completed by the server
    joint_delivered: int = 0  # picked up at the pick-up window
    joint_visits_2: int = 0  # of those, picked up on a later day (two visits in all)
    steps_claimed: int = 0  # joint steps claimed from a department's inbox
    steps_done: int = 0
    steps_late: int = 0  # done past their due instant (the server's timer alarms them)
    steps_silent: int = 0  # 联审 steps left unanswered: 超时默许 by the server's timer
    projects: int = 0  # 一表通 projects opened (stage 1 accepted)
    project_stages: int = 0  # stage cases accepted (the first ones included)
    project_supplied: int = 0  # 容缺 materials handed in later
    open_windows: set[int] = field(default_factory=set)
    error_codes: dict[str, int] = field(default_factory=dict)
    # the end of the run: stopped by Ctrl-C (or SIGTERM); what its wind-down left in order
    interrupted: bool = False
    seconds: float = 0.0  # real seconds the run took
    simulated: tuple[datetime, datetime] | None = None  # the simulated clock at start and end
    closed_windows: int = 0  # windows the run closed and signed out (at closing or on a stop)
    wound_finished: int = 0  # tickets being served when the run stopped: finished
    wound_cancelled: int = 0  # tickets called but not served when the run stopped: cancelled
    left_signed_in: list[int] = field(default_factory=list)  # windows it could not sign out

    def error(self, what: str) -> None:
        self.errors += 1
        self.error_codes[what] = self.error_codes.get(what, 0) + 1


class Clock:
    """Simulated time: start + (real elapsed) x speed; `jump` skips a night or a weekend at
    once (whoever waits for a time it passes wakes up)."""

    def __init__(self, start: datetime, speed: float):
        self.start = start
        self.speed = speed
        self.t0 = time.monotonic()
        self._moved = asyncio.Event()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self.t0) * self.speed)

    def jump(self, to: datetime) -> None:
        if to > self.now():
            self.start, self.t0 = to, time.monotonic()
            self._moved.set()
            self._moved = asyncio.Event()

    async def until(self, when: datetime) -> None:
        while (delay := (when - self.now()).total_seconds() / self.speed) > 0:
            moved = self._moved
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(moved.wait(), delay)

    async def sleep(self, sim_seconds: float) -> None:
        await self.until(self.now() + timedelta(seconds=max(0.0, sim_seconds)))


def _at(day: datetime, hhmm: str) -> datetime:
    h, m = (int(x) for x in hhmm.split(":"))
    return day.replace(hour=h, minute=m, second=0, microsecond=0)


def working_day(day: date, ahead: int = 0) -> date:
    """The working day `ahead` working days after `day` (Monday to Friday; the hall's own
    calendar is the server's business: a deadline always comes from the server)."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    for _ in range(ahead):
        day += timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
    return day


def _spans(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The working periods between two instants, clipped to them."""
    out = []
    day = start.date()
    while day <= end.date():
        if day.weekday() < 5:
            for a, b in WORK_PERIODS:
                lo = max(start, datetime.combine(day, a, tzinfo=TZ))
                hi = min(end, datetime.combine(day, b, tzinfo=TZ))
                if lo < hi:
                    out.append((lo, hi))
        day += timedelta(days=1)
    return out


def work_instant(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A random working instant between two instants (uniform in working time); the next
    working instant after `start` when there is none."""
    spans = _spans(start, end) if end > start else []
    if not spans:
        return next_working_instant(start)
    x = rng.uniform(0, sum((b - a).total_seconds() for a, b in spans))
    for a, b in spans:
        length = (b - a).total_seconds()
        if x <= length:
            return a + timedelta(seconds=x)
        x -= length
    return spans[-1][1]


def next_working_instant(t: datetime) -> datetime:
    """`t` if clerks work cases then, else the start of the next working period."""
    if _spans(t, t + timedelta(seconds=1)):
        return t
    spans = _spans(t, t + timedelta(days=5))
    return spans[0][0]


WORK_DAY_SECONDS = sum(
    (datetime.combine(date.min, b) - datetime.combine(date.min, a)).total_seconds()
    for a, b in WORK_PERIODS
)


def working_later(t: datetime, seconds: float) -> datetime:
    """The instant `seconds` of working time (WORK_PERIODS, working days) after `t`."""
    left = max(0.0, seconds)
    start = t
    while True:
        for a, b in _spans(start, start + timedelta(days=7)):
            length = (b - a).total_seconds()
            if left <= length:
                return a + timedelta(seconds=left)
            left -= length
        start += timedelta(days=7)


def arrival_times(day: datetime, per_day: int, rng: random.Random) -> list[datetime]:
    """A Poisson arrival process over the opening hours, intensity by HOURLY_WEIGHT."""
    total_weight = sum(HOURLY_WEIGHT.values())
    times: list[datetime] = []
    for hour, weight in HOURLY_WEIGHT.items():
        rate = per_day * weight / total_weight / 3600.0  # per second in this hour
        t = 0.0
        while True:
            t += rng.expovariate(rate)
            if t >= 3600:
                break
            times.append(
                day.replace(hour=hour, minute=0, second=0, microsecond=0) + timedelta(seconds=t)
            )
    return times


def promised_probability(
    items_by_queue: dict[str, list[dict]],
    weight: dict[str, float],
    immediate_share: float,
    joint: dict[str, float] | None = None,
) -> dict[str, float]:
    """Per queue, the chance that a citizen (not drawn for a joint case) comes for a promised
    item, so that promised items make 1 - immediate_share of all arrivals: queues with both
    kinds carry what the queues with only one kind leave (a hall's immediate rate is the
    hall's, not each department's). `joint`: per queue, the share of its citizens drawn for a
    joint case (多证联办), promised cases too, which the others carry less of."""
    joint = joint or {}
    kinds = {q: {i["kind"] != "immediate" for i in items} for q, items in items_by_queue.items()}
    total = sum(weight.get(q, 0.0) for q in kinds)
    fixed = sum(weight.get(q, 0.0) * joint.get(q, 0.0) for q in kinds)

    def rest(q: str) -> float:
        return weight.get(q, 0.0) * (1 - joint.get(q, 0.0))

    mixed = sum(rest(q) for q, k in kinds.items() if k == {True, False})
    only = sum(rest(q) for q, k in kinds.items() if k == {True})
    target = (1 - immediate_share) * total - only - fixed
    p = min(1.0, max(0.0, target / mixed)) if mixed else 0.0
    return {q: p if k == {True, False} else 1.0 if k == {True} else 0.0 for q, k in kinds.items()}


class Quota:
    """Exact running shares for what happens to few cases: the n-th candidate of a kind is
    picked when the running count falls behind n x share (from a random phase), so a short run
    has its two or three supplement notices instead of none by bad luck, and a long one has
    exactly its share. The mix of items (immediate or promised) stays a random draw."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.seen: dict[str, int] = {}
        self.phase: dict[str, float] = {}

    def take(self, name: str, share: float) -> bool:
        phase = self.phase.setdefault(name, self.rng.random())
        n = self.seen.get(name, 0)
        self.seen[name] = n + 1
        return math.floor((n + 1) * share + phase) > math.floor(n * share + phase)


class TokenBucket:
    """The server's per-kiosk limit, kept on our side (real time)."""

    def __init__(self, per_minute: float, burst: int):
        self.rate = per_minute / 60.0
        self.burst = burst
        self.tokens = float(burst)
        self.last = time.monotonic()

    async def take(self) -> None:
        while True:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
            self.last = now
            if self.tokens >= 1:
                self.tokens -= 1
                return
            await asyncio.sleep((1 - self.tokens) / self.rate + 0.01)


class Simulation:
    def __init__(self, opts: Options, progress: Callable[[str], None] | None = None):
        self.o = opts
        self.rng = random.Random(opts.seed)
        self.stats = Stats()
        self.progress = progress or (lambda _: None)
        self.base = opts.url.rstrip("/")
        self.stop = asyncio.Event()
        self.wake: dict[str, set[asyncio.Event]] = {}  # queue code -> idle windows' events
        self.tasks: list[asyncio.Task] = []
        self.case_tasks: set[asyncio.Task] = set()  # promised cases being followed
        self.tokens: dict[int, str] = {}  # window no -> its clerk's bearer token
        self.leaders: dict[str, str] = {}  # department code -> its leader's bearer token
        self.leader_locks: dict[str, asyncio.Lock] = {}
        self.item_details: dict[str, dict[str, Any]] = {}
        self.admin_token: str | None = None  # set when the run opened registration itself
        self.signed_in: dict[int, str] = {}  # windows the run signed in, still signed in
        self.interrupts = 0
        self.quota = Quota(self.rng)
        from server.simulate_joint import JointWork

        self.joint = JointWork(self)

    # -- set-up ------------------------------------------------------------------------------
    async def _json(
        self, method: str, path: str, token: str | None = None, body: dict | None = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.request(method, self.base + path, json=body, headers=headers) as r:
            try:
                data = await r.json(content_type=None)
            except ValueError:  # not JSON (a proxy's error page): the status tells enough
                data = {}
            return r.status, data

    async def setup(self) -> None:
        from server import demo_hall

        o = self.o
        plan = next((h for h in demo_hall._plan() if h.code == o.hall), None)
        if plan is None:
            raise SystemExit(
                f"unknown demo hall {o.hall!r}: one of "
                + ", ".join(h.code for h in demo_hall._plan())
            )
        self.plan = plan
        kiosks = [d[0] for d in plan.devices if d[1] == "kiosk"]
        display = next(d[0] for d in plan.devices if d[1] == "display")
        self.kiosk_tokens: list[str] = []
        for code in kiosks:
            status, body = await self._json(
                "POST",
                "/api/auth/device",
                body={"code": code, "secret": demo_hall.DEMO_PASSWORDS["kiosk"]},
            )
            if status != 200:
                raise SystemExit(f"kiosk {code} cannot log in: {body}")
            self.kiosk_tokens.append(body["token"])
        status, body = await self._json(
            "POST",
            "/api/auth/device",
            body={"code": display, "secret": demo_hall.DEMO_PASSWORDS["display"]},
        )
        if status != 200:
            raise SystemExit(f"display {display} cannot log in: {body}")
        self.display_token = body["token"]
        status, body = await self._json("GET", f"/api/halls/{o.hall}/windows", self.display_token)
        if status != 200:
            raise SystemExit(f"cannot read the windows of {o.hall}: {body}")
        self.all_windows = body["windows"]
        windows = body["windows"][: o.windows] if o.windows else body["windows"]
        self.windows = windows
        clerks = {s[4]: s[0] for s in plan.staff if s[2] == "clerk" and s[4] is not None}
        self.all_clerks = clerks
        self.clerk_of = {w["window_no"]: clerks.get(w["window_no"]) for w in windows}
        status, body = await self._json("GET", f"/api/halls/{o.hall}/items", self.display_token)
        items = [i for i in body.get("items", []) if i.get("queue_code")]
        self.items_by_queue: dict[str, list[dict]] = {}
        for i in items:
            self.items_by_queue.setdefault(i["queue_code"], []).append(i)
        self.kind_of_item = {i["name"]: i["kind"] for i in items}
        # a ticket names its item; a clerk accepts only the items of the window's department
        self.department_of_window = {w["window_no"]: w["department"] for w in windows}
        self.item_of = {(i["department_code"], i["name"]): i for i in items}
        # a queue is chosen in proportion to the (staffed) windows that serve it
        weight: dict[str, float] = {}
        for w in windows:
            for k, q in enumerate(w["queues"]):
                if q in self.items_by_queue:
                    weight[q] = weight.get(q, 0.0) + (1.0 if k == 0 else 0.3)
        self.queue_weights = weight
        self.queue_codes = sorted(self.items_by_queue)
        self.promised_p = promised_probability(self.items_by_queue, weight, o.immediate_share)
        n_windows = len(windows)
        self.per_day = o.per_day or round(CITY_PER_DAY * n_windows / CITY_WINDOWS)
        # registrations per real minute the day asks for, vs what the kiosks allow
        busiest = max(HOURLY_WEIGHT.values()) / sum(HOURLY_WEIGHT.values())
        need = self.per_day * busiest / 60 * o.speed
        allow = len(kiosks) * o.kiosk_per_minute
        self.note = (
            f"{o.hall}: {n_windows} windows, {len(kiosks)} kiosks, ~{self.per_day} "
            f"registrations in the day; at x{o.speed:g} the busiest hour needs "
            f"{need:.0f}/min (real), the kiosks allow {allow:.0f}/min"
        )
        if need > allow:
            self.note += (
                f" -- citizens will queue at the kiosks; start the server with "
                f"HALLOPS_KIOSK_PER_MINUTE={math.ceil(need / len(kiosks) * 1.2)} "
                f"(and pass --kiosk-per-minute) or lower --speed"
            )

    async def login_staff(self, username: str, role: str) -> str | None:
        """A member of staff's bearer token (the demo password of their role); None, counted as
        an error, when the login is refused."""
        from server import demo_hall

        status, body = await self._json(
            "POST",
            "/api/auth/login",
            body={
                "username": username,
                "password": demo_hall.DEMO_PASSWORDS[role],
                "bearer": True,
            },
        )
        if status != 200:
            self.stats.error(f"login {username}: {(body.get('error') or {}).get('code', status)}")
            return None
        return str(body["token"])

    async def open_registration(self) -> None:
        """The server's kiosks keep the hall's opening hours on the server's clock: a run in
        the real evening or on a weekend opens registration as the hall's admin would
        (registration.set_open) for as long as the run should take, and withdraws it at the
        end (close_registration)."""
        hall = self.o.hall
        status, state = await self._json("GET", f"/api/halls/{hall}/registration-hours")
        if status != 200 or state.get("open"):
            return
        admin = next((s[0] for s in self.plan.staff if s[2] == "admin"), None)
        token = await self.login_staff(admin, "admin") if admin else None
        if token is None:
            self.progress(f"{state.get('message')} -- and no admin to open registration")
            return
        sim_seconds = self.o.days * 9 * 3600  # 08:45-17:45 a day, the nights pass at once
        real = self.o.duration or sim_seconds / self.o.speed
        until = datetime.now(TZ) + timedelta(seconds=min(real + 1800, 6 * 86400))
        status, body = await self._json(
            "PUT",
            f"/api/halls/{hall}/registration-hours",
            token,
            {"open": True, "until": until.isoformat()},
        )
        if status == 200:
            self.admin_token = token
            self.progress(
                f"the server's clock is outside the hall's opening hours ({state['message']}): "
                f"registration opened as {admin} until {until:%Y-%m-%d %H:%M}, withdrawn at "
                "the end"
            )
        else:
            self.stats.error(f"open registration: {(body.get('error') or {}).get('code', status)}")

    async def close_registration(self) -> None:
        if self.admin_token is not None:
            await self._json(
                "PUT",
                f"/api/halls/{self.o.hall}/registration-hours",
                self.admin_token,
                {"open": False},
            )
            self.admin_token = None

    async def login_clerks(self) -> dict[int, str]:
        tokens: dict[int, str] = {}
        sem = asyncio.Semaphore(4)  # argon2 costs the server ~50 ms of CPU per login

        async def one(no: int, username: str) -> None:
            async with sem:
                token = await self.login_staff(username, "clerk")
            if token is not None:
                tokens[no] = token

        await asyncio.gather(*(one(no, u) for no, u in self.clerk_of.items() if u))
        return tokens

    # -- citizens ----------------------------------------------------------------------------
    async def arrivals(self, day: datetime) -> None:
        kiosk_queues = self.kiosk_queues
        queues = list(self.queue_weights)
        weights = [self.queue_weights[q] for q in queues]
        for t in arrival_times(day, self.per_day, self.rng):
            if t < self.clock.now() - timedelta(minutes=1):
                continue  # the simulation started later than this arrival
            await self.clock.until(t)
            if self.stop.is_set():
                return
            queue = self.rng.choices(queues, weights)[0]
            joint = self.joint.draw(queue)  # a company setup (多证联办), or None
            if joint is not None:
                item = joint
            else:
                promised = self.rng.random() < self.promised_p.get(queue, 0.0)
                choice = [
                    i for i in self.items_by_queue[queue] if (i["kind"] != "immediate") == promised
                ]
                item = self.rng.choice(choice or self.items_by_queue[queue])
            body: dict[str, Any] = {"item": item["code"]}
            if joint is not None:
                body["_joint"] = True  # the simulator's own mark, not sent
            if self.rng.random() < 0.6:
                body["phone"] = "13" + "".join(self.rng.choice("0123456789") for _ in range(9))
            r = self.rng.random()
            if r < 0.03:
                body["priority"] = "elderly"
            elif r < 0.04:
                body["priority"] = "disabled"
            elif r < 0.06:
                body["priority"] = "appointment"
            self.stats.arrived += 1
            min(kiosk_queues, key=lambda q: q.qsize()).put_nowait(body)

    async def kiosk(self, token: str, citizens: asyncio.Queue[dict[str, Any]]) -> None:
        bucket = TokenBucket(self.o.kiosk_per_minute, self.o.kiosk_burst)
        while not self.stop.is_set():
            body = await citizens.get()
            joint = body.pop("_joint", False)
            await bucket.take()
            for _ in range(5):
                status, data = await self._json(
                    "POST", f"/api/halls/{self.o.hall}/registrations", token, body
                )
                if status == 201:
                    self.stats.registered += 1
                    if joint and (data.get("ticket") or {}).get("id"):
                        self.joint.tickets.add(int(data["ticket"]["id"]))
                    break
                if status == 429:
                    self.stats.kiosk_refused += 1
                    await asyncio.sleep(3.0)
                    continue
                self.stats.error(f"register: {(data.get('error') or {}).get('code', status)}")
                break

    # -- windows -----------------------------------------------------------------------------
    async def window(self, w: dict, token: str, day: datetime) -> None:
        no = w["window_no"]
        path = f"/api/halls/{self.o.hall}/windows/{no}"
        s, rng, clock = self.stats, self.rng, self.clock
        wake = asyncio.Event()

        async def cmd(verb: str, body: dict | None = None) -> tuple[int, Any]:
            status, data = await self._json("POST", f"{path}/{verb}", token, body)
            if status >= 400 and status != 409:
                s.error(f"{verb}: {(data.get('error') or {}).get('code', status)}")
            return status, data

        async def set_status(status: str) -> None:
            st, _ = await cmd("status", {"status": status})
            if st == 200 and status == "open":
                s.open_windows.add(no)
            elif st == 200:
                s.open_windows.discard(no)

        # before opening: sign in and open, 08:50-09:00
        await clock.until(
            max(clock.now(), _at(day, "08:50") + timedelta(seconds=rng.uniform(0, 540)))
        )
        st, data = await cmd("sign-in")
        if st != 200:
            s.error(f"sign-in {no}: {(data.get('error') or {}).get('code', st)}")
            return
        self.signed_in[no] = token  # from now on the run owes the window its closing
        await self._clear(path, token)  # a citizen left at the window by an earlier run
        await set_status("open")
        lunch, back, close = _at(day, "12:00"), _at(day, "13:00"), _at(day, "17:00")
        paused = False
        while not self.stop.is_set():
            now = clock.now()
            if now >= close:
                break
            if lunch <= now < back:
                if not paused:
                    await set_status("paused")
                    paused = True
                await clock.until(back + timedelta(seconds=rng.uniform(0, 300)))
                continue
            if paused:
                await set_status("open")
                paused = False
            st, data = await cmd("call-next")
            if st != 200:
                code = (data.get("error") or {}).get("code")
                if code == "window_busy":
                    await self._clear(path, token)
                    continue
                if code == "queue_empty":
                    s.queue_empty += 1
                    for q in w["queues"]:
                        self.wake.setdefault(q, set()).add(wake)
                    wake.clear()
                    try:  # a new ticket in one of our queues, or a look every 2 minutes
                        await asyncio.wait_for(wake.wait(), 120 / clock.speed)
                    except TimeoutError:
                        pass
                    for q in w["queues"]:
                        self.wake.get(q, set()).discard(wake)
                else:
                    s.error(f"call-next: {code or st}")
                    await clock.sleep(60)
                continue
            s.called += 1
            ticket = data.get("ticket") or {}
            if rng.random() < 0.03:  # never comes: two recalls a minute apart, no-show
                for _ in range(2):
                    await clock.sleep(60)
                    if (await cmd("recall"))[0] == 200:
                        s.recalls += 1
                await clock.sleep(60)
                if (await cmd("no-show", {"requeue": False}))[0] == 200:
                    s.no_shows += 1
                continue
            await clock.sleep(rng.uniform(20, 90))  # walking over
            if (await cmd("start"))[0] != 200:
                continue
            s.started += 1
            kind = self.kind_of_item.get(ticket.get("item"), "immediate")
            mean = 240 if kind == "immediate" else 720
            service = min(3600, rng.lognormvariate(math.log(mean), 0.5))
            others = [q for q in self.queue_codes if q != ticket.get("queue")]
            if others and rng.random() < 0.05:
                await clock.sleep(service)
                st, _ = await cmd(
                    "transfer", {"queue": rng.choice(others), "note": "需到其他窗口办理"}
                )
                if st == 200:
                    s.transferred += 1
                    continue
            item = self.item_of.get((self.department_of_window[no], ticket.get("item")))
            if self.o.cases and item is not None and ticket.get("id"):
                await self.serve_case(no, token, int(ticket["id"]), item, service)
            else:  # nothing this window accepts (a ticket transferred in): advice only
                await clock.sleep(service)
            if (await cmd("finish"))[0] == 200:
                s.served += 1
            await clock.sleep(rng.uniform(10, 40))  # paperwork before the next one
        # closing time: whoever is there is finished, the window closes, its clerk signs out
        await self.close_window(no, token)

    async def close_window(self, no: int, token: str) -> None:
        """A window the run signed in, put in order: a ticket being served is finished, one
        called but not yet served is cancelled (nobody is left 办理中 at a closed window), the
        window is closed and its clerk signed out. What is current is read from the server,
        not assumed: a stop can cut a command whose answer never came back."""
        path = f"/api/halls/{self.o.hall}/windows/{no}"
        s = self.stats
        status, board = await self._json("GET", f"{path}/board", token)
        current = (board.get("current") or {}) if status == 200 else {}
        if current.get("status") == "serving":
            if (await self._json("POST", f"{path}/finish", token))[0] == 200:
                s.served += 1
                s.wound_finished += self.stop.is_set()
        elif current.get("status") == "called":
            reason = {"reason": "模拟结束，未办理"}
            if (await self._json("POST", f"{path}/cancel", token, reason))[0] == 200:
                s.wound_cancelled += 1
        await self._json("POST", f"{path}/status", token, {"status": "closed"})
        status, _ = await self._json("POST", f"{path}/sign-out", token)
        if status in (200, 409):  # 409 not_signed_in: someone else signed it out meanwhile
            self.signed_in.pop(no, None)
            s.open_windows.discard(no)
            s.closed_windows += 1

    async def wind_down(self) -> None:
        """After a stop: every window the run still holds is put in order (close_window), a
        few at a time; a window the server does not answer for is named in the summary."""
        sem = asyncio.Semaphore(16)

        async def one(no: int, token: str) -> None:
            async with sem:
                with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError):
                    await self.close_window(no, token)

        await asyncio.gather(*(one(no, t) for no, t in list(self.signed_in.items())))
        self.stats.left_signed_in = sorted(self.signed_in)

    def interrupt(self) -> None:
        """Ctrl-C (SIGINT) or SIGTERM: the run stops and winds down; a second one quits at
        once, leaving what is signed in as it is."""
        self.interrupts += 1
        if self.interrupts > 1:
            raise KeyboardInterrupt
        self.stats.interrupted = True
        self.stop.set()
        self.progress(
            "\nstopping: finishing the tickets being served, signing the clerks out "
            "(Ctrl-C again quits at once) ..."
        )

    async def _clear(self, path: str, token: str) -> None:
        """Serves out whoever is current at the window (called: start, then finish)."""
        await self._json("POST", f"{path}/start", token)
        await self._json("POST", f"{path}/finish", token)

    # -- cases -------------------------------------------------------------------------------
    async def _item_detail(self, code: str) -> dict[str, Any]:
        """The item's materials (as the terminal shows them), read once."""
        if code not in self.item_details:
            status, body = await self._json(
                "GET", f"/api/halls/{self.o.hall}/items/{code}", self.display_token
            )
            self.item_details[code] = body if status == 200 else {"materials": []}
        return self.item_details[code]

    def _applicant(self) -> dict[str, Any]:
        rng = self.rng
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN_NAMES, k=rng.choice((1, 2))))
        applicant: dict[str, Any] = {"name": name}
        if rng.random() < 0.8:  # most leave a mobile number for the case's SMS
            applicant["phone"] = "13" + "".join(rng.choice("0123456789") for _ in range(9))
        return applicant

    async def _case_call(
        self,
        method: str,
        path: str,
        token: str,
        body: Any,
        what: str,
        ok: int = 200,
        tolerate: tuple[str, ...] = (),
    ) -> tuple[int, Any]:
        status, data = await self._json(method, path, token, body)
        if status != ok:
            code = (
                (data.get("error") or {}).get("code", status) if isinstance(data, dict) else status
            )
            if code not in tolerate:
                self.stats.error(f"case {what}: {code}")
        return status, data

    async def _case_cmd(
        self, no: int, case_id: int, verb: str, body: Any = None
    ) -> tuple[int, Any]:
        return await self._case_call(
            "POST", f"/api/cases/{case_id}/{verb}", self.tokens[no], body, verb
        )

    async def _leader(self, department: str) -> str | None:
        """The department's leader on duty, logged in once (bearer)."""
        lock = self.leader_locks.setdefault(department, asyncio.Lock())
        async with lock:
            if department not in self.leaders:
                token = await self.login_staff(f"leader.{department}", "leader")
                if token is None:
                    return None
                self.leaders[department] = token
        return self.leaders[department]

    async def serve_case(
        self, no: int, token: str, ticket_id: int, item: dict[str, Any], service: float
    ) -> None:
        """The case of the ticket served at window `no`, within the service's `service`
        simulated seconds: accepted (or not), and an immediate one completed and handed over;
        a promised one started, and followed afterwards (case_life)."""
        if ticket_id in self.joint.tickets:  # a company setup: the bundle's intake
            await self.joint.intake(no, token, ticket_id, service)
            return
        s, rng, clock = self.stats, self.rng, self.clock
        t_end = clock.now() + timedelta(seconds=service)
        await clock.sleep(service * 0.5)  # hearing the applicant, checking the materials
        hall = self.o.hall
        applicant = self._applicant()
        quota = self.quota
        if quota.take("not_accepted", NOT_ACCEPTED_SHARE):
            status, _ = await self._case_call(
                "POST",
                f"/api/halls/{hall}/cases/not-accepted",
                token,
                {
                    "ticket_id": ticket_id,
                    "applicant": applicant,
                    "reason": "申请事项不属于本机关职权范围，已告知向有关机关申请",
                },
                "not_accept",
                ok=201,
            )
            if status == 201:
                s.cases += 1
                s.not_accepted += 1
            await clock.until(t_end)
            return
        body: dict[str, Any] = {"ticket_id": ticket_id, "applicant": applicant}
        promised = item["kind"] != "immediate"
        supplement = deficiency = False
        faulty: dict[str, Any] | None = None
        if promised:
            materials = (await self._item_detail(item["code"])).get("materials", [])
            day_limit = item["limit_unit"] == "working_day" and item["promised_limit"] >= 1
            if day_limit and item["promised_limit"] >= 2 and quota.take("urgent", URGENT_SHARE):
                body["urgent"] = True
            deferrable = [m for m in materials if not m["is_key"]]
            if deferrable and day_limit and quota.take("deficiency", DEFICIENCY_SHARE):
                # 容缺: a non-key material comes the next working day, on the signed commitment
                m = rng.choice(deferrable)
                body["materials"] = [{"position": m["position"], "status": "missing"}]
                body["deficiency"] = {
                    "commitment_signed": True,
                    "due": working_day(clock.now().date(), 1).isoformat(),
                }
                deficiency = True
            elif materials and quota.take("supplement", SUPPLEMENT_SHARE):
                m = rng.choice(materials)
                faulty = {
                    "position": m["position"],
                    "status": "faulty",
                    "problem": rng.choice(("复印件不清晰", "缺少签字盖章", "与原件不一致")),
                }
                body["materials"] = [faulty]
                supplement = True
        path = f"/api/halls/{hall}/cases"
        status, case = await self._case_call(
            "POST", path, token, body, "accept", ok=201, tolerate=("deficiency_due",)
        )
        if status == 400 and deficiency:
            # the server's clock is not the simulation's (a running server): its deadline
            # came before the due date; accepted without the deferral instead
            body.pop("deficiency")
            body.pop("materials")
            deficiency = False
            status, case = await self._case_call("POST", path, token, body, "accept", ok=201)
        if status != 201:
            await clock.until(t_end)
            return
        s.cases += 1
        case_id = case["case_id"]
        if case["kind"] == "immediate":
            s.immediate += 1
            accepted_day = clock.now().date()
            await clock.sleep(max(0.0, (t_end - clock.now()).total_seconds()) * 0.6)
            await self._collect_fees(no, case_id, item["code"])
            status, _ = await self._case_cmd(no, case_id, "decision", {"decision": "approve"})
            if status == 200:
                status, _ = await self._case_cmd(no, case_id, "complete")
                if status == 200:
                    s.completed += 1
                    s.completed_immediate += clock.now().date() == accepted_day
                    if (await self._case_cmd(no, case_id, "deliver"))[0] == 200:
                        s.delivered += 1  # handed over at the window: the same visit
        else:
            s.promised += 1
            s.urgent += case["kind"] == "urgent"
            s.deficiency += deficiency
            await self._case_cmd(no, case_id, "start")
            await self._collect_fees(no, case_id, item["code"])
            if supplement and faulty is not None:
                status, _ = await self._case_cmd(no, case_id, "supplement", {"materials": [faulty]})
                s.supplements += status == 200
                supplement = status == 200
            deadline = case["clock"].get("deadline")
            life = {
                "id": case_id,
                "window_no": no,
                "department": self.department_of_window[no],
                "deadline": datetime.fromisoformat(deadline) if deadline else None,
                "materials_due": supplement or deficiency,
                "deficiency": deficiency,
            }
            task = asyncio.create_task(self.case_life(life))
            self.case_tasks.add(task)
            task.add_done_callback(self.case_tasks.discard)
        await clock.until(t_end)

    async def _collect_fees(self, no: int, case_id: int, code: str) -> None:
        """The item's published fees, collected at the window with a receipt; now and then the
        clerk first keys an amount above the standard, which the server refuses (and raises a
        违规收费 alarm for)."""
        for fee in (await self._item_detail(code)).get("fees", []):
            if self.quota.take("fee_irregular", FEE_IRREGULAR_SHARE):
                status, _ = await self._case_call(
                    "POST",
                    f"/api/cases/{case_id}/fees",
                    self.tokens[no],
                    {
                        "fee_id": fee["id"],
                        "amount_cents": fee["amount_cents"] + self.rng.choice((500, 2000, 10000)),
                        "receipt_no": f"SIM-{case_id}-{fee['id']}-X",
                    },
                    "fee",
                    tolerate=("fee_above_list",),
                )
                self.stats.fee_irregular += status == 409
            status, _ = await self._case_cmd(
                no,
                case_id,
                "fees",
                {
                    "fee_id": fee["id"],
                    "amount_cents": fee["amount_cents"],
                    "receipt_no": f"SIM-{case_id}-{fee['id']}",
                },
            )
            self.stats.fees += status == 200

    async def case_life(self, c: dict[str, Any]) -> None:
        try:
            await self._case_life(c)
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
            self.stats.error(f"case: {type(exc).__name__}")

    def _on_day(self, ahead: tuple[int, int]) -> datetime:
        """A working instant `ahead` (a range) working days from the simulated today."""
        day = working_day(self.clock.now().date(), self.rng.randint(*ahead))
        return work_instant(
            self.rng,
            datetime.combine(day, clock_time(0), tzinfo=TZ),
            datetime.combine(day, clock_time(23, 59), tzinfo=TZ),
        )

    async def _case_life(self, c: dict[str, Any]) -> None:
        """A promised case after the window: materials brought back, a special procedure or
        an escalation, the decision (the clerk's, or the leader's sign-off), completion on time
        or late, and the result collected later."""
        s, rng, clock = self.stats, self.rng, self.clock
        case_id, no = c["id"], c["window_no"]
        deadline: datetime | None = c["deadline"]

        def moved(data: dict[str, Any]) -> datetime | None:
            d = (data.get("clock") or {}).get("deadline")
            return datetime.fromisoformat(d) if d else deadline

        if c["materials_due"]:
            await clock.until(self._on_day((1, 1) if c["deficiency"] else (1, 2)))
            status, data = await self._case_cmd(no, case_id, "supplement/received", {})
            if status == 200:
                s.supplements_received += 1
                deadline = moved(data)
        quota = self.quota
        special = quota.take("special", SPECIAL_SHARE)
        if special or quota.take("escalation", ESCALATION_SHARE):
            now = clock.now()
            await clock.until(work_instant(rng, now, now + timedelta(days=1)))
            if special:
                kind = rng.choice(SPECIAL_PROCEDURES)
                status, data = await self._case_cmd(
                    no, case_id, "pause", {"kind": kind, "reason": "依法需进行特别程序"}
                )
                s.pauses += status == 200
            else:
                status, data = await self._case_cmd(
                    no, case_id, "escalate", {"reason": "须报上级机关审批"}
                )
                s.escalations += status == 200
            if status == 200:
                await clock.until(self._on_day((1, 3)))
                status, data = await self._case_cmd(no, case_id, "resume", {"note": "程序结束"})
                if status == 200:
                    s.resumes += 1
                    deadline = moved(data)
        now = clock.now()
        if deadline is None:
            deadline = now + timedelta(days=1)
        if quota.take("on_time", ON_TIME_SHARE):
            target = work_instant(
                rng, now + timedelta(minutes=30), deadline - timedelta(minutes=15)
            )
        else:
            late = datetime.combine(working_day(deadline.date(), 2), clock_time(16, 45), tzinfo=TZ)
            target = work_instant(rng, deadline + timedelta(minutes=15), late)
        await clock.until(work_instant(rng, max(now, target - timedelta(hours=3)), target))
        # the clerk opens the case: whether the item needs the leader's sign-off
        status, detail = await self._case_call(
            "GET", f"/api/cases/{case_id}", self.tokens[no], None, "open"
        )
        if status != 200:
            return
        if detail.get("requires_signoff"):
            status, _ = await self._case_cmd(
                no,
                case_id,
                "signoff-request",
                {"purpose": "decision", "note": "材料齐全，拟同意，请签批"},
            )
            if status != 200:
                return
            s.signoffs_requested += 1
            await clock.sleep(rng.uniform(5, 40) * 60)
            leader = await self._leader(c["department"])
            if leader is None:
                return
            status, listed = await self._case_call(
                "GET",
                f"/api/halls/{self.o.hall}/signoffs",
                leader,
                None,
                "signoff list",
            )
            if status == 200 and case_id not in [
                (r.get("case") or {}).get("case_id") for r in listed.get("requests", [])
            ]:
                s.error("case signoff: not in the leader's list")
            approve = quota.take("signoff_approved", SIGNOFF_APPROVED_SHARE)
            status, _ = await self._case_call(
                "POST",
                f"/api/cases/{case_id}/signoff",
                leader,
                {"decision": "approve", "comment": "同意"}
                if approve
                else {"decision": "reject", "comment": "不符合法定条件，不予许可"},
                "signoff",
            )
            if status != 200:
                return
            s.signoffs_approved += approve
            s.signoffs_rejected += not approve
            s.refused += not approve
            target = next_working_instant(max(target, clock.now() + timedelta(minutes=10)))
        else:
            refuse = quota.take("refused", REFUSED_SHARE)
            status, _ = await self._case_cmd(
                no,
                case_id,
                "decision",
                {"decision": "refuse", "reason": "不符合法定条件"}
                if refuse
                else {"decision": "approve"},
            )
            if status != 200:
                return
            s.refused += refuse
        await clock.until(target)
        status, data = await self._case_cmd(no, case_id, "complete")
        if status != 200:
            return
        s.completed += 1
        s.completed_late += (data.get("clock") or {}).get("overdue_s", 0) > 0
        if quota.take("collected", COLLECTED_SHARE):
            await clock.until(self._on_day((1, 3)))
            status, _ = await self._case_cmd(no, case_id, "deliver")
            s.delivered += status == 200

    # -- the live feed -----------------------------------------------------------------------
    async def feed(self) -> None:
        """The plain WebSocket feed, as an LED controller: wakes idle windows; counts events."""
        ws_url = self.base.replace("http://", "ws://").replace("https://", "wss://") + "/ws/display"
        last = None
        while not self.stop.is_set():
            try:
                async with self.http.ws_connect(ws_url, autoping=True) as ws:
                    await ws.receive()  # auth_required
                    hello = {"type": "auth", "token": self.display_token, "hall": self.o.hall}
                    if last is not None:
                        hello["since"] = last
                    await ws.send_str(orjson.dumps(hello).decode())
                    async for msg in ws:
                        if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                            break
                        frame = orjson.loads(msg.data)
                        if (
                            "seq" in frame
                            and "type" in frame
                            and frame["type"] in ("snapshot", "live")
                        ):
                            last = frame["seq"]
                            continue
                        if "data" not in frame:
                            continue
                        seq = frame["seq"]
                        if last is not None and seq != last + 1:
                            self.stats.feed_gaps += 1
                        last = seq
                        self.stats.feed_events += 1
                        if frame["type"] == "queue.day_closed":
                            self.stats.day_closed += frame["data"].get("closed", 0)
                        if frame["type"] in (
                            "ticket.registered",
                            "ticket.transferred",
                            "ticket.requeued",
                        ):
                            for ev in list(self.wake.get(frame["data"].get("queue"), ())):
                                ev.set()
            except (aiohttp.ClientError, OSError, TimeoutError, ValueError, KeyError) as exc:
                # a lost or garbled connection: count it and reconnect from the last sequence
                self.stats.error(f"feed: {type(exc).__name__}")
                await asyncio.sleep(1)

    # -- the run -----------------------------------------------------------------------------
    def line(self) -> str:
        s = self.stats
        return (
            f"{self.clock.now():%H:%M} x{self.o.speed:g}  arrived {s.arrived}  registered "
            f"{s.registered}  called {s.called}  served {s.served}  transferred "
            f"{s.transferred}  no-show {s.no_shows}  windows open {len(s.open_windows)}  "
            f"feed {s.feed_events}  kiosk 429 {s.kiosk_refused}  errors {s.errors}"
            + (
                f"  cases {s.cases} (immediate {s.immediate}, promised {s.promised}) completed "
                f"{s.completed} (late {s.completed_late}) paused {s.supplements + s.pauses}"
                f"+{s.escalations} sign-offs {s.signoffs_requested} fees {s.fees} "
                f"(above the standard {s.fee_irregular})  joint {s.joint} (completed "
                f"{s.joint_completed}, picked up {s.joint_delivered}) steps {s.steps_done}/"
                f"{s.steps_claimed} (late {s.steps_late}, silent {s.steps_silent}) projects "
                f"{s.projects} (stages {s.project_stages})"
                if self.o.cases
                else ""
            )
            + (
                f"  CLOSED BY THE SERVER'S TIMER {s.day_closed} (its clock is past the "
                f"hall's closing time)"
                if s.day_closed
                else ""
            )
        )

    def days(self) -> list[date]:
        first = date.fromisoformat(self.o.date) if self.o.date else datetime.now(TZ).date()
        days = [first]
        while len(days) < self.o.days:
            days.append(working_day(days[-1], 1))
        return days

    async def run(self) -> Stats:
        o = self.o
        t0 = time.monotonic()
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM) if o.signals else ()
        for sig in signals:
            loop.add_signal_handler(sig, self.interrupt)
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
                self.http = http
                await self._run()
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)
            self.stats.seconds = time.monotonic() - t0
        return self.stats

    async def _run(self) -> None:
        o = self.o
        await self.setup()
        self.progress(self.note)
        await self.open_registration()
        self.progress(f"logging in {len(self.clerk_of)} clerks ...")
        tokens = self.tokens = await self.login_clerks()
        joint_note = await self.joint.setup()
        if joint_note:
            self.progress(joint_note)
        # joint cases are promised cases too: the rest of the mix carries less of them
        self.promised_p = promised_probability(
            self.items_by_queue, self.queue_weights, o.immediate_share, self.joint.joint_share
        )
        days = [datetime.combine(d, clock_time(0), tzinfo=TZ) for d in self.days()]
        self.clock = Clock(_at(days[0], o.start), o.speed)
        started = self.clock.now()
        if o.server_clock is not None:
            o.server_clock(self.clock.now)
        self.kiosk_queues: list[asyncio.Queue[dict[str, Any]]] = [
            asyncio.Queue() for _ in self.kiosk_tokens
        ]
        self.tasks = (
            [asyncio.create_task(self.feed())]
            + [
                asyncio.create_task(self.kiosk(token, self.kiosk_queues[i]))
                for i, token in enumerate(self.kiosk_tokens)
            ]
            + self.joint.start()
        )
        window_tasks: list[asyncio.Task] = []
        t_end = time.monotonic() + o.duration if o.duration else None
        try:
            for n, day in enumerate(days):
                if self.stop.is_set():
                    break
                if n:  # the night (and a weekend) pass at once
                    self.clock.jump(_at(day, "08:45"))
                arrivals = asyncio.create_task(self.arrivals(day))
                projects = asyncio.create_task(self.joint.day(day))
                window_tasks = [
                    asyncio.create_task(self.window(w, tokens[w["window_no"]], day))
                    for w in self.windows
                    if w["window_no"] in tokens
                ]
                end_sim = _at(day, "17:30")
                while (
                    self.clock.now() < end_sim
                    and (t_end is None or time.monotonic() < t_end)
                    and not self.stop.is_set()
                ):
                    if all(t.done() for t in window_tasks) and self.clock.now() > _at(day, "17:00"):
                        break
                    wait = min(1.0, (t_end - time.monotonic()) if t_end else 1.0)
                    with contextlib.suppress(TimeoutError):  # a stop ends the wait at once
                        await asyncio.wait_for(self.stop.wait(), max(0.0, wait))
                    self.progress("\r" + self.line())
                arrivals.cancel()
                projects.cancel()
                if self.stop.is_set() or (t_end is not None and time.monotonic() >= t_end):
                    break
                # the day is over: the windows close and sign out before the night
                await asyncio.gather(*window_tasks, arrivals, return_exceptions=True)
        finally:
            self.stop.set()
            self.stats.simulated = (started, self.clock.now())
            for t in self.tasks + list(self.case_tasks) + window_tasks:
                t.cancel()
            await asyncio.gather(
                *window_tasks, *self.tasks, *self.case_tasks, return_exceptions=True
            )
            # what a stop (or --duration) cut short: the windows still signed in
            await self.wind_down()
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                await self.joint.close()
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                await self.close_registration()
            self.progress("\r" + self.line() + "\n")


async def simulate(opts: Options, progress: Callable[[str], None] | None = None) -> Stats:
    return await Simulation(opts, progress).run()


# exit statuses of `run.py simulate`
EXIT_UNREACHABLE = 2  # no hallops server answers where the settings (or --url) say
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a run that Ctrl-C ended
PROBE_SECONDS = 3.0


def server_urls(url: str | None, settings: Any) -> list[str]:
    """Where to find the server: --url; else where its own settings put it (HALLOPS_HOST and
    HALLOPS_PORT, a wildcard address reached on the loopback), then HALLOPS_PUBLIC_URL (a
    server behind a proxy)."""
    if url:
        return [url.rstrip("/")]
    host = settings.host if settings.host not in ("", "0.0.0.0", "::") else "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    urls = [f"http://{host}:{settings.port}"]
    if settings.public_url and settings.public_url.rstrip("/") not in urls:
        urls.append(settings.public_url.rstrip("/"))
    return urls


async def probe(url: str) -> str | None:
    """None when a hallops server with its database answers at `url`; else why not, a phrase."""
    timeout = aiohttp.ClientTimeout(total=PROBE_SECONDS)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.get(f"{url}/healthz") as r,
        ):
            body = await r.json(content_type=None)
    except aiohttp.ClientConnectorError as exc:
        if isinstance(exc.os_error, ConnectionRefusedError):
            return "connection refused"
        return f"{exc.os_error.strerror or exc.os_error}".lower()
    except TimeoutError:
        return f"no answer within {PROBE_SECONDS:g} s"
    except (aiohttp.ClientError, ValueError) as exc:
        return f"it answers, but not as a hallops server ({type(exc).__name__})"
    if not isinstance(body, dict) or "ok" not in body:
        return f"it answers, but not as a hallops server (HTTP {r.status})"
    if not body["ok"]:
        return "it answers, but its database is down (/healthz)"
    return None


async def find_server(urls: list[str]) -> tuple[str | None, list[str]]:
    """The first of `urls` where the server answers, and why each one before it did not."""
    why: list[str] = []
    for url in urls:
        problem = await probe(url)
        if problem is None:
            return url, why
        why.append(f"{url} ({problem})")
    return None, why


def _duration(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h} h {m} min {s} s" if h else f"{m} min {s} s" if m else f"{s} s"


def summary(stats: Stats, opts: Options) -> str:
    """What the run did, for the person who ran it: how it ended, tickets, cases, windows."""
    s = stats
    how = "stopped by Ctrl-C" if s.interrupted else "ended"
    lines = [f"simulation {how} after {_duration(s.seconds)}"]
    if s.simulated is not None:
        a, b = s.simulated
        lines[0] += f"; simulated {a:%Y-%m-%d %H:%M} to {b:%Y-%m-%d %H:%M} at x{opts.speed:g}"
    lines.append(
        f"tickets: {s.registered} registered, {s.called} called, {s.served} served, "
        f"{s.transferred} transferred, {s.no_shows} no-shows"
    )
    if opts.cases:
        lines.append(
            f"cases: {s.cases} ({s.immediate} immediate, {s.promised} promised), "
            f"{s.completed} completed, {s.delivered} delivered; joint {s.joint}, "
            f"projects {s.projects}"
        )
    windows = f"windows: {s.closed_windows} closed and signed out"
    if s.interrupted:
        windows += (
            f"; on stopping, {s.wound_finished} tickets being served were finished and "
            f"{s.wound_cancelled} called ones cancelled"
        )
    lines.append(windows)
    if s.left_signed_in:
        lines.append(
            "left signed in (the server did not answer): windows "
            + ", ".join(str(n) for n in s.left_signed_in)
        )
    if s.errors:
        lines.append(f"errors: {s.error_codes}")
    return "\n".join(lines)


def _loop_run(coro: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:  # pragma: no cover
        return asyncio.run(coro)


def main(args: argparse.Namespace) -> int:
    from server.settings import SettingsError, from_env

    try:
        settings = from_env()  # where the server is, its kiosks' limit, as the server reads them
    except SettingsError as exc:  # what the server would refuse to start with: said, not raised
        print(f"hallops: {exc}", file=sys.stderr)
        return 2
    opts = Options(
        hall=args.hall,
        speed=args.speed,
        duration=args.duration,
        start=args.start,
        per_day=args.per_day,
        windows=args.windows,
        kiosk_per_minute=args.kiosk_per_minute or settings.kiosk_per_minute,
        kiosk_burst=args.kiosk_burst or settings.kiosk_burst,
        seed=args.seed,
        quiet=args.quiet,
        days=args.days,
        date=args.date,
        cases=not args.no_cases,
        immediate_share=args.immediate_share,
        company_setup_share=args.company_setup_share,
        projects_per_week=args.projects_per_week,
        signals=True,
    )

    def progress(text: str) -> None:
        if opts.quiet:
            return
        if text.startswith("\r"):
            sys.stderr.write("\r\033[K" + text[1:])
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def fail(message: str, status: int) -> int:
        print(f"simulate: {message}", file=sys.stderr)
        return status

    try:
        url, tried = _loop_run(find_server(server_urls(args.url, settings)))
        if url is None:
            return fail(
                f"no hallops server answers at {'; '.join(tried)}: start it (make run), or "
                "say where it is with --url or HALLOPS_HOST / HALLOPS_PORT as the server uses",
                EXIT_UNREACHABLE,
            )
        opts.url = url
        stats = _loop_run(simulate(opts, progress))
    except KeyboardInterrupt:  # before the run took over Ctrl-C, or a second Ctrl-C
        return fail("interrupted; windows the run signed in may still be open", EXIT_INTERRUPTED)
    except (aiohttp.ClientError, OSError) as exc:
        return fail(f"the server at {opts.url} stopped answering ({exc})", EXIT_UNREACHABLE)
    print(summary(stats, opts), flush=True)
    if stats.interrupted:
        return EXIT_INTERRUPTED
    return 1 if stats.left_signed_in else 0
