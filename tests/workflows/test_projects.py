"""一表通 projects (issue 10) over the API: a construction project through its four serial
stages at the city hall, each stage accepted at the 规划 window as a case of its own, with one
material store (nothing handed in twice), fees and clocks in the one project record; 容缺 inside
a stage blocking only the step that needs the missing material, and the credit blacklist that
bars it; a county hall's project seen by the city's supervision (市县联动)."""

from __future__ import annotations

from tests.cases.helpers import at, command, use_clock
from tests.conftest import login
from tests.queue_helpers import bearer, clerk_at_window
from tests.realtime.sio import SioClient
from tests.workflows.helpers import (
    BUILDER,
    FLOW,
    NAME,
    Windows,
    intake,
    preview,
    project,
    steps_of,
    work_stage,
)


async def test_a_project_runs_four_stages_and_no_material_is_handed_in_twice(live, http, db):
    clock = use_clock(live, at("2026-12-07 09:30"))
    windows = Windows(db)
    lead = await windows.token("planning")

    first = await preview(http, lead)
    assert (first["stage_no"], first["on_file"]) == (1, [])
    assert [m["name"] for m in first["materials"]] == FLOW.stage_materials(1)
    created = await intake(
        http, lead, workflow="construction-project", project_name=NAME, applicant=BUILDER
    )
    project_no = created["project_no"]
    assert project_no.startswith("XM-RIZHAO-2026-") and created["stage_no"] == 1
    # the stage's own promise (15 working days), not the flow's 60
    assert created["clock"]["limit"] == 15

    stage_cases = [created["case_id"]]
    handed_in: set[str] = set(FLOW.stage_materials(1))
    await work_stage(http, windows, created["case_id"])
    for stage_no in (2, 3, 4):
        clock.set(at(f"2026-12-{7 + stage_no:02d} 10:00"))
        shown = await preview(http, lead, project_no)
        wanted = FLOW.stage_materials(stage_no)
        # what is on file is shown, and only what is new is asked for
        assert shown["stage_no"] == stage_no
        assert shown["on_file"] == [n for n in wanted if n in handed_in]
        new = [m["name"] for m in shown["materials"]]
        assert new == [n for n in wanted if n not in handed_in]
        # the later stage's applicant is the project's: the clerk keys only the number
        case = await intake(http, lead, workflow="construction-project", project=project_no)
        assert (case["project_no"], case["stage_no"]) == (project_no, stage_no)
        names = [
            r["name"]
            for r in await db.fetch(
                "select name from case_material where case_id = $1 order by position",
                case["case_id"],
            )
        ]
        assert names == new
        assert not handed_in & set(names)
        handed_in |= set(names)
        stage_cases.append(case["case_id"])
        if stage_no == 3:
            fee_id = await db.fetchval(
                "select f.id from item_fee f join item i on i.id = f.item_id "
                "join hall h on h.id = i.hall_id where h.code = 'rizhao' and i.code = 'housing-001'"
            )
            await command(
                http,
                lead,
                case["case_id"],
                "fees",
                {"fee_id": fee_id, "amount_cents": 3200000, "receipt_no": "SD-2026-000777"},
            )
        await work_stage(http, windows, case["case_id"])

    # zero re-submissions: every material of the project was requested by one stage only
    twice = await db.fetch(
        "select m.name from case_material m join service_case c on c.id = m.case_id "
        "where c.project_id = (select id from project where project_no = $1) "
        "group by m.name having count(*) > 1",
        project_no,
    )
    assert twice == []
    assert handed_in == {m for s in FLOW.steps() for m in s.materials}

    record = await project(http, lead, project_no)
    assert record["state"] == "completed"
    assert [s["case"]["state"] for s in record["stages"]] == ["completed"] * 4
    assert {m["name"] for m in record["materials"]} == handed_in
    assert all(m["on_file"] for m in record["materials"])
    assert [(f["stage_no"], f["amount_cents"]) for f in record["fees"]] == [(3, 3200000)]
    assert record["fees_total_cents"] == 3200000
    assert record["clock"]["elapsed_s"] == sum(
        s["case"]["clock"]["elapsed_s"] for s in record["stages"]
    )
    assert record["next_stage"] is None
    assert record["applicant"] != BUILDER["name"]  # masked

    # each stage texted its own pick-up, once; the project's events tell its whole course
    assert (
        await db.fetchval(
            "select count(*) from notification where dedupe_key = any($1::text[])",
            [f"pickup:{c}" for c in stage_cases],
        )
        == 4
    )
    transitions = [
        (r["payload"]["stage_no"], r["payload"]["transition"])
        for r in await db.fetch(
            "select payload from event where type = 'project.changed' "
            "and payload->>'project_no' = $1 order by seq",
            project_no,
        )
    ]
    assert transitions == [
        (1, "stage_accepted"),
        (1, "stage_completed"),
        (2, "stage_accepted"),
        (2, "stage_completed"),
        (3, "stage_accepted"),
        (3, "stage_completed"),
        (4, "stage_accepted"),
        (4, "completed"),
    ]
    done = await intake(http, lead, status=409, workflow="construction-project", project=project_no)
    assert done["error"]["code"] == "project_complete"

    # the flow's figures count the project as one: four stages, nothing asked for twice
    supervisor = (await login(http, "supervisor1"))["token"]
    resp = await http.get(
        "/api/halls/rizhao/workflows/construction-project/figures?from=2026-12-07&to=2026-12-11",
        headers=bearer(supervisor),
    )
    figures = (await resp.json())["projects"]
    assert figures["opened"] == figures["completed"] == 1
    assert figures["stages"]["distribution"] == {"4": 1}
    assert figures["requested_twice"] == 0
    assert figures["materials_requested"]["distribution"] == {str(len(handed_in)): 1}
    assert figures["visits"]["distribution"] == {"4": 1}


