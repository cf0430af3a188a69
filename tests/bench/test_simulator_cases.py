"""The day simulator makes cases as clerks do, through the real API: three working days of the
city hall's fourteen 市场监管 windows at high speed, the server on the simulator's clock so that
promised cases live through their days (supplement notices answered a day or two later, special
procedures and escalations resumed, the leader's sign-off, completion, collection). About 35 s:
fewer cases would not tell a 93 % share from a wrong one."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import Counter

import pytest
from aiohttp import ClientSession

from server.catalogue import CATALOGUE
from server.keys import CONTEXT, STORE
from server.outbox import LogSender
from server.simulate import IMMEDIATE_SHARE, simulate
from server.simulate import Options as SimOptions
from server.timers import HallTimers
from tests.conftest import LiveServer, login
from tests.conftest import test_settings as settings_for_test
from tests.queue_helpers import bearer

FIRST_DAY = "2026-12-07"  # a Monday; the demo's leaders are on duty every working day
LAST_DAY = "2026-12-09"
KIOSK_LIMIT = 1_000_000  # the day is played in seconds: kiosks faster than people


@pytest.fixture
async def sim_server(db_dsn: str):
    server = await LiveServer(
        settings_for_test(kiosk_per_minute=float(KIOSK_LIMIT), kiosk_burst=KIOSK_LIMIT), db_dsn
    ).start()
    yield server
    await server.stop()


async def test_simulator_accepts_pauses_and_completes_cases(sim_server, db):
    live = sim_server

    clocks = []

    def follow(now):  # the server's clock is the simulation's (in-process only)
        live.app[CONTEXT].clock = now
        clocks.append(now)

    # the supervision timers on the simulated clock, as the server runs them on its own
    timers = HallTimers(
        live.app[STORE],
        live.app_dsn,
        LogSender(),
        jobs=[job for name, job in CATALOGUE.timers.items() if name.startswith("alarm.")],
    )

    async def supervise() -> None:
        while True:
            if clocks:
                await timers.tick(now=clocks[0]())
            await asyncio.sleep(0.02)

    supervising = asyncio.create_task(supervise())
    try:
        stats = await simulate(
            SimOptions(
                url=live.url,
                hall="rizhao",
                speed=4000,
                start="08:50",
                date=FIRST_DAY,
                days=3,
                windows=14,
                per_day=200,
                seed=7,
                kiosk_per_minute=float(KIOSK_LIMIT),
                kiosk_burst=KIOSK_LIMIT,
                quiet=True,
                server_clock=follow,
            )
        )
    finally:
        supervising.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await supervising
        await timers.close()
    assert stats.errors == 0, stats.error_codes

    cases = await db.fetch("select id, kind, state, visits from service_case")
    # the simulator counted what the server made, no more, no less
    assert len(cases) == stats.cases
    assert stats.cases == stats.immediate + stats.promised + stats.not_accepted
    accepted = [c for c in cases if c["state"] != "not_accepted"]
    n = len(accepted)
    assert n >= 200, n
    immediate = sum(c["kind"] == "immediate" for c in accepted)
    share = immediate / n
    # 4 standard deviations of a binomial share: fails on a wrong mix, never by chance
    tolerance = 4 * math.sqrt(IMMEDIATE_SHARE * (1 - IMMEDIATE_SHARE) / n)
    assert abs(share - IMMEDIATE_SHARE) <= tolerance, (share, n, tolerance)

    promised = {c["id"]: c for c in accepted if c["kind"] != "immediate"}
    assert len(promised) >= 7  # the quota gives a supplement notice by the seventh
    history = await db.fetch(
        "select case_id, action from case_history where case_id = any($1::bigint[])",
        list(promised),
    )
    actions: dict[int, set[str]] = {}
    for h in history:
        actions.setdefault(h["case_id"], set()).add(h["action"])
    paused = [
        cid
        for cid, acts in actions.items()
        if acts & {"case.supplement_request", "case.pause", "case.escalate"}
    ]
    assert paused, "no promised case was paused"
    done = [c for c in promised.values() if c["state"] in ("completed", "delivered")]
    assert done, "no promised case completed"
    assert stats.completed_late < len(done)  # most on time
    # what the simulator did to promised cases is what their histories hold
    assert sum("case.supplement_receive" in a for a in actions.values()) == (
        stats.supplements_received
    )
    assert sum("case.resume" in a for a in actions.values()) == stats.resumes
    decided = await db.fetchval("select count(*) from signoff_request where decision is not null")
    assert decided == stats.signoffs_approved + stats.signoffs_rejected
    # every immediate case was completed at the window, the day it was accepted
    assert stats.completed_immediate == stats.immediate
    assert all(
        c["state"] in ("completed", "delivered") for c in accepted if c["kind"] == "immediate"
    )

    # the metrics' immediate rate is the simulator's: immediate completions over completions
    async with ClientSession(base_url=live.url) as http:
        admin = (await login(http, "admin"))["token"]
        resp = await http.get(
            "/api/halls/rizhao/case-metrics",
            params={"from": FIRST_DAY, "to": LAST_DAY, "by": "hall"},
            headers=bearer(admin),
        )
        body = await resp.json()
    assert resp.status == 200, body
    (hall,) = body["groups"]
    assert hall["completed"] == stats.completed
    assert hall["immediate_rate"] == round(stats.completed_immediate / stats.completed, 4)
    # promised cases complete later than immediate ones: the rate is at least the share
    # of immediate cases, below 1 once a promised case completed
    assert share - tolerance <= hall["immediate_rate"] < 1

    # a trickle of supervision alarms, raised by the server (the case ladder by its timer job,
    # on the simulated clock), not by the simulator: cases near or past their deadline; a few
    # an hour, not one per case. (The 市场监管 items played here charge no fee: the fee attempts
    # above the standard, and their 违规收费 alarms, come with the realty and ID-card windows.)
    alarms = await db.fetch("select kind, level, due_at, issued_at from alarm")
    kinds = {(a["kind"], a["level"]) for a in alarms}
    assert ("case_deadline", "warning") in kinds, kinds
    assert all(a["issued_at"] >= a["due_at"] for a in alarms)  # never early
    assert sum(a["kind"] == "fee_irregular" for a in alarms) == stats.fee_irregular
    by = Counter((a["kind"], a["level"]) for a in alarms)
    case_alarms = sum(n for (kind, _), n in by.items() if kind == "case_deadline")
    hours = 3 * 7  # three working days of the hall
    assert 1 <= case_alarms <= 10 * hours, by
    assert case_alarms < stats.promised, (by, stats.promised)
