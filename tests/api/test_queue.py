"""Registration, calling, transfers and the other window commands, over HTTP."""

from __future__ import annotations

import asyncio

from server.domain.queueing import service_day
from tests.queue_helpers import (
    bearer,
    clerk_at_window,
    command,
    item_of_window,
    kiosk_token,
    register,
)


async def test_kiosk_registration_gives_ticket_and_notice(http, db):
    kiosk = await kiosk_token(http)
    item = await item_of_window(db, 1)
    notice = await register(http, kiosk, item, phone="13800138000", id_number="371102198001011238")
    ticket = notice["ticket"]
    assert ticket["ticket_no"][0].isalpha() and ticket["ticket_no"].endswith("001")
    assert ticket["status"] == "waiting"
    assert len(notice["reg_no"]) == 14 and notice["reg_no"].isdigit()
    assert notice["phone"] == "138****8000" and notice["id_number"] == "3711**********1238"
    assert notice["materials"] and any(m["is_key"] for m in notice["materials"])
    assert notice["windows"] and notice["hall"]["name"] == "日照市政务服务中心"
    second = await register(http, kiosk, item)
    assert second["ticket"]["ticket_no"].endswith("002") and second["ahead"] == 1
    # the notice is public by query code; the barcode renders as SVG
    resp = await http.get(f"/api/notice/{notice['query_code']}")
    assert resp.status == 200 and (await resp.json())["reg_no"] == notice["reg_no"]
    svg = await http.get(f"/api/barcode/{notice['reg_no']}.svg")
    assert svg.status == 200 and svg.content_type == "image/svg+xml"
    assert b"<svg" in await svg.read()


async def test_promised_item_gets_promised_due_from_calendar(http, db):
    kiosk = await kiosk_token(http)
    code = await db.fetchval(
        "select code from item where kind = 'promised' and queue_id is not null "
        "and hall_id = (select id from hall where code='rizhao') limit 1"
    )
    notice = await register(http, kiosk, code)
    assert notice["promised_due"] is not None


async def test_registration_input_errors(http, db):
    kiosk = await kiosk_token(http)
    for body, status, code in [
        ({"item": "nope"}, 404, "unknown_item"),
        ({"item": "amr-001", "phone": "123"}, 400, "invalid_phone"),
        ({"item": "amr-001", "id_number": "37110219800101123X"}, 400, "invalid_id_number"),
        ({"item": "amr-001", "priority": "vip"}, 400, "invalid_field"),
        ({}, 400, "invalid_field"),
    ]:
        resp = await http.post("/api/halls/rizhao/registrations", json=body, headers=bearer(kiosk))
        assert (resp.status, (await resp.json())["error"]["code"]) == (status, code), body
    clerk = await clerk_at_window(db, 2)
    resp = await http.post(
        "/api/halls/rizhao/registrations", json={"item": "amr-001"}, headers=bearer(clerk)
    )
    assert resp.status == 403


async def test_kiosk_is_rate_limited(http, db):
    kiosk = await kiosk_token(http, "kiosk-02")
    item = await item_of_window(db, 1)
    statuses = []
    for _ in range(14):
        resp = await http.post(
            "/api/halls/rizhao/registrations", json={"item": item}, headers=bearer(kiosk)
        )
        statuses.append(resp.status)
        if resp.status == 429:
            body = await resp.json()
            assert (
                body["error"]["code"] == "rate_limited" and "秒后再试" in body["error"]["message"]
            )
    assert statuses[:10] == [201] * 10 and 429 in statuses


async def test_call_start_finish_cycle_with_priority_first(http, db):
    kiosk = await kiosk_token(http)
    item = await item_of_window(db, 1)
    clerk = await clerk_at_window(db, 1)
    a = await register(http, kiosk, item)
    b = await register(http, kiosk, item, priority="elderly")
    called = await command(http, clerk, 1, "call-next")
    assert called["ticket"]["ticket_no"] == b["ticket"]["ticket_no"]  # priority before arrival
    assert called["events"][0]["type"] == "ticket.called"
    busy = await command(http, clerk, 1, "call-next", expect=409)
    assert busy["error"]["code"] == "window_busy"
    await command(http, clerk, 1, "start")
    done = await command(http, clerk, 1, "finish")
    assert done["ticket"]["outcome"] == "served"
    called = await command(http, clerk, 1, "call-next")
    assert called["ticket"]["ticket_no"] == a["ticket"]["ticket_no"]
    board = await (
        await http.get("/api/halls/rizhao/windows/1/board", headers=bearer(clerk))
    ).json()
    assert board["current"]["ticket_no"] == a["ticket"]["ticket_no"]
    assert board["counts"]["served"] == 1
    row = await db.fetchrow(
        "select called_at, service_started_at, finished_at from ticket "
        "where ticket_no = $1 and outcome = 'served'",
        b["ticket"]["ticket_no"],
    )
    assert row["called_at"] <= row["service_started_at"] <= row["finished_at"]


