"""/track of a project's stage case (一表通): the citizen sees the project's number and name and
each stage with its state, from the stage case's own query code; nothing personal, no staff."""

from __future__ import annotations

from tests.cases.helpers import at, use_clock
from tests.workflows.helpers import BUILDER, FLOW, NAME, Windows, intake, work_stage


async def track(http, code: str) -> dict:
    resp = await http.get(f"/api/track/{code}")
    data = await resp.json()
    assert resp.status == 200, data
    return data


async def test_a_stage_case_on_track_shows_its_project_and_the_stages(live, http, db):
    clock = use_clock(live, at("2026-12-07 09:30"))
    windows = Windows(db)
    lead = await windows.token("planning")
    first = await intake(
        http, lead, workflow="construction-project", project_name=NAME, applicant=BUILDER
    )
    names = [s.name for s in FLOW.stages]

    view = await track(http, first["query_code"])
    project = view["project"]
    assert (project["project_no"], project["name"]) == (first["project_no"], NAME)
    assert (project["stage_no"], project["stages_total"], project["state"]) == (1, 4, "active")
    assert [(s["no"], s["name"], s["state"], s["this"]) for s in project["stages"]] == [
        (1, names[0], "accepted", True),
        (2, names[1], "pending", False),
        (3, names[2], "pending", False),
        (4, names[3], "pending", False),
    ]
    assert [s["state_name"] for s in project["stages"]] == ["已受理", "未受理", "未受理", "未受理"]

    # the first stage done, the second accepted: the second's own code shows both
    clock.set(at("2026-12-07 10:00"))
    await work_stage(http, windows, first["case_id"])
    clock.set(at("2026-12-08 10:00"))
    second = await intake(http, lead, workflow="construction-project", project=first["project_no"])
    project = (await track(http, second["query_code"]))["project"]
    assert [(s["state"], s["done"], s["this"]) for s in project["stages"]] == [
        ("completed", True, False),
        ("accepted", False, True),
        ("pending", False, False),
        ("pending", False, False),
    ]
    assert project["stages"][0]["completed_at"].startswith("2026-12-07T")
    assert project["stages"][1]["accepted_at"] == "2026-12-08T10:00:00+08:00"
    # and the first stage's code sees the project move on
    earlier = (await track(http, first["query_code"]))["project"]
    assert earlier["stage_no"] == 1 and earlier["stages"][1]["state"] == "accepted"

    # anonymous: no applicant, no clerk, no window, no other stage's code in the block
    shown = str(project)
    clerk = await db.fetchval(
        "select st.display_name from staff st join service_window w on w.id = "
        "(select window_id from service_case where id = $1) where st.username = 'clerk' || "
        "lpad(w.window_no::text, 3, '0')",
        second["case_id"],
    )
    for secret in (BUILDER["name"], BUILDER["phone"], first["query_code"], first["case_no"]):
        assert secret not in shown, secret
    if clerk:
        assert clerk not in shown


async def test_a_plain_case_has_no_project(live, http, db):
    use_clock(live, at("2026-12-07 09:30"))
    lead = await Windows(db, "rizhao").token("amr")
    case = await intake(
        http,
        lead,
        workflow="company-setup",
        item="amr-001",
        applicant={"name": "日照新材料有限公司", "phone": "13800138001"},
    )
    assert (await track(http, case["query_code"]))["project"] is None
