"""`run.py simulate --fast` on a short range: three working days of the city hall's 50 windows
of 市场监管, 公安, 人社 and 税务 (the company setup's departments), 150 citizens a day, seeded, generated in-process through the product's commands on the simulated clock
(server/simulate_fast.py), against a fresh copy of the seeded demo database. What the run
says it did is what the database holds, the shares are the configured ones within four binomial
standard deviations, and the product's own figures (the case metrics operation) agree with
the simulator's truth. Then `bench reports`' copying of simulated weeks is checked on them.
About 40 s on a quiet machine."""

from __future__ import annotations

import math

from db.pool import app_dsn
from server.bench.report_year import replicate
from server.domain.queueing import TZ
from server.simulate_fast import FastOptions, simulate_fast, summary
from tests.conftest import test_settings as settings_for_test

FIRST_DAY = "2026-12-07"  # a Monday
LAST_DAY = "2026-12-09"


def within(measured: float, share: float, n: int) -> bool:
    """A binomial share within four standard deviations: fails on a wrong rate, never by
    chance."""
    return n > 0 and abs(measured - share) <= 4 * math.sqrt(share * (1 - share) / n)


async def test_fast_year_on_three_days(db_dsn: str, db):
    s = settings_for_test()
    opts = FastOptions(
        hall="rizhao",
        days=3,
        date=FIRST_DAY,
        per_day=150,
        departments=("amr", "psb", "hrss", "tax"),
        seed=11,
        quiet=True,
        slip_share=0.03,  # a few slips come back in three days (0.5 % in a year's run)
    )
    stats, fig = await simulate_fast(opts, app_dsn(db_dsn, s.db_app_role, s.db_app_password))
    print(summary(stats, fig, opts))

    # every refusal is one the run expects to meet (none): the product took every command
    assert not stats.errors, stats.errors
    assert stats.days == 3
    assert stats.registered == stats.arrived > 300
    assert stats.called == stats.registered  # the queue was served out every day
    assert stats.served + stats.no_shows == stats.called
    # the tickets live on the simulated clock too: their days, and every citizen called after
    # registering, served after arriving at the window, in the hall's opening hours
    tickets = await db.fetch(
        "select service_day, created_at, queued_at, called_at, service_started_at, finished_at "
        "from ticket"
    )
    assert {t["service_day"].isoformat() for t in tickets} == {
        "2026-12-07",
        "2026-12-08",
        "2026-12-09",
    }
    for t in tickets:
        local = t["created_at"].astimezone(TZ)
        assert local.date() == t["service_day"] and 9 <= local.hour < 17, t
        assert t["queued_at"] <= t["called_at"] <= t["finished_at"], t
        assert t["service_started_at"] is None or t["called_at"] <= t["service_started_at"], t

    # cases: what the simulator counted is what the database holds, over the three days
    cases = await db.fetch("select kind, state, accepted_at from service_case")
    assert len(cases) == stats.cases == stats.immediate + stats.promised
    assert {c["accepted_at"].date().isoformat() for c in cases} == {
        "2026-12-07",
        "2026-12-08",
        "2026-12-09",
    }  # simulated days, not the day the test runs
    share = stats.immediate / stats.cases
    assert within(share, opts.immediate_share, stats.cases), share

    # the product's figures for the range agree with the simulator's truth
    m = fig["metrics"]
    assert m["cases"] == stats.cases
    assert m["completed"] == stats.completed
    assert m["immediate_rate"] == round(stats.completed_immediate / stats.completed, 4)
    assert m["on_time_rate"] == round(1 - stats.completed_late / stats.completed, 4)

    # and the reports' (issue 11) row of the hall says the same of the cases
    rep = fig["report"]
    assert (rep["cases"], rep["completed"]) == (stats.cases, stats.completed)
    assert rep["immediate_rate"] == m["immediate_rate"]
    assert rep["joint_cases"] == stats.joint

    # ratings through the three channels, at their response rates, one per case
    rows = await db.fetch("select channel, level, subject from rating")
    assert len(rows) == stats.rated == sum(fig["ratings"].values())
    assert len({r["subject"] for r in rows}) == len(rows)
    by_channel = {ch: sum(r["channel"] == ch for r in rows) for ch in ("device", "sms", "ballot")}
    assert by_channel == {ch: stats.ratings[ch] for ch in by_channel}
    assert within(stats.ratings["device"] / stats.served, opts.device_share, stats.served)
    assert within(stats.ratings["sms"] / stats.with_phone, opts.sms_share, stats.with_phone)
    assert stats.ratings["ballot"] >= 1  # the box opened at the end of the run
    # a bad review opens its department's rectification task, as the product does
    bad = sum(r["level"] <= 2 for r in rows)
    assert fig["rectifications"] == bad == stats.levels[1] + stats.levels[2]
    assert bad / len(rows) < 0.05

    # 多证联办: company setups accepted at the 市场监管 window, their steps claimed and completed
    # by the departments (公安, 人社, 税务 among them), completed by the product, picked up
    joint = await db.fetch(
        "select id, state from service_case where workflow_code = 'company-setup'"
    )
    assert len(joint) == stats.joint >= 1
    steps = await db.fetch(
        "select d.code, s.state from joint_step s join department d on d.id = s.department_id"
    )
    done = [st for st in steps if st["state"] == "done"]
    assert len(done) == stats.steps_done > 0
    assert {"psb", "hrss", "tax"} & {st["code"] for st in done}
    assert sum(c["state"] in ("completed", "delivered") for c in joint) == stats.joint_completed
    assert stats.joint_completed >= 1

    # the hall's timers ran on the simulated clock: cases and joint steps near or past their
    # limits were alarmed (in three days, which of the two depends on the draw), never before
    # their instant
    alarms = await db.fetch("select kind, due_at, issued_at from alarm")
    assert {a["kind"] for a in alarms} & {"case_deadline", "step_overrun"}, alarms
    assert all(a["issued_at"] >= a["due_at"] for a in alarms)

    # `bench reports` makes its year by copying simulated weeks: each copy is the same rows,
    # four weeks later, with ids of its own, and the report reads a copy as it reads the original
    hall_id = await db.fetchval("select id from hall where code = 'rizhao'")
    tables = ("ticket", "service_case", "rating", "rectification", "window_idle", "alarm")
    before = {t: await db.fetchval(f"select count(*) from {t}") for t in tables}
    await replicate(db, hall_id, 2, 28)
    for t in tables:
        assert await db.fetchval(f"select count(*) from {t}") == 3 * before[t], t
    days = {r["service_day"] for r in await db.fetch("select service_day from ticket")}
    assert {d.isoformat() for d in days} == {
        *("2026-12-07", "2026-12-08", "2026-12-09"),
        *("2027-01-04", "2027-01-05", "2027-01-06"),
        *("2027-02-01", "2027-02-02", "2027-02-03"),
    }
    copy = await db.fetchrow(
        "select count(*) as cases, count(*) filter (where state in ('completed', 'delivered')) "
        "as completed from service_case where parent_id is null "
        "and accepted_at >= '2027-01-04' and accepted_at < '2027-01-07'"
    )
    assert (copy["cases"], copy["completed"]) == (stats.cases, stats.completed)
