"""Driving joint cases (多证联办) over the API, shared by the workflow tests: a case's steps by
code, a step claimed or completed, the overrun timer run at an instant, and which window of the
demo hall works each step of company-setup."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientSession

from server.catalogue import CATALOGUE
from server.catalogue.spine import TimerContext
from server.keys import STORE
from tests.cases.helpers import at
from tests.queue_helpers import bearer

APPLICANT = {"name": "日照新材料有限公司", "phone": "13800138001"}
# amr windows are 1..14, tax 18..29, psb 30..41, hrss 42..53
WINDOW_OF = {"licence": 1, "code": 2, "seal": 30, "social": 42, "tax": 18}


async def steps_of(http: ClientSession, token: str, case_id: int) -> dict[str, dict]:
    resp = await http.get(f"/api/cases/{case_id}/steps", headers=bearer(token))
    body = await resp.json()
    assert resp.status == 200, body
    return {s["code"]: s for s in body["steps"]}


async def step_command(
    http: ClientSession, token: str, step_id: int, verb: str, body: Any = None, status: int = 200
) -> dict:
    resp = await http.post(f"/api/joint-steps/{step_id}/{verb}", json=body, headers=bearer(token))
    data = await resp.json()
    assert resp.status == status, (verb, resp.status, data)
    return data


async def run_overrun(live: Any, db: Any, when: str) -> None:
    """The overrun timer's look at the demo city hall at `when` (timers do not run in tests)."""
    hall = await db.fetchrow("select * from hall where code = 'rizhao'")
    await CATALOGUE.timers["joint_step.fire_overrun"].run(
        TimerContext(live.app[STORE]), hall, at(when)
    )
