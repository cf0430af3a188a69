"""The citizen's verdict (好差评, issue 11): one rating per case, or per served ticket without a
case, whichever channel brings it first.

- **Subjects.** A case is rated as `case:<id>`, tied to the window and clerk that accepted it
  and its department; a ticket served without a case as `ticket:<id>`. A ticket that became a
  case is rated as its case. The unique subject is what makes "one rating per case" hold across
  channels and processes: the second insert finds the first and is refused (409
  `already_rated`).
- **Channels:**
  - `sms`: when a case is completed, the applicant gets an invitation with a one-time link
    (`/rate/<token>`; only the token's hash is kept) through the outbox;
  - `device`: the clerk asks for a rating at the end of service (`rating.request`), the window's
    rating device (评价器) shows the buttons and sends the tap (`rating.by_device`);
  - `ballot`: at the opening of the box, a supervisor scans a notice slip's barcode (its
    reg_no) and keys the rating; a slip counts once.
- **Anonymous towards the clerk:** no event or list carries the citizen's name, phone or
  number; an SMS rating is `real_name` (the hall can call back the phone it went to).
- **A bad review** (1 or 2: 不满意, 非常不满意) opens a rectification task for the department
  (server/domain/rectification.py) in the same transaction."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import asyncpg

from db.pool import Conn
from db.queries import cases as cq
from db.queries import ratings as q
from server.domain import rectification
from server.domain.actor import system_actor
from server.domain.errors import Conflict, Invalid, NotFound
from server.domain.hall import get_hall
from server.domain.permissions import Target
from server.domain.queueing import TZ
from server.domain.store import Tx

if TYPE_CHECKING:
    from server.catalogue.spine import Call

LEVELS: Final = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
BAD_LEVELS: Final = (1, 2)
REASONS: Final = {
    "attitude": "服务态度",
    "efficiency": "办事效率",
    "service": "服务水平",
    "fees": "收费",
    "other": "其他",
}
INVITE_DAYS: Final = 30
# an SMS link's token: the query codes' alphabet without look-alikes, short enough to type
_TOKEN_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz"
TOKEN_LENGTH: Final = 12

GIVEN = "rating.given"
REQUESTED = "rating.requested"


@dataclass(frozen=True)
class Verdict:
    level: int
    reasons: tuple[str, ...] = ()
    comment: str = ""

    def checked(self) -> Verdict:
        if self.level not in LEVELS:
            raise Invalid("请选择评价等级", code="invalid_field", field="level")
        unknown = [r for r in self.reasons if r not in REASONS]
        if unknown:
            raise Invalid("评价原因不正确", code="invalid_field", field="reasons")
        comment = self.comment.strip()
        if len(comment) > 500:
            raise Invalid("意见最多 500 字", code="too_long", field="comment")
        return Verdict(self.level, tuple(dict.fromkeys(self.reasons)), comment)


@dataclass(frozen=True)
class Subject:
    """What is rated, and who served it."""

    key: str  # case:<id> | ticket:<id>
    hall_id: int
    hall_parent_id: int | None
    case_id: int | None
    ticket_id: int | None
    window_id: int | None
    window_no: int | None
    clerk_id: int | None
    department_id: int | None
    department: str | None  # its code: the room of its department's screens


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def case_subject(conn: Conn, case_id: int) -> Subject:
    row = await conn.fetchrow(q.CASE_SUBJECT, case_id)
    if row is None:
        raise NotFound("办件不存在", code="unknown_case", field="case_id")
    return Subject(
        key=f"case:{row['case_id']}",
        hall_id=row["hall_id"],
        hall_parent_id=row["hall_parent_id"],
        case_id=row["case_id"],
        ticket_id=row["ticket_id"],
        window_id=row["window_id"],
        window_no=row["window_no"],
        clerk_id=row["clerk_id"],
        department_id=row["department_id"],
        department=row["department_code"],
    )


async def ticket_subject(conn: Conn, ticket_id: int) -> Subject:
    """A served ticket's subject: its case when it became one."""
    row = await conn.fetchrow(q.TICKET_SUBJECT, ticket_id)
    if row is None:
        raise NotFound("排队号不存在", code="unknown_ticket", field="ticket_id")
    if row["case_id"] is not None:
        return await case_subject(conn, row["case_id"])
    served = row["status"] == "serving" or (row["status"], row["outcome"]) == ("done", "served")
    if not served:
        raise Conflict(
            f"{row['ticket_no']} 号未在窗口办理，无需评价", code="not_served", field="ticket_id"
        )
    return Subject(
        key=f"ticket:{row['ticket_id']}",
        hall_id=row["hall_id"],
        hall_parent_id=row["hall_parent_id"],
        case_id=None,
        ticket_id=row["ticket_id"],
        window_id=row["window_id"],
        window_no=row["window_no"],
        clerk_id=row["clerk_id"],
        department_id=row["department_id"],
        department=row["department_code"],
    )


