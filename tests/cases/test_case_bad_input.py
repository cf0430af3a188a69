"""Bad input to every case command: the exact 4xx with its code and field, never a 500, and
nothing written (no case, history, material, fee, notice, sign-off, event or SMS) — except the
one thing a refused fee must leave: its row in the irregularity table for supervision. /track
answers a wrong code the same whether or not the code exists, and limits each client (429 with
Retry-After)."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
from aiohttp import ClientSession

from tests.cases.helpers import (
    IMMEDIATE,
    PROMISED,
    SIGNOFF,
    accept,
    at,
    command,
    serving_ticket,
    use_clock,
)
from tests.conftest import login
from tests.queue_helpers import bearer, clerk_at_window, kiosk_token, register

CASES = "/api/halls/rizhao/cases"
APPLICANT = {"name": "张小三", "phone": "13800138000"}


async def written(db: asyncpg.Connection, alarmed: bool = False) -> str:
    """Everything a case command could write, hall-wide (the irregularity table and the audit
    trail apart: a refusal is recorded there on purpose; `alarmed`: the events and SMS apart
    too, for a refused fee raises its supervision alarm with them)."""
    row = await db.fetchrow("""
        select
          (select json_agg(row_to_json(c) order by c.id) from service_case c) as cases,
          (select json_agg(row_to_json(d) order by d.hall_id, d.day) from case_day d) as numbers,
          (select count(*) from case_history) as history,
          (select json_agg(json_build_object('c', case_id, 'p', position, 's', status,
                           'd', deferred, 'x', problem) order by case_id, position)
           from case_material) as materials,
          (select count(*) from case_fee) as fees,
          (select json_agg(json_build_object('id', id, 'r', received_at) order by id)
           from supplement_notice) as notices,
          (select json_agg(json_build_object('id', id, 'd', decision) order by id)
           from signoff_request) as signoffs,
          (select count(*) from event) as events,
          (select count(*) from notification) as sms
        """)
    out = dict(row)
    if alarmed:
        del out["events"], out["sms"]
    return json.dumps(out, sort_keys=True, default=str)


async def irregularities(db: asyncpg.Connection) -> list[asyncpg.Record]:
    return await db.fetch("select case_id, kind, detail, window_id from irregularity order by id")


async def refused(
    http: ClientSession,
    db: asyncpg.Connection,
    token: str,
    method: str,
    url: str,
    body: Any,
    status: int,
    code: str,
    field: str | None,
) -> dict:
    """The request is refused exactly so, and writes nothing."""
    fee = code in ("fee_not_listed", "fee_above_list")
    before = await written(db, fee)
    marks = len(await irregularities(db))
    resp = await http.request(method, url, json=body, headers=bearer(token))
    answer = await resp.json()
    err = answer.get("error", {})
    assert (resp.status, err.get("code"), err.get("field")) == (status, code, field), (
        method,
        url,
        body,
        resp.status,
        answer,
    )
    assert err["message"], answer
    assert await written(db, fee) == before, f"{method} {url} {body}: refused but wrote"
    if not fee:
        assert len(await irregularities(db)) == marks, f"{code} recorded an irregularity"
    return err


async def test_acceptance_is_refused_with_code_and_field(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))  # Monday: amr-001 is due Wednesday 17:00
    token, ticket_id, reg = await serving_ticket(http, db)
    deficiency = {"commitment_signed": True, "due": "2026-12-09"}
    missing_6 = [{"position": 6, "status": "missing"}]
    cases: list[tuple[dict, int, str, str | None]] = [
        ({"item": PROMISED}, 400, "invalid_field", "applicant"),
        ({"item": PROMISED, "applicant": {"name": " "}}, 400, "invalid_field", "applicant.name"),
        (
            {"item": PROMISED, "applicant": {"name": "张小三", "phone": "1380013800"}},
            400,
            "invalid_phone",
            "applicant.phone",
        ),
        (
            {"item": PROMISED, "applicant": {"name": "张小三", "id_number": "371102198001011230"}},
            400,
            "invalid_id_number",
            "applicant.id_number",
        ),
        (
            {"item": PROMISED, "materials": [{"position": 99, "status": "missing"}]},
            400,
            "unknown_material",
            "materials",
        ),
        (
            {"item": PROMISED, "materials": [{"position": 1, "status": "lost"}]},
            400,
            "invalid_field",
            "materials.0.status",
        ),
        # 容缺受理
        (
            {
                "item": PROMISED,
                "materials": [{"position": 1, "status": "missing"}],
                "deficiency": deficiency,
            },
            400,
            "key_material",
            "materials",
        ),
        (
            {
                "item": PROMISED,
                "materials": missing_6,
                "deficiency": {"commitment_signed": True, "due": "2026-12-10"},
            },
            400,
            "deficiency_due",  # after the case's own deadline
            "deficiency",
        ),
        (
            {
                "item": PROMISED,
                "materials": missing_6,
                "deficiency": {"commitment_signed": True, "due": "2026-12-04"},
            },
            400,
            "deficiency_due",  # already past
            "deficiency",
        ),
        (
            {
                "item": PROMISED,
                "materials": missing_6,
                "deficiency": {"commitment_signed": False, "due": "2026-12-09"},
            },
            400,
            "commitment_missing",
            "deficiency",
        ),
        ({"item": PROMISED, "deficiency": deficiency}, 400, "nothing_deferred", "materials"),
        (
            {"item": IMMEDIATE, "materials": [{"position": 5, "status": "missing"}]}
            | {"deficiency": deficiency},
            400,
            "deficiency_not_allowed",
            "deficiency",
        ),
        ({"item": IMMEDIATE, "urgent": True}, 400, "no_urgent_limit", "urgent"),
        # the item, the ticket, the registration
        ({"item": "amr-999"}, 404, "unknown_item", "item"),
        ({"item": "psb-003"}, 409, "item_other_department", "item"),
        ({"ticket_id": ticket_id, "reg_no": reg["reg_no"]}, 400, "invalid_field", "ticket_id"),
        ({"ticket_id": 99_999_999}, 404, "unknown_ticket", "ticket_id"),
        ({"reg_no": "26129999999999"}, 404, "unknown_registration", "reg_no"),
        ({"item": PROMISED, "extra": 1}, 400, "invalid_field", "extra"),
    ]
    for body, status, code, field in cases:
        if field != "applicant":
            body = {"applicant": APPLICANT, **body}
        await refused(http, db, token, "POST", CASES, body, status, code, field)

    # not accepted at the window: a reason is required
    for reason, code in (("", "reason_required"), ("   ", "reason_required")):
        await refused(
            http,
            db,
            token,
            "POST",
            CASES + "/not-accepted",
            {"item": PROMISED, "applicant": APPLICANT, "reason": reason},
            400,
            code,
            "reason",
        )

    # a ticket served at another window, and one still waiting, are not this window's
    _, other_ticket, _ = await serving_ticket(http, db, window_no=2)
    await refused(
        http,
        db,
        token,
        "POST",
        CASES,
        {"ticket_id": other_ticket, "applicant": APPLICANT},
        409,
        "ticket_not_here",
        "ticket_id",
    )
    waiting = await register(http, await kiosk_token(http), PROMISED)
    await refused(
        http,
        db,
        token,
        "POST",
        CASES,
        {"ticket_id": waiting["ticket"]["id"], "applicant": APPLICANT},
        409,
        "ticket_not_here",
        "ticket_id",
    )

    # accepted once; the second time it is refused
    case = await accept(http, token, ticket_id=ticket_id)
    assert case["state"] == "accepted"
    await refused(
        http,
        db,
        token,
        "POST",
        CASES,
        {"ticket_id": ticket_id, "applicant": APPLICANT},
        409,
        "already_accepted",
        "ticket_id",
    )
    await refused(
        http,
        db,
        token,
        "POST",
        CASES + "/not-accepted",
        {"ticket_id": ticket_id, "applicant": APPLICANT, "reason": "不属于受理范围"},
        409,
        "already_accepted",
        "ticket_id",
    )


VERBS: list[tuple[str, str, Any]] = [
    ("POST", "start", None),
    ("POST", "decision", {"decision": "approve"}),
    ("POST", "complete", None),
    ("POST", "deliver", None),
    ("POST", "withdraw", {"reason": "撤回"}),
    ("PUT", "materials", {"materials": [{"position": 1, "status": "submitted"}]}),
    ("POST", "supplement", {"materials": [{"position": 6, "status": "missing"}]}),
    ("POST", "supplement/received", {}),
    ("POST", "pause", {"kind": "inspection", "reason": "现场核查"}),
    ("POST", "escalate", {"reason": "报上级审批"}),
    ("POST", "resume", {}),
    ("POST", "fees", {"fee_id": 9, "amount_cents": 100, "receipt_no": "SF-X"}),
    ("POST", "signoff-request", {"note": "请签批"}),
    ("POST", "signoff", {"decision": "approve"}),
    ("GET", "", None),
    ("GET", "notice", None),
]


async def test_case_commands_refuse_bad_input_and_change_nothing(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    token = await clerk_at_window(db, 1)
    leader = (await login(http, "leader.amr"))["token"]
    case = await accept(http, token, item=SIGNOFF)
    cid = case["case_id"]
    url = f"/api/cases/{cid}"

    # an unknown case, for every command and read
    for method, verb, body in VERBS:
        who = leader if verb == "signoff" else token
        path = "/api/cases/99999999" + (f"/{verb}" if verb else "")
        await refused(http, db, who, method, path, body, 404, "unknown_case", "case_id")
    await refused(
        http,
        db,
        token,
        "POST",
        CASES + "/not-accepted",
        {"case_id": 99_999_999, "reason": "不予受理"},
        404,
        "unknown_case",
        "case_id",
    )

    bad: list[tuple[str, str, Any, int, str, str | None]] = [
        # reasons
        ("POST", "withdraw", {"reason": " "}, 400, "reason_required", "reason"),
        ("POST", "withdraw", None, 400, "empty_body", None),
        ("POST", "decision", {"decision": "refuse"}, 400, "reason_required", "reason"),
        ("POST", "decision", {"decision": "maybe"}, 400, "invalid_field", "decision"),
        ("POST", "pause", {"kind": "inspection", "reason": ""}, 400, "reason_required", "reason"),
        ("POST", "pause", {"kind": "escalation", "reason": "x"}, 400, "invalid_field", "kind"),
        ("POST", "escalate", {"reason": ""}, 400, "reason_required", "reason"),
        (
            "POST",
            "signoff-request",
            {"purpose": "extension", "extension": 2},
            400,
            "reason_required",
            "note",
        ),
        (
            "POST",
            "signoff-request",
            {"purpose": "extension", "note": "需现场核查"},
            400,
            "invalid_field",
            "extension",
        ),
        (
            "POST",
            "signoff-request",
            {"purpose": "extension", "note": "x", "extension": 11},
            400,
            "invalid_field",
            "extension",
        ),
        # materials
        (
            "PUT",
            "materials",
            {"materials": [{"position": 99, "status": "missing"}]},
            400,
            "unknown_material",
            "materials",
        ),
        ("PUT", "materials", {"materials": []}, 400, "invalid_field", "materials"),
        (
            "PUT",
            "materials",
            {"materials": [{"position": 1, "status": "supplemented"}]},
            400,
            "invalid_field",
            "materials.0.status",
        ),
        (
            "POST",
            "supplement",
            {"materials": [{"position": 6, "status": "submitted"}]},
            400,
            "invalid_field",
            "materials",
        ),
        (
            "POST",
            "supplement",
            {"materials": [{"position": 0, "status": "missing"}]},
            400,
            "invalid_field",
            "materials.0.position",
        ),
        (
            "POST",
            "supplement",
            {"materials": [{"position": 42, "status": "missing"}]},
            400,
            "unknown_material",
            "materials",
        ),
        ("POST", "supplement/received", {}, 409, "nothing_missing", "materials"),
        ("POST", "supplement/received", {"positions": [1]}, 409, "not_missing", "materials"),
        # the clock
        ("POST", "resume", {}, 409, "clock_running", "clock"),
        # what may not follow: the transition table
        ("POST", "complete", None, 409, "case_state", "state"),
        ("POST", "deliver", None, 409, "case_state", "state"),
        ("POST", "signoff-request", {"note": "请签批"}, 409, "case_state", "state"),
        # the item needs the leader's sign-off
        ("POST", "decision", {"decision": "approve"}, 409, "signoff_required", "decision"),
    ]
    for method, verb, body, status, code, field in bad:
        await refused(http, db, token, method, f"{url}/{verb}", body, status, code, field)
    await refused(
        http,
        db,
        token,
        "POST",
        CASES + "/not-accepted",
        {"case_id": cid, "reason": ""},
        400,
        "reason_required",
        "reason",
    )

    # a material missing now: receiving an unknown or a submitted one is refused
    await command(
        http, token, cid, "materials", {"materials": [{"position": 6, "status": "missing"}]}, "PUT"
    )
    await refused(
        http,
        db,
        token,
        "POST",
        f"{url}/supplement/received",
        {"positions": [42]},
        400,
        "unknown_material",
        "materials",
    )
    await refused(
        http,
        db,
        token,
        "POST",
        f"{url}/supplement/received",
        {"positions": [1]},
        409,
        "not_missing",
        "materials",
    )
    # the supplement notice is open: a second one is refused, and so is marking what it asked
    # for as submitted (it is received instead, which restarts the clock)
    await command(
        http, token, cid, "supplement", {"materials": [{"position": 6, "status": "missing"}]}
    )
    await refused(
        http,
        db,
        token,
        "POST",
        f"{url}/supplement",
        {"materials": [{"position": 7, "status": "missing"}]},
        409,
        "supplement_open",
        "materials",
    )
    await refused(
        http,
        db,
        token,
        "PUT",
        f"{url}/materials",
        {"materials": [{"position": 6, "status": "submitted"}]},
        409,
        "supplement_open",
        "materials",
    )
    await refused(http, db, token, "POST", f"{url}/resume", {}, 409, "supplement_pause", "clock")
    await refused(
        http,
        db,
        token,
        "POST",
        f"{url}/pause",
        {"kind": "testing", "reason": "检验"},
        409,
        "clock_paused",
        "clock",
    )
    await command(http, token, cid, "supplement/received", {})

    # the leader's comment on a rejection
    await command(http, token, cid, "start")
    await command(http, token, cid, "signoff-request", {"note": "请签批"})
    await refused(
        http,
        db,
        leader,
        "POST",
        f"{url}/signoff",
        {"decision": "reject", "comment": "  "},
        400,
        "reason_required",
        "comment",
    )
    await refused(
        http,
        db,
        leader,
        "POST",
        f"{url}/signoff",
        {"decision": "approve", "comment": "x" * 501},
        400,
        "invalid_field",
        "comment",
    )


async def realty_case(http: ClientSession, db: asyncpg.Connection) -> tuple[str, int]:
    """A realty-001 case (fees: 不动产登记费（住宅） 80.00 and 工本费 10.00) at window 60."""
    token = await clerk_at_window(db, 60)
    case = await accept(http, token, item="realty-001")
    return token, case["case_id"]


async def test_a_fee_off_the_list_is_refused_and_recorded_for_supervision(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    token, cid = await realty_case(http, db)
    listed = {
        r["name"]: r["id"]
        for r in await db.fetch(
            "select f.id, f.name from item_fee f join item i on i.id = f.item_id "
            "join hall h on h.id = i.hall_id where h.code = 'rizhao' and i.code = 'realty-001'"
        )
    }
    fee = listed["不动产登记费（住宅）"]
    foreign = await db.fetchval(
        "select f.id from item_fee f join item i on i.id = f.item_id where i.code = 'psb-003'"
    )
    window_60 = await db.fetchval(
        "select w.id from service_window w join hall h on h.id = w.hall_id "
        "where h.code = 'rizhao' and w.window_no = 60"
    )
    url = f"/api/cases/{cid}/fees"
    for body, code, detail in [
        (
            {"fee_id": foreign, "amount_cents": 4000, "receipt_no": "SF-1"},
            "fee_not_listed",
            {"fee_id": foreign, "amount_cents": 4000},
        ),
        (
            {"fee_id": 999_999, "amount_cents": 100, "receipt_no": "SF-1"},
            "fee_not_listed",
            {"fee_id": 999_999, "amount_cents": 100},
        ),
        (
            {"fee_id": fee, "amount_cents": 8001, "receipt_no": "SF-1"},
            "fee_above_list",
            {"fee_id": fee, "amount_cents": 8001, "listed_cents": 8000},
        ),
    ]:
        marks = await irregularities(db)
        await refused(http, db, token, "POST", url, body, 409, code, "fee_id")
        new = (await irregularities(db))[len(marks) :]
        assert [(r["case_id"], r["kind"], r["detail"], r["window_id"]) for r in new] == [
            (cid, code, detail, window_60)
        ]
        assert (
            await db.fetchval(
                "select outcome from audit where action = 'case.fee' order by id desc limit 1"
            )
            == "refused"
        )

    # within the list: collected, once per receipt number in the hall
    paid = await command(
        http, token, cid, "fees", {"fee_id": fee, "amount_cents": 8000, "receipt_no": "SF-1"}
    )
    assert paid["state"] == "accepted"
    marks = len(await irregularities(db))
    await refused(
        http,
        db,
        token,
        "POST",
        url,
        {
            "fee_id": listed["不动产权属证书工本费（第二本起）"],
            "amount_cents": 1000,
            "receipt_no": "SF-1",
        },
        409,
        "receipt_used",
        "receipt_no",
    )
    _, other = await realty_case(http, db)
    await refused(
        http,
        db,
        token,
        "POST",
        f"/api/cases/{other}/fees",
        {"fee_id": fee, "amount_cents": 8000, "receipt_no": "SF-1"},
        409,
        "receipt_used",
        "receipt_no",
    )
    await refused(
        http,
        db,
        token,
        "POST",
        url,
        {"fee_id": fee, "amount_cents": 0, "receipt_no": "SF-2"},
        400,
        "invalid_field",
        "amount_cents",
    )
    await refused(
        http,
        db,
        token,
        "POST",
        url,
        {"fee_id": fee, "amount_cents": 100, "receipt_no": "   "},
        400,
        "invalid_field",
        "receipt_no",
    )
    assert len(await irregularities(db)) == marks
    fees = await db.fetch("select case_id, amount_cents, receipt_no from case_fee")
    assert [tuple(f) for f in fees] == [(cid, 8000, "SF-1")]


async def test_track_answers_a_wrong_code_the_same_whether_or_not_it_exists(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    token = await clerk_at_window(db, 1)
    case = await accept(http, token, item=PROMISED)
    # a registration nobody accepted: its codes exist, but lead to no case
    reg = await register(http, await kiosk_token(http), PROMISED)
    codes = [reg["query_code"], reg["reg_no"], "ZZZZZZZZZZ", "ABCD2345", "nope-nope"]
    answers = []
    for code in codes:
        resp = await http.get(f"/api/track/{code}")
        answers.append((resp.status, await resp.text()))
    assert answers[0][0] == 404 and json.loads(answers[0][1])["error"]["code"] == (
        "unknown_query_code"
    )
    assert all(a == answers[0] for a in answers), answers
    resp = await http.get(f"/api/track/{case['query_code'].lower()}")
    assert resp.status == 200, await resp.text()
    assert "query_code" not in await resp.json()

    # the per-client limit: a burst, then 429 with Retry-After whatever the code
    statuses = []
    for i in range(30):
        resp = await http.get(f"/api/track/{case['query_code'] if i % 2 else 'ZZZZZZZZZZ'}")
        statuses.append(resp.status)
        if resp.status == 429:
            body = await resp.json()
            assert body["error"]["code"] == "rate_limited", body
            assert int(resp.headers["Retry-After"]) >= 1
            break
    assert statuses[-1] == 429, statuses
    assert len(statuses) + len(codes) + 1 <= 14, f"the burst allowed {statuses}"
    resp = await http.get(f"/api/track/{case['query_code']}")
    assert resp.status == 429  # a right code gets no other answer while limited


async def test_malformed_fields_are_refused_in_chinese(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    token, _, _ = await serving_ticket(http, db)
    missing_6 = [{"position": 6, "status": "missing"}]
    for body, field, said in (
        (
            {
                "materials": missing_6,
                "deficiency": {"commitment_signed": True, "due": "61211-12-11"},
            },
            "deficiency.due",
            "应为 YYYY-MM-DD 格式的日期",
        ),
        ({"urgent": "maybe"}, "urgent", "应为 true 或 false"),
        ({"applicant": {"name": "张" * 200}}, "applicant.name", "不能超过 60 个字符"),
    ):
        answer = await refused(
            http,
            db,
            token,
            "POST",
            CASES,
            {"item": PROMISED, "applicant": APPLICANT, **body},
            400,
            "invalid_field",
            field,
        )
        assert answer["message"] == f"字段 {field} {said}"
