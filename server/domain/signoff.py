"""The leader's sign-off (签批) at the window: the clerk asks with a note, the leader of the
case's department who is on duty today decides with a comment, once. The decision is part of
the case's history and cannot be changed (a database trigger refuses it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from db.queries import cases as q
from server.domain import cases
from server.domain.errors import Conflict, Forbidden, Invalid
from server.domain.queueing import TZ
from server.wire import instant

if TYPE_CHECKING:
    from server.catalogue.spine import Call

MAX_EXTENSION_DAYS = 10  # 行政许可法 §42: up to ten more days, with the leader's approval


async def request(
    call: Call, case_id: int, purpose: str, note: str, extension: int | None
) -> tuple[dict[str, Any], list]:
    note = note.strip()
    if len(note) > 500:
        raise Invalid("说明不能超过 500 字", code="too_long", field="note")
    if purpose == "extension":
        if extension is None or not 1 <= extension <= MAX_EXTENSION_DAYS:
            raise Invalid(
                f"延期应为 1 到 {MAX_EXTENSION_DAYS} 个时限单位",
                code="invalid_field",
                field="extension",
            )
        if not note:
            raise Invalid("请说明延期理由", code="reason_required", field="note")
    elif purpose == "decision":
        extension = None
    else:
        raise Invalid("签批类型应为 decision 或 extension", code="invalid_field", field="purpose")
    async with call.command() as tx:
        step = await cases.begin(call, tx, case_id, f"case.request_signoff:{purpose}")
        if step.clock_state.status != "running":
            # a decision (or an extension) comes after the pause ends: approved while paused,
            # the case could never resume and its remaining time would count as paused
            raise Conflict(
                "办件计时暂停中，请先恢复计时（补正材料补齐或特别程序结束）",
                code="clock_paused",
                field="clock",
            )
        row = step.row
        request_id = await tx.conn.fetchval(
            q.INSERT_SIGNOFF,
            case_id,
            row["hall_id"],
            row["department_id"],
            purpose,
            extension,
            note,
            call.actor.id,
            call.actor.window_id,
            step.now,
        )
        step.detail = {"signoff_id": request_id, "purpose": purpose, "extension": extension}
        data = await cases.finish(step, call)
        tx.emit(
            "signoff.requested",
            {
                "signoff_id": request_id,
                "case_id": case_id,
                "case_no": row["case_no"],
                "item_name": row["item_name"],
                "department": row["department_code"],
                "window_no": call.actor.window_no,
                "clerk_name": call.actor.name,
                "purpose": purpose,
                "extension": extension,
                "note": note,
                "requested_at": instant(step.now),
            },
            hall_id=row["hall_id"],
            window_id=call.actor.window_id,
        )
    return {**data, "signoff_id": request_id}, tx.records


async def decide(
    call: Call, case_id: int, decision: str, comment: str
) -> tuple[dict[str, Any], list]:
    """The on-duty leader of the case's department approves or rejects; a rejection (or a
    refusal of the application) needs a comment."""
    if decision not in ("approve", "reject"):
        raise Invalid("签批意见应为 approve 或 reject", code="invalid_field", field="decision")
    comment = comment.strip()
    if len(comment) > 500:
        raise Invalid("意见不能超过 500 字", code="too_long", field="comment")
    if decision == "reject" and not comment:
        raise Invalid("不同意时请填写意见", code="reason_required", field="comment")
    actor = call.actor
    async with call.command() as tx:
        row = await cases.lock_case(tx, case_id)
        tx.detail.update(case_id=case_id, case_no=row["case_no"], decision=decision)
        call.check(cases.case_target(row, actor))
        today = call.ctx.clock().astimezone(TZ).date()
        on_duty = await tx.conn.fetchval(
            q.ON_DUTY, row["hall_id"], today, actor.id, row["department_id"]
        )
        if not on_duty:
            raise Forbidden("您今天不在带班值班，不能签批", code="not_on_duty")
        open_request = await tx.conn.fetchrow(q.OPEN_SIGNOFF, case_id)
        purpose = open_request["purpose"] if open_request is not None else "decision"
        variant = "extension" if purpose == "extension" else decision
        step = await cases.begin(call, tx, case_id, f"case.signoff:{variant}", row)
        assert open_request is not None  # awaiting_signoff always has one (begin checked)
        await tx.conn.execute(
            q.DECIDE_SIGNOFF,
            open_request["id"],
            "approved" if decision == "approve" else "rejected",
            comment,
            actor.id,
            step.now,
        )
        if purpose == "decision":
            step.decided_at = step.now
            if decision == "reject":
                step.reason = comment
        elif decision == "approve":
            step.move_clock("extend", amount=int(open_request["extension"]))
            deadline = step.clock_state.deadline
            await cases._sms(
                tx,
                step,
                "extension",
                f"【{row['hall_name']}】您的办件 {row['case_no']} 经负责人批准延期办理，"
                f"办结期限延至 {deadline.astimezone(TZ):%Y-%m-%d %H:%M}。"
                if deadline
                else "",
                key=f"extension:{open_request['id']}",
            )
        step.detail = {
            "signoff_id": open_request["id"],
            "purpose": purpose,
            "decision": decision,
            "comment": comment,
            "leader": actor.name,
        }
        data = await cases.finish(step, call)
        tx.emit(
            "signoff.decided",
            {
                "signoff_id": open_request["id"],
                "case_id": case_id,
                "case_no": row["case_no"],
                "department": row["department_code"],
                "purpose": purpose,
                "decision": "approved" if decision == "approve" else "rejected",
                "comment": comment,
                "leader_name": actor.name,
                "state": step.state,
                "decided_at": instant(step.now),
            },
            hall_id=row["hall_id"],
            window_id=open_request["window_id"],
        )
    return data, tx.records