async def test_a_later_stage_waits_for_the_one_before_and_belongs_to_its_applicant(live, http, db):
    use_clock(live, at("2026-12-07 09:30"))
    windows = Windows(db)
    lead = await windows.token("planning")
    created = await intake(
        http, lead, workflow="construction-project", project_name=NAME, applicant=BUILDER
    )
    project_no = created["project_no"]
    refused = {
        "stage_not_ready": (409, {"project": project_no}),
        "project_applicant": (409, {"project": project_no, "applicant": {"name": "别家公司"}}),
        "unknown_project": (404, {"project": "XM-RIZHAO-2026-09999"}),
    }
    for code, (status, body) in refused.items():
        data = await intake(http, lead, status=status, workflow="construction-project", **body)
        assert data["error"]["code"] == code, (code, data)
    no_name = await intake(
        http, lead, status=400, workflow="construction-project", applicant=BUILDER
    )
    assert no_name["error"]["field"] == "project_name"
    amr = await clerk_at_window(db, 1)
    bundle = await intake(
        http, amr, status=400, workflow="company-setup", project=project_no, applicant=BUILDER
    )
    assert bundle["error"]["field"] == "project"
    # the other stage's intake screen: not yet
    resp = await http.get(
        f"/api/halls/rizhao/workflows/construction-project/intake?project={project_no}",
        headers=bearer(lead),
    )
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "stage_not_ready"
    # nothing of the refusals was kept: one project, one case
    assert await db.fetchval("select count(*) from project") == 1
    assert await db.fetchval("select count(*) from service_case where project_id is not null") == 1


async def test_deferred_material_blocks_only_the_step_that_needs_it(live, http, db):
    """容缺 inside a stage: the EIA report left for later holds the EIA step only; the land-use
    permit goes on. Handed in, the EIA step is ready at once (its clock starts then)."""
    clock = use_clock(live, at("2026-12-07 09:30"))
    windows = Windows(db)
    lead = await windows.token("planning")
    shown = await preview(http, lead)
    position = {m["name"]: m for m in shown["materials"]}
    eia_report = position["环境影响报告表"]
    assert eia_report["is_key"] is False and position["用地红线图"]["is_key"] is True
    deficiency = {"commitment_signed": True, "due": "2026-12-11"}
    key = await intake(
        http,
        lead,
        status=400,
        workflow="construction-project",
        project_name=NAME,
        applicant=BUILDER,
        materials=[{"position": position["用地红线图"]["position"], "status": "missing"}],
        deficiency=deficiency,
    )
    assert key["error"]["code"] == "key_material"
    case = await intake(
        http,
        lead,
        workflow="construction-project",
        project_name=NAME,
        applicant=BUILDER,
        materials=[{"position": eia_report["position"], "status": "missing"}],
        deficiency=deficiency,
    )
    await work_stage(http, windows, case["case_id"])  # the filing, then the land-use permit
    steps = await steps_of(http, lead, case["case_id"])
    assert {c: s["state"] for c, s in steps.items()} == {
        "filing": "done",
        "land-permit": "done",
        "eia": "waiting",
    }
    assert steps["eia"]["blocked_by"] == ["环境影响报告表"]
    state = await db.fetchval("select state from service_case where id = $1", case["case_id"])
    assert state in ("accepted", "in_progress")

    clock.set(at("2026-12-08 10:00"))
    await command(http, lead, case["case_id"], "supplement/received", {"positions": []})
    steps = await steps_of(http, lead, case["case_id"])
    assert steps["eia"]["state"] == "ready" and steps["eia"]["blocked_by"] == []
    assert steps["eia"]["ready_at"] == "2026-12-08T10:00:00+08:00"
    await work_stage(http, windows, case["case_id"])
    assert (
        await db.fetchval("select state from service_case where id = $1", case["case_id"])
        == "completed"
    )


