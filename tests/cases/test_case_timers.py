"""The 容缺 reminder (timer job case.remind_deficiency): a case accepted with deferred materials
gets exactly one SMS through the outbox, on the last working day before the materials are due;
none before, none twice across ticks, none again from a restarted process, none once the
materials have arrived. The job is run as the hall timers run it, at `now` values the test
chooses."""

from __future__ import annotations

from datetime import datetime

import pytest

from db.pool import create_pool
from server.catalogue import CATALOGUE
from server.catalogue.spine import TimerContext
from server.domain.store import Store
from server.keys import STORE
from tests.cases.helpers import SIGNOFF, accept, at, command, use_clock
from tests.queue_helpers import clerk_at_window

JOB = CATALOGUE.timers["case.remind_deficiency"]
PHONE = "13900139000"


async def deficient_case(live, http, db, accepted: datetime, due: str) -> dict:
    """amr-012 (10 working days) accepted with its staff list (position 6, not key) deferred
    against the applicant's commitment, due on `due`."""
    use_clock(live, accepted)
    token = await clerk_at_window(db, 1)
    case = await accept(
        http,
        token,
        item=SIGNOFF,
        applicant={"name": "李四", "phone": PHONE},
        materials=[{"position": 6, "status": "missing"}],
        deficiency={"commitment_signed": True, "due": due},
    )
    assert case["deficiency_due"] is not None and case["missing"] == [
        "专职或兼职食品安全管理人员和检验人员名单"
    ]
    case["token"] = token
    return case


async def reminders(db, case_id: int) -> list:
    return await db.fetch(
        "select recipient, body from notification where dedupe_key = $1", f"deficiency:{case_id}"
    )


@pytest.mark.parametrize(
    ("accepted", "due", "quiet", "remind_at", "later"),
    [
        # due on a Monday: reminded on the Friday before, not on the weekend
        (
            at("2026-12-02 10:00"),
            "2026-12-14",
            [at("2026-12-09 16:00"), at("2026-12-10 23:59")],
            at("2026-12-11 00:05"),
            [at("2026-12-11 16:00"), at("2026-12-12 10:00"), at("2026-12-14 09:00")],
        ),
        # due the first working day after National Day: reminded before the holiday
        (
            at("2026-09-28 10:00"),
            "2026-10-08",
            [at("2026-09-29 17:00")],
            at("2026-09-30 09:00"),
            [at("2026-10-01 09:00"), at("2026-10-07 18:00"), at("2026-10-08 08:00")],
        ),
    ],
)
async def test_one_reminder_on_the_last_working_day_before_the_due_day(
    live, http, db, db_dsn, accepted, due, quiet, remind_at, later
):
    case = await deficient_case(live, http, db, accepted, due)
    cid = case["case_id"]
    hall = await db.fetchrow("select * from hall where code = 'rizhao'")
    ctx = TimerContext(live.app[STORE])
    for now in quiet:
        assert await JOB.run(ctx, hall, now) == []
        assert await reminders(db, cid) == [], f"reminded too early, at {now}"
    await JOB.run(ctx, hall, remind_at)
    sent = await reminders(db, cid)
    assert len(sent) == 1, f"no reminder at {remind_at}"
    assert sent[0]["recipient"] == PHONE
    assert "专职或兼职食品安全管理人员和检验人员名单" in sent[0]["body"]
    assert f"{int(due[5:7]):02d}月{int(due[8:]):02d}日" in sent[0]["body"]
    audit = await db.fetch(
        "select action, outcome, detail from audit where action = 'case.remind_deficiency'"
    )
    assert [(a["action"], a["outcome"], a["detail"]["cases"]) for a in audit] == [
        ("case.remind_deficiency", "ok", [cid])
    ]
    # a later tick of this process, then a restarted process with no memory of it
    await JOB.run(ctx, hall, later[0])
    restarted = Store(await create_pool(db_dsn, 2), _discard)
    try:
        for now in later[1:]:
            await JOB.run(TimerContext(restarted), hall, now)
    finally:
        await restarted.pool.close()
    assert len(await reminders(db, cid)) == 1
    assert await db.fetchval("select deficiency_reminded from service_case where id = $1", cid)


async def _discard(records: list) -> None:
    """The restarted process's bus: the job publishes nothing."""


async def test_no_reminder_once_the_deferred_materials_arrived(live, http, db):
    case = await deficient_case(live, http, db, at("2026-12-02 10:00"), "2026-12-14")
    await command(http, case["token"], case["case_id"], "supplement/received", {"positions": [6]})
    hall = await db.fetchrow("select * from hall where code = 'rizhao'")
    await JOB.run(TimerContext(live.app[STORE]), hall, at("2026-12-11 09:00"))
    assert await reminders(db, case["case_id"]) == []


async def test_a_case_no_longer_open_gets_no_reminder(live, http, db):
    case = await deficient_case(live, http, db, at("2026-12-02 10:00"), "2026-12-14")
    await command(http, case["token"], case["case_id"], "withdraw", {"reason": "申请人撤回"})
    hall = await db.fetchrow("select * from hall where code = 'rizhao'")
    await JOB.run(TimerContext(live.app[STORE]), hall, at("2026-12-11 09:00"))
    assert await reminders(db, case["case_id"]) == []
