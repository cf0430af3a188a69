"""A morning at the hall through the HTTP API, then the whole event log held against the
catalogue: every event's payload validates against its declared schema (which refuses any
undeclared field), every declared event type happened, the answers carried their events'
sequence numbers, and no citizen's query code, phone, ID number or unmasked name is in any
event a screen can read."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from aiohttp import ClientSession

from server.catalogue import CATALOGUE
from server.catalogue.spine import TimerContext
from server.demo_workflows import COMPANY_SETUP
from server.domain import events as events_module
from server.domain.events import EventRecord
from server.domain.queueing import TZ
from server.keys import STORE
from tests.api_client import Api
from tests.cases.helpers import IMMEDIATE, PROMISED, SIGNOFF, at, use_clock
from tests.queue_helpers import item_of_window, kiosk_token, rater_at

H = "/api/halls/rizhao"
W = H + "/windows"
# names under which personal data would travel; none may appear unless declared personal
PERSONAL_NAMES = {"query_code", "phone", "id_number", "applicant", "mobile"}
PHONE, ID_NUMBER, NAME = "13800138000", "371102198001011238", "张小三"


def items_in(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield k, v
            yield from items_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from items_in(v)


def leaked(payload: Any, personal: frozenset[str]) -> set[str]:
    """Fields named as personal data that the event type does not declare personal. A case's
    applicant travels masked (张*三), as every screen but the serving clerk's shows it."""
    return {
        k
        for k, v in items_in(payload)
        if k in PERSONAL_NAMES
        and k not in personal
        and not (k == "applicant" and isinstance(v, str) and "*" in v)
    }


async def a_morning(api: Api, http: ClientSession, db) -> dict[str, list[int]]:
    """Every command of the queue and hall capabilities at least once; returns each answer's
    `seq` by command."""
    answers: dict[str, list[int]] = {}
    for who in ("admin", "clerk001", "clerk002", "display-01"):
        if who.startswith("display"):
            resp = await http.post("/api/auth/device", json={"code": who, "secret": "demo-display"})
            if resp.status == 200:
                api.tokens[who] = (await resp.json())["token"]
        else:
            await api.login(who)

    async def ok(who: str, name: str, method: str, url: str, **kw: Any) -> dict:
        status, body = await api.call(who, method, url, **kw)
        assert 200 <= status < 300, (name, status, body)
        answers.setdefault(name, []).extend(body["seq"])
        return body

    for n in (1, 2):
        await ok(f"clerk00{n}", "window.sign_in", "POST", f"{W}/{n}/sign-in")
        await ok(
            f"clerk00{n}", "window.set_status", "POST", f"{W}/{n}/status", json={"status": "open"}
        )
    kiosk = await kiosk_token(http)
    api.tokens["kiosk"] = kiosk
    item = await item_of_window(db, 1)
    tickets = []
    for _ in range(6):
        body = await ok(
            "kiosk",
            "ticket.register",
            "POST",
            f"{H}/registrations",
            json={"item": item, "phone": PHONE, "id_number": ID_NUMBER},
        )
        tickets.append(body["ticket"]["ticket_no"])
    # first ticket: called, recalled twice, no-show, requeued
    await ok("clerk001", "ticket.call_next", "POST", f"{W}/1/call-next")
    for _ in range(2):
        await ok("clerk001", "ticket.recall", "POST", f"{W}/1/recall")
    await ok("clerk001", "ticket.no_show", "POST", f"{W}/1/no-show", json={"requeue": True})
    # second: served with a pause to fetch a document
    await ok("clerk001", "ticket.call_next", "POST", f"{W}/1/call-next")
    await ok("clerk001", "ticket.start", "POST", f"{W}/1/start")
    await ok("clerk001", "ticket.park", "POST", f"{W}/1/park")
    board = await api.ok("clerk001", "GET", f"{W}/1/board")
    parked_id = board["parked"][0]["id"]
    await ok("clerk001", "ticket.resume", "POST", f"{W}/1/resume", json={"ticket_id": parked_id})
    await ok("clerk001", "ticket.finish", "POST", f"{W}/1/finish")
    # third: transferred to window 2, which cancels it at the citizen's wish
    await ok("clerk001", "ticket.call_next", "POST", f"{W}/1/call-next")
    await ok("clerk001", "ticket.transfer", "POST", f"{W}/1/transfer", json={"to_window_no": 2})
    await ok("clerk002", "ticket.call_next", "POST", f"{W}/2/call-next")
    await ok("clerk002", "ticket.cancel", "POST", f"{W}/2/cancel", json={"reason": "群众撤回"})
    # the last one called out of order, then parked and left to expire
    await ok(
        "clerk001",
        "ticket.call_ticket",
        "POST",
        f"{W}/1/call",
        json={"ticket_no": tickets[-1], "reason": "预约时间已到"},
    )
    await ok("clerk001", "ticket.park", "POST", f"{W}/1/park")
    # the admin's hall-wide commands
    await ok("admin", "notice.set", "PUT", f"{H}/notice", json={"text": "今天下午社保窗口暂停受理"})
    await ok(
        "admin", "registration.set_open", "PUT", f"{H}/registration-hours", json={"open": True}
    )
    await ok(
        "admin",
        "calendar.edit",
        "PUT",
        f"{H}/calendar/2027-01-04",
        json={"is_working": False, "note": "测试"},
    )
    await ok(
        "admin",
        "calendar.import",
        "POST",
        f"{H}/calendar/notice",
        json={
            "year": 2027,
            "holidays": [
                {
                    "name": "春节",
                    "from": "2027-02-05",
                    "to": "2027-02-12",
                    "working_days": ["2027-01-31", "2027-02-20"],
                }
            ],
        },
    )
    leader = await db.fetchval("select id from staff where username = 'leader.amr'")
    await ok("admin", "duty.set", "PUT", f"{H}/duty/2026-12-01", json={"staff_ids": [leader]})
    await ok("admin", "window.sign_out", "POST", f"{W}/2/sign-out")  # forced
    await ok("clerk001", "auth.logout", "POST", "/api/auth/logout")
    return answers


