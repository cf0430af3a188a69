"""What a citizen following one stage case of a project (一表通) on /track sees of the project:
its number and name, and each stage of its flow with its state (the stage case's, or not yet
accepted). Anonymous like the rest of /track: no applicant, no staff, no window, no other
stage's case number or query code (a stage's own code leads to that stage's view)."""

from __future__ import annotations

from typing import Any

import asyncpg

from db.pool import Conn
from db.queries import project_track as q
from server.domain import case_flow as flow
from server.domain.projects import definition_of
from server.wire import maybe_instant

# a stage case in these states is over: its stage is done
_DONE = ("completed", "delivered")


async def view(conn: Conn, case: asyncpg.Record) -> dict[str, Any] | None:
    """The `project` block of GET /api/track/{code}; None for a case that is no project's stage."""
    if case["project_id"] is None:
        return None
    p = await conn.fetchrow(q.PROJECT, case["project_id"])
    assert p is not None
    d = await definition_of(conn, p)  # the version the project was opened under
    standing = {r["stage_no"]: r for r in await conn.fetch(q.STAGES, p["id"])}
    stages = []
    for no, stage in enumerate(d.stages, start=1):
        c = standing.get(no)
        stages.append(
            {
                "no": no,
                "name": stage.name,
                # the stage case's state, or "pending": not accepted yet
                "state": c["state"] if c is not None else "pending",
                "state_name": flow.STATE_NAMES[c["state"]] if c is not None else "未受理",
                "done": c is not None and c["state"] in _DONE,
                "accepted_at": maybe_instant(c["accepted_at"]) if c is not None else None,
                "completed_at": maybe_instant(c["completed_at"]) if c is not None else None,
                "this": no == case["stage_no"],
            }
        )
    return {
        "project_no": p["project_no"],
        "name": p["name"],
        "workflow_name": d.name,
        "state": p["state"],
        "stage_no": case["stage_no"],
        "stages_total": len(d.stages),
        "stages": stages,
    }
