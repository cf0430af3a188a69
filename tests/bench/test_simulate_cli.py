"""`run.py simulate` as a person runs it (issue 12): it finds the server where the server's
settings put it (HALLOPS_PORT), says in one line when no server answers, and a Ctrl-C ends it
cleanly: the tickets being served finished, the called ones cancelled, every window it opened
closed and its clerk signed out, then a summary."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest

from tests.conftest import ROOT, LiveServer, free_port
from tests.conftest import test_settings as make_settings

KIOSK_LIMIT = 6000  # per kiosk and minute: the run's registrations are never refused
WINDOWS = 8


def _env(**extra: str) -> dict[str, str]:
    """This machine's environment without its hallops settings, with `extra`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HALLOPS_") and k not in ("DATABASE_URL", "REDIS_URL")
    }
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


async def _simulate(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "run.py",
        "simulate",
        *args,
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.fixture
async def server(db_dsn: str):
    settings = make_settings(kiosk_per_minute=float(KIOSK_LIMIT), kiosk_burst=200)
    live = await LiveServer(settings, db_dsn).start()
    yield live
    await live.stop()


async def _current(db, statuses: tuple[str, ...] = ("called", "serving")) -> tuple[int, int]:
    """(windows signed in, tickets called or being served)."""
    row = await db.fetchrow(
        "select (select count(*) from window_signin) as signed, "
        "(select count(*) from ticket where status = any($1::text[])) as current",
        list(statuses),
    )
    return row["signed"], row["current"]


async def test_ctrl_c_finishes_the_tickets_signs_out_and_sums_up(server, db):
    assert await _current(db) == (0, 0)
    proc = await _simulate(
        # no --url: the port is the server's own setting, as `make run` reads it
        _env(
            HALLOPS_HOST="127.0.0.1",
            HALLOPS_PORT=str(server.settings.port),
            HALLOPS_KIOSK_PER_MINUTE=str(KIOSK_LIMIT),
            HALLOPS_KIOSK_BURST="200",
        ),
        "--windows",
        str(WINDOWS),
        "--speed",
        "120",
        "--per-day",
        "3000",
        "--start",
        "08:58",
        "--seed",
        "3",
    )
    try:
        # the run is in full swing: its windows signed in, citizens called and being served
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 90
        while (signed := await _current(db, ("serving",)))[0] < WINDOWS or signed[1] < 2:
            assert proc.returncode is None, "the simulator ended by itself"
            assert loop.time() < deadline, f"the run never got going: {signed}"
            await asyncio.sleep(0.1)  # waiting for the other process, not for time to pass
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    stdout, stderr = out.decode(), err.decode()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "Traceback" not in stdout, stderr
    # nothing left behind: no window signed in (its own, nor the back-office desks), no ticket
    # left 办理中 or called at a closed window, and the run's windows closed
    assert await _current(db) == (0, 0)
    statuses = await db.fetch(
        "select w.status from service_window w join hall h on h.id = w.hall_id "
        "where h.code = 'rizhao' and w.window_no <= $1",
        WINDOWS,
    )
    assert {r["status"] for r in statuses} == {"closed"}
    assert await db.fetchval(
        "select count(*) from ticket where outcome = 'cancelled' and note = '模拟结束，未办理'"
    ) == _cancelled(stdout)
    # the summary: how it ended, its tickets, its cases, its windows
    lines = stdout.strip().splitlines()
    assert lines[0].startswith("simulation stopped by Ctrl-C after "), stdout
    registered = await db.fetchval("select count(*) from registration")
    assert lines[1].startswith(f"tickets: {registered} registered, "), stdout
    assert lines[2].startswith("cases: "), stdout
    assert lines[3].startswith("windows: "), stdout


def _cancelled(stdout: str) -> int:
    """The called tickets the summary says it cancelled on stopping."""
    tail = stdout.split("were finished and ", 1)[1]
    return int(tail.split(" called ones cancelled", 1)[0])


async def test_no_server_is_one_line_and_a_nonzero_exit():
    url = f"http://127.0.0.1:{free_port()}"
    proc = await _simulate(_env(), "--url", url)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert out == b""
    line = (
        f"simulate: no hallops server answers at {url} (connection refused): start it (make "
        "run), or say where it is with --url or HALLOPS_HOST / HALLOPS_PORT as the server uses"
    )
    assert err.decode().splitlines() == [line]
