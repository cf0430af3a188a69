"""Reading cases: the full case for staff (materials, history, fees, sign-offs, the clock), the
window's list, the leader's waiting sign-offs, the citizen's /track view and the acceptance
notice (受理回执). Personal data is shown only to the clerk serving the case."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import asyncpg
import segno

from db.pool import Conn
from db.queries import cases as q
from db.queries import hall as hq
from db.queries import queueing as qq
from server.domain import case_clock as clock
from server.domain import case_flow as flow
from server.domain import joint_track, project_track
from server.domain.actor import Actor
from server.domain.alarm_ladder import working_day_seconds
from server.domain.cases import case_target, load_calendar
from server.domain.errors import NotFound
from server.domain.hall import department_id, get_hall
from server.domain.identity import mask_id_number, mask_name, mask_phone
from server.domain.permissions import Target
from server.domain.queueing import TZ
from server.wire import instant

if TYPE_CHECKING:
    from server.catalogue.spine import Call

HISTORY_NAMES = {
    "case.accept": "受理",
    "case.not_accept": "不予受理",
    "case.start": "开始办理",
    "case.decide:approve": "审核通过",
    "case.decide:refuse": "审核不予许可",
    "case.request_signoff:decision": "提交领导签批",
    "case.request_signoff:extension": "申请延期",
    "case.signoff:approve": "领导签批同意",
    "case.signoff:reject": "领导签批不同意",
    "case.signoff:extension": "领导审批延期",
    "case.complete": "办结",
    "case.deliver": "领取",
    "case.withdraw": "撤回",
    "case.materials": "核对材料",
    "case.supplement_request": "一次性告知补正",
    "case.supplement_receive": "补交材料",
    "case.pause": "特别程序（暂停计时）",
    "case.escalate": "报批（暂停计时）",
    "case.resume": "恢复计时",
    "case.fee": "收费",
}


def serves(actor: Actor | None, row: asyncpg.Record) -> bool:
    """The clerk at the case's window sees the applicant unmasked; nobody else does."""
    return actor is not None and actor.role == "clerk" and actor.window_id == row["window_id"]


def applicant_view(row: asyncpg.Record, full: bool) -> dict[str, Any]:
    phone, id_no = row["applicant_phone"], row["applicant_id_no"]
    return {
        "name": row["applicant_name"] if full else mask_name(row["applicant_name"]),
        "phone": (phone if full else mask_phone(phone)) if phone else None,
        "id_number": (id_no if full else mask_id_number(id_no)) if id_no else None,
        "masked": not full,
    }


async def case_row(conn: Conn, case_id: int) -> asyncpg.Record:
    row = await conn.fetchrow(q.CASE_VIEW, case_id)
    if row is None:
        raise NotFound("办件不存在", code="unknown_case", field="case_id")
    return row


def supplement_warning(row: asyncpg.Record, cal: Any, now: datetime) -> dict[str, Any] | None:
    """§32: a supplement notice must be issued within N working days of the application, or the
    application counts as accepted as it stands. The clerk is warned from supplement_warn_days
    before that while no notice has been issued and the review may still need one: the case
    not yet started, or started with materials still lacking (容缺's deferred ones apart).
    Supervision's `supplement_rung` alarms on the same facts."""
    if row["first_notice_at"] is not None or row["clock_status"] == "stopped":
        return None
    if not (row["state"] == "accepted" or row["state"] == "in_progress" and row["lacking"]):
        return None
    due = cal.add_working_time(row["accepted_at"], row["supplement_notice_days"], "working_day")
    warn_from = due
    if row["supplement_warn_days"]:
        # the start of the working day `warn_days` before the due day
        day = due.date()
        for _ in range(row["supplement_warn_days"]):
            day = cal.previous_working_day(day)
        warn_from = datetime.combine(day, cal.work_periods[0][0], tzinfo=cal.tz)
    if now < warn_from:
        return None
    return {
        "due": instant(due),
        "overdue": now >= due,
        "message": (
            "补正告知期限已过，依法视为受理"
            if now >= due
            else f"请在 {due:%m-%d %H:%M} 前完成审查，需补正的须一次性告知"
        ),
    }


async def detail(call: Call, case_id: int) -> dict[str, Any]:
    async with call.ctx.store.read() as conn:
        row = await case_row(conn, case_id)
        call.check(case_target(row, call.actor))
        return await _detail(conn, row, call.actor, call.ctx.clock())


