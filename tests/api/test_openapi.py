"""/api/openapi.json is a valid OpenAPI document and true to the server: every route aiohttp
serves under /api and /healthz is documented with its method and vice versa, protected routes
really need a session, and every documented request body schema accepts a real request that
the server accepts (and the server refuses a body the schema refuses)."""

from __future__ import annotations

import re
from datetime import date

import jsonschema
import pytest
from aiohttp import ClientSession, DummyCookieJar, web
from openapi_spec_validator import validate as validate_spec
from pydantic import BaseModel, Field

from server import demo_hall
from server.api.openapi import openapi_document
from server.catalogue.spine import Capability, Catalogue, Operation
from server.demo_workflows import COMPANY_SETUP
from tests.queue_helpers import rater_at

METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}
BODY_ERRORS = {"invalid_field", "malformed_json", "empty_body"}


async def fetch_document(live) -> dict:
    async with ClientSession(base_url=live.url) as s:
        resp = await s.get("/api/openapi.json")
        assert resp.status == 200 and resp.content_type == "application/json"
        return await resp.json()


def served_routes(app: web.Application) -> set[tuple[str, str]]:
    """(method, path template) of every route the live app serves under /api, /healthz and
    /metrics."""
    out = set()
    for resource in app.router.resources():
        path = resource.canonical
        if not (path.startswith("/api/") or path in ("/healthz", "/metrics")):
            continue
        methods = {route.method for route in resource}
        if "GET" in methods:
            methods.discard("HEAD")  # aiohttp's automatic HEAD for a GET route
        out |= {(m, path) for m in methods}
    return out


def documented_routes(doc: dict) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, ops in doc["paths"].items()
        for method in ops
        if method in METHODS
    }


def body_validator(doc: dict, method: str, path: str) -> jsonschema.Draft202012Validator:
    schema = doc["paths"][path][method.lower()]["requestBody"]["content"]["application/json"][
        "schema"
    ]
    # "#/components/..." refs resolve against the root of the schema: put the components there
    return jsonschema.Draft202012Validator({**schema, "components": doc["components"]})


def fill(path: str, **values: object) -> str:
    return re.sub(r"{(\w+)}", lambda m: str(values.get(m.group(1), "1")), path)


async def test_document_is_valid_openapi(live):
    doc = await fetch_document(live)
    validate_spec(doc)  # raises on any violation of the OpenAPI schema
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"] and doc["info"]["version"]
    op_ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(op_ids) == len(set(op_ids)), "operationIds must be unique"
    schemes = set(doc["components"]["securitySchemes"])
    for path, ops in doc["paths"].items():
        names = re.findall(r"{(\w+)}", path)
        for method, op in ops.items():
            assert op["responses"] and op["summary"], (method, path)
            params = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert params == set(names), (method, path, params)
            for requirement in op.get("security", []):
                assert set(requirement) <= schemes, (method, path, requirement)


async def test_router_and_document_agree(live):
    doc = await fetch_document(live)
    served = served_routes(live.app)
    documented = documented_routes(doc)
    assert not served - documented, f"served but not documented: {sorted(served - documented)}"
    assert not documented - served, f"documented but not served: {sorted(documented - served)}"
    assert ("GET", "/healthz") in documented and ("GET", "/api/openapi.json") in documented
    assert ("GET", "/metrics") in documented


async def test_security_in_the_document_is_what_the_server_enforces(live):
    doc = await fetch_document(live)
    wrong = []
    async with ClientSession(base_url=live.url, cookie_jar=DummyCookieJar()) as s:
        for path, ops in doc["paths"].items():
            for method, op in ops.items():
                resp = await s.request(method.upper(), fill(path, hall="rizhao"), json={})
                protected = bool(op.get("security"))
                if protected != (resp.status == 401):
                    wrong.append(
                        f"{method.upper()} {path}: documented "
                        f"{'protected' if protected else 'public'}, "
                        f"got {resp.status} without a session"
                    )
                if protected and "401" not in op["responses"]:
                    wrong.append(f"{method.upper()} {path}: 401 not documented")
    assert not wrong, "\n".join(wrong)


async def test_error_body_matches_the_documented_error_schema(live):
    doc = await fetch_document(live)
    validator = jsonschema.Draft202012Validator(doc["components"]["schemas"]["Error"])
    async with ClientSession(base_url=live.url) as s:
        for method, url, body in [
            ("POST", "/api/auth/login", {"username": ""}),
            ("GET", "/api/session", None),
            ("GET", "/api/no-such-thing", None),
        ]:
            resp = await s.request(method, url, json=body)
            assert resp.status >= 400
            payload = await resp.json()
            validator.validate(payload)
            assert set(payload["error"]) <= {"code", "message", "field"}


