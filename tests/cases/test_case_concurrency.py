"""Two people pressing the same button on the same case at the same instant: exactly one wins,
the other is refused by the transition table, and the case's history, events and sign-off say
it happened once. The requests go out together (asyncio.gather) over separate connections, so
they meet in the database; each race is run a few times."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import asyncpg
from aiohttp import ClientSession

from tests.cases.helpers import PROMISED, SIGNOFF, accept, at, command, serving_ticket, use_clock
from tests.conftest import login
from tests.queue_helpers import bearer, clerk_at_window, kiosk_token, register

ROUNDS = 4


async def both(http: ClientSession, calls: list[tuple[str, str, Any]]) -> list[tuple[int, dict]]:
    """The requests (token, url, body) at once."""

    async def one(token: str, url: str, body: Any) -> tuple[int, dict]:
        resp = await http.post(url, json=body, headers=bearer(token))
        return resp.status, await resp.json()

    return list(await asyncio.gather(*(one(*c) for c in calls)))


def one_wins(answers: list[tuple[int, dict]], refusal: str = "case_state") -> dict:
    outcomes = Counter(
        s if 200 <= s < 300 else (s, a.get("error", {}).get("code")) for s, a in answers
    )
    wins = [a for s, a in answers if 200 <= s < 300]
    assert len(wins) == 1 and outcomes[(409, refusal)] == 1, answers
    return wins[0]


async def history(db: asyncpg.Connection, case_id: int) -> list[str]:
    return [
        r["action"]
        for r in await db.fetch(
            "select action from case_history where case_id = $1 order by id", case_id
        )
    ]


async def changed_events(db: asyncpg.Connection, case_id: int, transition: str) -> int:
    return await db.fetchval(
        "select count(*) from event where type = 'case.changed' "
        "and (payload->>'case_id')::bigint = $1 and payload->>'transition' = $2",
        case_id,
        transition,
    )


async def test_two_clerks_complete_the_same_case_at_once(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    clerk1 = await clerk_at_window(db, 1)
    clerk2 = await clerk_at_window(db, 2)  # the same department, another window
    for _ in range(ROUNDS):
        case = await accept(http, clerk1, item=PROMISED)
        cid = case["case_id"]
        await command(http, clerk1, cid, "start")
        await command(http, clerk2, cid, "decision", {"decision": "approve"})
        url = f"/api/cases/{cid}/complete"
        won = one_wins(await both(http, [(clerk1, url, None), (clerk2, url, None)]))
        assert won["state"] == "completed"
        assert (await history(db, cid)).count("case.complete") == 1
        assert await changed_events(db, cid, "case.complete") == 1
        # the one clock stop: replaying the history still works
        stops = await db.fetchval(
            "select count(*) from case_history where case_id = $1 and clock->>'op' = 'stop'", cid
        )
        assert stops == 1


async def test_the_leader_decides_a_sign_off_once(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    clerk = await clerk_at_window(db, 1)
    leader = (await login(http, "leader.amr"))["token"]
    for n in range(ROUNDS):
        case = await accept(http, clerk, item=SIGNOFF)
        cid = case["case_id"]
        await command(http, clerk, cid, "start")
        await command(http, clerk, cid, "signoff-request", {"note": "材料齐全，请签批"})
        url = f"/api/cases/{cid}/signoff"
        # the same leader on two screens (/leader and the window), twice the same or opposite
        second = {"decision": "reject", "comment": "材料不全"} if n % 2 else {"decision": "approve"}
        answers = await both(http, [(leader, url, {"decision": "approve"}), (leader, url, second)])
        won = one_wins(answers)
        decided = await db.fetch(
            "select decision, decided_at from signoff_request where case_id = $1", cid
        )
        assert len(decided) == 1 and decided[0]["decided_at"] is not None
        want = {"approved": "approved", "rejected": "refused"}[decided[0]["decision"]]
        assert won["state"] == want
        assert [h for h in await history(db, cid) if h.startswith("case.signoff")] == [
            f"case.signoff:{'approve' if want == 'approved' else 'reject'}"
        ]
        assert (
            await db.fetchval(
                "select count(*) from event where type = 'signoff.decided' "
                "and (payload->>'case_id')::bigint = $1",
                cid,
            )
            == 1
        )


async def test_a_ticket_is_accepted_once(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    for _ in range(ROUNDS):
        token, ticket_id, _ = await serving_ticket(http, db)
        body = {"ticket_id": ticket_id, "applicant": {"name": "张小三"}}
        url = "/api/halls/rizhao/cases"
        answers = await both(http, [(token, url, body), (token, url, body)])
        won = one_wins(answers, refusal="already_accepted")
        assert won["state"] == "accepted"
        cases = await db.fetch("select id from service_case where ticket_id = $1", ticket_id)
        assert [c["id"] for c in cases] == [won["case_id"]]
        assert (
            await db.fetchval(
                "select count(*) from event where type = 'case.accepted' "
                "and (payload->>'case_id')::bigint = $1",
                won["case_id"],
            )
            == 1
        )
        # the ticket is finished so the window can serve the next one
        resp = await http.post("/api/halls/rizhao/windows/1/finish", headers=bearer(token))
        assert resp.status == 200, await resp.text()


async def test_a_registration_scanned_at_two_windows_is_accepted_once(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    kiosk = await kiosk_token(http)
    tokens = [await clerk_at_window(db, 1), await clerk_at_window(db, 2)]
    for _ in range(ROUNDS):
        reg = await register(http, kiosk, PROMISED)
        body = {"reg_no": reg["reg_no"], "applicant": {"name": "张小三"}}
        url = "/api/halls/rizhao/cases"
        answers = await both(http, [(tokens[0], url, body), (tokens[1], url, body)])
        won = one_wins(answers, refusal="already_accepted")
        cases = await db.fetch(
            "select c.id from service_case c join registration r on r.id = c.registration_id "
            "where r.reg_no = $1",
            reg["reg_no"],
        )
        assert [c["id"] for c in cases] == [won["case_id"]]