async def test_empty_queue_and_closed_window(http, db):
    clerk = await clerk_at_window(db, 3)
    resp = await command(http, clerk, 3, "call-next", expect=409)
    assert resp["error"]["code"] == "queue_empty" and resp["error"]["message"]
    await db.execute("update service_window set status = 'paused' where window_no = 3")
    resp = await command(http, clerk, 3, "call-next", expect=409)
    assert resp["error"]["code"] == "window_not_open"


async def test_clerk_cannot_command_another_window(http, db):
    clerk = await clerk_at_window(db, 4)
    resp = await command(http, clerk, 5, "call-next", expect=403)
    assert resp["error"]["code"] == "not_your_window"
    resp = await http.post("/api/halls/juxian/windows/4/call-next", headers=bearer(clerk))
    assert (resp.status, (await resp.json())["error"]["code"]) == (403, "other_hall")


async def test_130_windows_calling_at_the_same_instant_never_share_a_ticket(http, db):
    tokens = {}
    for no in range(1, 131):
        tokens[no] = await clerk_at_window(db, no)
    # 40 tickets in every queue: more than enough for every window
    queues = await db.fetch(
        "select q.id, (select code from item where queue_id = q.id and active "
        "limit 1) as item from queue q join hall h on h.id = q.hall_id "
        "where h.code = 'rizhao'"
    )
    # registrations straight through the command function (the kiosk limit is per device)
    hall_id = await db.fetchval("select id from hall where code = 'rizhao'")
    for q in queues:
        if q["item"] is None:
            continue
        item_id = await db.fetchval(
            "select id from item where code = $1 and hall_id = $2", q["item"], hall_id
        )
        for _ in range(40):
            await db.fetch(
                "select * from hq_register($1, 'system', null, $2, $3, $4, "
                "md5(random()::text), null, null, 'normal', null, now())",
                hall_id,
                item_id,
                q["id"],
                service_day(),
            )
    results = await asyncio.gather(
        *(
            http.post(f"/api/halls/rizhao/windows/{no}/call-next", headers=bearer(t))
            for no, t in tokens.items()
        )
    )
    called = []
    for r in results:
        body = await r.json()
        assert r.status == 200, body
        called.append(body["ticket"]["id"])
    assert len(called) == 130 and len(set(called)) == 130
    rows = await db.fetch("select id, window_id from ticket where status = 'called'")
    assert len(rows) == 130 and len({r["window_id"] for r in rows}) == 130


async def test_transfer_to_another_window_to_the_front(http, db):
    kiosk = await kiosk_token(http)
    item1 = await item_of_window(db, 1)
    clerk1 = await clerk_at_window(db, 1)
    # window 60 is another department
    clerk60 = await clerk_at_window(db, 60)
    item60 = await item_of_window(db, 60)
    first = await register(http, kiosk, item60)
    mine = await register(http, kiosk, item1)
    await command(http, clerk1, 1, "call-next")
    await command(http, clerk1, 1, "start")
    moved = await command(
        http, clerk1, 1, "transfer", {"to_window_no": 60, "front": True, "note": "需补充不动产材料"}
    )
    assert moved["events"][0]["type"] == "ticket.transferred"
    assert (
        moved["ticket"]["ticket_no"] == mine["ticket"]["ticket_no"]
    )  # the citizen keeps the number
    assert moved["ticket"]["target_window_no"] == 60
    board = await (
        await http.get("/api/halls/rizhao/windows/60/board", headers=bearer(clerk60))
    ).json()
    assert board["waiting"][0]["ticket_no"] == mine["ticket"]["ticket_no"]
    assert board["waiting"][0]["note"] == "需补充不动产材料"
    called = await command(http, clerk60, 60, "call-next")
    assert called["ticket"]["ticket_no"] == mine["ticket"]["ticket_no"]  # before `first`
    outcomes = [
        r["outcome"]
        for r in await db.fetch(
            "select outcome from ticket where registration_id = (select id from registration "
            "where reg_no = $1) order by id",
            mine["reg_no"],
        )
    ]
    assert outcomes == ["transferred", None]
    assert first["ticket"]["status"] == "waiting"


