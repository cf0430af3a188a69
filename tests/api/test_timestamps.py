"""Every instant the API answers, and every event it delivers, is in the hall's zone (+08:00):
instants come from PostgreSQL (UTC) and from the server's clock (the hall's zone), and one
answer used to mix `+00:00` and `+08:00` (issue 12)."""

from __future__ import annotations

import re
from typing import Any

from tests.cases.helpers import PROMISED, accept, at, command, serving_ticket, use_clock
from tests.conftest import login
from tests.queue_helpers import bearer

INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?$")


def instants(value: Any, path: str = "") -> list[tuple[str, str]]:
    """Every string of the value that is an instant (a date and a time), with where it is."""
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            found += instants(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += instants(v, f"{path}[{i}]")
    elif isinstance(value, str) and INSTANT.match(value):
        found.append((path, value))
    return found


async def test_instants_are_in_the_halls_zone_in_answers_and_events(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    token, ticket_id, _ = await serving_ticket(http, db)
    case = await accept(http, token, ticket_id=ticket_id, item=PROMISED)
    cid = case["case_id"]
    await command(http, token, cid, "start")
    admin = (await login(http, "admin"))["token"]

    async def get(path: str, who: str) -> Any:
        return await (await http.get(path, headers=bearer(who))).json()

    answers = {
        "accepted": case,
        "case": await get(f"/api/cases/{cid}", token),
        "board": await get("/api/halls/rizhao/windows/1/board", token),
        "cases": await get("/api/halls/rizhao/windows/1/cases", token),
        "events": await get("/api/halls/rizhao/events?since=0", admin),
        "snapshot": await get("/api/halls/rizhao/snapshot", admin),
    }
    seen = {name: instants(body) for name, body in answers.items()}
    assert seen["case"] and seen["events"] and seen["board"], seen  # the test reads instants
    wrong = [(name, p, v) for name, found in seen.items() for p, v in found if v[-6:] != "+08:00"]
    assert wrong == [], wrong