async def test_every_request_body_schema_accepts_a_real_request(live, db):
    """For each documented requestBody: a real example validates against the schema and the
    server accepts it; a counter-example fails the schema and the server refuses it with 400."""
    doc = await fetch_document(live)
    async with ClientSession(base_url=live.url, cookie_jar=DummyCookieJar()) as s:
        tokens = {}
        for username in ("admin", "clerk001", "leader.amr", "supervisor1"):
            resp = await s.post(
                "/api/auth/login",
                json={
                    "username": username,
                    "password": demo_hall.password_for(username),
                    "bearer": True,
                },
            )
            tokens[username] = (await resp.json())["token"]
        resp = await s.post(
            "/api/auth/device",
            json={"code": "kiosk-01", "secret": demo_hall.password_for("kiosk-01")},
        )
        tokens["kiosk-01"] = (await resp.json())["token"]
        tokens["rater"] = await rater_at(db, 1)  # window 1's rating device
        leader = await db.fetchval("select id from staff where username = 'leader.amr'")
        display = await db.fetchval("select id from device where code = 'display-03'")
        await s.post(
            "/api/halls/rizhao/windows/1/sign-in",
            headers={"Authorization": f"Bearer {tokens['clerk001']}"},
        )

        W = "/api/halls/{hall}/windows/{window_no}"
        CASE = "/api/cases/{case_id}"
        # (method, path, who, example, counter-example, must succeed). In request order: the
        # queue examples follow one ticket (register, call, no-show) as far as they get.
        examples = [
            (
                "POST",
                "/api/auth/login",
                None,
                {
                    "username": "clerk002",
                    "password": demo_hall.password_for("clerk002"),
                    "bearer": True,
                },
                {"username": "clerk002"},
                True,
            ),
            (
                "POST",
                "/api/auth/device",
                None,
                {"code": "display-01", "secret": demo_hall.password_for("display-01")},
                {"code": "display-01", "secret": ""},
                True,
            ),
            (
                "POST",
                "/api/halls/{hall}/sessions/revoke",
                "admin",
                {"device_id": display},
                {"device_id": "display-03"},
                True,
            ),
            (
                "PUT",
                "/api/halls/{hall}/calendar/{day}",
                "admin",
                {"is_working": False, "note": "系统升级"},
                {"is_working": "maybe"},
                True,
            ),
            (
                "POST",
                "/api/halls/{hall}/calendar/notice",
                "admin",
                {
                    "year": 2027,
                    "title": "国务院办公厅关于2027年部分节假日安排的通知",
                    "holidays": [
                        {
                            "name": "国庆节",
                            "from": "2027-10-01",
                            "to": "2027-10-07",
                            "working_days": ["2027-09-26", "2027-10-09"],
                        }
                    ],
                },
                {"year": 2027, "holidays": "国庆节"},
                True,
            ),
            (
                "PUT",
                "/api/halls/{hall}/duty/{day}",
                "admin",
                {"staff_ids": [leader]},
                {"staff_ids": list(range(1, 102))},
                True,
            ),
            (
                "PUT",
                "/api/halls/{hall}/notice",
                "admin",
                {"text": "今日办理不动产登记请到C区"},
                {"text": "长" * 501},
                True,
            ),
            (
                "PUT",
                "/api/halls/{hall}/registration-hours",
                "admin",
                {"open": True},
                {"open": True, "closed": True},
                True,
            ),
            ("POST", W + "/status", "clerk001", {"status": "open"}, {"status": "bogus"}, True),
            (
                "POST",
                "/api/halls/{hall}/registrations",
                "kiosk-01",
                {"item": "amr-001", "phone": "13800138000", "priority": "elderly"},
                {"item": "amr-001", "priority": "vip"},
                True,
            ),
            (
                "POST",
                W + "/call",
                "clerk001",
                {"ticket_no": "A001", "reason": "老年人优先"},
                {"ticket_no": "A001"},
                False,
            ),
            ("POST", W + "/no-show", "clerk001", {"requeue": True}, {"requeue": "later"}, False),
            (
                "POST",
                W + "/transfer",
                "clerk001",
                {"queue": "amr", "front": True, "note": "转"},
                {"to_window_no": 0},
                False,
            ),
            ("POST", W + "/resume", "clerk001", {"ticket_id": 1}, {"ticket_id": 0}, False),
            ("POST", W + "/cancel", "clerk001", {"reason": "群众放弃"}, {"reason": ""}, False),
            # a walk-in case at window 1 (case 1), then every case command on it
            (
                "POST",
                "/api/halls/{hall}/cases",
                "clerk001",
                {"item": "amr-002", "applicant": {"name": "张三", "phone": "13800138000"}},
                {"item": "amr-002", "applicant": {"name": ""}},
                True,
            ),
            (
                "PUT",
                CASE + "/materials",
                "clerk001",
                {"materials": [{"position": 1, "status": "submitted"}]},
                {"materials": []},
                False,
            ),
            (
                "POST",
                CASE + "/supplement",
                "clerk001",
                {"materials": [{"position": 1, "status": "missing", "problem": "未带原件"}]},
                {"materials": [{"position": 0, "status": "missing"}]},
                False,
            ),
            (
                "POST",
                CASE + "/supplement/received",
                "clerk001",
                {"positions": [1]},
                {"positions": "all"},
                False,
            ),
            (
                "POST",
                CASE + "/pause",
                "clerk001",
                {"kind": "testing", "reason": "送检"},
                {"kind": "nap", "reason": "x"},
                False,
            ),
            ("POST", CASE + "/resume", "clerk001", {"note": "检测完成"}, {"note": ["x"]}, False),
            (
                "POST",
                CASE + "/escalate",
                "clerk001",
                {"reason": "报省厅审批"},
                {"reason": 5},
                False,
            ),
            (
                "POST",
                CASE + "/fees",
                "clerk001",
                {"fee_id": 1, "amount_cents": 100, "receipt_no": "R0001"},
                {"fee_id": 0, "amount_cents": 100, "receipt_no": "R0001"},
                False,
            ),
            (
                "POST",
                CASE + "/signoff-request",
                "clerk001",
                {"purpose": "decision", "note": "请签批"},
                {"purpose": "coffee"},
                False,
            ),
            (
                "POST",
                CASE + "/signoff",
                "leader.amr",
                {"decision": "approve", "comment": "同意"},
                {"decision": "maybe"},
                False,
            ),
            (
                "POST",
                CASE + "/decision",
                "clerk001",
                {"decision": "approve"},
                {"decision": "yes"},
                False,
            ),
            (
                "POST",
                CASE + "/withdraw",
                "clerk001",
                {"reason": "申请人撤回"},
                {"reason": 1},
                False,
            ),
            (
                "POST",
                "/api/halls/{hall}/cases/not-accepted",
                "clerk001",
                {"case_id": 1, "reason": "不属于受理范围"},
                {"case_id": 0, "reason": "x"},
                False,
            ),
        ]
        # supervision: a manual alarm on window 1 (amr), then its life (alarm 1 in a fresh
        # database; a refusal other than the body's is fine)
        ALARM = "/api/alarms/{alarm_id}"
        RECT = "/api/rectifications/{rectification_id}"
        examples += [
            (
                "POST",
                "/api/halls/{hall}/alarms",
                "supervisor1",
                {"level": "yellow", "note": "窗口人员脱岗", "window_no": 1},
                {"level": "orange", "note": "窗口人员脱岗", "window_no": 1},
                True,
            ),
            (
                "POST",
                ALARM + "/annotate",
                "supervisor1",
                {"note": "已电话联系"},
                {"note": ""},
                False,
            ),
            ("POST", ALARM + "/supervise", "supervisor1", {"note": "请整改"}, {}, False),
            ("POST", ALARM + "/answer", "leader.amr", {"answer": "已整改"}, {"answer": 1}, False),
            ("POST", ALARM + "/appeal", "leader.amr", {"reason": "系统故障"}, {"why": "x"}, False),
            (
                "POST",
                ALARM + "/decide-appeal",
                "supervisor1",
                {"decision": "send_back", "note": "无故障记录"},
                {"decision": "ignore", "note": "x"},
                False,
            ),
            ("POST", ALARM + "/close", "supervisor1", {"note": "整改到位"}, {"note": 5}, False),
            ("POST", ALARM + "/cancel", "supervisor1", {"reason": "误报"}, {"reason": ""}, False),
            (
                "POST",
                "/api/joint-steps/{step_id}/complete",
                "clerk001",
                {"note": "准予设立登记", "issued": ["营业执照"]},
                {"note": "x", "issued": "营业执照"},
                False,
            ),
            (
                "POST",
                W + "/rating-request",
                "clerk001",
                {"ticket_id": 1},
                {"ticket_id": "one"},
                False,
            ),
            ("POST", W + "/rating", "rater", {"level": 5}, {"level": 0}, False),
            (
                "POST",
                "/api/rate/{token}",
                None,
                {"level": 4, "reasons": ["attitude"]},
                {"level": "x"},
                False,
            ),
            (
                "POST",
                "/api/halls/{hall}/ballots",
                "supervisor1",
                {"slip": "26120700000001", "level": 5, "reasons": ["efficiency"]},
                {"slip": "26120700000001", "level": 9},
                False,
            ),
            # 整改: the task of the example does not exist (404); the bodies are what count
            ("POST", RECT + "/verify", "leader.amr", {"note": "属实"}, {"note": ""}, False),
            ("POST", RECT + "/rectify", "leader.amr", {"note": "已培训"}, {}, False),
            (
                "POST",
                RECT + "/call-back",
                "leader.amr",
                {"reached": True, "note": "已致歉", "followup_level": 4},
                {"reached": True, "followup_level": 6},
                False,
            ),
            ("POST", RECT + "/close", "leader.amr", {"note": "整改完毕"}, {"note": 1}, False),
            ("POST", RECT + "/appeal", "leader.amr", {"reason": "恶意差评"}, {"reason": ""}, False),
            (
                "POST",
                RECT + "/decide-appeal",
                "supervisor1",
                {"decision": "upheld", "note": "评价人与窗口无业务往来"},
                {"decision": "withdraw", "note": "x"},
                False,
            ),
            (
                "PUT",
                "/api/halls/{hall}/rectification-days",
                "admin",
                {"days": 5},
                {"days": 0},
                True,
            ),
            (
                "PUT",
                "/api/halls/{hall}/credit-flags",
                "admin",
                {"applicant_name": "日照城投建设有限公司", "blacklisted": True, "reason": "失信"},
                {"blacklisted": True, "reason": "失信"},
                False,
            ),
            (
                "PUT",
                "/api/halls/{hall}/workflows/{code}",
                "admin",
                {"definition": COMPANY_SETUP},
                {"definition": {**COMPANY_SETUP, "kind": "other"}},
                True,
            ),
            (
                "POST",
                "/api/halls/{hall}/supervision/rules",
                "supervisor1",
                {"rules": {"answer_days": 5, "step_limits": {"amr-001": {"accepted": 1}}}},
                {"rules": {"answer_days": 5}, "version": 2},
                True,
            ),
            # the administration (issue 12)
            (
                "POST",
                "/api/halls/{hall}/staff",
                "admin",
                {"username": "openapi.new", "name": "示例", "role": "clerk", "department": "amr"},
                {"username": "Not Valid", "name": "示例", "role": "clerk"},
                True,
            ),
            (
                "PUT",
                "/api/halls/{hall}/staff/{staff_id}",
                "admin",
                {"name": "示例", "role": "clerk", "department": "amr"},
                {"name": "示例", "role": "boss"},
                False,
            ),
            (
                "POST",
                "/api/auth/password",
                "clerk001",
                {"current": "not-it", "new": "Abcdefgh-12"},
                {"current": "not-it"},
                False,
            ),
            (
                "POST",
                "/api/halls/{hall}/devices",
                "admin",
                {"code": "openapi-kiosk", "kind": "kiosk", "name": "示例"},
                {"code": "openapi-2", "kind": "phone", "name": "示例"},
                True,
            ),
            ("PUT", "/api/halls/{hall}/devices/{device_id}", "admin", {"name": "示例"}, {}, False),
            (
                "POST",
                "/api/halls/{hall}/windows",
                "admin",
                {"window_no": 140, "name": "示例", "department": "amr", "queues": [["amr"]]},
                {"window_no": 0, "name": "示例", "department": "amr", "queues": [["amr"]]},
                True,
            ),
            (
                "PUT",
                "/api/halls/{hall}/windows/{window_no}",
                "admin",
                {
                    "name": "1号窗口 市场监管",
                    "department": "amr",
                    "zone": "一楼A区",
                    "queues": [["amr"]],
                },
                {"name": "示例", "department": "amr", "queues": "amr"},
                True,
            ),
            (
                "PUT",
                "/api/halls/{hall}/items/{code}",
                "admin",
                {
                    "name": "示例事项",
                    "department": "amr",
                    "kind": "immediate",
                    "statutory_limit": 0,
                },
                {"name": "示例事项", "department": "amr", "kind": "later", "statutory_limit": 0},
                True,
            ),
            (
                "PUT",
                "/api/halls/{hall}/settings",
                "admin",
                {
                    "work_periods": [["09:00", "12:00"], ["13:00", "17:00"]],
                    "closes_at": "17:30",
                    "registration_lead_minutes": 30,
                    "no_show_recalls": 2,
                    "park_minutes": 60,
                    "signoff_wait_minutes": 10,
                    "supplement_notice_days": 5,
                    "supplement_warn_days": 1,
                    "rectification_days": 5,
                },
                {"work_periods": [], "closes_at": "25:00"},
                True,
            ),
            (
                "PUT",
                "/api/halls/{hall}/departments/{code}",
                "admin",
                {"name": "示例部门"},
                {"name": ""},
                True,
            ),
            (
                "PUT",
                "/api/halls/{hall}/queues/{code}",
                "admin",
                {"name": "示例队列", "prefix": "OA", "service_norm_minutes": 20},
                {"name": "示例队列", "prefix": "oa"},
                True,
            ),
            (
                "POST",
                "/api/halls/{hall}/admin/import/{kind}",
                "admin",
                {"format": "csv", "content": "5a6e5Y+3"},
                {"format": "pdf", "content": ""},
                False,
            ),
        ]
        documented = {
            (m.upper(), p)
            for p, ops in doc["paths"].items()
            for m, op in ops.items()
            if "requestBody" in op
        }
        covered = {(m, p) for m, p, *_ in examples}
        assert documented <= covered, f"no example for {sorted(documented - covered)}"

        wrong = []
        for method, path, who, example, counter, must_succeed in examples:
            if (method, path) not in documented:
                wrong.append(f"{method} {path}: has a body but documents no requestBody")
                continue
            validator = body_validator(doc, method, path)
            errors = [e.message for e in validator.iter_errors(example)]
            if errors:
                wrong.append(f"{method} {path}: example fails the schema: {errors}")
            if validator.is_valid(counter):
                wrong.append(f"{method} {path}: counter-example passes the schema: {counter}")
            url = fill(
                path,
                hall="rizhao",
                window_no=1,
                day=date(2026, 12, 2).isoformat(),
                code="company-setup",
                token="ABCDEFGHJKMN",
                kind="windows",
            )
            headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
            resp = await s.request(method, url, json=example, headers=headers)
            body = await resp.json()
            code = body.get("error", {}).get("code") if isinstance(body, dict) else None
            if (
                resp.status >= 500
                or code in BODY_ERRORS
                or (must_succeed and not 200 <= resp.status < 300)
            ):
                wrong.append(f"{method} {path}: server refused the example: {resp.status} {body}")
            if str(resp.status) not in doc["paths"][path][method.lower()]["responses"] and (
                200 <= resp.status < 300
            ):
                wrong.append(f"{method} {path}: answered {resp.status}, not documented")
            resp = await s.request(method, url, json=counter, headers=headers)
            body = await resp.json()
            if resp.status != 400 or body["error"]["code"] != "invalid_field":
                wrong.append(
                    f"{method} {path}: server took the counter-example: {resp.status} {body}"
                )
    assert not wrong, "\n".join(wrong)


