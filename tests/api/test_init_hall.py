"""A real hall's first start (issue 12): `run.py init-hall` on an empty database creates the
halls and their first admins with one-time passwords printed once; a production server (its
own DATABASE_URL) refuses to start while a demo password is live, unless HALLOPS_DEMO=1; the
admin of the new hall then sets it up from spreadsheets, with no code touched."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import os
import re
import secrets
import sys

import asyncpg
from aiohttp import ClientSession

from tests.conftest import ROOT, with_database
from tests.realtime.cluster import ServerProcess, server_env

PASSWORD = re.compile(r"^\s+(\S+)\s+\S+\s+admin (\S+)\s+(\S+)$", re.MULTILINE)


async def _run(env: dict[str, str], *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "run.py",
        *args,
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def _empty_database(pg_server_dsn: str) -> str:
    name = f"hallops_init_{os.getpid()}_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(pg_server_dsn)
    await admin.execute(f'create database "{name}"')
    await admin.close()
    return name


def _csv(rows: list[list[object]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return base64.b64encode(out.getvalue().encode("utf-8-sig")).decode()


async def test_a_real_hall_from_init_hall_and_spreadsheets(pg_server_dsn, tmp_path):
    name = await _empty_database(pg_server_dsn)
    dsn = with_database(pg_server_dsn, name)
    env = server_env(dsn, tmp_path)
    env.pop("HALLOPS_DEMO")  # production, as a real hall runs
    try:
        code, out = await _run(
            env,
            "init-hall",
            "--code",
            "linyi",
            "--name",
            "临沂市政务服务中心",
            "--county",
            "lanshan:兰山区政务服务中心",
        )
        assert code == 0, out
        admins = {m[0]: (m[1], m[2]) for m in PASSWORD.findall(out)}
        assert set(admins) == {"linyi", "lanshan"}, out
        assert admins["linyi"][0] == "admin" and admins["lanshan"][0] == "lanshan.admin"
        # the same code again is refused, and nothing else is created
        code, out = await _run(env, "init-hall", "--code", "linyi", "--name", "重复")
        assert code == 1 and "hall_exists" in out, out

        conn = await asyncpg.connect(dsn)
        try:
            assert await conn.fetchval("select count(*) from hall") == 2
            assert await conn.fetchval("select count(*) from calendar_day") > 0
            assert await conn.fetchval("select count(*) from audit where action = 'hall.init'") == 2
        finally:
            await conn.close()

        # a production database with a real hall starts; its admin sets it up
        server = await ServerProcess("prod", env, tmp_path).start()
        try:
            await server.wait_ready(bus=None)
            async with ClientSession(base_url=server.url) as http:
                # a real hall's screens carry no demo ribbon
                assert await (await http.get("/api/about")).json() == {"demo": False}
                username, password = admins["linyi"]
                resp = await http.post(
                    "/api/auth/login",
                    json={"username": username, "password": password, "bearer": True},
                )
                body = await resp.json()
                assert resp.status == 200 and body["actor"]["must_change_password"], body
                auth = {"Authorization": f"Bearer {body['token']}"}
                resp = await http.post(
                    "/api/auth/password",
                    json={"current": password, "new": "Linyi-hall-2027"},
                    headers=auth,
                )
                assert resp.status == 200, await resp.text()
                H = "/api/halls/linyi/admin/import"
                sheets = {
                    "departments": [["部门编码", "部门名称"], ["amr", "市场监督管理局"]],
                    "queues": [
                        ["队列编码", "名称", "号码前缀", "部门", "服务时长标准（分钟）"],
                        ["amr", "市场监管综合", "A", "amr", 15],
                    ],
                    "windows": [
                        ["窗口号", "名称", "部门", "区域", "队列", "优先规则"],
                        [1, "1号窗口 市场监管", "amr", "一楼", "amr", "优先办理"],
                    ],
                    "staff": [
                        ["用户名", "姓名", "角色", "部门", "手机", "在岗"],
                        ["ly.clerk1", "张敏", "窗口人员", "amr", "", "是"],
                    ],
                    "items": [
                        [
                            "事项编码",
                            "事项名称",
                            "部门",
                            "类别",
                            "办理类型",
                            "时限单位",
                            "法定时限",
                            "承诺时限",
                            "急办时限",
                            "队列",
                            "需领导签批",
                            "服务时长标准（分钟）",
                            "启用",
                            "材料",
                            "收费",
                        ],
                        [
                            "amr-001",
                            "个体工商户设立登记",
                            "amr",
                            "",
                            "即办件",
                            "",
                            0,
                            "",
                            "",
                            "amr",
                            "否",
                            "",
                            "是",
                            "身份证",
                            "",
                        ],
                    ],
                }
                for kind, rows in sheets.items():
                    resp = await http.post(
                        f"{H}/{kind}",
                        json={"format": "csv", "content": _csv(rows)},
                        headers=auth,
                    )
                    assert resp.status == 200, (kind, await resp.text())
                resp = await http.get("/api/halls/linyi/snapshot", headers=auth)
                snap = await resp.json()
                assert [w["window_no"] for w in snap["windows"]] == [1]
        finally:
            await server.stop()
    finally:
        admin = await asyncpg.connect(pg_server_dsn)
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.close()


async def test_production_refuses_live_demo_passwords(db_dsn, tmp_path):
    env = server_env(db_dsn, tmp_path)  # the demo halls, seeded, on a database of its own
    env.pop("HALLOPS_DEMO")
    code, out = await _run(env, "serve", "--port", "1", "--no-seed")
    assert code == 3, out
    assert "demo" in out and "HALLOPS_DEMO=1" in out
    # with the demo asked for, it starts (the cluster tests run so)
    server = await ServerProcess("demo", {**env, "HALLOPS_DEMO": "1"}, tmp_path).start()
    try:
        body = await server.wait_ready(bus=None)
        assert body["ok"] is True
    finally:
        await server.stop()