async def _detail(conn: Conn, row: asyncpg.Record, actor: Actor | None, now: datetime) -> dict:
    cal = await load_calendar(conn, row["hall_id"], row["accepted_at"])
    state = clock.ClockState.from_json(row["clock"])
    materials = await conn.fetch(q.MATERIALS_OF_CASE, row["id"])
    history = await conn.fetch(q.HISTORY_OF_CASE, row["id"])
    fees = await conn.fetch(q.FEES_OF_CASE, row["id"])
    signoffs = await conn.fetch(q.SIGNOFFS_OF_CASE, row["id"])
    supplements = await conn.fetch(q.SUPPLEMENTS_OF_CASE, row["id"])
    return {
        **summary(row, actor, now, cal),
        "statutory_amount": row["statutory_amount"],
        "limit": {"amount": row["limit_amount"], "unit": row["limit_unit"]},
        "materials": [dict(m) for m in materials],
        "history": [_history_entry(h) for h in history],
        "fees": [
            {
                "name": f["name"],
                "amount_cents": f["amount_cents"],
                "receipt_no": f["receipt_no"],
                "paid_at": instant(f["paid_at"]),
                "window_no": f["window_no"],
            }
            for f in fees
        ],
        "signoffs": [
            {
                "id": s["id"],
                "purpose": s["purpose"],
                "extension": s["extension"],
                "note": s["note"],
                "requested_at": instant(s["requested_at"]),
                "requested_by": s["requested_by_name"],
                "window_no": s["window_no"],
                "decision": s["decision"],
                "comment": s["comment"],
                "decided_by": s["decided_by_name"],
                "decided_at": instant(s["decided_at"]) if s["decided_at"] else None,
            }
            for s in signoffs
        ],
        "supplements": [
            {
                "id": s["id"],
                "issued_at": instant(s["issued_at"]),
                "materials": s["materials"],
                "received_at": instant(s["received_at"]) if s["received_at"] else None,
            }
            for s in supplements
        ],
        "clock_paused_kind": state.pause_kind,
        "actions": flow.allowed_actions(row["state"]),
        "requires_signoff": row["requires_signoff"],
        "supplement_warning": supplement_warning(row, cal, now),
    }


def _history_entry(h: asyncpg.Record) -> dict[str, Any]:
    return {
        "at": instant(h["at"]),
        "action": h["action"],
        "label": HISTORY_NAMES.get(h["action"], h["action"]),
        "from": h["from_state"],
        "to": h["to_state"],
        "actor": h["actor_name"],
        "actor_role": h["actor_role"],
        "window_no": h["window_no"],
        "reason": h["reason"],
        "clock": h["clock"],
        "detail": h["detail"],
    }


def summary(row: asyncpg.Record, actor: Actor | None, now: datetime, cal: Any) -> dict[str, Any]:
    view = clock.view(clock.ClockState.from_json(row["clock"]), now, cal)
    return {
        "case_id": row["id"],
        "case_no": row["case_no"],
        "ticket_id": row["ticket_id"],
        "hall": row["hall_code"],
        "state": row["state"],
        "state_name": flow.STATE_NAMES[row["state"]],
        "kind": row["kind"],
        "item": row["item_code"],
        "item_name": row["item_name"],
        "department": row["department_code"],
        "department_name": row["department_name"],
        "window_no": row["window_no"],
        "clerk_name": row["clerk_name"],
        "applicant": applicant_view(row, serves(actor, row)),
        "accepted_at": instant(row["accepted_at"]),
        "clock": view.to_json(),
        "deficiency_due": instant(row["deficiency_due"]) if row["deficiency_due"] else None,
        "visits": row["visits"],
        "reason": row["reason"],
        "query_code": row["query_code"] if serves(actor, row) else None,
        # a screen words working time in the hall's working days ("2 个工作日 3 小时")
        "working_day_s": working_day_seconds(cal),
    }


async def window_cases(call: Call, hall_code: str, window_no: int) -> dict[str, Any]:
    """The window's open cases (and its department's), with the supplements due back."""
    now = call.ctx.clock()
    async with call.ctx.store.read() as conn:
        hall = await get_hall(conn, hall_code)
        w = await conn.fetchrow(qq.WINDOW_ID, hall.id, window_no)
        if w is None:
            raise NotFound(f"窗口 {window_no} 不存在", code="unknown_window", field="window_no")
        call.check(hall.target(department_id=w["department_id"], window_id=w["id"]))
        rows = await conn.fetch(q.OPEN_CASES_OF_WINDOW, hall.id, w["department_id"])
        cal = await load_calendar(conn, hall.id, now - timedelta(days=60))
        cases = []
        for r in rows:
            s = summary(r, call.actor, now, cal)
            s["missing"] = r["missing"]
            s["supplement_issued_at"] = (
                instant(r["supplement_issued_at"]) if r["supplement_issued_at"] else None
            )
            s["supplement_warning"] = supplement_warning(r, cal, now)
            cases.append(s)
        ready = [
            summary(r, call.actor, now, cal)
            for r in await conn.fetch(q.READY_FOR_PICKUP, hall.id, w["department_id"])
        ]
    return {
        "window_no": window_no,
        "cases": cases,
        "supplements_due": [c for c in cases if c["supplement_issued_at"] or c["deficiency_due"]],
        "ready_for_pickup": ready,
    }


