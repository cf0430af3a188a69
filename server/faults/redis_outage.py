"""Two workers through a Redis outage (issue 12).

Two `run.py serve` processes share one PostgreSQL (direct) and one Redis, which both reach
through a FaultProxy of the harness (their REDIS_URL is the proxy). Clerks issue commands at a
steady rate against worker A; displays (plain /ws/display feeds and Socket.IO clients) are
connected to worker B, so every event they get crossed from A to B: through Redis, or, while it
is away, through B's own reading of the log (its once-a-second look at every hall's counter).

Timeline: a baseline with Redis up; Redis down (every connection dropped, new ones refused) for
`outage` seconds; back up and `recover` seconds; Redis frozen (connections held open, not a
byte moving) for `outage` seconds; back and `recover` seconds; the clerks stop.

Checked: no command failed; the commands' p99 while Redis is away is within `margin_ms` of the
baseline's (publishing never holds an answer); every display got every seq once, in order, with
the payload the log holds; after each return, within `converge_bound` seconds, every display
had everything committed until then and both workers said the bus was back with an empty
outbox. Measured beside: the commands' latencies per phase, and how long an event took from
the command's send to the last display, per phase (through Redis, or through the log)."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from server.bench import stage
from server.bench.displays import DisplayWorker, Sub
from server.faults.common import (
    Clerks,
    Progress,
    Result,
    display_targets,
    exactness,
    hall_head,
    latency_figures,
    load_note,
    log_frames,
    log_noise,
    owner_connection,
    quiet,
    ready_hall,
)
from server.faults.proxy import FaultProxy


@dataclass
class RedisOptions:
    outage: float = 30.0  # seconds Redis is down, then seconds it is frozen
    baseline: float | None = None  # seconds before the outage (default: `outage`)
    recover: float = 15.0  # seconds after each return before the next phase
    rate: float = 10.0  # commands/s against worker A (a city hall's morning peak)
    windows: int = 20
    feeds: int = 8  # plain-feed displays on worker B
    sios: int = 4  # Socket.IO displays on worker B
    margin_ms: float = 500.0  # the outage's command p99 may exceed the baseline's by this
    converge_bound: float = 15.0


async def _server_pair(
    dsn: str, redis_url: str, progress: Progress
) -> tuple[stage.ServerProcess, stage.ServerProcess]:
    env = {
        "HALLOPS_REDIS_CHANNEL": f"hallops:faults:{secrets.token_hex(4)}",
        "HALLOPS_SECRET": secrets.token_urlsafe(24),  # one deployment: one secret
    }
    a = stage.ServerProcess(dsn, redis_url=redis_url, extra_env=env)
    b = stage.ServerProcess(dsn, redis_url=redis_url, extra_env=env)
    progress(f"starting worker A on port {a.port}, then worker B on port {b.port} ...")
    await a.start()  # A migrates and seeds; B finds it done
    await b.start()
    return a, b


async def _bus_back(http: aiohttp.ClientSession, servers: list[stage.ServerProcess]) -> bool:
    for s in servers:
        try:
            async with http.get(s.url + "/healthz") as r:
                bus = (await r.json())["bus"]
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError):
            return False
        if not bus.get("ok") or bus.get("outbox"):
            return False
    return True


async def _convergence(
    conn, hall_id: int, subs: list[Sub], servers, http, bound: float
) -> dict[str, Any]:
    """From now (Redis has just returned): seconds until every display has every event
    committed until now, and until both workers say the bus is back with an empty outbox."""
    t0 = time.monotonic()
    head = await hall_head(conn, hall_id)
    displays_at = bus_at = None
    while time.monotonic() - t0 < bound + 5:
        now = time.monotonic() - t0
        if displays_at is None and all(
            s.live and not s.closed and (s.last or 0) >= head for s in subs
        ):
            displays_at = now
        if bus_at is None and await _bus_back(http, servers):
            bus_at = time.monotonic() - t0
        if displays_at is not None and bus_at is not None:
            break
        await asyncio.sleep(0.1)
    return {
        "head": head,
        "displays_s": None if displays_at is None else round(displays_at, 2),
        "bus_s": None if bus_at is None else round(bus_at, 2),
    }


def _lag(
    subs_rec: dict[int, tuple[Any, Any]], hall_id: int, sent_at: dict[int, float]
) -> dict[int, float]:
    """Per seq: the last display's arrival minus the command's send."""
    last: dict[int, float] = {}
    rec = subs_rec.get(hall_id)
    if rec is None:
        return {}
    for seq, t in zip(*rec, strict=True):
        if t > last.get(seq, 0.0):
            last[seq] = t
    return {seq: t - sent_at[seq] for seq, t in last.items() if seq in sent_at}


async def redis_outage(
    dsn: str, redis_url: str, o: RedisOptions, progress: Progress = quiet
) -> Result:
    """`dsn`: the owner's DSN of a database the servers migrate and seed (or find so)."""
    res = Result("redis")
    baseline = o.outage if o.baseline is None else o.baseline
    parts = urlsplit(redis_url)
    proxy = await FaultProxy(parts.hostname or "127.0.0.1", parts.port or 6379).start()
    db = parts.path.lstrip("/") or "0"
    servers: list[stage.ServerProcess] = []
    displays = DisplayWorker()  # in this process: a dozen displays, every frame kept
    clerks: Clerks | None = None
    conn = await owner_connection(dsn)
    try:
        a, b = await _server_pair(dsn, f"redis://127.0.0.1:{proxy.port}/{db}", progress)
        servers = [a, b]
        res.notes.append(load_note())
        timeout = aiohttp.ClientTimeout(total=2)
        async with aiohttp.ClientSession(timeout=timeout) as http, aiohttp.ClientSession() as setup:
            total = baseline + 2 * (o.outage + o.recover) + 10
            per_window = int(o.rate * total / 3 / o.windows) + 5
            progress(f"{o.windows} clerks at open windows, {per_window} citizens each ...")
            hall = await ready_hall(conn, setup, a.url, o.windows, per_window)
            since = await hall_head(conn, hall.id)
            progress(f"{o.feeds} plain feeds and {o.sios} Socket.IO displays on worker B ...")
            done = await displays.op_connect(
                b.host, b.port, display_targets(hall, since, o.feeds, o.sios, keep=True)
            )
            if done["failed"]:
                raise RuntimeError(f"displays failed to connect: {done['errors']}")
            subs = displays.subs
            await displays.op_begin(record=True)
            clerks = Clerks(a.host, a.port, hall, o.rate)
            clerks.start()
            marks: dict[str, float] = {"baseline": time.monotonic()}

            progress(f"baseline: {baseline:.0f} s with Redis up ...")
            await asyncio.sleep(baseline)
            progress(f"Redis down for {o.outage:.0f} s ...")
            marks["down"] = time.monotonic()
            await proxy.down()
            await asyncio.sleep(o.outage)
            await proxy.up()
            marks["after_down"] = time.monotonic()
            back1 = await _convergence(conn, hall.id, subs, servers, http, o.converge_bound)
            await asyncio.sleep(max(0.0, o.recover - (time.monotonic() - marks["after_down"])))
            progress(f"Redis frozen for {o.outage:.0f} s ...")
            marks["frozen"] = time.monotonic()
            proxy.freeze()
            await asyncio.sleep(o.outage)
            proxy.thaw()
            marks["after_frozen"] = time.monotonic()
            back2 = await _convergence(conn, hall.id, subs, servers, http, o.converge_bound)
            await asyncio.sleep(max(0.0, o.recover - (time.monotonic() - marks["after_frozen"])))
            marks["end"] = time.monotonic()
            await clerks.stop()

            head = await hall_head(conn, hall.id)
            settle = time.monotonic()
            while time.monotonic() - settle < o.converge_bound:
                if all((s.last or 0) >= head for s in subs if not s.closed):
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)  # anything beyond the head (a duplicate) shows too
            expected = await log_frames(conn, hall.id, since, head)

        # -- figures
        spans = [
            ("baseline", marks["baseline"], marks["down"]),
            ("down", marks["down"], marks["after_down"]),
            ("after_down", marks["after_down"], marks["frozen"]),
            ("frozen", marks["frozen"], marks["after_frozen"]),
            ("after_frozen", marks["after_frozen"], marks["end"]),
        ]
        lag = _lag(displays.rec, hall.id, clerks.sent_at)
        phases: dict[str, Any] = {}
        for name, t0, t1 in spans:
            answers = clerks.between(t0, t1)
            seqs = {s for a in answers for s in a.seqs}
            phases[name] = {
                "seconds": round(t1 - t0, 1),
                **Clerks.figures(answers),
                "display_lag": latency_figures([lag[s] for s in seqs if s in lag]),
            }
        res.figures.update(
            outage_s=o.outage,
            rate=o.rate,
            displays={"feed": o.feeds, "sio": o.sios},
            phases=phases,
            after_down=back1,
            after_frozen=back2,
            events=head - since,
            missed_ticks=clerks.missed_ticks,
            gaps_filled_note="worker B fed its displays from the log while Redis was away",
        )
        all_answers = clerks.answers
        errors = Clerks.figures(all_answers)
        res.check(
            "no_command_errors",
            errors["errors"] == 0 and errors["commands"] > 0,
            f"{errors['commands']} commands, {errors['errors']} errors {errors['error_codes']}",
        )
        base_p99 = phases["baseline"]["p99_ms"] or 0.0
        for name in ("down", "frozen"):
            p99 = phases[name]["p99_ms"]
            res.check(
                f"p99_{name}",
                p99 is not None and p99 <= base_p99 + o.margin_ms,
                f"commands' p99 with Redis {name}: {p99} ms (baseline {base_p99} ms, "
                f"margin {o.margin_ms:.0f} ms)",
            )
        for name, back in (("down", back1), ("frozen", back2)):
            ok = all(
                back[k] is not None and back[k] <= o.converge_bound for k in ("displays_s", "bus_s")
            )
            res.check(
                f"converged_after_{name}",
                ok,
                f"after Redis {name}: displays had everything in {back['displays_s']} s, both "
                f"workers' bus back with an empty outbox in {back['bus_s']} s "
                f"(bound {o.converge_bound:.0f} s)",
            )
        problems = {
            f"{s.kind}#{i}": p for i, s in enumerate(subs) if (p := exactness(s, head, expected))
        }
        res.check(
            "displays_exact",
            not problems and head > since,
            f"{len(subs)} displays, seqs {since + 1}..{head} each once, in order, equal to the "
            f"log" + (f"; wrong: {problems}" if problems else ""),
        )
        return res
    finally:
        if clerks is not None:
            await clerks.stop()
        await displays.op_close()
        for s, name in zip(servers, ("a", "b"), strict=False):
            await s.stop()
            res.figures[f"server_log_{name}"] = log_noise(s.log_path)
            if res.ok:
                s.cleanup_files()
            else:
                res.notes.append(f"server log kept: {s.log_path}")
        await proxy.close()
        await conn.close()