async def case_lives(api: Api, live) -> dict[str, list[int]]:
    """Every case command at least once: a case needing the leader's sign-off through its
    whole life (materials, a supplement, a special procedure, an escalation, an extension, the
    decision, completion, delivery), one refused, one withdrawn, one not accepted at the
    window, one not accepted after acceptance, a fee at a realty window."""
    use_clock(live, at("2026-12-07 10:00"))  # a Monday: leader.amr is on duty
    answers: dict[str, list[int]] = {}
    for who in ("clerk001", "clerk060", "clerk089", "leader.amr"):
        await api.login(who)

    async def ok(who: str, name: str, method: str, url: str, **kw: Any) -> dict:
        status, body = await api.call(who, method, url, **kw)
        assert 200 <= status < 300, (name, status, body)
        answers.setdefault(name, []).extend(body["seq"])
        return body

    await ok("clerk001", "window.sign_in", "POST", f"{W}/1/sign-in")
    await ok("clerk060", "window.sign_in", "POST", f"{W}/60/sign-in")
    await ok("clerk089", "window.sign_in", "POST", f"{W}/89/sign-in")
    applicant = {"name": NAME, "phone": PHONE, "id_number": ID_NUMBER}

    async def accepted(who: str, item: str) -> str:
        body = await ok(
            who, "case.accept", "POST", f"{H}/cases", json={"item": item, "applicant": applicant}
        )
        return f"/api/cases/{body['case_id']}"

    case = await accepted("clerk001", SIGNOFF)
    await ok(
        "clerk001",
        "case.materials",
        "PUT",
        f"{case}/materials",
        json={"materials": [{"position": 6, "status": "missing"}]},
    )
    await ok("clerk001", "case.start", "POST", f"{case}/start")
    await ok(
        "clerk001",
        "case.supplement_request",
        "POST",
        f"{case}/supplement",
        json={"materials": [{"position": 7, "status": "faulty", "problem": "未签字"}]},
    )
    await ok("clerk001", "case.supplement_receive", "POST", f"{case}/supplement/received", json={})
    await ok(
        "clerk001",
        "case.pause",
        "POST",
        f"{case}/pause",
        json={"kind": "inspection", "reason": "现场核查"},
    )
    await ok("clerk001", "case.resume", "POST", f"{case}/resume", json={"note": "核查完毕"})
    await ok("clerk001", "case.escalate", "POST", f"{case}/escalate", json={"reason": "报省局"})
    await ok("clerk001", "case.resume", "POST", f"{case}/resume", json={})
    await ok(
        "clerk001",
        "case.request_signoff",
        "POST",
        f"{case}/signoff-request",
        json={"purpose": "extension", "extension": 2, "note": "需专家评审"},
    )
    await ok("leader.amr", "case.signoff", "POST", f"{case}/signoff", json={"decision": "approve"})
    await ok(
        "clerk001",
        "case.request_signoff",
        "POST",
        f"{case}/signoff-request",
        json={"note": "材料齐全，请签批"},
    )
    await ok(
        "leader.amr",
        "case.signoff",
        "POST",
        f"{case}/signoff",
        json={"decision": "approve", "comment": "同意"},
    )
    await ok("clerk001", "case.complete", "POST", f"{case}/complete")
    await ok("clerk001", "case.deliver", "POST", f"{case}/deliver")

    refused = await accepted("clerk001", PROMISED)
    await ok(
        "clerk001",
        "case.decide",
        "POST",
        f"{refused}/decision",
        json={"decision": "refuse", "reason": "不符合条件"},
    )
    await ok("clerk001", "case.complete", "POST", f"{refused}/complete")
    withdrawn = await accepted("clerk001", PROMISED)
    await ok("clerk001", "case.withdraw", "POST", f"{withdrawn}/withdraw", json={"reason": "撤回"})
    later = await accepted("clerk001", IMMEDIATE)
    await ok(
        "clerk001",
        "case.not_accept",
        "POST",
        f"{H}/cases/not-accepted",
        json={"case_id": int(later.rsplit("/", 1)[1]), "reason": "不属于受理范围"},
    )
    await ok(
        "clerk001",
        "case.not_accept",
        "POST",
        f"{H}/cases/not-accepted",
        json={"item": PROMISED, "applicant": applicant, "reason": "不属于受理范围"},
    )
    realty = await accepted("clerk060", "realty-001")
    fee = await api.ok("clerk060", "GET", f"{H}/items/realty-001")
    fee_id = fee["fees"][0]["id"]
    await ok(
        "clerk060",
        "case.fee",
        "POST",
        f"{realty}/fees",
        json={"fee_id": fee_id, "amount_cents": 8000, "receipt_no": "SF-0001"},
    )
    # 多证联办: a joint case accepted at the lead window, its licence step claimed and done
    # (the four parallel steps become ready for their departments). Its tax step is a 联审 in
    # this version, so that the timers record it as consented (超时默许).
    review = copy.deepcopy(COMPANY_SETUP)
    review["code"] = "company-review"
    review["stages"][0]["steps"][4]["mode"] = "joint_review"
    status, body = await api.call(
        "admin", "PUT", f"{H}/workflows/company-review", json={"definition": review}
    )
    assert status == 201, body
    joint = await ok(
        "clerk001",
        "case.accept",
        "POST",
        f"{H}/cases",
        json={"item": PROMISED, "applicant": applicant, "workflow": "company-review"},
    )
    steps = await api.ok("clerk001", "GET", f"/api/cases/{joint['case_id']}/steps")
    licence = next(s["step_id"] for s in steps["steps"] if s["code"] == "licence")
    await ok("clerk001", "joint_step.claim", "POST", f"/api/joint-steps/{licence}/claim")
    await ok(
        "clerk001",
        "joint_step.complete",
        "POST",
        f"/api/joint-steps/{licence}/complete",
        json={"note": "准予设立登记", "issued": ["营业执照"]},
    )
    # 一表通: a project's first stage accepted at the 规划 window (project.changed)
    project = await ok(
        "clerk089",
        "case.accept",
        "POST",
        f"{H}/cases",
        json={
            "workflow": "construction-project",
            "project_name": "日照市第一中学新校区建设项目",
            "applicant": applicant,
        },
    )
    assert project["project_no"].startswith("XM-")
    return answers


