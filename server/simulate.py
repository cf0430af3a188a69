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

A progress line shows the simulated clock and the counts. --duration ends it after so many
real seconds; otherwise it ends when the simulated day is over (17:30).

The server keeps its own clock: tickets belong to the real service day (Asia/Shanghai), and the
hall timers end every open ticket at the hall's real closing time (closes_at, 17:30). A
simulation run in the real evening sees its tickets closed within seconds (the progress line
says so); run it during the day, or set the hall's closes_at later for a demo.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import orjson

# relative arrival intensity per hour of the day (mid-morning and mid-afternoon peaks)
HOURLY_WEIGHT = {9: 1.25, 10: 1.45, 11: 1.0, 13: 0.75, 14: 1.2, 15: 1.15, 16: 0.7}
CITY_PER_DAY = 2600
CITY_WINDOWS = 130


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = __doc__.split("\n\n")[0]
    p.add_argument("--hall", default="rizhao", help="hall code (default rizhao)")
    p.add_argument(
        "--speed",
        type=float,
        default=60.0,
        help="simulated seconds per real second (default 60: a minute a second)",
    )
    p.add_argument("--url", default="http://127.0.0.1:8080", help="the running server")
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
        default=20.0,
        help="the server's per-kiosk limit (HALLOPS_KIOSK_PER_MINUTE, default 20)",
    )
    p.add_argument(
        "--kiosk-burst",
        type=int,
        default=10,
        help="the server's per-kiosk burst (HALLOPS_KIOSK_BURST, default 10)",
    )
    p.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    p.add_argument("--quiet", action="store_true", help="no progress line")


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
    open_windows: set[int] = field(default_factory=set)
    error_codes: dict[str, int] = field(default_factory=dict)

    def error(self, what: str) -> None:
        self.errors += 1
        self.error_codes[what] = self.error_codes.get(what, 0) + 1


class Clock:
    """Simulated time: start + (real elapsed) x speed."""

    def __init__(self, start: datetime, speed: float):
        self.start = start
        self.speed = speed
        self.t0 = time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self.t0) * self.speed)

    async def until(self, when: datetime) -> None:
        delay = (when - self.now()).total_seconds() / self.speed
        if delay > 0:
            await asyncio.sleep(delay)

    async def sleep(self, sim_seconds: float) -> None:
        await asyncio.sleep(max(0.0, sim_seconds) / self.speed)


