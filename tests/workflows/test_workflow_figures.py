"""The figures of joint cases (联办成效, issue 10) over the API: four company-setup cases on the
controllable clock (work 09–12, 13–17: a working day of 7 h; the bundle's limit of 2 working
days is 14 working hours, its histogram's buckets 1.75 h, and 48 calendar hours, 6 h buckets):

    A  Mon 09:00 accepted, licence done 10:00, the four others 11:00; picked up 11:30: 1 visit
    B  Mon 13:00 accepted, licence 14:00, code/social/tax 15:00; the seal (due Tue 10:00) is
       done Thu 10:00: an overrun, and the case late (due Wed 17:00); picked up Fri: 2 visits
    C  Tue 10:00 accepted, licence 12:00, the four others 14:00; not picked up yet
    D  Wed 09:00 accepted, its licence claimed: open

and a county case (莒县) under the city's definition, counted in the county's figures only."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from server.demo_workflows import COMPANY_SETUP
from server.domain import workflow_figures as wf
from server.domain.calendar import HallCalendar
from server.domain.queueing import TZ
from server.domain.workflow_def import WorkflowDefinition
from tests.cases.helpers import accept, at, command, use_clock
from tests.conftest import login
from tests.queue_helpers import bearer, clerk_at_window
from tests.workflows.helpers import APPLICANT, WINDOW_OF, step_command, steps_of

FIGURES = "/api/halls/{hall}/workflows/{code}/figures"
PARALLEL = ("code", "seal", "social", "tax")


async def figures(http, token: str, query: str = "", hall: str = "rizhao", status: int = 200):
    url = FIGURES.format(hall=hall, code="company-setup") + query
    resp = await http.get(url, headers=bearer(token))
    body = await resp.json()
    assert resp.status == status, body
    return body


class Run:
    """Cases driven through their steps at the demo windows of each step's department."""

    def __init__(self, live, http, db):
        self.live, self.http, self.db = live, http, db
        self.clock = use_clock(live, at("2026-12-07 09:00"))
        self.tokens: dict[str, str] = {}

    async def token(self, code: str) -> str:
        if code not in self.tokens:
            self.tokens[code] = await clerk_at_window(self.db, WINDOW_OF[code])
        return self.tokens[code]

    async def accept(self, when: str) -> int:
        self.clock.set(at(when))
        case = await accept(
            self.http,
            await self.token("licence"),
            item="amr-001",
            workflow="company-setup",
            applicant=APPLICANT,
        )
        return case["case_id"]

    async def done(self, case_id: int, when: str, *codes: str, claim_only: bool = False) -> None:
        self.clock.set(at(when))
        steps = await steps_of(self.http, await self.token("licence"), case_id)
        for code in codes:
            token = await self.token(code)
            await step_command(self.http, token, steps[code]["step_id"], "claim")
            if not claim_only:
                await step_command(
                    self.http, token, steps[code]["step_id"], "complete", {"note": "办结"}
                )

    async def deliver(self, case_id: int, when: str) -> dict:
        self.clock.set(at(when))
        return await command(self.http, await self.token("licence"), case_id, "deliver")