async def ratings_given(api: Api, live, db) -> dict[str, list[int]]:
    """好差评: the clerk at window 1 asks for a rating of a ticket served there without a case,
    the window's device sends a bad one (its department's rectification opens, and its leader
    verifies it); the applicant of a completed case rates it through the SMS link."""
    answers: dict[str, list[int]] = {}
    ticket = await db.fetchval(
        "select t.id from ticket t join service_window w on w.id = t.window_id "
        "where w.window_no = 1 and t.status = 'done' and t.outcome = 'served' "
        "and not exists (select 1 from service_case c where c.ticket_id = t.id) "
        "order by t.id desc limit 1"
    )
    assert ticket is not None, "the morning served no ticket without a case at window 1"
    status, body = await api.call(
        "clerk001", "POST", f"{W}/1/rating-request", json={"ticket_id": ticket}
    )
    assert status == 200, body
    answers["rating.request"] = body["seq"]
    device = await rater_at(db, 1)
    async with ClientSession(base_url=live.url) as phone:  # no staff cookie: a citizen's
        resp = await phone.post(
            f"{W}/1/rating",
            json={"level": 1, "reasons": ["attitude"]},
            headers={"Authorization": f"Bearer {device}"},
        )
        body = await resp.json()
        assert resp.status == 201, body
        answers["rating.by_device"] = body["seq"]
        # its department's leader verifies the task the bad review opened (整改)
        task = await db.fetchval("select max(id) from rectification")
        assert task is not None, "the bad review opened no rectification"
        await api.login("leader.amr")
        status, body = await api.call(
            "leader.amr", "POST", f"/api/rectifications/{task}/verify", json={"note": "核实属实"}
        )
        assert status == 200, body
        answers["rectification.verify"] = body["seq"]
        invite = await db.fetchval(
            "select body from notification where dedupe_key like 'rate-invite:%' limit 1"
        )
        assert invite is not None, "no completed case was invited to rate"
        token = invite.split("/rate/")[1].split()[0]
        resp = await phone.post(f"/api/rate/{token}", json={"level": 5})
        body = await resp.json()
        assert resp.status == 201, body
        answers["rating.by_invite"] = body["seq"]
    return answers


