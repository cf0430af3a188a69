"""run.py backup and run.py restore (issue 12): a hall with live state is backed up while its
server runs, restored into an empty database, and a server on the restored database shows
every screen exactly as the original did; the hall then goes on with the next gapless sequence
number. And the refusals and failures an operator meets, each a message and an exit status."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import asyncpg
from aiohttp import ClientSession, CookieJar

from tests.api_client import Api
from tests.cases.helpers import IMMEDIATE, PROMISED, accept, at, serving_ticket, use_clock
from tests.conftest import ROOT, LiveServer, with_database
from tests.conftest import test_settings as make_settings
from tests.queue_helpers import bearer, clerk_at_window, kiosk_token, register

NOW = at("2026-12-07 10:30")  # a Monday morning, the hall open


async def run_py(*argv: str, env: dict[str, str]) -> tuple[int, str, str]:
    """run.py as an operator runs it: its own process, its exit status and its output."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "run.py"),
        *argv,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def ops_env(tmp_path: Path, dsn: str | None = None) -> dict[str, str]:
    env = {"HALLOPS_SECRET": "test-secret", "HALLOPS_DATA_DIR": str(tmp_path / "var")}
    if dsn is not None:
        env["DATABASE_URL"] = dsn
    return env


async def screens(http: ClientSession, tokens: dict[str, str], query_code: str, case_id: int):
    """What the screens read: the hall's snapshot (lobby display, admin), the queue boards
    (/queue and a window's board), the event log replayed from seq 0, the case as the clerk
    and as the citizen (/track) see it."""

    async def get(path: str, who: str | None = None):
        resp = await http.get(path, headers=bearer(tokens[who]) if who else {})
        body = await resp.json()
        assert resp.status == 200, (path, body)
        return body

    events, since = [], 0
    while True:
        page = await get(f"/api/halls/rizhao/events?since={since}&limit=2000", "admin")
        events += page["events"]
        if not page["events"] or page["events"][-1]["seq"] >= page["head"]:
            break
        since = page["events"][-1]["seq"]
    return {
        "snapshot": await get("/api/halls/rizhao/snapshot", "admin"),
        "queues": await get("/api/halls/rizhao/queue-status"),
        "board_1": await get("/api/halls/rizhao/windows/1/board", "clerk1"),
        "board_2": await get("/api/halls/rizhao/windows/2/board", "clerk2"),
        "events": events,
        "case": await get(f"/api/cases/{case_id}", "clerk1"),
        "track": await get(f"/api/track/{query_code}"),
    }


