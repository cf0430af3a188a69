"""The citizen's live /track: an anonymous Socket.IO /hall connection {"track": code} gets the
events of its own case only (as {"seq", "type"}, no payload), never the hall's snapshot, hall-
wide events or another case's; it resumes with `since` like a terminal; a wrong code is refused
with one answer whether or not anything has that code; it shares the HTTP view's rate limit."""

from __future__ import annotations

import asyncio

import pytest

from server.api.ratelimit import RateLimiter
from server.keys import CONTEXT, SIO
from tests.cases.helpers import PROMISED, accept, at, command, serving_ticket, use_clock
from tests.conftest import login
from tests.queue_helpers import bearer, clerk_at_window, kiosk_token, register
from tests.realtime.sio import SioClient
from tests.realtime.test_socketio import _refused


async def _two_cases(live, http, db) -> tuple[dict, str, dict, str]:
    """Case A at window 1 and case B at window 2 (same department, so a department room would
    get both): each with its clerk's token."""
    use_clock(live, at("2026-12-07 10:00"))
    token_a, ticket_a, _ = await serving_ticket(http, db, window_no=1, item=PROMISED)
    case_a = await accept(http, token_a, ticket_id=ticket_a, item=PROMISED)
    token_b, ticket_b, _ = await serving_ticket(http, db, window_no=2, item=PROMISED)
    case_b = await accept(http, token_b, ticket_id=ticket_b, item=PROMISED)
    return case_a, token_a, case_b, token_b


async def _notice(http, admin: str, text: str) -> None:
    resp = await http.put("/api/halls/rizhao/notice", json={"text": text}, headers=bearer(admin))
    assert resp.status == 200, await resp.text()


async def test_a_track_connection_gets_only_its_own_cases_events(live, http, db):
    case_a, token_a, case_b, token_b = await _two_cases(live, http, db)
    admin = (await login(http, "admin"))["token"]
    client = await SioClient().connect(live.url, auth={"track": case_a["query_code"]})
    try:
        # no snapshot of the hall: the live marker at the head of the log is all it starts with
        (marker,) = await client.until_live()
        assert marker["type"] == "live"
        head = marker["seq"]

        # around A's command: B's, a hall-wide notice, window changes, ticket events
        await command(http, token_b, case_b["case_id"], "start")
        await _notice(http, admin, "今日下午 3 点系统维护")
        await clerk_at_window(db, 3)
        resp = await http.post(
            "/api/halls/rizhao/windows/3/status", json={"status": "paused"}, headers=bearer(admin)
        )
        assert resp.status == 200, await resp.text()
        await register(http, await kiosk_token(http), PROMISED)
        started = await command(http, token_a, case_a["case_id"], "start")
        await command(http, token_b, case_b["case_id"], "decision", {"decision": "approve"})
        await command(http, token_a, case_a["case_id"], "decision", {"decision": "approve"})

        got = await client.events(2, timeout=3)
        assert [f["type"] for f in got] == ["case.changed", "case.changed"]
        # the event's number in the hall's log, and nothing of its payload
        assert got[0] == {"seq": started["seq"][0], "type": "case.changed"}
        assert all(set(f) == {"seq", "type"} for f in got)
        assert head < got[0]["seq"] < got[1]["seq"]
        assert await client.quiet(0.5) == []
    finally:
        await client.close()