async def _already(conn: Conn, subject: Subject) -> None:
    done = await conn.fetchrow(q.RATING_OF_SUBJECT, subject.key)
    if done is not None:
        what = "此办件" if subject.case_id is not None else "此次服务"
        raise Conflict(
            f"{what}已于 {done['rated_at'].astimezone(TZ):%Y-%m-%d %H:%M} 评价过，每件只能评价一次",
            code="already_rated",
            field="level",
        )


async def record(
    tx: Tx,
    subject: Subject,
    verdict: Verdict,
    channel: str,
    real_name: bool,
    now: datetime,
    slip_no: str | None = None,
    recorded_by: int | None = None,
) -> dict[str, Any]:
    """Writes the rating, once per subject (and per slip), with its event; a bad review opens
    its rectification task. 409 already_rated / slip_counted otherwise, nothing written."""
    v = verdict.checked()
    await _already(tx.conn, subject)
    rating_id = await tx.conn.fetchval(
        q.INSERT_RATING,
        subject.hall_id,
        subject.key,
        subject.case_id,
        subject.ticket_id,
        subject.window_id,
        subject.clerk_id,
        subject.department_id,
        v.level,
        list(v.reasons),
        v.comment,
        channel,
        real_name,
        slip_no,
        recorded_by,
        now,
    )
    if rating_id is None:  # a concurrent rating of the subject, or this slip again
        if slip_no is not None and await tx.conn.fetchval(q.RATING_OF_SLIP, slip_no):
            raise Conflict(
                f"评议单 {slip_no} 已计入，每张只计一次", code="slip_counted", field="slip"
            )
        await _already(tx.conn, subject)
        raise Conflict("已评价过，每件只能评价一次", code="already_rated", field="level")
    payload = {
        "rating_id": rating_id,
        "window_no": subject.window_no,
        "department": subject.department,
        "level": v.level,
        "level_name": LEVELS[v.level],
        "bad": v.level in BAD_LEVELS,
        "reasons": list(v.reasons),
        "channel": channel,
        "subject": subject.key.split(":")[0],
        "rated_at": now.astimezone(TZ).isoformat(),
    }
    tx.emit(GIVEN, payload, hall_id=subject.hall_id, window_id=subject.window_id)
    tx.detail.update(rating_id=rating_id, subject=subject.key, level=v.level, channel=channel)
    if v.level in BAD_LEVELS and subject.department_id is not None:
        await rectification.open_task(tx, rating_id, subject, now)
    return payload


# ------------------------------------------------------------------------------ SMS invitation


def new_token() -> str:
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


def rate_url(public_url: str, token: str) -> str:
    return f"{public_url}/rate/{token}"


