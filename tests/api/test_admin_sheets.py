"""Staff, windows and items as spreadsheets (issue 12): what is exported imports back unchanged;
an import is all rows or none, and every refused row is reported with its number and reason."""

from __future__ import annotations

import base64
import csv
import io

from openpyxl import Workbook, load_workbook

from tests.api_client import Api

H = "/api/halls/rizhao"


def _csv(rows: list[list[object]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return base64.b64encode(out.getvalue().encode("utf-8-sig")).decode()


def _xlsx(rows: list[list[object]]) -> str:
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return base64.b64encode(buf.getvalue()).decode()


async def _import(api: Api, kind: str, fmt: str, content: str) -> tuple[int, dict]:
    return await api.call(
        "admin", "POST", f"{H}/admin/import/{kind}", json={"format": fmt, "content": content}
    )


async def _export(api: Api, kind: str, fmt: str) -> bytes:
    resp = await api.session.get(
        f"{H}/admin/export/{kind}?format={fmt}",
        headers={"Authorization": f"Bearer {api.tokens['admin']}"},
    )
    assert resp.status == 200, await resp.text()
    return await resp.read()


async def _fingerprint(db) -> list:
    return [
        tuple(r)
        for r in await db.fetch(
            "select 'staff', count(*), max(id) from staff union all "
            "select 'window', count(*), max(id) from service_window union all "
            "select 'window_queue', count(*), sum(position) from window_queue union all "
            "select 'item', count(*), sum(version) from item union all "
            "select 'event', count(*), max(seq) from event"
        )
    ]


async def test_exported_windows_and_items_import_back_unchanged(live, http, db):
    api = Api(http)
    await api.login("admin")
    before_windows = (await api.ok("admin", "GET", f"{H}/admin/windows"))["windows"]
    content = await _export(api, "windows", "xlsx")
    ws = load_workbook(io.BytesIO(content)).worksheets[0]
    assert [c.value for c in ws[1]][:3] == ["窗口号", "名称", "部门"]
    assert ws.max_row == len(before_windows) + 1
    status, body = await _import(api, "windows", "xlsx", base64.b64encode(content).decode())
    assert status == 200, body
    assert body["rows"] == len(before_windows)
    after = (await api.ok("admin", "GET", f"{H}/admin/windows"))["windows"]
    assert after == before_windows

    before_items = (await api.ok("admin", "GET", f"{H}/admin/items"))["items"]
    content = await _export(api, "items", "csv")
    assert content.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    status, body = await _import(api, "items", "csv", base64.b64encode(content).decode())
    assert status == 200, body
    after_items = (await api.ok("admin", "GET", f"{H}/admin/items"))["items"]

    def definition(items):
        return [{k: v for k, v in i.items() if k != "version"} for i in items]

    changed = [
        (b["code"], k, b[k], a[k])
        for a, b in zip(definition(after_items), definition(before_items))
        for k in b
        if a[k] != b[k]
    ]
    assert not changed and len(after_items) == len(before_items)
    assert [i["version"] for i in after_items] == [i["version"] + 1 for i in before_items]


async def test_a_hall_set_up_from_a_spreadsheet(live, http, db):
    api = Api(http)
    await api.login("admin")
    items = [
        [
            "事项编码",
            "事项名称",
            "部门",
            "类别",
            "办理类型",
            "时限单位",
            "法定时限",
            "承诺时限",
            "急办时限",
            "队列",
            "需领导签批",
            "服务时长标准（分钟）",
            "启用",
            "材料",
            "收费",
        ],
        [
            "new-001",
            "食品经营许可",
            "amr",
            "许可",
            "承诺件",
            "工作日",
            20,
            5,
            "",
            "amr",
            "是",
            20,
            "是",
            "申请书; 营业执照×2; 健康证明（容缺）：从业人员",
            "工本费=10.00",
        ],
        ["new-002", "个体户变更", "amr", "", "即办件", "", 0, "", "", "amr", "", "", "", "", ""],
    ]
    status, body = await _import(api, "items", "xlsx", _xlsx(items))
    assert status == 200, body
    item = await api.ok("admin", "GET", f"{H}/items/new-001")
    assert item["promised_limit"] == 5 and item["requires_signoff"] is True
    assert [(m["name"], m["is_key"], m["copies"], m["note"]) for m in item["materials"]] == [
        ("申请书", True, 1, ""),
        ("营业执照", True, 2, ""),
        ("健康证明", False, 1, "从业人员"),
    ]
    assert [(f["name"], f["amount_cents"]) for f in item["fees"]] == [("工本费", 1000)]

    staff = [
        ["用户名", "姓名", "角色", "部门", "手机", "在岗"],
        ["zhao.ming", "赵明", "窗口人员", "amr", "13900000001", "是"],
        ["qian.li", "钱丽", "leader", "amr", "", ""],
    ]
    status, body = await _import(api, "staff", "csv", _csv(staff))
    assert status == 200, body
    created = {c["username"]: c["password"] for c in body["created"]}
    assert set(created) == {"zhao.ming", "qian.li"} and all(len(p) >= 10 for p in created.values())
    resp = await http.post(
        "/api/auth/login", json={"username": "zhao.ming", "password": created["zhao.ming"]}
    )
    assert resp.status == 200 and (await resp.json())["actor"]["must_change_password"] is True


async def test_an_import_with_bad_rows_reports_each_and_keeps_nothing(live, http, db):
    api = Api(http)
    await api.login("admin")
    before = await _fingerprint(db)
    staff = [
        ["用户名", "姓名", "角色", "部门", "手机", "在岗"],
        ["good.one", "好人", "clerk", "amr", "", "是"],  # row 2: fine, but must not be kept
        ["Bad Name", "坏名", "clerk", "amr", "", ""],  # row 3: the username's form
        ["no.dept", "无部门", "clerk", "", "", ""],  # row 4: a clerk needs a department
        ["wrong.dept", "错部门", "clerk", "nowhere", "", ""],  # row 5: unknown department
        ["bad.role", "坏角色", "boss", "amr", "", ""],  # row 6
        ["good.one", "重复", "clerk", "amr", "", ""],  # row 7: twice in the file
        ["bad.phone", "坏手机", "clerk", "amr", "12345", "也许"],  # row 8
        ["admin", "抢用户名", "clerk", "amr", "", ""],  # row 9: fine (an update of admin)...
    ]
    status, body = await _import(api, "staff", "csv", _csv(staff))
    assert status == 400, body
    error = body["error"]
    assert error["code"] == "import_refused"
    got = {(r["row"], r["code"]) for r in error["rows"]}
    assert got == {
        (3, "invalid_row"),
        (4, "department_required"),
        (5, "unknown_department"),
        (6, "invalid_row"),
        (7, "invalid_row"),
        (8, "invalid_row"),
        (9, "self_demotion"),  # ...but it would take the admin's own role away
    }, error["rows"]
    assert all(r["message"] for r in error["rows"])
    assert await _fingerprint(db) == before  # nothing half-imported, no event

    windows = [
        ["窗口号", "名称", "部门", "区域", "队列", "优先规则"],
        [1, "1号窗口", "amr", "", "amr", "优先办理"],
        [1000, "太大", "amr", "", "amr", ""],
        [140, "新窗口", "amr", "", "amr; nope", ""],
        [141, "新窗口", "amr", "", "amr", "随便"],
    ]
    status, body = await _import(api, "windows", "xlsx", _xlsx(windows))
    assert status == 400, body
    assert {(r["row"], r["code"]) for r in body["error"]["rows"]} == {
        (3, "invalid_row"),
        (4, "unknown_queue"),
        (5, "invalid_row"),
    }
    assert await _fingerprint(db) == before


async def test_an_unreadable_or_incomplete_file_is_refused(live, http):
    api = Api(http)
    await api.login("admin")
    for fmt, content, code in [
        ("xlsx", base64.b64encode(b"not a workbook").decode(), "unreadable_file"),
        ("csv", _csv([["用户名", "姓名"], ["a.b", "甲"]]), "missing_columns"),
        ("csv", _csv([["用户名", "姓名", "角色", "部门", "手机", "在岗"]]), "unreadable_file"),
    ]:
        status, body = await _import(api, "staff", fmt, content)
        assert (status, body["error"]["code"]) == (400, code), body
    status, body = await api.call(
        "admin", "POST", f"{H}/admin/import/staff", json={"format": "csv", "content": "%%%"}
    )
    assert (status, body["error"]["code"]) == (400, "invalid_field")
