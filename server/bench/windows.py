"""Window terminals issuing commands over HTTP, many per worker process.

Each window runs the clerk's cycle: call-next, start, then finish (or, for ~5 % of tickets,
transfer to another queue). Mode "max": every window issues its next command as soon as the
previous answered (closed loop, as fast as they can). Mode "rate": one command every 1/rate
seconds in total, handed to the next idle window (open loop at a fixed rate).

For every command the send time (monotonic, taken just before the request is written) is kept
by the seq of each event it returned: the displays' arrival times are matched against it."""

from __future__ import annotations

import asyncio
import random
import time
from array import array
from collections import Counter
from typing import Any

import orjson

from server.bench.control import BaseHandler
from server.bench.wire import HttpConn, http_connect, http_request

TRANSFER_SHARE = 0.05


def percentile(sorted_values, q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[k]


class Window:
    __slots__ = (
        "busy",
        "conn",
        "hall_code",
        "hall_id",
        "no",
        "queues",
        "requests",
        "rng",
        "state",
        "token",
    )

    def __init__(self, spec: dict, seed: int):
        self.hall_code = spec["hall_code"]
        self.hall_id = spec["hall_id"]
        self.no = spec["window_no"]
        self.token = spec["token"]
        self.queues = spec.get("transfer_queues") or []
        self.state = "idle"  # idle -> called -> serving -> idle
        self.conn: HttpConn | None = None
        self.busy = False
        self.rng = random.Random(seed)
        self.requests: dict[str, bytes] = {}

    def next_verb(self) -> str:
        if self.state == "idle":
            return "call-next"
        if self.state == "called":
            return "start"
        if self.queues and self.rng.random() < TRANSFER_SHARE:
            return "transfer"
        return "finish"

    def request(self, verb: str, host: str, port: int) -> bytes:
        if verb == "transfer":
            body = orjson.dumps({"queue": self.rng.choice(self.queues), "note": "bench"})
            return http_request(
                "POST",
                host,
                port,
                f"/api/halls/{self.hall_code}/windows/{self.no}/transfer",
                body=body,
                headers={"Authorization": f"Bearer {self.token}"},
            )
        req = self.requests.get(verb)
        if req is None:
            req = self.requests[verb] = http_request(
                "POST",
                host,
                port,
                f"/api/halls/{self.hall_code}/windows/{self.no}/{verb}",
                headers={"Authorization": f"Bearer {self.token}"},
            )
        return req

    def after(self, verb: str, status: int, code: str | None) -> None:
        if status == 200:
            self.state = {"call-next": "called", "start": "serving"}.get(verb, "idle")
        elif code == "window_busy":
            self.state = "called"  # something is current: try to start it
        elif code == "nothing_called":
            self.state = "serving"  # already serving: finish it
        elif code in ("nothing_serving", "nothing_current"):
            self.state = "idle"


class WindowWorker(BaseHandler):
    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self.windows: list[Window] = []
        self._tasks: list[asyncio.Task] = []
        self._stop = False
        self._reset()

    def _reset(self) -> None:
        self.ok = 0
        self.errors: Counter[str] = Counter()
        self.http_lat = array("d")
        self.sends: dict[int, dict[int, float]] = {}
        self.answers: dict[int, dict[int, float]] = {}  # when the command's answer came
        self.max_seq: dict[int, int] = {}
        self.missed_ticks = 0
        self.verbs: Counter[str] = Counter()
        self.sample: str | None = None

    async def op_setup(self, host: str, port: int, windows: list[dict]) -> int:
        self.host, self.port = host, port
        self.windows = [Window(spec, seed=i) for i, spec in enumerate(windows)]
        for w in self.windows:
            w.conn = await http_connect(host, port)
        return len(self.windows)

    async def _command(self, w: Window) -> None:
        verb = w.next_verb()
        req = w.request(verb, self.host, self.port)
        w.busy = True
        try:
            if w.conn is None or w.conn.closed:
                w.conn = await http_connect(self.host, self.port)
            t0 = time.monotonic()
            status, body = await w.conn.send(req)
            t1 = time.monotonic()
        except (OSError, TimeoutError, RuntimeError, ValueError) as exc:
            self.errors[f"io:{type(exc).__name__}"] += 1
            w.conn = None
            await asyncio.sleep(0.05)
            return
        finally:
            w.busy = False
        data = orjson.loads(body) if body else {}
        code = None
        if status == 200:
            self.ok += 1
            self.verbs[verb] += 1
            self.http_lat.append(t1 - t0)
            sent = self.sends.get(w.hall_id)
            if sent is None:
                sent = self.sends[w.hall_id] = {}
                self.answers[w.hall_id] = {}
            answered = self.answers[w.hall_id]
            events = data.get("events", ())
            if self.sample is None and verb == "call-next" and events:
                self.sample = orjson.dumps(events[0]).decode()  # the frame a display gets
            for ev in events:
                seq = ev["seq"]
                sent[seq] = t0
                answered[seq] = t1
                if seq > self.max_seq.get(w.hall_id, 0):
                    self.max_seq[w.hall_id] = seq
        else:
            code = (data.get("error") or {}).get("code", str(status))
            self.errors[code] += 1
        w.after(verb, status, code)
        if code == "queue_empty":
            await asyncio.sleep(0.2)

    async def _run_max(self, w: Window) -> None:
        while not self._stop:
            await self._command(w)

    async def _run_rate(self, rate: float, windows: list[Window] | None = None) -> None:
        windows = windows or self.windows
        loop = asyncio.get_running_loop()
        start = loop.time()
        n = 0
        i = 0
        inflight: set[asyncio.Task] = set()
        while not self._stop:
            n += 1
            delay = start + n / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            for _ in range(len(windows)):
                w = windows[i % len(windows)]
                i += 1
                if not w.busy:
                    w.busy = True  # claimed before the task runs
                    t = loop.create_task(self._command(w))
                    inflight.add(t)
                    t.add_done_callback(inflight.discard)
                    break
            else:
                self.missed_ticks += 1
        if inflight:
            await asyncio.wait(inflight, timeout=10)

    async def op_begin(self, mode: str = "max", rate: float = 0.0, per_hall: bool = False) -> float:
        """mode "max" or "rate"; with `per_hall`, `rate` is each hall's (its windows take turns),
        else this process's over all its windows."""
        self._reset()
        self._stop = False
        if mode == "max":
            self._tasks = [asyncio.create_task(self._run_max(w)) for w in self.windows]
        elif per_hall:
            halls: dict[int, list[Window]] = {}
            for w in self.windows:
                halls.setdefault(w.hall_id, []).append(w)
            self._tasks = [asyncio.create_task(self._run_rate(rate, ws)) for ws in halls.values()]
        else:
            self._tasks = [asyncio.create_task(self._run_rate(rate))]
        return time.monotonic()

    async def op_end(self, keep_sends: bool = True) -> dict[str, Any]:
        t_end = time.monotonic()
        ok_at_end = self.ok
        self._stop = True
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=15)
        lat = sorted(self.http_lat)
        return {
            "t": t_end,
            "ok": ok_at_end,
            "ok_total": self.ok,
            "errors": dict(self.errors),
            "verbs": dict(self.verbs),
            "missed_ticks": self.missed_ticks,
            "http_p50": percentile(lat, 0.50),
            "http_p99": percentile(lat, 0.99),
            "max_seq": self.max_seq,
            "sends": self.sends if keep_sends else {},
            "answers": self.answers if keep_sends else {},
            "sample": self.sample,
        }

    async def op_idle(self) -> int:
        """Brings every window back to idle (its ticket started and finished), so that the next
        run's first commands are not refused for the state this one left; not measured."""
        self._stop = False
        sem = asyncio.Semaphore(16)

        async def settle(w: Window) -> None:
            async with sem:
                for _ in range(3):
                    if w.state == "idle":
                        return
                    await self._command(w)

        await asyncio.gather(*(settle(w) for w in self.windows))
        return sum(1 for w in self.windows if w.state != "idle")

    async def op_close(self) -> None:
        for w in self.windows:
            if w.conn is not None:
                w.conn.close()