async def test_transfer_to_queue_back_and_bad_targets(http, db):
    kiosk = await kiosk_token(http)
    item1 = await item_of_window(db, 1)
    clerk1 = await clerk_at_window(db, 1)
    await register(http, kiosk, item1)
    await command(http, clerk1, 1, "call-next")
    bad = await command(http, clerk1, 1, "transfer", {"queue": "nope"}, expect=404)
    assert bad["error"]["code"] == "unknown_queue"
    bad = await command(http, clerk1, 1, "transfer", {}, expect=400)
    assert bad["error"]["code"] == "transfer_target_required"
    other_queue = await db.fetchval(
        "select code from queue where prefix = 'B' and hall_id = "
        "(select id from hall where code='rizhao')"
    )
    ok = await command(http, clerk1, 1, "transfer", {"queue": other_queue})
    assert ok["ticket"]["queue"] == other_queue and ok["ticket"]["rank"] == 2


async def test_recall_then_no_show_and_requeue(http, db):
    kiosk = await kiosk_token(http)
    item = await item_of_window(db, 1)
    clerk = await clerk_at_window(db, 1)
    reg = await register(http, kiosk, item)
    await command(http, clerk, 1, "call-next")
    early = await command(http, clerk, 1, "no-show", {"requeue": True}, expect=409)
    assert early["error"]["code"] == "recall_first"
    r1 = await command(http, clerk, 1, "recall")
    assert r1["events"][0]["type"] == "ticket.recalled" and r1["ticket"]["recalls"] == 1
    await command(http, clerk, 1, "recall")
    gone = await command(http, clerk, 1, "no-show", {"requeue": True})
    assert [e["type"] for e in gone["events"]] == ["ticket.no_show", "ticket.requeued"]
    again = await command(http, clerk, 1, "call-next")
    assert again["ticket"]["ticket_no"] == reg["ticket"]["ticket_no"]


async def test_call_out_of_order_with_reason_and_park_resume(http, db):
    kiosk = await kiosk_token(http)
    item = await item_of_window(db, 1)
    clerk = await clerk_at_window(db, 1)
    await register(http, kiosk, item)
    later = await register(http, kiosk, item)
    no_reason = await http.post(
        "/api/halls/rizhao/windows/1/call",
        headers=bearer(clerk),
        json={"ticket_no": later["ticket"]["ticket_no"], "reason": ""},
    )
    assert no_reason.status == 400
    called = await command(
        http, clerk, 1, "call", {"ticket_no": later["ticket"]["ticket_no"], "reason": "孕妇优先"}
    )
    assert called["events"][0]["data"]["out_of_order"] is True
    audit = await db.fetchval(
        "select detail->>'reason' from audit where action = 'ticket.call_ticket'"
    )
    assert audit == "孕妇优先"
    await command(http, clerk, 1, "start")
    parked = await command(http, clerk, 1, "park")
    assert parked["ticket"]["status"] == "parked"
    board = await (
        await http.get("/api/halls/rizhao/windows/1/board", headers=bearer(clerk))
    ).json()
    assert (
        board["current"] is None and board["parked"][0]["ticket_no"] == later["ticket"]["ticket_no"]
    )
    resumed = await command(http, clerk, 1, "resume", {"ticket_id": parked["ticket"]["id"]})
    assert resumed["ticket"]["status"] == "serving"
    await command(http, clerk, 1, "finish")


async def test_barcode_scan_finds_registration_and_public_queue_status(http, db):
    kiosk = await kiosk_token(http)
    item = await item_of_window(db, 1)
    clerk = await clerk_at_window(db, 1)
    reg = await register(http, kiosk, item)
    found = await (
        await http.get(f"/api/halls/rizhao/registrations/{reg['reg_no']}", headers=bearer(clerk))
    ).json()
    assert found["ticket"]["ticket_no"] == reg["ticket"]["ticket_no"]
    status = await (await http.get("/api/halls/rizhao/queue-status")).json()
    q = next(q for q in status["queues"] if q["code"] == reg["queue"])
    assert q["waiting"] == 1 and q["open_windows"] >= 1 and q["estimated_wait_seconds"] > 0