async def test_a_signoff_decision_reaches_the_case_but_not_its_comment(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    token, ticket_id, _ = await serving_ticket(http, db, item="amr-012")
    case = await accept(http, token, ticket_id=ticket_id, item="amr-012")
    await command(http, token, case["case_id"], "start")
    client = await SioClient().connect(live.url, auth={"track": case["query_code"]})
    try:
        await client.until_live()
        await command(http, token, case["case_id"], "signoff-request", {"note": "请签批"})
        leader = (await login(http, "leader.amr"))["token"]
        await command(
            http,
            leader,
            case["case_id"],
            "signoff",
            {"decision": "approve", "comment": "同意，内部意见"},
        )
        frames = await client.events(2, timeout=3)
        # signoff.requested is for the department's screens; the case's own change and the
        # decision reach the citizen, as positions only
        types = [f["type"] for f in frames]
        assert set(types) <= {"case.changed", "signoff.decided"}, types
        assert "同意" not in str(client.frames + await client.quiet(0.5))
    finally:
        await client.close()


async def test_resume_with_since_gets_only_the_cases_missed_events(live, http, db):
    case_a, token_a, case_b, token_b = await _two_cases(live, http, db)
    client = await SioClient().connect(live.url, auth={"track": case_a["query_code"]})
    last = (await client.until_live())[-1]["seq"]
    await client.close()

    missed = await command(http, token_a, case_a["case_id"], "start")
    await command(http, token_b, case_b["case_id"], "start")
    client = await SioClient().connect(
        live.url, auth={"track": case_a["query_code"], "since": last}
    )
    try:
        frames = await client.until_live()
        assert frames[:-1] == [{"seq": missed["seq"][0], "type": "case.changed"}]
        assert frames[-1]["type"] == "live" and frames[-1]["seq"] > missed["seq"][0]
        # a since from the future or malformed: no backlog, no snapshot, just live
        for since in (10**9, "abc", -1):
            other = await SioClient().connect(
                live.url, auth={"track": case_a["query_code"], "since": since}
            )
            try:
                assert [f["type"] for f in await other.until_live()] == ["live"]
            finally:
                await other.close()
    finally:
        await client.close()


async def test_the_registration_notices_query_code_follows_its_case_its_reg_no_does_not(
    live, http, db
):
    use_clock(live, at("2026-12-07 10:00"))
    token, ticket_id, reg = await serving_ticket(http, db, item=PROMISED)
    case = await accept(http, token, ticket_id=ticket_id, item=PROMISED)
    # the reg_no is the day and a running number: a real one, leading to this case, is refused
    # exactly as one that does not exist (the next number) and any other wrong code
    neighbour = str(int(reg["reg_no"]) + 1)
    refusals = [await _refused(live.url, auth={"track": c}) for c in (reg["reg_no"], neighbour)]
    assert refusals[0] == await _refused(live.url, auth={"track": "ZZZZZZZZZZ"}) == refusals[1]
    assert refusals[0] is not None and refusals[0]["code"] == "unknown_query_code", refusals
    for code in (reg["query_code"], case["query_code"].lower()):
        client = await SioClient().connect(live.url, auth={"track": code})
        try:
            await client.until_live()
            changed = await command(
                http, token, case["case_id"], "materials", _materials(case), method="PUT"
            )
            (frame,) = await client.events(1, timeout=3)
            assert frame == {"seq": changed["seq"][0], "type": "case.changed"}, code
        finally:
            await client.close()


def _materials(case: dict) -> dict:
    return {"materials": [{"position": 1, "status": "submitted"}]}


async def test_a_wrong_code_is_refused_alike_whether_or_not_it_exists(live, http, db):
    kiosk = await kiosk_token(http)
    queueing = await register(http, kiosk, PROMISED)  # a registration, no case yet
    answers = []
    for code in ("ZZZZZZZZZZ", queueing["query_code"], "12", 42, None, "x" * 500):
        answers.append(await _refused(live.url, auth={"track": code}))
    assert answers[0] == {
        "code": "unknown_query_code",
        "message": "查询码不正确或办件不存在，请核对告知单",
        "field": "code",
    }
    assert all(a == answers[0] for a in answers), answers
    # the HTTP view answers the same
    resp = await http.get(f"/api/track/{queueing['query_code']}")
    assert resp.status == 404 and (await resp.json())["error"] == answers[0]


async def test_track_handshakes_share_the_http_views_rate_limit(live, http, db):
    case_a, *_ = await _two_cases(live, http, db)
    # a frozen clock: the bucket never refills during the test
    live.app[CONTEXT].track_limit = RateLimiter(30, 3, clock=lambda: 0.0)
    for _ in range(2):
        assert (await http.get(f"/api/track/{case_a['query_code']}")).status == 200
    client = await SioClient().connect(live.url, auth={"track": case_a["query_code"]})
    await client.close()
    # the budget is spent: a right code is refused like a wrong one would be, before any lookup
    for code in (case_a["query_code"], "ZZZZZZZZZZ"):
        error = await _refused(live.url, auth={"track": code})
        assert error is not None and error["code"] == "rate_limited", error
    assert (await http.get(f"/api/track/{case_a['query_code']}")).status == 429


@pytest.mark.parametrize("extra", [{"rooms": ["department:amr"]}, {"hall": "rizhao"}])
async def test_a_track_handshake_cannot_widen_itself(live, http, db, extra):
    """Rooms or a hall in the handshake change nothing: it is still one case's events."""
    case_a, token_a, case_b, token_b = await _two_cases(live, http, db)
    client = await SioClient().connect(live.url, auth={"track": case_a["query_code"], **extra})
    try:
        assert [f["type"] for f in await client.until_live()] == ["live"]
        await command(http, token_b, case_b["case_id"], "start")
        await command(http, token_a, case_a["case_id"], "start")
        (frame,) = await client.events(1, timeout=3)
        assert frame["type"] == "case.changed"
        assert await client.quiet(0.3) == []
    finally:
        await client.close()


async def test_one_address_holds_a_bounded_number_of_track_connections(live, http, db):
    case_a, *_ = await _two_cases(live, http, db)
    namespace = live.app[SIO].namespace_handlers["/hall"]
    namespace._track_open.limit = 2
    code = case_a["query_code"]
    first = await SioClient().connect(live.url, auth={"track": code})
    second = await SioClient().connect(live.url, auth={"track": code})
    try:
        error = await _refused(live.url, auth={"track": code})
        assert error is not None and error["code"] == "rate_limited", error
        await first.close()
        # the server counts the closed one back when it sees it go (its own task)
        for _ in range(200):
            if namespace._track_open._open.get("127.0.0.1") == 1:
                break
            await asyncio.sleep(0.01)
        third = await SioClient().connect(live.url, auth={"track": code})
        await third.close()
    finally:
        await second.close()