async def test_figures_of_company_setup_cases(live, http, db):
    run = Run(live, http, db)
    a = await run.accept("2026-12-07 09:00")
    await run.done(a, "2026-12-07 10:00", "licence")
    await run.done(a, "2026-12-07 11:00", *PARALLEL)
    assert (await run.deliver(a, "2026-12-07 11:30"))["visits"] == 1
    b = await run.accept("2026-12-07 13:00")
    await run.done(b, "2026-12-07 14:00", "licence")
    await run.done(b, "2026-12-07 15:00", "code", "social", "tax")
    c = await run.accept("2026-12-08 10:00")
    await run.done(c, "2026-12-08 12:00", "licence")
    await run.done(c, "2026-12-08 14:00", *PARALLEL)
    d = await run.accept("2026-12-09 09:00")
    await run.done(d, "2026-12-09 09:30", "licence", claim_only=True)
    seal = (await steps_of(http, await run.token("licence"), b))["seal"]
    assert seal["due_at"] == "2026-12-08T10:00:00+08:00"  # 4 working hours from Mon 14:00
    await run.done(b, "2026-12-10 10:00", "seal")
    assert (await run.deliver(b, "2026-12-11 09:00"))["visits"] == 2
    run.clock.set(at("2026-12-11 10:00"))
    materials = await db.fetchval("select count(*) from case_material where case_id = $1", a)
    assert materials > 0
    for case_id in (b, c, d):
        n = await db.fetchval("select count(*) from case_material where case_id = $1", case_id)
        assert n == materials

    leader = (await login(http, "leader.amr"))["token"]
    got = await figures(http, leader)
    # the last 30 days up to today by the hall clock
    assert (got["hall"], got["from"], got["to"]) == ("rizhao", "2026-11-12", "2026-12-11")
    assert got["workflow"] == {
        "code": "company-setup",
        "name": "企业开办多证联办",
        "kind": "bundle",
        "version": 1,
        "limit": {"amount": 2, "unit": "working_day"},
        "limit_hours": 14.0,
        "baseline_visits": 7,
    }
    assert got["cases"] == {
        "accepted": 4,
        "completed": 3,
        "delivered": 2,
        "open": 1,
        "withdrawn": 0,
        "refused": 0,
    }
    # working hours: A 2, B 19 (Mon 13–17, Tue, Wed, Thu 09–10), C 3 (10–12, 13–14)
    working = got["elapsed"]["working_hours"]
    assert {k: working[k] for k in ("avg", "p50", "p90", "max")} == {
        "avg": 8.0,
        "p50": 3.0,
        "p90": 15.8,  # 3 + (19 − 3) × 0.8
        "max": 19.0,
    }
    assert [(b_["from"], b_["to"]) for b_ in working["histogram"]] == [
        (0.0, 1.75),
        (1.75, 3.5),
        (3.5, 5.25),
        (5.25, 7.0),
        (7.0, 8.75),
        (8.75, 10.5),
        (10.5, 12.25),
        (12.25, 14.0),
        (14.0, None),
    ]
    assert [b_["count"] for b_ in working["histogram"]] == [0, 2, 0, 0, 0, 0, 0, 0, 1]
    # calendar hours: A 2, B 69 (Mon 13:00 → Thu 10:00), C 4
    cal = got["elapsed"]["calendar_hours"]
    assert {k: cal[k] for k in ("avg", "p50", "p90", "max")} == {
        "avg": 25.0,
        "p50": 4.0,
        "p90": 56.0,
        "max": 69.0,
    }
    assert [b_["to"] for b_ in cal["histogram"]] == [6, 12, 18, 24, 30, 36, 42, 48, None]
    assert [b_["count"] for b_ in cal["histogram"]] == [2, 0, 0, 0, 0, 0, 0, 0, 1]
    # B completed Thu, its promise ran out Wed 17:00
    assert (got["elapsed"]["on_time"], got["elapsed"]["on_time_share"]) == (2, 0.6667)

    steps = {s["code"]: s for s in got["steps"]}
    assert list(steps) == ["licence", "code", "seal", "social", "tax"]
    assert {k: steps["seal"][k] for k in ("name", "department", "mode", "limit")} == {
        "name": "公章刻制备案",
        "department": "psb",
        "mode": "copy_notice",
        "limit": {"amount": 4, "unit": "working_hour"},
    }
    # D's licence is claimed, not done
    assert {c: (s["done"], s["consented"], s["overruns"]) for c, s in steps.items()} == {
        "licence": (3, 0, 0),
        "code": (3, 0, 0),
        "seal": (3, 0, 1),
        "social": (3, 0, 0),
        "tax": (3, 0, 0),
    }
    # licence: A 1, B 1, C 2; seal: A 1, B 18 (Mon 14–17, Tue, Wed, Thu 09–10), C 1
    assert steps["licence"]["working_hours"] == {"avg": 1.33, "p50": 1.0, "p90": 1.8, "max": 2.0}
    assert steps["seal"]["working_hours"] == {"avg": 6.67, "p50": 1.0, "p90": 14.6, "max": 18.0}
    for code in ("code", "social", "tax"):  # C's: 12:00 → 14:00 over lunch is 1 h
        assert steps[code]["working_hours"] == {"avg": 1.0, "p50": 1.0, "p90": 1.0, "max": 1.0}

    assert got["visits"] == {"avg": 1.33, "distribution": {"1": 2, "2": 1}, "baseline": 7}
    assert got["materials_requested"] == {
        "avg": float(materials),
        "distribution": {str(materials): 4},
    }

    # one day: C only
    one = await figures(http, leader, "?from=2026-12-08&to=2026-12-08")
    assert (one["cases"]["accepted"], one["cases"]["completed"]) == (1, 1)
    assert one["elapsed"]["working_hours"]["avg"] == 3.0
    assert one["visits"]["distribution"] == {"1": 1}

    # supervision of the hall sees the same; a clerk is refused
    supervisor = (await login(http, "supervisor1"))["token"]
    assert (await figures(http, supervisor))["cases"] == got["cases"]
    clerk = await run.token("seal")
    refused = await figures(http, clerk, status=403)
    assert refused["error"]["code"] == "wrong_role"

    # a county hall's figures are its own cases under the city's definition
    county = await clerk_at_window(db, 1, hall="juxian")
    resp = await http.post(
        "/api/halls/juxian/cases",
        json={"item": "amr-001", "workflow": "company-setup", "applicant": APPLICANT},
        headers=bearer(county),
    )
    assert resp.status == 201, await resp.text()
    theirs = await figures(http, supervisor, hall="juxian")  # the city's supervisor
    assert (theirs["hall"], theirs["workflow"]["code"]) == ("juxian", "company-setup")
    assert theirs["cases"]["accepted"] == 1 and theirs["cases"]["open"] == 1
    assert (await figures(http, leader))["cases"]["accepted"] == 4


