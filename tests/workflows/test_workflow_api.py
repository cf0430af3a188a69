"""Workflow definitions over the API (issue 10): the demo city's two, read by its staff and by
its county halls' (市县联动), and a new version published by the city's admin; a definition
that does not hold together is refused with its reason, and nothing is stored."""

from __future__ import annotations

import copy

from server.demo_workflows import COMPANY_SETUP
from tests.conftest import login
from tests.queue_helpers import bearer

URL = "/api/halls/{hall}/workflows"


async def token(http, username: str) -> dict:
    return bearer((await login(http, username))["token"])


async def test_the_demo_definitions_are_read_by_city_and_county_staff(http):
    resp = await http.get(URL.format(hall="rizhao"), headers=await token(http, "clerk001"))
    assert resp.status == 200, await resp.text()
    listed = {w["code"]: w for w in (await resp.json())["workflows"]}
    assert set(listed) == {"company-setup", "construction-project"}
    assert listed["company-setup"]["kind"] == "bundle" and listed["company-setup"]["version"] == 1
    assert listed["construction-project"]["name"] == "工程建设项目一表通"

    # a county hall runs the city's definitions
    resp = await http.get(
        URL.format(hall="juxian") + "/company-setup", headers=await token(http, "juxian.clerk01")
    )
    assert resp.status == 200, await resp.text()
    one = await resp.json()
    assert one["hall"] == "juxian" and one["versions"] == [1]
    assert one["critical_path"] == {"hours": 8.0, "steps": ["licence", "seal"]}
    steps = [s["department"] for s in one["definition"]["stages"][0]["steps"]]
    assert steps == ["amr", "amr", "psb", "hrss", "tax"]


async def test_the_admin_publishes_a_new_version_and_a_bad_one_is_refused(http, db):
    admin = await token(http, "admin")
    raw = copy.deepcopy(COMPANY_SETUP)
    raw["stages"][0]["steps"][2]["limit"] = {"amount": 6, "unit": "working_hour"}  # seal
    url = URL.format(hall="rizhao") + "/company-setup"
    resp = await http.put(url, json={"definition": raw}, headers=admin)
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert body["version"] == 2 and body["created_by"] == "系统管理员"
    assert body["critical_path"] == {"hours": 10.0, "steps": ["licence", "seal"]}

    raw["stages"][0]["steps"][2]["limit"] = {"amount": 11, "unit": "working_hour"}  # 15 h > 14
    resp = await http.put(url, json={"definition": raw}, headers=admin)
    assert resp.status == 400
    error = (await resp.json())["error"]
    assert error["code"] == "critical_path_exceeds"
    assert "设立登记（一审制） → 公章刻制备案" in error["message"]
    assert "2 个工作日" in error["message"]

    for change, code in (
        (lambda d: d.update(code="other"), "code_mismatch"),
        (lambda d: d.update(lead_department="nobody"), "unknown_department"),
        (lambda d: d.update(pickup_window=998), "unknown_window"),
    ):
        bad = copy.deepcopy(COMPANY_SETUP)
        change(bad)
        resp = await http.put(url, json={"definition": bad}, headers=admin)
        assert resp.status == 400 and (await resp.json())["error"]["code"] == code
    assert await db.fetchval(
        "select array_agg(version order by version) from workflow_definition w"
        " join hall h on h.id = w.hall_id where h.code = 'rizhao' and w.code = 'company-setup'"
    ) == [1, 2]
    resp = await http.get(url + "?version=1", headers=admin)
    assert (await resp.json())["critical_path"]["hours"] == 8.0


async def test_only_the_halls_admin_publishes(http):
    url = URL.format(hall="rizhao") + "/company-setup"
    for who in ("clerk001", "leader.amr", "supervisor1", "juxian.admin"):
        resp = await http.put(
            url, json={"definition": COMPANY_SETUP}, headers=await token(http, who)
        )
        assert resp.status == 403, (who, await resp.text())
    resp = await http.get(
        URL.format(hall="rizhao") + "/nothing", headers=await token(http, "admin")
    )
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "unknown_workflow"
