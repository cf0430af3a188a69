"""§32 (行政许可法): a supplement notice must be issued within 5 working days of the application,
or the application counts as accepted as it stands. The clerk is warned the working day before,
and told once the period has passed, while no notice has gone out and the review may still need
one; a notice issued in time ends the warning, as it ends supervision's alarm."""

from __future__ import annotations

from tests.cases.helpers import PROMISED, accept, at, command, serving_ticket, use_clock
from tests.queue_helpers import bearer

MISSING = [{"position": 1, "status": "missing"}]


async def warning(http, token: str, case_id: int) -> dict | None:
    resp = await http.get(f"/api/cases/{case_id}", headers=bearer(token))
    body = await resp.json()
    assert resp.status == 200, body
    listed = await http.get("/api/halls/rizhao/windows/1/cases", headers=bearer(token))
    rows = {c["case_id"]: c for c in (await listed.json())["cases"]}
    # the window's list says the same as the case
    assert rows[case_id]["supplement_warning"] == body["supplement_warning"]
    return body["supplement_warning"]


async def test_the_clerk_is_warned_until_a_notice_is_issued(live, http, db):
    clock = use_clock(live, at("2026-12-07 10:00"))  # Monday; §32's 5 days end Monday 12-14
    token, ticket_id, _ = await serving_ticket(http, db)
    waiting = await accept(http, token, ticket_id=ticket_id, item=PROMISED, materials=MISSING)
    noticed = await accept(http, token, item=PROMISED, materials=MISSING)
    started = await accept(http, token, item=PROMISED, materials=MISSING)
    complete = await accept(http, token, item=PROMISED)
    await command(http, token, started["case_id"], "start")
    await command(http, token, complete["case_id"], "start")
    clock.set(at("2026-12-07 11:00"))
    await command(http, token, noticed["case_id"], "supplement", {"materials": MISSING})

    ids = [c["case_id"] for c in (waiting, noticed, started, complete)]
    clock.set(at("2026-12-10 17:00"))  # Thursday: not yet
    assert [await warning(http, token, i) for i in ids] == [None] * 4

    clock.set(at("2026-12-11 09:00"))  # Friday, the working day before
    due = "2026-12-14T17:00:00+08:00"
    ahead = {
        "due": due,
        "overdue": False,
        "message": "请在 12-14 17:00 前完成审查，需补正的须一次性告知",
    }
    assert [await warning(http, token, i) for i in ids] == [ahead, None, ahead, None]

    # the notice's materials arrived: the case is complete, no warning again
    clock.set(at("2026-12-11 10:00"))
    await command(http, token, noticed["case_id"], "supplement/received", {})
    assert await warning(http, token, noticed["case_id"]) is None

    clock.set(at("2026-12-14 17:00"))  # the period has passed with no notice
    late = {"due": due, "overdue": True, "message": "补正告知期限已过，依法视为受理"}
    assert [await warning(http, token, i) for i in ids] == [late, None, late, None]
    # a notice issued late still ends the clerk's warning (supervision keeps its alarm)
    await command(http, token, waiting["case_id"], "supplement", {"materials": MISSING})
    assert await warning(http, token, waiting["case_id"]) is None