# ------------------------------------------------------------------ the generator on its own
class _Address(BaseModel):
    city: str = Field(max_length=20)


class _Nested(BaseModel):
    name: str
    address: _Address
    previous: list[_Address] = []
    nickname: str | None = None


async def _nothing(call, params, body):  # pragma: no cover - never called
    raise AssertionError


@pytest.mark.parametrize("body", [_Nested])
def test_nested_and_optional_body_models_give_a_valid_document(body):
    """A body model with nested models and optional fields: the document stays valid and its
    $refs resolve (pydantic puts nested models under $defs)."""
    op = Operation(
        "thing.make",
        "a thing",
        "command",
        _nothing,
        {"admin": "hall"},
        http=("POST", "/api/things/{thing}"),
        body=body,
        tag="test",
    )
    doc = openapi_document(Catalogue([Capability("test", operations=(op,))]))
    validate_spec(doc)
    v = body_validator(doc, "POST", "/api/things/{thing}")
    assert v.is_valid(
        {"name": "x", "address": {"city": "日照"}, "nickname": None, "previous": [{"city": "莒县"}]}
    )
    assert not v.is_valid({"name": "x", "address": {"city": "长" * 21}})
    assert not v.is_valid({"name": "x", "address": {"city": "日照"}, "previous": [{}]})
