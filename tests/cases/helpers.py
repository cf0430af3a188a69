"""Set-up for case tests: a clerk serving a ticket at a window, a controllable clock, and the
demo's items with and without a leader's sign-off."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from aiohttp import ClientSession

from server.domain.queueing import TZ
from server.keys import CONTEXT
from tests.queue_helpers import bearer, clerk_at_window, kiosk_token, register

# amr (市场监管) windows are 1..17; amr-001 企业设立登记 is promised (2 working days, urgent 1);
# amr-002 is immediate; amr-012 食品生产许可 needs the leader's sign-off.
PROMISED = "amr-001"
IMMEDIATE = "amr-002"
SIGNOFF = "amr-012"


class Clock:
    """The server's clock in a test: set, moved on, never slept."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when


def at(text: str) -> datetime:
    """'2026-12-07 10:00' in the hall's zone."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def use_clock(live: Any, start: datetime) -> Clock:
    clock = Clock(start)
    live.app[CONTEXT].clock = clock
    return clock


async def serving_ticket(
    http: ClientSession,
    db: asyncpg.Connection,
    window_no: int = 1,
    item: str = PROMISED,
    phone: str | None = "13800138000",
) -> tuple[str, int, dict]:
    """A clerk signed in at `window_no` serving a fresh ticket for `item`: (token, ticket id,
    registration)."""
    token = await clerk_at_window(db, window_no)
    kiosk = await kiosk_token(http)
    extra = {"phone": phone} if phone else {}
    reg = await register(http, kiosk, item, **extra)
    resp = await http.post(
        f"/api/halls/rizhao/windows/{window_no}/call",
        json={"ticket_no": reg["ticket"]["ticket_no"], "reason": "按号办理"},
        headers=bearer(token),
    )
    body = await resp.json()
    assert resp.status == 200, body
    resp = await http.post(f"/api/halls/rizhao/windows/{window_no}/start", headers=bearer(token))
    assert resp.status == 200, await resp.text()
    ticket_id = body["ticket"]["id"]
    return token, ticket_id, reg


async def accept(http: ClientSession, token: str, **body: Any) -> dict:
    body.setdefault("applicant", {"name": "张小三", "phone": "13800138000"})
    resp = await http.post("/api/halls/rizhao/cases", json=body, headers=bearer(token))
    data = await resp.json()
    assert resp.status == 201, data
    return data


async def command(
    http: ClientSession,
    token: str,
    case_id: int,
    verb: str,
    body: Any = None,
    method: str = "POST",
    status: int = 200,
) -> dict:
    resp = await http.request(
        method, f"/api/cases/{case_id}/{verb}", json=body, headers=bearer(token)
    )
    data = await resp.json()
    assert resp.status == status, (verb, resp.status, data)
    return data