async def run_timers(live, db) -> None:
    """Every declared timer job, as the owning process runs it, after closing time with a
    ticket parked for a day."""
    await db.execute(
        "update ticket set parked_at = now() - interval '1 day' where status = 'parked'"
    )
    hall = await db.fetchrow("select * from hall where code = 'rizhao'")
    ctx = TimerContext(live.app[STORE])
    # tomorrow's closing instant is after every ticket of this test, whatever the hour now
    tomorrow = datetime.now(TZ).date() + timedelta(days=1)
    after_closing = datetime.combine(tomorrow, hall["closes_at"], TZ) + timedelta(minutes=1)
    for job in CATALOGUE.timers.values():
        await job.run(ctx, hall, after_closing)
    # the case clocks' alarms: months later every open case's ladder is due, whatever today is
    await CATALOGUE.timers["alarm.fire_case"].run(ctx, hall, datetime(2027, 6, 1, 10, tzinfo=TZ))


async def an_alarm_handled(api: Api, db) -> dict[str, list[int]]:
    """Supervision acknowledges one of the alarms the timers raised."""
    answers: dict[str, list[int]] = {}
    await api.login("supervisor1")
    alarm_id = await db.fetchval("select min(id) from alarm")
    assert alarm_id is not None, "the timers raised no alarm"
    status, body = await api.call("supervisor1", "POST", f"/api/alarms/{alarm_id}/acknowledge")
    assert status == 200, body
    answers["alarm.acknowledge"] = body["seq"]
    return answers


async def the_admin_at_work(api: Api, db) -> dict[str, list[int]]:
    """The admin adds a clerk and a window, registers a kiosk, publishes an item and changes a
    setting (issue 12)."""
    answers: dict[str, list[int]] = {}
    await api.login("admin")
    calls = [
        (
            "staff.create",
            "POST",
            f"{H}/staff",
            {"username": "contract.new", "name": "新同事", "role": "clerk", "department": "amr"},
        ),
        (
            "device.register",
            "POST",
            f"{H}/devices",
            {"code": "contract-kiosk", "kind": "kiosk", "name": "二楼取号机"},
        ),
        (
            "window.create",
            "POST",
            W,
            {"window_no": 131, "name": "综合受理 131", "department": "amr", "queues": [["amr"]]},
        ),
        ("department.save", "PUT", f"{H}/departments/contract", {"name": "合同部门"}),
        (
            "item.publish",
            "PUT",
            f"{H}/items/contract-1",
            {"name": "合同事项", "department": "amr", "kind": "immediate", "statutory_limit": 0},
        ),
    ]
    for name, method, url, body in calls:
        status, answer = await api.call("admin", method, url, json=body)
        assert status in (200, 201), (name, answer)
        answers[name] = answer["seq"]
    status, settings = await api.call("admin", "GET", f"{H}/settings")
    assert status == 200, settings
    settings = {k: v for k, v in settings.items() if k != "is_demo"}
    status, answer = await api.call(
        "admin", "PUT", f"{H}/settings", json={**settings, "park_minutes": 45}
    )
    assert status == 200, answer
    answers["hall.set_settings"] = answer["seq"]
    return answers