async def test_an_empty_range_gives_zeros_and_nulls(live, http, db):
    use_clock(live, at("2026-12-07 09:00"))
    leader = (await login(http, "leader.amr"))["token"]
    got = await figures(http, leader, "?from=2026-11-01&to=2026-11-30")
    assert got["cases"] == {
        "accepted": 0,
        "completed": 0,
        "delivered": 0,
        "open": 0,
        "withdrawn": 0,
        "refused": 0,
    }
    for kind in ("working_hours", "calendar_hours"):
        hours = got["elapsed"][kind]
        assert (hours["avg"], hours["p50"], hours["p90"], hours["max"]) == (None,) * 4
        assert sum(b["count"] for b in hours["histogram"]) == 0 and len(hours["histogram"]) == 9
    assert (got["elapsed"]["on_time"], got["elapsed"]["on_time_share"]) == (0, None)
    assert [s["code"] for s in got["steps"]] == ["licence", "code", "seal", "social", "tax"]
    assert all(s["done"] == 0 and s["working_hours"]["avg"] is None for s in got["steps"])
    assert got["visits"] == {"avg": None, "distribution": {}, "baseline": 7}
    assert got["materials_requested"] == {"avg": None, "distribution": {}}


async def test_unknown_workflow_and_bad_range(live, http, db):
    use_clock(live, at("2026-12-07 09:00"))
    leader = (await login(http, "leader.amr"))["token"]
    resp = await http.get(
        "/api/halls/rizhao/workflows/no-such-flow/figures", headers=bearer(leader)
    )
    body = await resp.json()
    assert (resp.status, body["error"]["code"]) == (404, "unknown_workflow")
    body = await figures(http, leader, "?from=2026-12-08&to=2026-12-01", status=400)
    assert body["error"]["code"] == "invalid_range"
    body = await figures(http, leader, "?from=2020-01-01&to=2026-12-01", status=400)
    assert body["error"]["code"] == "invalid_range"


# ------------------------------------------------------------------------------ pure


def test_percentiles_interpolate_between_ranks():
    assert wf.percentile([5.0], 0.9) == 5.0
    assert wf.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert wf.percentile([0.0, 10.0], 0.9) == 9.0
    assert wf.summary([]) == {"avg": None, "p50": None, "p90": None, "max": None}


def test_histogram_edges_are_half_open_and_the_limit_is_over():
    limit = 8 * 3600
    got = wf.histogram([0, 3599, 3600, limit - 1, limit, 10 * limit], limit)
    assert [b["count"] for b in got] == [2, 1, 0, 0, 0, 0, 0, 1, 2]
    assert got[-1] == {"from": 8.0, "to": None, "count": 2}


def _local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.mark.parametrize("late", [False, True])
def test_a_consented_step_counts_as_an_overrun(late):
    cal = HallCalendar(overrides={}, work_periods=((time(9), time(12)), (time(13), time(17))))
    d = WorkflowDefinition.model_validate(COMPANY_SETUP)
    row = {
        "case_id": 1,
        "stage_no": 1,
        "code": "tax",
        "name": "税务",
        "department": "tax",
        "mode": "joint_review",
        "state": "consented" if late else "done",
        "ready_at": _local("2026-12-07 10:00"),
        "due_at": _local("2026-12-07 15:00"),
        "done_at": _local("2026-12-07 15:00"),
    }
    (tax,) = [s for s in wf.step_figures(d, [row], cal) if s["code"] == "tax"]
    assert (tax["done"], tax["consented"], tax["overruns"]) == ((0, 1, 1) if late else (1, 0, 0))
    assert tax["working_hours"]["max"] == 4.0  # 10–12, 13–15
