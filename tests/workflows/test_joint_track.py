"""A citizen following a joint case (多证联办) on /track by the notice's query code: the case's
internal steps with their departments, states and clocks through the case's life (intake, the
licence claimed and done, the four parallel steps, a silent 联审 step recorded as consented,
pick-up, delivery), never who worked them; and the steps' events reach the case's /track
connection, not another case's."""

from __future__ import annotations

import copy

from server.demo_workflows import COMPANY_SETUP
from tests.cases.helpers import accept, at, command, use_clock
from tests.queue_helpers import clerk_at_window
from tests.realtime.sio import SioClient
from tests.workflows.helpers import APPLICANT, WINDOW_OF, run_overrun, step_command, steps_of

REVIEW_CODE = "company-review"


async def _track(http, code: str) -> tuple[dict, str]:
    resp = await http.get(f"/api/track/{code}")
    text = await resp.text()
    assert resp.status == 200, text
    return await resp.json(), text


def _states(view: dict) -> dict[str, str]:
    return {s["code"]: s["state"] for s in view["joint"]["steps"]}


async def _review_bundle(db) -> None:
    """company-setup with its tax step a joint review (联审): silent past its limit, consented."""
    review = copy.deepcopy(COMPANY_SETUP)
    review["code"] = REVIEW_CODE
    review["stages"][0]["steps"][4]["mode"] = "joint_review"
    await db.execute(
        "insert into workflow_definition (hall_id, code, version, kind, name, definition) "
        "select id, $2, 1, 'bundle', '企业开办联审联办', $1 from hall where code = 'rizhao'",
        review,
        REVIEW_CODE,
    )


async def test_track_shows_a_joint_cases_steps_through_its_life_and_nobody_who_worked_them(
    live, http, db
):
    await _review_bundle(db)
    clock = use_clock(live, at("2026-12-07 10:00"))  # a Monday; work 09-12, 13-17
    lead = await clerk_at_window(db, 1)
    case = await accept(http, lead, item="amr-001", workflow=REVIEW_CODE, applicant=APPLICANT)
    code = case["query_code"]
    tokens = {c: await clerk_at_window(db, no) for c, no in WINDOW_OF.items()}
    clerks = [
        r["display_name"]
        for r in await db.fetch(
            "select display_name from staff where username = any($1::text[])",
            [f"clerk{no:03d}" for no in WINDOW_OF.values()],
        )
    ]
    assert clerks  # the names that must never show

    def anonymous(text: str) -> None:
        for name in clerks:
            assert name not in text, name
        assert APPLICANT["name"] not in text and APPLICANT["phone"] not in text

    view, text = await _track(http, code)
    anonymous(text)
    joint = view["joint"]
    assert (joint["workflow"], joint["name"]) == (REVIEW_CODE, "企业开办多证联办")
    assert joint["stages"] == [{"no": 1, "name": "企业开办"}]
    assert view["project"] is None  # 一表通's place, not built yet
    licence, *parallel = joint["steps"]
    assert (licence["code"], licence["name"], licence["department_name"]) == (
        "licence",
        "设立登记（一审制）",
        "市场监督管理局",
    )
    assert (licence["state"], licence["due_at"], licence["done_at"]) == (
        "ready",
        "2026-12-07T15:00:00+08:00",
        None,
    )
    assert [(s["code"], s["after"], s["state"], s["due_at"]) for s in parallel] == [
        ("code", ["licence"], "waiting", None),
        ("seal", ["licence"], "waiting", None),
        ("social", ["licence"], "waiting", None),
        ("tax", ["licence"], "waiting", None),
    ]
    assert (joint["pickup"]["window_no"], joint["pickup"]["ready"]) == (1, False)
    # nothing of who works a step, in any step
    for s in joint["steps"]:
        assert not {"claimed_by", "window_no", "claimed_at", "step_id", "result"} & set(s)

    steps = await steps_of(http, lead, case["case_id"])
    clock.set(at("2026-12-07 10:30"))
    await step_command(http, lead, steps["licence"]["step_id"], "claim")
    view, text = await _track(http, code)
    anonymous(text)
    assert _states(view)["licence"] == "claimed"

    clock.set(at("2026-12-07 11:00"))
    await step_command(
        http,
        lead,
        steps["licence"]["step_id"],
        "complete",
        {"note": "准予", "issued": ["营业执照"]},
    )
    view, text = await _track(http, code)
    anonymous(text)
    assert "准予" not in text  # the clerk's note is theirs
    by_code = {s["code"]: s for s in view["joint"]["steps"]}
    assert (by_code["licence"]["state"], by_code["licence"]["done_at"]) == (
        "done",
        "2026-12-07T11:00:00+08:00",
    )
    assert by_code["licence"]["due_at"] is None  # settled: its time is when it was done
    assert {c: (s["state"], s["due_at"]) for c, s in by_code.items() if c != "licence"} == {
        "code": ("ready", "2026-12-07T14:00:00+08:00"),  # 2 h over the lunch break
        "seal": ("ready", "2026-12-07T16:00:00+08:00"),
        "social": ("ready", "2026-12-07T16:00:00+08:00"),
        "tax": ("ready", "2026-12-07T16:00:00+08:00"),
    }
    assert by_code["tax"]["mode"] == "joint_review"
    assert {c: s["department_name"] for c, s in by_code.items() if c != "licence"} == {
        "code": "市场监督管理局",
        "seal": "公安局",
        "social": "人力资源和社会保障局",
        "tax": "税务局",
    }

    clock.set(at("2026-12-07 11:30"))
    for c in ("code", "seal", "social"):
        await step_command(http, tokens[c], steps[c]["step_id"], "claim")
        await step_command(http, tokens[c], steps[c]["step_id"], "complete", {"note": "办结"})
    view, text = await _track(http, code)
    anonymous(text)
    assert _states(view) == {
        "licence": "done",
        "code": "done",
        "seal": "done",
        "social": "done",
        "tax": "ready",
    }
    # the first claim put the case in progress (办理中); it is not ready for pick-up yet
    assert view["joint"]["pickup"]["ready"] is False and view["state"] == "in_progress"

    # 税务 is silent: at its due instant it is overdue, then recorded as consented (超时默许)
    clock.set(at("2026-12-07 16:00"))
    view, _ = await _track(http, code)
    tax = view["joint"]["steps"][-1]
    assert (tax["state"], tax["overdue"]) == ("ready", True)
    assert not any(s["overdue"] for s in view["joint"]["steps"][:-1])
    await run_overrun(live, db, "2026-12-07 16:00")
    view, text = await _track(http, code)
    anonymous(text)
    tax = view["joint"]["steps"][-1]
    assert (tax["state"], tax["done_at"], tax["due_at"], tax["overdue"]) == (
        "consented",
        "2026-12-07T16:00:00+08:00",
        None,
        False,
    )
    # every step settled: the parent is completed, and the pick-up says where and what
    assert view["state"] == "completed" and view["ready_for_pickup"] is True
    assert view["joint"]["pickup"] == {
        "window_no": 1,
        "items": [
            "营业执照",
            "代码信息回执",
            "公章",
            "财务章",
            "法定代表人名章",
            "社会保险登记证明",
            "税务登记信息确认",
            "首批发票",
        ],
        "ready": True,
        "delivered": False,
    }

    clock.set(at("2026-12-08 09:30"))
    await command(http, lead, case["case_id"], "deliver")
    view, _ = await _track(http, code)
    assert view["state"] == "delivered" and view["joint"]["pickup"]["delivered"] is True
    # the progress names the windows the applicant went to (intake, pick-up), no step's
    assert {t["window_no"] for t in view["timeline"]} <= {1, None}


