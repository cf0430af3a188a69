"""What a citizen following a joint case (联办) on /track sees of it: the case's internal steps,
stage by stage, each with its department's name, its state, its due instant while it is open
and its completion instant once settled; and, when every step is settled, where to pick up
everything the steps issued (the same words as the pick-up SMS).

Anonymous: nothing of who worked a step (no clerk, no window that claimed it, no note or
result). The page reads this view again on any event of its case (joint_step.* reach the case's
room), so a step's change shows within the second."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from db.pool import Conn
from db.queries import joint_track as q
from server.domain import joint_steps
from server.domain.workflows import definition_at
from server.wire import maybe_instant

_SETTLED = ("done", "consented")
_OPEN = ("ready", "claimed")
# the parent's states in which everything issued waits at (or was taken from) the pick-up window
_PICKUP_STATES = ("completed", "delivered")


def _step(s: asyncpg.Record, now: datetime) -> dict[str, Any]:
    open_ = s["state"] in _OPEN
    return {
        "code": s["code"],
        "name": s["name"],
        "stage_no": s["stage_no"],
        "department_name": s["department_name"],
        "mode": s["mode"],
        "after": list(s["after"]),
        "state": s["state"],
        # the promise while it is open; when it was settled once it is (done, or 超时默许)
        "due_at": maybe_instant(s["due_at"]) if open_ else None,
        "overdue": open_ and s["due_at"] is not None and s["due_at"] <= now,
        "done_at": maybe_instant(s["done_at"]) if s["state"] in _SETTLED else None,
    }


async def view(conn: Conn, case: asyncpg.Record, now: datetime) -> dict[str, Any] | None:
    """The `joint` block of GET /api/track/{code}; None for a case that is not a joint case."""
    if case["workflow_code"] is None:
        return None
    definition = await definition_at(
        conn, case["hall_id"], case["workflow_code"], case["workflow_version"]
    )
    rows = await conn.fetch(q.TRACK_STEPS, case["id"])
    settled = bool(rows) and all(r["state"] in _SETTLED for r in rows)
    # where everything will be handed over, known from the start; `ready` once every step is
    # settled and the case completed (a withdrawn case is never ready)
    pickup = {
        "window_no": joint_steps.pickup_window(definition, case),
        "items": joint_steps.issued_at_pickup(definition, case),
        "ready": settled and case["state"] in _PICKUP_STATES,
        "delivered": case["state"] == "delivered",
    }
    return {
        "workflow": case["workflow_code"],
        "name": definition.name,
        "stages": [{"no": no, "name": s.name} for no, s in enumerate(definition.stages, start=1)],
        "steps": [_step(r, now) for r in rows],
        "pickup": pickup,
    }