def _at(day: datetime, hhmm: str) -> datetime:
    h, m = (int(x) for x in hhmm.split(":"))
    return day.replace(hour=h, minute=m, second=0, microsecond=0)


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
        windows = body["windows"][: o.windows] if o.windows else body["windows"]
        self.windows = windows
        clerks = {s[4]: s[0] for s in plan.staff if s[2] == "clerk" and s[4] is not None}
        self.clerk_of = {w["window_no"]: clerks.get(w["window_no"]) for w in windows}
        status, body = await self._json("GET", f"/api/halls/{o.hall}/items", self.display_token)
        items = [i for i in body.get("items", []) if i.get("queue_code")]
        self.items_by_queue: dict[str, list[dict]] = {}
        for i in items:
            self.items_by_queue.setdefault(i["queue_code"], []).append(i)
        self.kind_of_item = {i["name"]: i["kind"] for i in items}
        # a queue is chosen in proportion to the (staffed) windows that serve it
        weight: dict[str, float] = {}
        for w in windows:
            for k, q in enumerate(w["queues"]):
                if q in self.items_by_queue:
                    weight[q] = weight.get(q, 0.0) + (1.0 if k == 0 else 0.3)
        self.queue_weights = weight
        self.queue_codes = sorted(self.items_by_queue)
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

    async def login_clerks(self) -> dict[int, str]:
        from server import demo_hall

        tokens: dict[int, str] = {}
        sem = asyncio.Semaphore(4)  # argon2 costs the server ~50 ms of CPU per login

        async def one(no: int, username: str) -> None:
            async with sem:
                status, body = await self._json(
                    "POST",
                    "/api/auth/login",
                    body={
                        "username": username,
                        "password": demo_hall.DEMO_PASSWORDS["clerk"],
                        "bearer": True,
                    },
                )
            if status == 200:
                tokens[no] = body["token"]
            else:
                self.stats.error(
                    f"login {username}: {(body.get('error') or {}).get('code', status)}"
                )

        await asyncio.gather(*(one(no, u) for no, u in self.clerk_of.items() if u))
        return tokens

    # -- citizens ----------------------------------------------------------------------------
    async def arrivals(self, day: datetime) -> None:
        kiosk_queues: list[asyncio.Queue[dict[str, Any]]] = [
            asyncio.Queue() for _ in self.kiosk_tokens
        ]
        for i, token in enumerate(self.kiosk_tokens):
            self.tasks.append(asyncio.create_task(self.kiosk(token, kiosk_queues[i])))
        queues = list(self.queue_weights)
        weights = [self.queue_weights[q] for q in queues]
        for t in arrival_times(day, self.per_day, self.rng):
            if t < self.clock.now() - timedelta(minutes=1):
                continue  # the simulation started later than this arrival
            await self.clock.until(t)
            if self.stop.is_set():
                return
            queue = self.rng.choices(queues, weights)[0]
            item = self.rng.choice(self.items_by_queue[queue])
            body: dict[str, Any] = {"item": item["code"]}
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
            await bucket.take()
            for _ in range(5):
                status, data = await self._json(
                    "POST", f"/api/halls/{self.o.hall}/registrations", token, body
                )
                if status == 201:
                    self.stats.registered += 1
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
        await self._clear(path, token)  # a citizen left at the window by an earlier run
        await set_status("open")
        lunch, back, close = _at(day, "12:00"), _at(day, "13:00"), _at(day, "17:00")
        paused = False
        try:
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
                await clock.sleep(min(3600, rng.lognormvariate(math.log(mean), 0.5)))
                others = [q for q in self.queue_codes if q != ticket.get("queue")]
                if others and rng.random() < 0.05:
                    st, _ = await cmd(
                        "transfer", {"queue": rng.choice(others), "note": "需到其他窗口办理"}
                    )
                    if st == 200:
                        s.transferred += 1
                        continue
                if (await cmd("finish"))[0] == 200:
                    s.served += 1
                await clock.sleep(rng.uniform(10, 40))  # paperwork before the next one
        finally:
            # closing time (or the simulation stops): finish whoever is there, close, sign out
            # best effort: a server already gone has nothing left to close
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                await self._clear(path, token)
                await self._json("POST", f"{path}/status", token, {"status": "closed"})
                await self._json("POST", f"{path}/sign-out", token)
            s.open_windows.discard(no)

    async def _clear(self, path: str, token: str) -> None:
        """Serves out whoever is current at the window (called: start, then finish)."""
        await self._json("POST", f"{path}/start", token)
        await self._json("POST", f"{path}/finish", token)

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
                f"  CLOSED BY THE SERVER'S TIMER {s.day_closed} (its clock is past the "
                f"hall's closing time)"
                if s.day_closed
                else ""
            )
        )

    async def run(self) -> Stats:
        o = self.o
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            self.http = http
            await self.setup()
            self.progress(self.note)
            self.progress(f"logging in {len(self.clerk_of)} clerks ...")
            tokens = await self.login_clerks()
            start = datetime.now().replace(second=0, microsecond=0)
            day = start.replace(hour=0, minute=0)
            self.clock = Clock(_at(day, o.start), o.speed)
            self.tasks = [asyncio.create_task(self.feed()), asyncio.create_task(self.arrivals(day))]
            window_tasks = [
                asyncio.create_task(self.window(w, tokens[w["window_no"]], day))
                for w in self.windows
                if w["window_no"] in tokens
            ]
            end_sim = _at(day, "17:30")
            t_end = time.monotonic() + o.duration if o.duration else None
            try:
                while self.clock.now() < end_sim and (t_end is None or time.monotonic() < t_end):
                    if all(t.done() for t in window_tasks) and self.clock.now() > _at(day, "17:00"):
                        break
                    await asyncio.sleep(min(1.0, (t_end - time.monotonic()) if t_end else 1.0))
                    self.progress("\r" + self.line())
            finally:
                self.stop.set()
                for t in self.tasks:
                    t.cancel()
                # windows close and sign out on their way out
                for t in window_tasks:
                    t.cancel()
                await asyncio.gather(*window_tasks, *self.tasks, return_exceptions=True)
                self.progress("\r" + self.line() + "\n")
        return self.stats


async def simulate(opts: Options, progress: Callable[[str], None] | None = None) -> Stats:
    return await Simulation(opts, progress).run()


def main(args: argparse.Namespace) -> int:
    opts = Options(
        hall=args.hall,
        speed=args.speed,
        url=args.url,
        duration=args.duration,
        start=args.start,
        per_day=args.per_day,
        windows=args.windows,
        kiosk_per_minute=args.kiosk_per_minute,
        kiosk_burst=args.kiosk_burst,
        seed=args.seed,
        quiet=args.quiet,
    )

    def progress(text: str) -> None:
        if opts.quiet:
            return
        if text.startswith("\r"):
            sys.stderr.write("\r\033[K" + text[1:])
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    try:
        import uvloop

        stats = uvloop.run(simulate(opts, progress))
    except ImportError:  # pragma: no cover
        stats = asyncio.run(simulate(opts, progress))
    if stats.errors:
        print(f"errors: {stats.error_codes}", file=sys.stderr)
    return 0
