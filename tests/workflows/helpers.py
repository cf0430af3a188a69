"""Driving joint cases (多证联办) and projects (一表通) over the API, shared by the workflow and
browser tests: a case's steps by code, a step claimed or completed, the overrun timer run at an
instant, which window of the demo hall works each step of company-setup; a department's signed-in
clerk, a project's intake (and its preview), a stage worked through, the project record."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientSession

from server.catalogue import CATALOGUE
from server.catalogue.spine import TimerContext
from server.demo_workflows import CONSTRUCTION_PROJECT
from server.domain.workflow_def import WorkflowDefinition
from server.keys import STORE
from tests.cases.helpers import at
from tests.queue_helpers import bearer, clerk_at_window

APPLICANT = {"name": "日照新材料有限公司", "phone": "13800138001"}
# amr windows are 1..17, tax 18..29, psb 30..41, hrss 42..53
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


# ------------------------------------------------------------------------------ 一表通 projects

FLOW = WorkflowDefinition.model_validate(CONSTRUCTION_PROJECT)
BUILDER = {"name": "日照城投建设有限公司", "phone": "13800138002"}
NAME = "日照市第一中学新校区建设项目"


class Windows:
    """One signed-in clerk per department of a hall, at its first window."""

    def __init__(self, db: Any, hall: str = "rizhao"):
        self.db, self.hall = db, hall
        self.tokens: dict[str, str] = {}
        self.numbers: dict[str, int] = {}

    async def token(self, department: str) -> str:
        if department not in self.tokens:
            no = await self.db.fetchval(
                "select min(w.window_no) from service_window w "
                "join department d on d.id = w.department_id join hall h on h.id = w.hall_id "
                "where h.code = $1 and d.code = $2",
                self.hall,
                department,
            )
            self.numbers[department] = no
            self.tokens[department] = await clerk_at_window(self.db, no, hall=self.hall)
        return self.tokens[department]


async def intake(http, token: str, hall: str = "rizhao", status: int = 201, **body: Any) -> dict:
    resp = await http.post(f"/api/halls/{hall}/cases", json=body, headers=bearer(token))
    data = await resp.json()
    assert resp.status == status, data
    return data


async def preview(http, token: str, project: str | None = None, hall: str = "rizhao") -> dict:
    query = f"?project={project}" if project else ""
    resp = await http.get(
        f"/api/halls/{hall}/workflows/construction-project/intake{query}", headers=bearer(token)
    )
    data = await resp.json()
    assert resp.status == 200, data
    return data


async def work_stage(http, windows: Windows, case_id: int) -> None:
    """Each step of the stage, claimed and completed at its department's window as it becomes
    ready, until none is left."""
    while True:
        lead = await windows.token(FLOW.lead_department)
        ready = [s for s in (await steps_of(http, lead, case_id)).values() if s["state"] == "ready"]
        if not ready:
            return
        for s in ready:
            token = await windows.token(s["department"])
            await step_command(http, token, s["step_id"], "claim")
            await step_command(http, token, s["step_id"], "complete", {"note": "同意"})


async def project(http, token: str, project_no: str) -> dict:
    resp = await http.get(f"/api/projects/{project_no}", headers=bearer(token))
    data = await resp.json()
    assert resp.status == 200, data
    return data


async def open_project(
    http, lead: str, deferred: str | None = None, due: str = "2026-12-11"
) -> dict:
    """A new project's first stage accepted at the 规划 window; with `deferred`, that material
    left for later under 容缺 (the applicant's signed commitment, due by `due`)."""
    body: dict[str, Any] = {
        "workflow": "construction-project",
        "project_name": NAME,
        "applicant": BUILDER,
    }
    if deferred is not None:
        shown = await preview(http, lead)
        position = next(m["position"] for m in shown["materials"] if m["name"] == deferred)
        body["materials"] = [{"position": position, "status": "missing"}]
        body["deficiency"] = {"commitment_signed": True, "due": due}
    return await intake(http, lead, **body)
