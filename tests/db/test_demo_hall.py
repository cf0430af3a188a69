"""The demo-hall seed (server/demo_hall.py) against a fresh PostgreSQL database.

Self-contained: the module fixture `demo_db` creates its own database (on
HALLOPS_TEST_ADMIN_DSN, else DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/postgres),
applies the migrations, seeds, and drops the database at the end. It does not use conftest.py.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from datetime import date
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import pytest_asyncio

from db.migrate import migrate
from db.pool import create_pool
from server import demo_hall
from server.demo_hall import DEMO_PASSWORDS, demo_logins, is_seeded, password_for, seed_demo
from server.domain.passwords import verify_password

pytestmark = pytest.mark.asyncio(loop_scope="session")

ADMIN_DSN = (
    os.environ.get("HALLOPS_TEST_ADMIN_DSN")
    or os.environ.get("DATABASE_URL")
    or "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _dsn_for(dbname: str) -> str:
    return urlunsplit(urlsplit(ADMIN_DSN)._replace(path="/" + dbname))


async def _admin(sql: str) -> None:
    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        await admin.execute(sql)
    finally:
        await admin.close()


async def _create_seeded(dbname: str):
    """Create, migrate and seed a database; returns (pool, summary)."""
    await _admin(f'create database "{dbname}"')
    pool = await create_pool(_dsn_for(dbname), size=2)
    async with pool.acquire() as conn:
        await migrate(conn)
        summary = await seed_demo(conn)
    return pool, summary


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def demo_db():
    dbname = f"hallops_demo_test_{secrets.token_hex(4)}"
    pool = None
    try:
        pool, summary = await _create_seeded(dbname)
        yield {"pool": pool, "summary": summary, "name": dbname}
    finally:
        if pool is not None:
            await pool.close()
        await _admin(f'drop database if exists "{dbname}" with (force)')


# ---------------------------------------------------------------- counts and structure
async def test_city_hall_has_130_windows_and_160_staff(demo_db):
    pool, summary = demo_db["pool"], demo_db["summary"]
    assert summary["created"] is True
    assert summary["halls"]["rizhao"]["windows"] == 130
    assert summary["halls"]["rizhao"]["staff"] == 160
    nos = [
        r["window_no"]
        for r in await pool.fetch("""
        select window_no from service_window w join hall h on h.id = w.hall_id
        where h.code = 'rizhao' order by window_no""")
    ]
    assert nos == list(range(1, 131))
    roles = {
        r["role"]: r["n"]
        for r in await pool.fetch("""
        select role, count(*) as n from staff s join hall h on h.id = s.hall_id
        where h.code = 'rizhao' group by role""")
    }
    # a clerk per window, a leader per department (25), supervisor1..3, admin and admin2
    assert roles == {"clerk": 130, "leader": 25, "supervisor": 3, "admin": 2}
    # one leader per department, each leader with a department
    per_dept = await pool.fetch("""
        select d.code, count(s.id) as leaders
        from department d join hall h on h.id = d.hall_id
        left join staff s on s.department_id = d.id and s.role = 'leader'
        where h.code = 'rizhao' group by d.code""")
    assert per_dept and all(r["leaders"] == 1 for r in per_dept)
    assert (
        await pool.fetchval("select count(*) from staff where username !~ '^[a-z0-9._-]{2,40}$'")
        == 0
    )
    assert await pool.fetchval(
        "select count(distinct display_name) = count(*) from staff where username <> 'admin'"
    )


async def test_departments_include_the_named_ones(demo_db):
    rows = await demo_db["pool"].fetch("""
        select d.code, d.name from department d join hall h on h.id = d.hall_id
        where h.code = 'rizhao'""")
    assert len(rows) >= 20
    codes = {r["code"] for r in rows}
    assert {
        "amr",
        "psb",
        "hrss",
        "tax",
        "housing",
        "planning",
        "health",
        "civil",
        "hpf",
        "realty",
        "medins",
        "emergency",
        "veterans",
    } <= codes
    names = {r["name"] for r in rows}
    # the structure after the 2018 institutional reform
    assert {
        "市场监督管理局",
        "公安局",
        "人力资源和社会保障局",
        "税务局",
        "住房和城乡建设局",
        "自然资源和规划局",
        "卫生健康委员会",
        "民政局",
        "住房公积金管理中心",
        "医疗保障局",
        "应急管理局",
        "退役军人事务局",
        "生态环境局",
        "交通运输局",
        "不动产登记中心（自然资源和规划局）",
    } <= names


# Bureaus merged or abolished by the 2018 institutional reform (and the 2016 五证合一's
# organisation code): none may appear anywhere in the demo's data.
ABOLISHED = (
    "国土资源局",
    "国土资源",
    "质量技术监督局",
    "质监局",
    "工商行政管理局",
    "工商局",
    "国家税务局",
    "地方税务局",
    "国税",
    "地税",
    "食品药品监督管理局",
    "食药监",
    "安全生产监督管理局",
    "安监局",
    "卫生和计划生育委员会",
    "卫计委",
    "城乡规划局",
    "环境保护局",
    "环保局",
    "农业局",
    "组织机构代码证",
)


async def test_no_bureau_abolished_in_2018_appears_in_the_demo_data(demo_db):
    """Every text of the seeded demo: halls, departments, queues, windows, staff, devices,
    items with their materials and fees, and the workflow definitions."""
    text = await demo_db["pool"].fetchval("""
        select concat_ws(' ',
          (select string_agg(name, ' ') from hall),
          (select string_agg(name, ' ') from department),
          (select string_agg(name, ' ') from queue),
          (select string_agg(display_name || ' ' || zone, ' ') from service_window),
          (select string_agg(display_name, ' ') from staff),
          (select string_agg(name, ' ') from device),
          (select string_agg(name || ' ' || coalesce(category, ''), ' ') from item),
          (select string_agg(name || ' ' || note, ' ') from item_material),
          (select string_agg(name || ' ' || basis, ' ') from item_fee),
          (select string_agg(definition::text, ' ') from workflow_definition))""")
    assert "市场监督管理局" in text and "自然资源和规划局" in text  # the text is all there
    assert [name for name in ABOLISHED if name in text] == []


async def test_items_materials_and_limits(demo_db):
    pool = demo_db["pool"]
    items = await pool.fetch("""
        select i.*, d.code as dept, q.department_id as queue_dept,
               (select count(*) from item_material m where m.item_id = i.id) as materials,
               (select count(*) from item_material m where m.item_id = i.id and m.is_key) as key_materials,
               (select count(*) from item_material m where m.item_id = i.id and not m.is_key) as optional
        from item i join hall h on h.id = i.hall_id join department d on d.id = i.department_id
        left join queue q on q.id = i.queue_id
        where h.code = 'rizhao'""")
    assert len(items) >= 150
    assert all(2 <= r["materials"] <= 8 for r in items)
    assert all(r["key_materials"] >= 1 for r in items)
    assert sum(r["optional"] >= 1 for r in items) >= len(items) // 2  # room for 容缺受理
    assert all(r["queue_id"] is not None and r["queue_dept"] == r["department_id"] for r in items)
    immediate = sum(r["kind"] == "immediate" for r in items)
    assert immediate / len(items) >= 0.85
    promised = [r for r in items if r["kind"] == "promised"]
    assert promised and all(0 < r["promised_limit"] < r["statutory_limit"] for r in promised)
    assert any(r["limit_unit"] == "working_hour" for r in promised)
    assert all(r["promised_limit"] == 0 for r in items if r["kind"] == "immediate")
    by_name = {r["name"]: r for r in items}
    # 多证联办 chain and the four 一表通 stages
    for name, dept in [
        ("企业设立登记", "amr"),
        ("刻制印章备案", "psb"),
        ("社会保险登记", "hrss"),
        ("税务登记", "tax"),
        ("建设用地规划许可证", "planning"),
        ("建设工程规划许可证", "planning"),
        ("建筑工程施工许可证", "housing"),
        ("竣工验收备案", "housing"),
    ]:
        assert by_name[name]["dept"] == dept, name
    positions = await pool.fetch("""
        select item_id, array_agg(position order by position) as p from item_material group by item_id""")
    assert all(list(r["p"]) == list(range(1, len(r["p"]) + 1)) for r in positions)
    fees = await pool.fetch("""
        select i.name, f.amount_cents from item_fee f join item i on i.id = f.item_id
        join hall h on h.id = i.hall_id where h.code = 'rizhao'""")
    assert ("不动产首次登记", 8000) in {(r["name"], r["amount_cents"]) for r in fees}
    assert await pool.fetchval("select count(distinct item_id) from item_fee") < len(items) / 2


async def test_county_halls(demo_db):
    pool = demo_db["pool"]
    rows = await pool.fetch("""
        select h.code, h.level, p.code as parent, h.work_periods,
               (select count(*) from service_window w where w.hall_id = h.id) as windows,
               (select count(*) from staff s where s.hall_id = h.id and s.username not like h.code || '.%') as foreign_names,
               (select count(*) from item i where i.hall_id = h.id) as items,
               (select count(*) from device v where v.hall_id = h.id) as devices
        from hall h left join hall p on p.id = h.parent_id order by h.id""")
    by_code = {r["code"]: r for r in rows}
    assert set(by_code) == {"rizhao", "juxian", "wulian"}
    assert by_code["rizhao"]["level"] == "city" and by_code["rizhao"]["parent"] is None
    assert by_code["rizhao"]["work_periods"] == [["09:00", "12:00"], ["13:00", "17:00"]]
    for code in ("juxian", "wulian"):
        r = by_code[code]
        assert r["level"] == "county" and r["parent"] == "rizhao"
        assert r["windows"] >= 6 and r["items"] >= 3 and r["devices"] >= 2
        assert r["foreign_names"] == 0
    assert await pool.fetchval("select count(*) from device where code like 'juxian.kiosk-%'") >= 1


async def test_windows_and_queues(demo_db):
    pool = demo_db["pool"]
    assert (
        await pool.fetchval("""
        select count(*) from service_window w
        where not exists (select 1 from window_queue wq where wq.window_id = w.id)""")
        == 0
    )
    assert await pool.fetchval("select count(*) from service_window where status <> 'closed'") == 0
    # position 1 is the window's own department queue
    assert (
        await pool.fetchval("""
        select count(*) from service_window w
        join window_queue wq on wq.window_id = w.id and wq.position = 1
        join queue q on q.id = wq.queue_id
        where q.department_id is distinct from w.department_id""")
        == 0
    )
    assert (
        await pool.fetchval("""
        select count(*) from window_queue wq join service_window w on w.id = wq.window_id
        join hall h on h.id = w.hall_id where h.code = 'rizhao' and wq.position = 2""")
        >= 1
    )
    assert (
        await pool.fetchval("""
        select count(*) from window_queue wq join service_window w on w.id = wq.window_id
        join queue q on q.id = wq.queue_id where q.hall_id <> w.hall_id""")
        == 0
    )
    w1 = await pool.fetchval("""
        select display_name from service_window w join hall h on h.id = w.hall_id
        where h.code = 'rizhao' and window_no = 1""")
    assert w1 == "1号窗口 市场监管"


async def test_a_demo_seeded_in_a_later_year_has_its_leaders_on_duty():
    # the roster and the calendar follow the day of seeding: a demo started in 2030 signs off
    # through 2031, and still covers the tests' 2026 and 2027
    assert demo_hall.duty_period(date(2030, 6, 1)) == (date(2026, 1, 1), date(2031, 12, 31))
    assert demo_hall.duty_period(date(2026, 12, 7)) == (date(2026, 1, 1), date(2027, 12, 31))
    assert list(demo_hall.calendar_years(date(2030, 6, 1))) == list(range(2024, 2032))
    assert list(demo_hall.calendar_years(date(2026, 12, 7))) == [2024, 2025, 2026, 2027]


async def test_calendar_and_leader_duty(demo_db):
    pool = demo_db["pool"]
    cal = {
        (r["code"], r["day"]): (r["is_working"], r["note"])
        for r in await pool.fetch("""
        select h.code, c.day, c.is_working, c.note from calendar_day c join hall h on h.id = c.hall_id""")
    }
    for code in ("rizhao", "juxian", "wulian"):
        assert cal[(code, date(2026, 10, 1))] == (False, "国庆节")
        assert cal[(code, date(2026, 2, 14))] == (True, "调休上班")  # a Saturday
        assert cal[(code, date(2026, 2, 16))] == (False, "春节")
        assert (code, date(2026, 10, 3)) not in cal  # Saturday: default already off
    assert date(2026, 2, 14).weekday() == 5
    assert all(note for _, note in cal.values())

    async def duty(day):
        return await pool.fetchval(
            """
            select count(*) from leader_duty l join hall h on h.id = l.hall_id
            where h.code = 'rizhao' and l.duty_date = $1""",
            day,
        )

    departments = demo_db["summary"]["halls"]["rizhao"]["departments"]
    assert await duty(date(2026, 2, 14)) == departments  # 调休 Saturday: on duty
    assert await duty(date(2026, 3, 2)) == departments  # ordinary Monday
    assert await duty(date(2026, 10, 1)) == 0  # 国庆节
    assert await duty(date(2026, 3, 7)) == 0  # ordinary Saturday
    assert await duty(date(2027, 1, 4)) == departments  # beyond chinese_calendar: Mon–Fri
    assert await duty(date(2027, 1, 2)) == 0  # Saturday in 2027
    assert await duty(date(2027, 12, 31)) == departments
    assert (
        await pool.fetchval("""
        select count(*) from leader_duty l join staff s on s.id = l.staff_id
        where s.role <> 'leader' or s.department_id <> l.department_id or s.hall_id <> l.hall_id""")
        == 0
    )


async def test_demo_logins_verify(demo_db):
    pool = demo_db["pool"]
    logins = demo_logins()
    assert {lg["role"] for lg in logins} >= {
        "clerk",
        "leader",
        "supervisor",
        "admin",
        "kiosk",
        "display",
    }
    for lg in logins:
        assert lg["password"] == DEMO_PASSWORDS[lg["role"]]
        if lg["kind"] == "staff":
            row = await pool.fetchrow(
                "select password_hash as h, role from staff where username = $1", lg["username"]
            )
            assert row["role"] == lg["role"]
        else:
            row = await pool.fetchrow(
                "select secret_hash as h, kind from device where code = $1", lg["username"]
            )
            assert row["kind"] == lg["role"]
        assert verify_password(row["h"], lg["password"]), lg["username"]
        assert not verify_password(row["h"], lg["password"] + "x")
        assert password_for(lg["username"]) == lg["password"]
    assert password_for("clerk130") == DEMO_PASSWORDS["clerk"]
    assert password_for("wulian.display-01") == DEMO_PASSWORDS["display"]


async def test_seed_is_idempotent(demo_db):
    pool = demo_db["pool"]
    async with pool.acquire() as conn:
        assert await is_seeded(conn) is True
        again = await seed_demo(conn)
    assert again["created"] is False
    assert again["halls"] == demo_db["summary"]["halls"]


async def test_seed_hashes_each_demo_password_once(demo_db):
    # What keeps the seed at about a second: argon2 costs ~50 ms a hash, so the ~200 accounts
    # share one hash per demo password instead of one each.
    pool = demo_db["pool"]
    staff = await pool.fetch(
        "select role, count(distinct password_hash) as n from staff group by role order by role"
    )
    devices = await pool.fetch(
        "select kind, count(distinct secret_hash) as n from device group by kind order by kind"
    )
    assert [(r["role"], r["n"]) for r in staff] == [
        ("admin", 1),
        ("clerk", 1),
        ("leader", 1),
        ("supervisor", 1),
    ]
    assert [(r["kind"], r["n"]) for r in devices] == [("display", 1), ("kiosk", 1), ("rater", 1)]


# ---------------------------------------------------------------- determinism
# Excluded: timestamps, and the argon2 hashes (salted; they are checked by verify above).
_DIGEST_TABLES = {
    "hall": "id",
    "department": "id",
    "queue": "id",
    "service_window": "id",
    "window_queue": "window_id, queue_id",
    "staff": "id",
    "device": "id",
    "item": "id",
    "item_material": "id",
    "item_fee": "id",
    "calendar_day": "hall_id, day",
    "leader_duty": "hall_id, duty_date, staff_id",
}
_EXCLUDED = {"created_at", "password_hash", "secret_hash"}


async def _digest(conn: asyncpg.Pool) -> dict[str, str]:
    out = {}
    for table, order in _DIGEST_TABLES.items():
        cols = [
            r["column_name"]
            for r in await conn.fetch(
                "select column_name from information_schema.columns"
                " where table_schema = 'public' and table_name = $1 order by ordinal_position",
                table,
            )
        ]
        cols = [c for c in cols if c not in _EXCLUDED]
        rows = await conn.fetch(f"select {', '.join(cols)} from {table} order by {order}")
        h = hashlib.sha256()
        for r in rows:
            h.update(repr(tuple(r.values())).encode())
        out[table] = f"{len(rows)}:{h.hexdigest()}"
    return out


async def test_seed_is_deterministic(demo_db):
    other = f"hallops_demo_test_{secrets.token_hex(4)}"
    pool = None
    try:
        pool, _ = await _create_seeded(other)
        first = await _digest(demo_db["pool"])
        second = await _digest(pool)
    finally:
        if pool is not None:
            await pool.close()
        await _admin(f'drop database if exists "{other}" with (force)')
    assert first == second
    assert all(not v.startswith("0:") for v in first.values())
