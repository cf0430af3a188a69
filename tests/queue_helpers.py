"""Set-up shortcuts for queue tests: staff sessions and open windows written straight to the
database (what is under test is the calling, not the login)."""

from __future__ import annotations

import hashlib
import secrets

import asyncpg
from aiohttp import ClientSession

from server import demo_hall


async def clerk_at_window(
    db: asyncpg.Connection,
    window_no: int,
    hall: str = "rizhao",
    username: str | None = None,
    open_window: bool = True,
) -> str:
    """Signs the clerk of `window_no` in at it (opened), returns a bearer token."""
    username = username or (
        f"clerk{window_no:03d}" if hall == "rizhao" else f"{hall}.clerk{window_no:02d}"
    )
    token = secrets.token_urlsafe(24)
    staff_id = await db.fetchval("select id from staff where username = $1", username)
    window_id = await db.fetchval(
        "select w.id from service_window w join hall h on h.id = w.hall_id "
        "where h.code = $1 and w.window_no = $2",
        hall,
        window_no,
    )
    await db.execute(
        "insert into auth_session (token_hash, staff_id, expires_at) "
        "values ($1, $2, now() + interval '1 hour')",
        hashlib.sha256(token.encode()).digest(),
        staff_id,
    )
    await db.execute(
        "insert into window_signin (window_id, staff_id) values ($1, $2) on conflict do nothing",
        window_id,
        staff_id,
    )
    if open_window:
        await db.execute("update service_window set status = 'open' where id = $1", window_id)
    return token


async def kiosk_token(http: ClientSession, code: str = "kiosk-01") -> str:
    resp = await http.post(
        "/api/auth/device", json={"code": code, "secret": demo_hall.DEMO_PASSWORDS["kiosk"]}
    )
    return (await resp.json())["token"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def item_of_window(db: asyncpg.Connection, window_no: int, hall: str = "rizhao") -> str:
    """An item whose queue the window serves first."""
    return await db.fetchval(
        "select i.code from item i join window_queue wq on wq.queue_id = i.queue_id "
        "join service_window w on w.id = wq.window_id join hall h on h.id = w.hall_id "
        "where h.code = $1 and w.window_no = $2 and wq.position = 1 and i.active "
        "order by i.code limit 1",
        hall,
        window_no,
    )


async def register(http: ClientSession, kiosk: str, item: str, **extra) -> dict:
    resp = await http.post(
        "/api/halls/rizhao/registrations", json={"item": item, **extra}, headers=bearer(kiosk)
    )
    body = await resp.json()
    assert resp.status == 201, body
    return body


async def command(
    http: ClientSession,
    token: str,
    window_no: int,
    verb: str,
    body: dict | None = None,
    expect: int = 200,
) -> dict:
    resp = await http.post(
        f"/api/halls/rizhao/windows/{window_no}/{verb}", json=body, headers=bearer(token)
    )
    data = await resp.json()
    assert resp.status == expect, (verb, data)
    return data


async def rater_at(db, window_no: int, hall: str = "rizhao") -> str:
    """A rating device (评价器) of the window, logged in: its bearer token."""
    token = secrets.token_urlsafe(24)
    device_id = await db.fetchval(
        """
        insert into device (hall_id, code, kind, name, secret_hash, window_id)
        select h.id, $3, 'rater', $2 || ' 号窗口评价器', 'x', w.id
        from hall h join service_window w on w.hall_id = h.id and w.window_no = $2
        where h.code = $1
        on conflict (code) do update set kind = excluded.kind
        returning id""",
        hall,
        window_no,
        f"{hall}-rater-{window_no:03d}",
    )
    await db.execute(
        "insert into auth_session (token_hash, device_id, expires_at) "
        "values ($1, $2, now() + interval '1 hour')",
        hashlib.sha256(token.encode()).digest(),
        device_id,
    )
    return token