async def test_a_backup_restored_into_an_empty_database_resumes_the_hall_exactly(
    live, http, db, pg_server_dsn, db_dsn, tmp_path
):
    use_clock(live, NOW)
    api = Api(http)
    await api.login("admin")
    # live state: a ticket served at window 1 and accepted as a case, one called at window 2,
    # three waiting, a notice line
    clerk1, ticket_id, _ = await serving_ticket(http, db, window_no=1, item=PROMISED)
    case = await accept(http, clerk1, ticket_id=ticket_id, item=PROMISED)
    clerk2 = await clerk_at_window(db, 2)
    kiosk = await kiosk_token(http)
    for _ in range(4):
        await register(http, kiosk, IMMEDIATE)
    resp = await http.post("/api/halls/rizhao/windows/2/call-next", headers=bearer(clerk2))
    assert resp.status == 200, await resp.text()
    await api.ok("admin", "PUT", "/api/halls/rizhao/notice", json={"text": "备份演练"})
    tokens = {"admin": api.tokens["admin"], "clerk1": clerk1, "clerk2": clerk2}
    before = await screens(http, tokens, case["query_code"], case["case_id"])
    head = before["events"][-1]["seq"]
    assert [e["seq"] for e in before["events"]] == list(range(1, head + 1))
    assert {"ticket.registered", "ticket.called", "case.accepted", "hall.notice_set"} <= {
        e["type"] for e in before["events"]
    }

    # a hot backup, the server running, as the schedule takes it
    code, out, err = await run_py(
        "backup", "--out", str(tmp_path / "backups"), env=ops_env(tmp_path, db_dsn)
    )
    assert code == 0, err
    (dump,) = (tmp_path / "backups").glob("hallops-*-????????-??????.dump")
    assert f'"file": "{dump}"' in out and oct(dump.stat().st_mode & 0o777) == "0o600"

    restored_name = f"{db_dsn.rsplit('/', 1)[1].split('?')[0]}_restored"
    admin = await asyncpg.connect(pg_server_dsn)
    await admin.execute(f'create database "{restored_name}"')
    restored_dsn = with_database(pg_server_dsn, restored_name)
    try:
        code, out, err = await run_py(
            "restore", str(dump), "--target", restored_dsn, env=ops_env(tmp_path)
        )
        assert code == 0, err
        assert '"code": "rizhao"' in out and f'"last_seq": {head}' in out

        server = await LiveServer(make_settings(), restored_dsn).start()
        try:
            use_clock(server, NOW)
            async with ClientSession(base_url=server.url, cookie_jar=CookieJar(unsafe=True)) as h2:
                # the same sessions, tickets, case and log: every screen reads the same
                after = await screens(h2, tokens, case["query_code"], case["case_id"])
                for screen in before:
                    assert after[screen] == before[screen], screen

                # the hall goes on: the next commands take the next numbers, and work
                resp = await h2.post("/api/halls/rizhao/windows/2/start", headers=bearer(clerk2))
                assert resp.status == 200, await resp.text()
                new = await register(h2, await kiosk_token(h2), IMMEDIATE)
                page = await (
                    await h2.get(
                        f"/api/halls/rizhao/events?since={head}",
                        headers=bearer(tokens["admin"]),
                    )
                ).json()
                seqs = [e["seq"] for e in page["events"]]
                assert seqs == list(range(head + 1, page["head"] + 1)) and seqs, page
                assert page["events"][0]["type"] == "ticket.service_started"
                assert page["events"][-1]["type"] == "ticket.registered"
                assert page["events"][-1]["data"]["ticket_no"] == new["ticket"]["ticket_no"]

            # a restore over a hall whose server is running is refused, --force or not
            code, _, err = await run_py(
                "restore", str(dump), "--target", restored_dsn, "--force", env=ops_env(tmp_path)
            )
            assert code == 3 and "stop it first" in err and "Traceback" not in err, err
        finally:
            await server.stop()

        # over a hall, only with --force: then the hall is the backup's again
        code, _, err = await run_py(
            "restore", str(dump), "--target", restored_dsn, env=ops_env(tmp_path)
        )
        assert code == 3 and "--force" in err and "rizhao" in err, err
        check = await asyncpg.connect(restored_dsn)
        try:
            assert await check.fetchval("select max(seq) from event") > head
            code, _, err = await run_py(
                "restore", str(dump), "--target", restored_dsn, "--force", env=ops_env(tmp_path)
            )
            assert code == 0, err
            assert await check.fetchval("select max(seq) from event") == head
            assert (
                await check.fetchval(
                    "select last_seq from hall_seq h join hall on "
                    "hall.id = h.hall_id where code = 'rizhao'"
                )
                == head
            )
        finally:
            await check.close()
    finally:
        await admin.execute(f'drop database if exists "{restored_name}" with (force)')
        await admin.close()


async def test_failures_are_a_message_and_an_exit_status(db_dsn, tmp_path):
    env = ops_env(tmp_path, db_dsn)
    # the database away
    code, _, err = await run_py(
        "backup", env={**env, "DATABASE_URL": "postgresql://postgres@127.0.0.1:9/nothing"}
    )
    assert code == 1 and "cannot reach the database" in err and "Traceback" not in err, err
    # no pg_dump where the operator said
    empty = tmp_path / "no-tools"
    empty.mkdir()
    code, _, err = await run_py("backup", env={**env, "HALLOPS_PG_BINDIR": str(empty)})
    assert code == 2 and "no pg_dump" in err and "Traceback" not in err, err
    assert not (tmp_path / "var" / "backups").exists() or not any(
        (tmp_path / "var" / "backups").iterdir()
    )
    # not a backup; no such file
    junk = tmp_path / "junk.dump"
    junk.write_text("not a dump")
    code, _, err = await run_py("restore", str(junk), env=env)
    assert code == 2 and "is not a backup" in err, err
    code, _, err = await run_py("restore", str(tmp_path / "missing.dump"), env=env)
    assert code == 2 and "cannot read" in err, err
    # a retention shorter than half a year is refused before anything runs
    code, _, err = await run_py("backup", env={**env, "HALLOPS_RETENTION_MONTHS": "3"})
    assert code == 2 and "HALLOPS_RETENTION_MONTHS" in err and "Traceback" not in err, err


async def test_backups_are_named_by_the_time_and_the_oldest_pruned(db_dsn, tmp_path):
    out = tmp_path / "b"
    out.mkdir()
    for stamp in ("20261201-020000", "20261202-020000", "20261203-020000"):
        (out / f"hallops-hall-{stamp}.dump").write_bytes(b"PGDMP")
    (out / "notes.txt").write_text("kept: not a backup")
    code, outp, err = await run_py(
        "backup", "--out", str(out), "--keep", "2", env=ops_env(tmp_path, db_dsn)
    )
    assert code == 0, err
    left = sorted(p.name for p in out.iterdir())
    assert "notes.txt" in left and "hallops-hall-20261203-020000.dump" in left
    assert len([n for n in left if n.endswith(".dump")]) == 2, left
    assert "hallops-hall-20261201-020000.dump" in outp and not any(
        n.endswith(".partial") for n in left
    )
