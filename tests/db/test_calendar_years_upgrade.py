"""Migration 0008 on a database from before it: the years the library filled are recorded as
'library' (so /healthz does not warn of years that are there), the library's rows are marked so,
and a day set by hand stays 'manual' (a notice load will not remove it)."""

from __future__ import annotations

from datetime import date

import asyncpg

from db.migrate import migrate
from db.pool import _init_connection
from server import demo_hall
from server.domain.calendar_service import coverage_warnings
from tests.db.test_upgrade_from_v5 import build_v5, v5_dsn  # noqa: F401  (v5_dsn: a fixture)


async def test_0008_records_the_library_years_of_an_existing_database(v5_dsn):  # noqa: F811
    conn = await asyncpg.connect(v5_dsn)
    await _init_connection(conn)
    try:
        await build_v5(conn)
        await demo_hall.seed_demo(conn)
        rizhao = await conn.fetchval("select id from hall where code = 'rizhao'")
        # set by hand before the upgrade: a local closure, and a guess at 2027's 春节
        await conn.execute(
            "insert into calendar_day (hall_id, day, is_working, note) values "
            "($1, '2026-12-02', false, '系统升级'), ($1, '2027-02-08', false, '春节')",
            rizhao,
        )
        await migrate(conn)

        years = await conn.fetch(
            "select h.code, y.year, y.source, y.loaded_by from calendar_year y "
            "join hall h on h.id = y.hall_id order by h.code, y.year"
        )
        assert [tuple(r) for r in years] == [
            (code, year, "library", None)
            for code in ("juxian", "rizhao", "wulian")
            for year in (2024, 2025, 2026)
        ]
        sources = {
            r["day"]: r["source"]
            for r in await conn.fetch(
                "select day, source from calendar_day where hall_id = $1", rizhao
            )
        }
        assert sources[date(2026, 10, 1)] == "library"  # 国庆节
        assert sources[date(2026, 2, 14)] == "library"  # 调休上班
        assert sources[date(2026, 12, 2)] == "manual"
        assert sources[date(2027, 2, 8)] == "manual"  # after the library's years: by hand
        # and the warning is about 2027 alone: 2026 is there
        warnings = await coverage_warnings(conn, date(2026, 12, 6))
        assert {(w["hall"], tuple(w["years"])) for w in warnings} == {
            ("rizhao", ("2027",)),
            ("juxian", ("2027",)),
            ("wulian", ("2027",)),
        }
    finally:
        await conn.close()