async def test_a_morning_of_events_keeps_to_the_catalogue(live, http, db):
    api = Api(http)
    answers = await a_morning(api, http, db)
    for name, seqs in (await case_lives(api, live)).items():
        answers.setdefault(name, []).extend(seqs)
    answers.update(await ratings_given(api, live, db))
    await run_timers(live, db)
    answers.update(await an_alarm_handled(api, db))
    answers.update(await the_admin_at_work(api, db))
    hall_id = await db.fetchval("select id from hall where code = 'rizhao'")
    rows = await db.fetch(
        "select seq, type, payload, window_id, at from event where hall_id = $1 order by seq",
        hall_id,
    )
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))  # gapless
    wrong = []
    for r in rows:
        ev = CATALOGUE.events.get(r["type"])
        if ev is None:
            wrong.append(f"{r['seq']} {r['type']}: not declared")
            continue
        try:
            ev.payload.model_validate(r["payload"])
        except ValueError as exc:
            wrong.append(f"{r['seq']} {r['type']}: {exc}")
        personal = leaked(r["payload"], ev.personal)
        if personal:
            wrong.append(f"{r['seq']} {r['type']}: personal data {sorted(personal)}")
        text = str(r["payload"])
        if PHONE in text or ID_NUMBER in text or NAME in text:
            wrong.append(f"{r['seq']} {r['type']}: a citizen's number or name in the payload")
    assert not wrong, "\n".join(wrong)
    assert {r["type"] for r in rows} == set(CATALOGUE.events), "declared but not seen: " + str(
        sorted(set(CATALOGUE.events) - {r["type"] for r in rows})
    )
    # read back over HTTP, the log is the stream's: every number, but an internal event
    # (session.ended: session ids, staff ids) only as a skip frame holding its place
    read = await api.ok("admin", "GET", f"{H}/events", params={"since": 0, "limit": 2000})
    assert [e["seq"] for e in read["events"]] == [r["seq"] for r in rows]
    internal = {n for n, ev in CATALOGUE.events.items() if not ev.delivered}
    for e, r in zip(read["events"], rows, strict=True):
        if r["type"] in internal:
            assert e == {"seq": r["seq"], "type": "skip"}
        else:
            assert (e["type"], e["data"]) == (r["type"], r["payload"])
    assert any(r["type"] in internal for r in rows)
    # every command's answer named exactly the events it committed, registration included
    by_seq = {r["seq"]: r["type"] for r in rows}
    for name, seqs in answers.items():
        op = CATALOGUE.operations[name]
        assert seqs, f"{name} answered no sequence numbers"
        assert {by_seq[s] for s in seqs} <= set(op.emits), (name, [by_seq[s] for s in seqs])


async def test_declared_personal_fields_never_leave_the_server(monkeypatch):
    """A field declared personal stays in the log (the payload) and out of every frame."""
    monkeypatch.setattr(
        events_module,
        "_client_view",
        lambda: (frozenset(), {"ticket.registered": frozenset({"phone"})}),
    )
    rec = EventRecord(
        1, 7, "ticket.registered", {"ticket_no": "A001", "phone": PHONE}, None, datetime.now(TZ)
    )
    assert rec.to_wire()["data"] == {"ticket_no": "A001"}
    assert PHONE.encode() not in rec.encode()
    assert rec.payload["phone"] == PHONE
    assert rec.to_bus()["data"]["phone"] == PHONE  # the other server processes get it whole