async def invite(tx: Tx, case: asyncpg.Record, now: datetime) -> None:
    """After completion: an SMS with a one-time link to rate the case, once per case (the
    outbox's dedupe key), to the applicant's phone; nothing without a phone or once rated."""
    phone = case["applicant_phone"]
    subject = f"case:{case['id']}"
    if not phone or await tx.conn.fetchval(q.RATING_OF_SUBJECT, subject) is not None:
        return
    token = new_token()
    await tx.conn.execute(
        q.INSERT_INVITE,
        token_hash(token),
        case["hall_id"],
        subject,
        case["id"],
        now,
        now + timedelta(days=INVITE_DAYS),
    )
    body = (
        f"【{case['hall_name']}】您的办件 {case['case_no']} 已办结。请对我们的服务作出评价"
        f"（非常满意至非常不满意五级）：{rate_url(tx.public_url, token)}"
    )
    await tx.conn.execute(cq.INSERT_SMS, case["hall_id"], f"rate-invite:{case['id']}", phone, body)


async def _invite(conn: Conn, token: str, now: datetime) -> asyncpg.Record:
    row = await conn.fetchrow(q.INVITE, token_hash(token))
    if row is None or row["expires_at"] <= now:
        raise NotFound("评价链接无效或已过期", code="unknown_invite", field="token")
    return row


async def invitation(call: Call, token: str) -> dict[str, Any]:
    """What the /rate page shows: the service rated (no personal data), and whether it is."""
    now = call.ctx.clock()
    async with call.ctx.store.read() as conn:
        row = await _invite(conn, token, now)
    return {
        "hall_name": row["hall_name"],
        "item_name": row["item_name"],
        "case_no": row["case_no"],
        "window_no": row["window_no"],
        "completed_at": row["completed_at"].astimezone(TZ).isoformat()
        if row["completed_at"]
        else None,
        "rated": row["rating_id"] is not None,
        "levels": [{"level": k, "name": v} for k, v in LEVELS.items()],
        "reasons": [{"code": k, "name": v} for k, v in REASONS.items()],
    }


async def by_invite(call: Call, token: str, verdict: Verdict) -> tuple[dict[str, Any], list]:
    """The citizen, anonymous, through the link: the command is the hall's (the system actor),
    attributed in the audit to the invitation it came through."""
    now = call.ctx.clock()
    async with call.ctx.store.read() as conn:
        hall_id = (await _invite(conn, token, now))["hall_id"]
    async with call.ctx.store.command(system_actor(hall_id), "rating.by_invite") as tx:
        row = await _invite(tx.conn, token, now)
        tx.detail["invite"] = token_hash(token).hex()[:16]
        subject = await case_subject(tx.conn, row["case_id"])
        payload = await record(tx, subject, verdict, "sms", True, now)
        await tx.conn.execute(q.USE_INVITE, token_hash(token), now)
    return payload, tx.records


# ------------------------------------------------------------------------------ the window's device


async def _window(conn: Conn, hall_code: str, window_no: int) -> asyncpg.Record:
    w = await conn.fetchrow(q.WINDOW, hall_code, window_no)
    if w is None:
        await get_hall(conn, hall_code)  # 404 unknown_hall first
        raise NotFound(f"窗口 {window_no} 不存在", code="unknown_window", field="window_no")
    return w


def _window_target(w: asyncpg.Record) -> Target:
    return Target(
        hall_id=w["hall_id"],
        hall_parent_id=w["hall_parent_id"],
        department_id=w["department_id"],
        window_id=w["id"],
    )


def _request_view(row: asyncpg.Record | None, w: asyncpg.Record) -> dict[str, Any]:
    return {
        "window_no": w["window_no"],
        # what the rating device shows while idle (it reads no hall data otherwise)
        "hall_name": w["hall_name"],
        "window_name": w["display_name"],
        "pending": row is not None,
        "subject": row["subject"].split(":")[0] if row is not None else None,
        "requested_at": row["requested_at"].astimezone(TZ).isoformat() if row is not None else None,
        "levels": [{"level": k, "name": v} for k, v in LEVELS.items()],
        "reasons": [{"code": k, "name": v} for k, v in REASONS.items()],
    }