async def find(call: Call, hall_code: str, code: str) -> dict[str, Any]:
    """The case the applicant's paper leads to (receipt number or QR, notice barcode or code),
    for the clerk who hands over the result or takes supplemented materials."""
    now = call.ctx.clock()
    async with call.ctx.store.read() as conn:
        hall = await get_hall(conn, hall_code)
        # the hall first: staff of another hall learn nothing of which numbers exist here
        call.check(hall.target(department_id=call.actor.department_id))
        row = await conn.fetchrow(q.CASE_BY_ANY_CODE, hall.id, code.strip().upper())
        if row is None:
            raise NotFound(
                "没有找到此办件，请核对回执上的办件编号", code="unknown_case", field="code"
            )
        call.check(case_target(row, call.actor))
        cal = await load_calendar(conn, row["hall_id"], row["accepted_at"])
        return summary(row, call.actor, now, cal)


async def waiting_signoffs(call: Call, hall_code: str, department: str | None) -> dict[str, Any]:
    """The sign-off requests waiting for a leader: a leader's own department; supervisors and
    admins any (or one)."""
    now = call.ctx.clock()
    actor = call.actor
    async with call.ctx.store.read() as conn:
        hall = await get_hall(conn, hall_code)
        dept_id: int | None = None
        if department is not None:
            dept_id = await department_id(conn, hall, department)
        elif actor.role == "leader":
            dept_id = actor.department_id
            department = await conn.fetchval(hq.DEPARTMENT_CODE, dept_id)
        call.check(Target(hall.id, hall.parent_id, department_id=dept_id))
        wait_limit = await conn.fetchval(q.SIGNOFF_WAIT_MINUTES, hall.id)
        on_duty = (
            await conn.fetchval(
                q.ON_DUTY, hall.id, now.astimezone(TZ).date(), actor.id, actor.department_id
            )
            if actor.role == "leader"
            else False
        )
        out = []
        for s in await conn.fetch(q.WAITING_SIGNOFFS, hall.id, dept_id):
            row = await case_row(conn, s["case_id"])
            waited = (now - s["requested_at"]).total_seconds()
            out.append(
                {
                    "signoff_id": s["id"],
                    "purpose": s["purpose"],
                    "extension": s["extension"],
                    "note": s["note"],
                    "requested_at": instant(s["requested_at"]),
                    "requested_by": s["requested_by_name"],
                    "window_no": s["window_no"],
                    "waited_seconds": max(0, int(waited)),
                    "waiting_too_long": waited > wait_limit * 60,
                    "case": await _detail(conn, row, actor, now),
                }
            )
    return {
        "department": department,  # None: every department of the hall
        "on_duty": bool(on_duty),
        "wait_limit_minutes": wait_limit,
        "requests": out,
    }


# ------------------------------------------------------------------------------ the citizen

TRACK_STEPS = [
    ("accepted", "已受理"),
    ("in_progress", "办理中"),
    ("awaiting_signoff", "待领导签批"),
    ("completed", "已办结"),
    ("delivered", "已领取"),
]


async def tracked_case(conn: Conn, code: str) -> asyncpg.Record:
    """The case a citizen's code leads to: the case's query code or the registration's, both
    unguessable. Never the registration's reg_no (its barcode): sequential, it would let one
    client read a day's cases in order. The same refusal for a wrong code whether or not it
    exists, a real reg_no included (the HTTP view and the live /track connection both look up
    here)."""
    code = code.strip().upper()
    row = await conn.fetchrow(q.CASE_BY_QUERY_CODE, code)
    if row is None:
        row = await conn.fetchrow(q.CASE_BY_REGISTRATION_QUERY_CODE, code)
    if row is None:
        raise NotFound(
            "查询码不正确或办件不存在，请核对告知单", code="unknown_query_code", field="code"
        )
    return row