async def test_no_wait_is_promised_while_no_window_of_the_queue_is_open(http, db):
    kiosk = await kiosk_token(http)
    item = await item_of_window(db, 1)
    # the demo hall's windows start closed: nobody serves the queue
    reg = await register(http, kiosk, item)
    notice = await (await http.get(f"/api/notice/{reg['query_code']}")).json()
    assert notice["ahead"] == 0 and notice["estimated_wait_seconds"] is None, notice
    status = await (await http.get("/api/halls/rizhao/queue-status")).json()
    q = next(q for q in status["queues"] if q["code"] == reg["queue"])
    assert (q["open_windows"], q["estimated_wait_seconds"]) == (0, None)
    await clerk_at_window(db, 1)  # a window opens
    await register(http, kiosk, item)
    status = await (await http.get("/api/halls/rizhao/queue-status")).json()
    q = next(q for q in status["queues"] if q["code"] == reg["queue"])
    assert q["open_windows"] >= 1 and q["estimated_wait_seconds"] > 0


async def test_sms_outbox_gets_called_and_near_front_messages(http, db):
    kiosk = await kiosk_token(http)
    item = await item_of_window(db, 1)
    clerk = await clerk_at_window(db, 1)
    regs = [await register(http, kiosk, item, phone=f"1380000000{i}") for i in range(5)]
    await command(http, clerk, 1, "call-next")
    rows = await db.fetch("select dedupe_key, recipient, body from notification order by id")
    keys = [r["dedupe_key"].split(":")[0] for r in rows]
    assert keys == ["called", "near"]
    assert (
        rows[0]["recipient"] == "13800000000" and regs[0]["ticket"]["ticket_no"] in rows[0]["body"]
    )
    assert rows[1]["recipient"] == "13800000003"  # now third in line


async def test_a_transferred_citizen_gets_the_sms_of_the_second_call_too(http, db):
    kiosk = await kiosk_token(http)
    clerk1, clerk60 = await clerk_at_window(db, 1), await clerk_at_window(db, 60)
    mine = await register(http, kiosk, await item_of_window(db, 1), phone="13800000009")
    await command(http, clerk1, 1, "call-next")
    await command(http, clerk1, 1, "start")
    await command(http, clerk1, 1, "transfer", {"to_window_no": 60, "front": True})
    await command(http, clerk60, 60, "call-next")
    called = await db.fetch(
        "select body from notification where recipient = '13800000009' "
        "and dedupe_key like 'called:%' order by id"
    )
    no = mine["ticket"]["ticket_no"]
    assert len(called) == 2, called
    assert f"请 {no} 号到 1号窗口" in called[0]["body"]
    assert f"请 {no} 号到 60号窗口" in called[1]["body"]


async def test_stage_times_and_window_idle_are_recorded(http, db):
    kiosk = await kiosk_token(http)
    item = await item_of_window(db, 1)
    clerk = await clerk_at_window(db, 1, open_window=False)
    await command(http, clerk, 1, "status", {"status": "open"})
    reg = await register(http, kiosk, item)
    await command(http, clerk, 1, "call-next")
    await command(http, clerk, 1, "start")
    await command(http, clerk, 1, "finish")
    await command(http, clerk, 1, "status", {"status": "paused"})
    t = await db.fetchrow(
        "select queued_at, called_at, service_started_at, finished_at from ticket "
        "where registration_id = (select id from registration where reg_no = $1)",
        reg["reg_no"],
    )
    # waiting, walk-to-window and service are all derivable and ordered
    assert t["queued_at"] <= t["called_at"] <= t["service_started_at"] <= t["finished_at"]
    idle = await db.fetch(
        "select idle_from, idle_until from window_idle w join service_window s "
        "on s.id = w.window_id where s.window_no = 1 and s.hall_id = "
        "(select id from hall where code = 'rizhao') order by idle_from"
    )
    assert len(idle) == 2  # open -> call, finish -> pause
    assert idle[0]["idle_until"] == t["called_at"]  # the call ends the idle time...
    assert idle[1]["idle_from"] == t["finished_at"]  # ...and the finish starts it again
    assert idle[1]["idle_until"] is not None  # until the pause


async def test_ticket_numbers_grow_past_999(http, db):
    kiosk = await kiosk_token(http)
    item = await item_of_window(db, 1)
    first = await register(http, kiosk, item)
    await db.execute(
        "update queue_day set last_number = 998 where queue_id = "
        "(select queue_id from item where code = $1 and hall_id = "
        "(select id from hall where code = 'rizhao'))",
        item,
    )
    prefix = first["ticket"]["ticket_no"][:-3]
    assert (await register(http, kiosk, item))["ticket"]["ticket_no"] == f"{prefix}999"
    assert (await register(http, kiosk, item))["ticket"]["ticket_no"] == f"{prefix}1000"