async def test_an_applicant_on_the_credit_blacklist_cannot_use_deficiency(live, http, db):
    use_clock(live, at("2026-12-07 09:30"))
    windows = Windows(db)
    lead = await windows.token("planning")
    admin = (await login(http, "admin"))["token"]
    resp = await http.put(
        "/api/halls/rizhao/credit-flags",
        json={"applicant_name": BUILDER["name"], "blacklisted": True, "reason": "拖欠农民工工资"},
        headers=bearer(admin),
    )
    assert resp.status == 200, await resp.json()
    missing = await http.put(
        "/api/halls/rizhao/credit-flags",
        json={"applicant_name": BUILDER["name"], "blacklisted": True},
        headers=bearer(admin),
    )
    assert (await missing.json())["error"]["code"] == "reason_required"
    shown = await preview(http, lead)
    eia = next(m for m in shown["materials"] if m["name"] == "环境影响报告表")
    body = {
        "workflow": "construction-project",
        "project_name": NAME,
        "applicant": BUILDER,
        "materials": [{"position": eia["position"], "status": "missing"}],
        "deficiency": {"commitment_signed": True, "due": "2026-12-11"},
    }
    refused = await intake(http, lead, status=409, **body)
    assert refused["error"]["code"] == "credit_blacklisted"
    # the same list serves the county halls; lifted, 容缺 is open again
    county_lead = await Windows(db, "juxian").token("planning")
    county = await intake(http, county_lead, hall="juxian", status=409, **body)
    assert county["error"]["code"] == "credit_blacklisted"
    supervisor = (await login(http, "supervisor1"))["token"]
    listed = await http.get("/api/halls/rizhao/credit-flags", headers=bearer(supervisor))
    assert [f["applicant_name"] for f in (await listed.json())["flags"]] == [BUILDER["name"]]
    clerk = await http.get("/api/halls/rizhao/credit-flags", headers=bearer(lead))
    assert clerk.status == 403
    await http.put(
        "/api/halls/rizhao/credit-flags",
        json={"applicant_name": BUILDER["name"], "blacklisted": False},
        headers=bearer(admin),
    )
    assert (await intake(http, lead, **body))["stage_no"] == 1


async def test_a_county_project_runs_there_and_the_city_supervision_sees_it_live(live, http, db):
    """市县联动: 莒县 accepts a project on the city's definition with its own departments; the
    city's supervisor, on the city's stream, sees it within 1 s and in the city's project list,
    with its hall."""
    clock = use_clock(live, at("2026-12-07 09:30"))
    county = Windows(db, "juxian")
    lead = await county.token("planning")
    supervisor = (await login(http, "supervisor1"))["token"]
    sio = await SioClient().connect(live.url, auth={"token": supervisor, "hall": "rizhao"})
    try:
        await sio.until_live()
        case = await intake(
            http,
            lead,
            hall="juxian",
            workflow="construction-project",
            project_name="莒县城南污水处理厂项目",
            applicant=BUILDER,
        )
        frames = [f for f in await sio.events(1, timeout=1.0) if f["type"] == "project.changed"]
        assert [(f["data"]["hall"], f["data"]["project_no"]) for f in frames] == [
            ("juxian", case["project_no"])
        ]
    finally:
        await sio.close()
    assert case["project_no"].startswith("XM-JUXIAN-2026-")
    listed = await http.get("/api/halls/rizhao/projects?state=active", headers=bearer(supervisor))
    rows = (await listed.json())["projects"]
    assert [(p["hall"], p["project_no"], p["stage_no"]) for p in rows] == [
        ("juxian", case["project_no"], 1)
    ]
    # the county's own staff do not see the city's list, and the city's record is readable
    record = await project(http, supervisor, case["project_no"])
    assert record["hall"] == "juxian" and record["stages"][0]["case"]["case_no"] == case["case_no"]
    # the steps run at the county's departments' windows, and the pick-up is at the county
    # window that accepted it (the city's pick-up window is not in the county hall)
    clock.set(at("2026-12-07 10:00"))
    await work_stage(http, county, case["case_id"])
    (sms,) = [
        r["body"]
        for r in await db.fetch(
            "select body from notification where dedupe_key = $1", f"pickup:{case['case_id']}"
        )
    ]
    assert f"到 {county.numbers['planning']} 号窗口" in sms
    # /track says the same: that window, and what this stage issued (not the later stages')
    resp = await http.get(f"/api/track/{case['query_code']}")
    pickup = (await resp.json())["joint"]["pickup"]
    assert pickup["window_no"] == county.numbers["planning"]
    assert pickup["items"] == [i for s in FLOW.stages[0].steps for i in s.issues]