async def track(conn: Conn, code: str, now: datetime) -> dict[str, Any]:
    """The citizen's view by the case's query code or the registration notice's (tracked_case).
    Masked throughout; the same answer for a wrong code whether or not it exists."""
    row = await tracked_case(conn, code)
    cal = await load_calendar(conn, row["hall_id"], row["accepted_at"])
    view = clock.view(clock.ClockState.from_json(row["clock"]), now, cal)
    history = await conn.fetch(q.HISTORY_OF_CASE, row["id"])
    notice = await conn.fetchrow(q.OPEN_SUPPLEMENT, row["id"])
    timeline = [
        {
            "at": instant(h["at"]),
            "label": HISTORY_NAMES.get(h["action"], h["action"]),
            "state": h["to_state"],
            "state_name": flow.STATE_NAMES.get(h["to_state"], h["to_state"]),
            # a joint case approved and completed by its last step: that step's clerk made the
            # move, at their window, which is nothing to the citizen (and not anonymous)
            "window_no": None if (h["detail"] or {}).get("joint") else h["window_no"],
        }
        for h in history
        # what the citizen cares about: state changes, pauses and their end, materials
        if h["from_state"] != h["to_state"]
        or h["clock"] is not None
        or h["action"] == "case.supplement_receive"
    ]
    return {
        "case_id": row["id"],
        "case_no": row["case_no"],
        "hall_name": row["hall_name"],
        "item_name": row["item_name"],
        "department_name": row["department_name"],
        "window_no": row["window_no"],
        "applicant": mask_name(row["applicant_name"]),
        "state": row["state"],
        "state_name": flow.STATE_NAMES[row["state"]],
        "ready_for_pickup": row["state"] == "completed",
        "kind": row["kind"],
        "accepted_at": instant(row["accepted_at"]),
        "clock": view.to_json(),
        "working_day_s": working_day_seconds(cal),
        "supplement": (
            {"issued_at": instant(notice["issued_at"]), "materials": notice["materials"]}
            if notice is not None
            else None
        ),
        "timeline": timeline,
        "steps": [{"state": s, "name": n} for s, n in TRACK_STEPS],
        "reason": row["reason"]
        if row["state"] in ("not_accepted", "refused", "withdrawn")
        else None,
        # a joint case (联办): its internal steps and the pick-up (joint_track.view); else None
        "joint": await joint_track.view(conn, row, now),
        # 一表通: the project this case is a stage of, with its stages (project_track.view)
        "project": await project_track.view(conn, row),
    }


def track_url(public_url: str, query_code: str) -> str:
    return f"{public_url}/track?code={query_code}"


def qr_svg(data: str) -> str:
    """The QR code on the notice, as inline SVG (scales to 80 mm and A4 alike)."""
    return segno.make(data, error="m").svg_inline(scale=4, border=2)


async def acceptance_notice(call: Call, case_id: int) -> dict[str, Any]:
    """受理回执: the case number, the deadline, what is missing, and a QR code to /track
    built from the public base URL."""
    async with call.ctx.store.read() as conn:
        row = await case_row(conn, case_id)
        call.check(case_target(row, call.actor))
        cal = await load_calendar(conn, row["hall_id"], row["accepted_at"])
        materials = await conn.fetch(q.MATERIALS_OF_CASE, case_id)
        fees = await conn.fetch(q.FEES_OF_CASE, case_id)
    view = clock.view(clock.ClockState.from_json(row["clock"]), call.ctx.clock(), cal)
    url = track_url(call.ctx.public_url, row["query_code"])
    return {
        "hall_name": row["hall_name"],
        "case_no": row["case_no"],
        "query_code": row["query_code"],
        "item_name": row["item_name"],
        "department_name": row["department_name"],
        "window_no": row["window_no"],
        "clerk_name": row["clerk_name"],
        "applicant": applicant_view(row, serves(call.actor, row)),
        "state": row["state"],
        "state_name": flow.STATE_NAMES[row["state"]],
        "kind": row["kind"],
        "accepted_at": instant(row["accepted_at"]),
        "deadline": view.to_json()["deadline"],
        "limit": {"amount": row["limit_amount"], "unit": row["limit_unit"]},
        "statutory_amount": row["statutory_amount"],
        "reason": row["reason"],
        "submitted": [m["name"] for m in materials if m["status"] in ("submitted", "supplemented")],
        "missing": [
            {"name": m["name"], "problem": m["problem"], "deferred": m["deferred"]}
            for m in materials
            if m["status"] in ("missing", "faulty")
        ],
        "deficiency_due": instant(row["deficiency_due"]) if row["deficiency_due"] else None,
        "fees": [
            {"name": f["name"], "amount_cents": f["amount_cents"], "receipt_no": f["receipt_no"]}
            for f in fees
        ],
        "track_url": url,
        "qr_svg": qr_svg(url),
    }