async def test_cancel_ends_the_ticket_with_a_reason(http, db):
    kiosk = await kiosk_token(http)
    clerk = await clerk_at_window(db, 1)
    reg = await register(http, kiosk, await item_of_window(db, 1))
    nothing = await command(http, clerk, 1, "cancel", {"reason": "群众主动放弃"}, expect=409)
    assert nothing["error"]["code"] == "nothing_current"
    await command(http, clerk, 1, "call-next")
    no_reason = await http.post(
        "/api/halls/rizhao/windows/1/cancel", json={"reason": ""}, headers=bearer(clerk)
    )
    assert no_reason.status == 400
    done = await command(http, clerk, 1, "cancel", {"reason": "群众主动放弃"})
    assert done["events"][0]["type"] == "ticket.cancelled"
    assert done["ticket"]["outcome"] == "cancelled"
    row = await db.fetchrow(
        "select outcome, note from ticket where registration_id = "
        "(select id from registration where reg_no = $1)",
        reg["reg_no"],
    )
    assert (row["outcome"], row["note"]) == ("cancelled", "群众主动放弃")
    assert (
        await db.fetchval("select detail->>'reason' from audit where action = 'ticket.cancel'")
        == "群众主动放弃"
    )


async def tax_item(db) -> str:
    """An item of the tax queue, which windows 18 and 19 serve (and not window 1)."""
    return await item_of_window(db, 18)


async def test_out_of_order_call_of_a_ticket_transferred_to_another_window_is_refused(http, db):
    kiosk = await kiosk_token(http)
    clerk18 = await clerk_at_window(db, 18)
    clerk19 = await clerk_at_window(db, 19)
    reg = await register(http, kiosk, await tax_item(db))
    ticket_no = reg["ticket"]["ticket_no"]
    await command(http, clerk18, 18, "call-next")
    await command(http, clerk18, 18, "transfer", {"to_window_no": 19, "note": "请到19号"})
    # window 18 serves the ticket's queue, but the ticket is now window 19's
    refused = await command(
        http, clerk18, 18, "call", {"ticket_no": ticket_no, "reason": "插队"}, expect=409
    )
    assert refused["error"]["code"] == "ticket_for_other_window"
    assert "19 号窗口" in refused["error"]["message"]
    assert (
        await db.fetchval(
            "select status from ticket where ticket_no = $1 and previous_id is not null", ticket_no
        )
        == "waiting"
    )
    called = await command(http, clerk19, 19, "call", {"ticket_no": ticket_no, "reason": "转办"})
    assert called["ticket"]["ticket_no"] == ticket_no


async def test_out_of_order_call_of_a_ticket_transferred_to_another_clerk_is_refused(http, db):
    kiosk = await kiosk_token(http)
    clerk18 = await clerk_at_window(db, 18)
    clerk19 = await clerk_at_window(db, 19)
    clerk19_id = await db.fetchval("select id from staff where username = 'clerk019'")
    reg = await register(http, kiosk, await tax_item(db))
    ticket_no = reg["ticket"]["ticket_no"]
    await command(http, clerk18, 18, "call-next")
    await command(http, clerk18, 18, "transfer", {"to_clerk_id": clerk19_id})
    refused = await command(
        http, clerk18, 18, "call", {"ticket_no": ticket_no, "reason": "插队"}, expect=409
    )
    assert refused["error"]["code"] == "ticket_for_other_clerk" and refused["error"]["message"]
    called = await command(http, clerk19, 19, "call", {"ticket_no": ticket_no, "reason": "转办"})
    assert called["ticket"]["ticket_no"] == ticket_no


async def test_out_of_order_call_of_a_ticket_of_a_queue_the_window_does_not_serve_is_refused(
    http, db
):
    kiosk = await kiosk_token(http)
    clerk1 = await clerk_at_window(db, 1)  # amr
    reg = await register(http, kiosk, await tax_item(db))  # another department's queue
    refused = await command(
        http,
        clerk1,
        1,
        "call",
        {"ticket_no": reg["ticket"]["ticket_no"], "reason": "插队"},
        expect=409,
    )
    assert refused["error"]["code"] == "queue_not_served" and refused["error"]["message"]
    assert await db.fetchval("select count(*) from ticket where status = 'called'") == 0