async def request(
    call: Call, hall_code: str, window_no: int, ticket_id: int | None, case_id: int | None
) -> tuple[dict[str, Any], list]:
    """The clerk asks the citizen for a rating: the ticket (or case) named, else the last one
    served at the window. The window's device shows the buttons (rating.requested)."""
    now = call.ctx.clock()
    async with call.command() as tx:
        w = await _window(tx.conn, hall_code, window_no)
        call.check(_window_target(w))
        if case_id is not None:
            subject = await case_subject(tx.conn, case_id)
        else:
            ticket_id = ticket_id or await tx.conn.fetchval(q.LAST_SERVED_AT_WINDOW, w["id"])
            if ticket_id is None:
                raise Conflict("本窗口还没有办理过业务", code="nothing_served", field="ticket_id")
            subject = await ticket_subject(tx.conn, ticket_id)
        if subject.window_id != w["id"] or subject.hall_id != w["hall_id"]:
            raise Conflict("不是本窗口办理的业务", code="not_served_here", field="ticket_id")
        await _already(tx.conn, subject)
        assert call.actor.id is not None
        await tx.conn.execute(
            q.UPSERT_REQUEST,
            w["id"],
            w["hall_id"],
            subject.key,
            subject.case_id,
            subject.ticket_id,
            call.actor.id,
            now,
        )
        tx.detail.update(window_no=window_no, subject=subject.key)
        row = await tx.conn.fetchrow(q.REQUEST_OF_WINDOW, w["id"])
        view = _request_view(row, w)
        tx.emit(
            REQUESTED,
            {
                "window_no": window_no,
                "subject": view["subject"],
                "requested_at": view["requested_at"],
            },
            hall_id=w["hall_id"],
            window_id=w["id"],
        )
    return view, tx.records


async def pending(call: Call, hall_code: str, window_no: int) -> dict[str, Any]:
    """What the window's device shows now (after a reconnect too): a request, or nothing."""
    async with call.ctx.store.read() as conn:
        w = await _window(conn, hall_code, window_no)
        call.check(_window_target(w))
        row = await conn.fetchrow(q.REQUEST_OF_WINDOW, w["id"])
    return _request_view(row, w)


async def by_device(
    call: Call, hall_code: str, window_no: int, verdict: Verdict
) -> tuple[dict[str, Any], list]:
    """The citizen taps on the window's device: the request it answers is taken (once)."""
    now = call.ctx.clock()
    async with call.command() as tx:
        w = await _window(tx.conn, hall_code, window_no)
        call.check(_window_target(w))
        verdict.checked()
        row = await tx.conn.fetchrow(q.TAKE_REQUEST, w["id"])
        if row is None:
            raise Conflict("窗口没有待评价的业务", code="no_request", field="window_no")
        subject = (
            await case_subject(tx.conn, row["case_id"])
            if row["case_id"] is not None
            else await ticket_subject(tx.conn, row["ticket_id"])
        )
        payload = await record(tx, subject, verdict, "device", False, now)
    return payload, tx.records


# ------------------------------------------------------------------------------ the ballot box


async def by_slip(
    call: Call, hall_code: str, slip: str, verdict: Verdict
) -> tuple[dict[str, Any], list]:
    """A slip from the ballot box: its barcode (the notice's reg_no) names the registration,
    whose case (or served ticket) it rates; keyed by a supervisor, counted once."""
    now = call.ctx.clock()
    slip = slip.strip()
    async with call.command() as tx:
        hall = await get_hall(tx.conn, hall_code)
        call.check(hall.target())
        row = await tx.conn.fetchrow(q.SLIP_SUBJECT, slip)
        if row is None or row["hall_id"] != hall.id:
            raise NotFound(f"评议单 {slip} 不是本中心的告知单", code="unknown_slip", field="slip")
        if await tx.conn.fetchval(q.RATING_OF_SLIP, slip):
            raise Conflict(f"评议单 {slip} 已计入，每张只计一次", code="slip_counted", field="slip")
        if row["case_id"] is not None:
            subject = await case_subject(tx.conn, row["case_id"])
        elif row["ticket_id"] is not None:
            subject = await ticket_subject(tx.conn, row["ticket_id"])
        else:
            raise Conflict(f"评议单 {slip} 的业务尚未办理", code="not_served", field="slip")
        payload = await record(tx, subject, verdict, "ballot", False, now, slip, call.actor.id)
    return payload, tx.records
