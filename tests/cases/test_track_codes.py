"""What leads a citizen to a case on /track, and where the notices' links to /track point.

/track takes only unguessable codes: the case's query code and its registration's. The
registration's reg_no (the notice's barcode: the day and a running number) is refused exactly as
a code that does not exist, though staff still find the case by it. Both notices' links to
/track are built from HALLOPS_PUBLIC_URL, never from where the printing page was opened."""

from __future__ import annotations

from aiohttp import ClientSession

from server.domain.case_views import qr_svg
from tests.cases.helpers import PROMISED, accept, at, serving_ticket, use_clock
from tests.conftest import LiveServer
from tests.conftest import test_settings as make_settings
from tests.queue_helpers import bearer, kiosk_token, register


async def test_a_real_reg_no_is_refused_on_track_exactly_like_a_code_that_does_not_exist(
    live, http, db
):
    use_clock(live, at("2026-12-07 10:00"))
    token, ticket_id, reg = await serving_ticket(http, db, item=PROMISED)
    case = await accept(http, token, ticket_id=ticket_id, item=PROMISED)
    # the reg_no is real and leads to this case: staff find it by it
    resp = await http.get(
        f"/api/halls/rizhao/cases/find?code={reg['reg_no']}", headers=bearer(token)
    )
    assert resp.status == 200 and (await resp.json())["case_id"] == case["case_id"]
    # one up: the registration after it, what a guesser reading in order tries next
    neighbour = str(int(reg["reg_no"]) + 1)
    assert await db.fetchval("select count(*) from registration where reg_no = $1", neighbour) == 0

    answers = {}
    for code in (reg["reg_no"], neighbour, "ZZZZZZZZZZ"):
        resp = await http.get(f"/api/track/{code}")
        answers[code] = (resp.status, resp.headers.get("Content-Type"), await resp.text())
    status, _, body = answers["ZZZZZZZZZZ"]
    assert status == 404 and '"unknown_query_code"' in body, body
    assert answers[reg["reg_no"]] == answers["ZZZZZZZZZZ"] == answers[neighbour], answers
    assert case["case_no"] not in answers[reg["reg_no"]][2]

    # the registration's query code and the case's lead to the case
    for code in (reg["query_code"], case["query_code"].lower()):
        resp = await http.get(f"/api/track/{code}")
        view = await resp.json()
        assert resp.status == 200, view
        assert (view["case_no"], view["state_name"]) == (case["case_no"], "已受理")


async def test_the_notices_link_to_track_under_the_public_url(db_dsn, db):
    public = "https://zwfw.example.gov.cn"
    server = await LiveServer(make_settings(public_url=public), db_dsn).start()
    try:
        async with ClientSession(base_url=server.url) as http:
            use_clock(server, at("2026-12-07 10:00"))
            # the registration notice: in the kiosk's reply and read again by its code
            reg = await register(http, await kiosk_token(http), PROMISED)
            expected = f"{public}/track?code={reg['query_code']}"
            assert reg["track_url"] == expected
            resp = await http.get(f"/api/notice/{reg['query_code']}")
            assert (await resp.json())["track_url"] == expected

            # the acceptance notice (受理回执): its link and its QR code
            token, ticket_id, _ = await serving_ticket(http, db, item=PROMISED)
            case = await accept(http, token, ticket_id=ticket_id, item=PROMISED)
            resp = await http.get(f"/api/cases/{case['case_id']}/notice", headers=bearer(token))
            notice = await resp.json()
            assert resp.status == 200, notice
            expected = f"{public}/track?code={case['query_code']}"
            assert notice["track_url"] == expected
            assert notice["qr_svg"] == qr_svg(expected)
            assert server.url not in str(notice) and "127.0.0.1" not in str(notice)
    finally:
        await server.stop()