async def test_no_event_carries_the_query_code_phone_or_id_number(http, db):
    kiosk = await kiosk_token(http)
    clerk = await clerk_at_window(db, 1)
    phone, id_number = "13912345678", "11010519491231002X"
    notice = await register(
        http, kiosk, await item_of_window(db, 1), phone=phone, id_number=id_number
    )
    assert notice["query_code"]  # the kiosk's answer has it: it is printed on the notice
    for verb in ("call-next", "start", "finish"):
        await command(http, clerk, 1, verb)
    events = await db.fetch("select type, payload::text as text from event order by seq")
    assert {"ticket.registered", "ticket.called", "ticket.finished"} <= {e["type"] for e in events}
    for e in events:
        for secret in (notice["query_code"], phone, id_number, "query_code"):
            assert secret not in e["text"], (e["type"], secret)


def figures_of(payload: dict) -> dict[str, dict]:
    return {q["code"]: q for q in payload["queues"]}


async def queue_status(http) -> dict[str, dict]:
    body = await (await http.get("/api/halls/rizhao/queue-status")).json()
    return {q["code"]: q for q in body["queues"]}


async def test_queue_events_carry_the_figures_the_queue_status_shows(http, db):
    kiosk = await kiosk_token(http)
    item = await item_of_window(db, 1)
    queue = await db.fetchval(
        "select q.code from item i join queue q on q.id = i.queue_id where i.code = $1 "
        "and q.hall_id = (select id from hall where code = 'rizhao')",
        item,
    )
    await db.execute("update service_window set status = 'closed'")
    await db.execute("update queue set avg_service_seconds = 300")
    clerk1 = await clerk_at_window(db, 1)
    await clerk_at_window(db, 2)  # two open windows serve the queue
    for _ in range(3):
        await register(http, kiosk, item)
    registered = await db.fetchval(
        "select payload from event where type = 'ticket.registered' order by seq desc limit 1"
    )
    # ceil(3 waiting / 2 open windows) x 300 s
    assert registered["queues"] == [
        {
            "code": queue,
            "waiting": 3,
            "open_windows": 2,
            "avg_service_seconds": 300,
            "estimated_wait_seconds": 600,
        }
    ]
    assert registered["waiting"] == 3 and "query_code" not in registered
    status = await queue_status(http)  # the same numbers: one function computes both
    assert {k: status[queue][k] for k in registered["queues"][0]} == registered["queues"][0]

    called = (await command(http, clerk1, 1, "call-next"))["events"][0]["data"]
    assert figures_of(called)[queue]["waiting"] == 2 == called["waiting"]
    assert figures_of(called)[queue]["estimated_wait_seconds"] == 300
    await command(http, clerk1, 1, "start")
    await db.execute(
        "update ticket set service_started_at = now() - interval '800 seconds' "
        "where status = 'serving'"
    )
    finished = (await command(http, clerk1, 1, "finish"))["events"][0]["data"]
    # the moving average learnt from 800 s: (4 x 300 + 800) / 5 = 400
    assert figures_of(finished)[queue] == {
        "code": queue,
        "waiting": 2,
        "open_windows": 2,
        "avg_service_seconds": 400,
        "estimated_wait_seconds": 400,
    }
    status = await queue_status(http)
    assert {k: status[queue][k] for k in figures_of(finished)[queue]} == figures_of(finished)[queue]

    # a transfer to another queue changes both
    await command(http, clerk1, 1, "call-next")
    other = await db.fetchval(
        "select code from queue where prefix = 'B' and hall_id = "
        "(select id from hall where code = 'rizhao')"
    )
    moved = (await command(http, clerk1, 1, "transfer", {"queue": other}))["events"][0]["data"]
    assert [q["code"] for q in moved["queues"]] == [other, queue]
    assert figures_of(moved)[other]["waiting"] == moved["waiting"] == 1
    assert figures_of(moved)[queue]["waiting"] == 1

    # a requeued no-show is waiting again
    await command(http, clerk1, 1, "call-next")
    for _ in range(2):
        await command(http, clerk1, 1, "recall")
    gone = await command(http, clerk1, 1, "no-show", {"requeue": True})
    requeued = gone["events"][1]["data"]
    assert figures_of(requeued)[queue]["waiting"] == requeued["waiting"] == 1