async def test_a_plain_case_has_no_joint_block(live, http, db):
    use_clock(live, at("2026-12-07 10:00"))
    lead = await clerk_at_window(db, 1)
    case = await accept(http, lead, item="amr-001")
    view, _ = await _track(http, case["query_code"])
    assert view["joint"] is None and view["project"] is None


async def test_a_joint_cases_step_events_reach_its_track_connection_only(live, http, db):
    clock = use_clock(live, at("2026-12-07 10:00"))
    lead = await clerk_at_window(db, 1)
    mine = await accept(http, lead, item="amr-001", workflow="company-setup", applicant=APPLICANT)
    other = await accept(http, lead, item="amr-001", workflow="company-setup", applicant=APPLICANT)
    client = await SioClient().connect(live.url, auth={"track": mine["query_code"]})
    try:
        await client.until_live()
        clock.set(at("2026-12-07 10:30"))
        theirs = (await steps_of(http, lead, other["case_id"]))["licence"]["step_id"]
        await step_command(http, lead, theirs, "claim")
        licence = (await steps_of(http, lead, mine["case_id"]))["licence"]["step_id"]
        await step_command(http, lead, licence, "claim")
        await step_command(http, lead, licence, "complete", {"note": "准予"})
        got = await client.events(7, timeout=1.0)
        # its own case's only: its step claimed (the case in progress), done, the four made
        # ready; positions, no payload
        assert [f["type"] for f in got] == [
            "joint_step.claimed",
            "case.changed",
            "joint_step.done",
            *["joint_step.ready"] * 4,
        ]
        assert all(set(f) == {"seq", "type"} for f in got)
        assert await client.quiet(0.3) == []
    finally:
        await client.close()
