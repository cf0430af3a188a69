"""Staff, windows and the item catalogue as spreadsheets (.xlsx or CSV): the export a hall
keeps, and the import that sets a hall up from the spreadsheet its catalogue arrives in.

One sheet per kind, one row per staff member, window or item, headed in Chinese (English
column names are accepted too). The export writes exactly what the import reads, so a hall can
export, edit and import back. An import is all or nothing: every row is checked and applied in
one transaction (each in a savepoint, so one bad row does not hide the next), and if any row is
refused nothing is kept and every refusal is reported with its row number and reason.

Lists inside a cell:
- a window's queues in serving order, separated by `;`, queues served together joined by `+`:
  `ga; hj+sb`;
- an item's materials one per line (or separated by `;`: an ASCII one, since a Chinese `；`
  may be part of a legal basis), each `名称`, optionally `×2` (copies) and
  `（容缺）` (may be supplied later under 容缺受理), a note after `：`;
- an item's fees, likewise one per line, each `名称=金额` in yuan, then its legal basis after `|`:
  `工本费=10.00|鲁价费发〔2019〕1号`."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import asyncpg
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from server.domain import hall_setup, item_admin, staff_admin, window_admin
from server.domain.errors import DomainError, Invalid
from server.domain.events import EventRecord
from server.domain.hall import HallRef, get_hall
from server.domain.report_export import CSV_TYPE, XLSX_TYPE, to_csv, to_xlsx

if TYPE_CHECKING:
    from server.catalogue.spine import Call

# in the order a new hall imports them: each refers to the ones before it
KINDS: Final = ("departments", "queues", "windows", "staff", "items")
KIND_NAMES: Final = {
    "departments": "部门",
    "queues": "队列",
    "windows": "窗口",
    "staff": "人员",
    "items": "事项",
}
MAX_ROWS: Final = 5000
YES: Final = ("是", "y", "yes", "true", "1", "√")
NO: Final = ("否", "n", "no", "false", "0", "", "×")
ROLE_NAMES: Final = {
    "clerk": "窗口人员",
    "leader": "带班领导",
    "supervisor": "督查",
    "admin": "管理员",
}
RULE_NAMES: Final = {"priority_first": "优先办理", "priority_only": "仅办理优先"}
KIND_LABELS: Final = {"immediate": "即办件", "promised": "承诺件"}
UNIT_LABELS: Final = {"working_day": "工作日", "working_hour": "工作小时"}

# Each kind's columns: (Chinese header, English key). The first is the row's key.
COLUMNS: Final[dict[str, list[tuple[str, str]]]] = {
    "departments": [("部门编码", "code"), ("部门名称", "name")],
    "queues": [
        ("队列编码", "code"),
        ("名称", "name"),
        ("号码前缀", "prefix"),
        ("部门", "department"),
        ("服务时长标准（分钟）", "service_norm_minutes"),
    ],
    "staff": [
        ("用户名", "username"),
        ("姓名", "name"),
        ("角色", "role"),
        ("部门", "department"),
        ("手机", "phone"),
        ("在岗", "active"),
    ],
    "windows": [
        ("窗口号", "window_no"),
        ("名称", "name"),
        ("部门", "department"),
        ("区域", "zone"),
        ("队列", "queues"),
        ("优先规则", "priority_rule"),
    ],
    "items": [
        ("事项编码", "code"),
        ("事项名称", "name"),
        ("部门", "department"),
        ("类别", "category"),
        ("办理类型", "kind"),
        ("时限单位", "limit_unit"),
        ("法定时限", "statutory_limit"),
        ("承诺时限", "promised_limit"),
        ("急办时限", "urgent_limit"),
        ("队列", "queue"),
        ("需领导签批", "requires_signoff"),
        ("服务时长标准（分钟）", "service_norm_minutes"),
        ("启用", "active"),
        ("材料", "materials"),
        ("收费", "fees"),
    ],
}


class RowError(Exception):
    def __init__(self, message: str, column: str | None = None):
        super().__init__(message)
        self.message = message
        self.column = column


# ------------------------------------------------------------------------------ reading


def read_rows(kind: str, content: bytes, fmt: str) -> list[tuple[int, dict[str, str]]]:
    """(spreadsheet row number, {english key: cell text}) of every non-empty row after the
    header. Refuses a file it cannot read, or a header missing a column."""
    try:
        table = _xlsx_rows(content) if fmt == "xlsx" else _csv_rows(content)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError, csv.Error):
        # what openpyxl and csv raise for a damaged or foreign file
        raise Invalid("无法读取文件，请使用导出的模板（.xlsx 或 CSV）", code="unreadable_file")
    if not table:
        raise Invalid("文件是空的", code="unreadable_file")
    names = {h: k for h, k in COLUMNS[kind]} | {k: k for _, k in COLUMNS[kind]}
    header = [names.get(str(c or "").strip()) for c in table[0]]
    missing = [h for h, k in COLUMNS[kind] if k not in header]
    if missing:
        raise Invalid(f"缺少列：{'、'.join(missing)}", code="missing_columns", field="content")
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        values = {
            key: _text(cells[i]) if i < len(cells) else ""
            for i, key in enumerate(header)
            if key is not None
        }
        if any(values.values()):
            rows.append((number, values))
    if len(rows) > MAX_ROWS:
        raise Invalid(f"一次最多导入 {MAX_ROWS} 行", code="too_many_rows")
    return rows


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _xlsx_rows(content: bytes) -> list[Sequence[Any]]:
    wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    finally:
        wb.close()


def _csv_rows(content: bytes) -> list[Sequence[Any]]:
    # Excel in a Chinese locale saves CSV as GB18030 (GBK); ours is UTF-8 with a BOM
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("gb18030")
    return list(csv.reader(io.StringIO(text)))


def _int(values: dict[str, str], key: str, label: str, optional: bool = False) -> int | None:
    raw = values.get(key, "")
    if raw == "" and optional:
        return None
    try:
        return int(raw)
    except ValueError:
        raise RowError(f"{label}应为整数：{raw!r}", label)


def _bool(values: dict[str, str], key: str, label: str, default: bool) -> bool:
    raw = values.get(key, "").lower()
    if raw == "":
        return default
    if raw in YES:
        return True
    if raw in NO:
        return False
    raise RowError(f"{label}应为“是”或“否”：{raw!r}", label)


def _choice(raw: str, label: str, names: dict[str, str], default: str | None = None) -> str:
    if raw == "" and default is not None:
        return default
    for key, name in names.items():
        if raw in (key, name):
            return key
    raise RowError(f"{label}只能是{'、'.join(names.values())}：{raw!r}", label)


_COPIES = re.compile(r"\s*×\s*(\d+)$")
_DEFERRABLE = re.compile(r"\s*[（(]容缺[)）]$")


def parse_materials(cell: str) -> list[item_admin.Material]:
    """Read from the end, so a name may hold brackets of its own: 公司登记（备案）申请书."""
    out = []
    for part in filter(None, (p.strip() for p in re.split(r"[;\n]", cell))):
        name, _, note = part.partition("：") if "：" in part else part.partition(":")
        name = name.strip()
        deferrable = _DEFERRABLE.search(name)
        if deferrable:
            name = name[: deferrable.start()]
        copies = _COPIES.search(name)
        if copies:
            name = name[: copies.start()]
        if not name.strip():
            raise RowError(f"材料格式错误：{part!r}", "材料")
        out.append(
            item_admin.Material(
                name=name.strip(),
                is_key=deferrable is None,
                copies=int(copies[1]) if copies else 1,
                note=note.strip(),
            )
        )
    return out


def format_materials(materials: list[dict[str, Any]]) -> str:
    def one(m: dict[str, Any]) -> str:
        s = m["name"] + (f"×{m['copies']}" if m["copies"] != 1 else "")
        s += "" if m["is_key"] else "（容缺）"
        return s + (f"：{m['note']}" if m["note"] else "")

    return "\n".join(one(m) for m in materials)


def parse_fees(cell: str) -> list[item_admin.Fee]:
    out = []
    for part in filter(None, (p.strip() for p in re.split(r"[;\n]", cell))):
        fee, _, basis = part.partition("|")
        name, sep, amount = fee.rpartition("=")
        try:
            cents = round(float(amount) * 100)
        except ValueError:
            cents = -1
        if not sep or not name.strip() or cents < 0:
            raise RowError(f"收费格式应为“名称=金额”或“名称=金额|依据”：{part!r}", "收费")
        out.append(item_admin.Fee(name=name.strip(), amount_cents=cents, basis=basis.strip()))
    return out


def format_fees(fees: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{f['name']}={f['amount_cents'] / 100:.2f}" + (f"|{f['basis']}" if f["basis"] else "")
        for f in fees
    )


def parse_queues(cell: str) -> list[list[str]]:
    return [
        [c.strip() for c in group.split("+") if c.strip()]
        for group in re.split(r"[;；,，]", cell)
        if group.strip()
    ]


# ------------------------------------------------------------------------------ applying


@dataclass(frozen=True)
class _Kind:
    export: Callable[[Any, HallRef], Any]  # (conn, hall) -> rows as the API lists them
    columns: list[tuple[str, Callable[[dict[str, Any]], Any]]]
    apply: Callable[[Any, HallRef, dict[str, str], Any], Any]  # (tx, hall, values, call)


async def _apply_department(tx: Any, hall: HallRef, v: dict[str, str], call: Call) -> None:
    if not re.fullmatch(r"[a-z0-9_-]{1,40}", v["code"]):
        raise RowError("部门编码应为小写字母、数字、_ 或 -", "部门编码")
    if not v.get("name"):
        raise RowError("部门名称不能为空", "部门名称")
    await hall_setup.save_department_in(tx, hall, v["code"], v["name"])


async def _apply_queue(tx: Any, hall: HallRef, v: dict[str, str], call: Call) -> None:
    if not v.get("name"):
        raise RowError("名称不能为空", "名称")
    norm = _int(v, "service_norm_minutes", "服务时长标准", optional=True)
    await hall_setup.save_queue_in(
        tx, hall, v["code"], v["name"], v.get("prefix", ""), v.get("department") or None, norm or 15
    )


async def _apply_staff(tx: Any, hall: HallRef, v: dict[str, str], call: Call) -> dict | None:
    username = v["username"]
    if not re.fullmatch(r"[a-z0-9._-]{2,40}", username):
        raise RowError("用户名应为 2–40 位小写字母、数字或 ._-", "用户名")
    if not v.get("name"):
        raise RowError("姓名不能为空", "姓名")
    fields = staff_admin.StaffFields(
        display_name=v["name"],
        role=_choice(v.get("role", ""), "角色", ROLE_NAMES),
        department=v.get("department") or None,
        phone=v.get("phone") or None,
        active=_bool(v, "active", "在岗", True),
    )
    if fields.phone is not None and not re.fullmatch(r"1[3-9]\d{9}", fields.phone):
        raise RowError(f"手机号格式错误：{fields.phone!r}", "手机")
    return await staff_admin.import_one(tx, hall, username, fields, call.ctx.clock())


async def _apply_window(tx: Any, hall: HallRef, v: dict[str, str], call: Call) -> None:
    window_no = _int(v, "window_no", "窗口号")
    assert window_no is not None
    if not 1 <= window_no <= 999:
        raise RowError("窗口号应在 1–999 之间", "窗口号")
    if not v.get("name"):
        raise RowError("名称不能为空", "名称")
    fields = window_admin.WindowFields(
        name=v["name"],
        department=v.get("department", ""),
        zone=v.get("zone", ""),
        queues=parse_queues(v.get("queues", "")),
        priority_rule=_choice(v.get("priority_rule", ""), "优先规则", RULE_NAMES, "priority_first"),
    )
    await window_admin.import_one(tx, hall, window_no, fields, call.ctx.clock())


async def _apply_item(tx: Any, hall: HallRef, v: dict[str, str], call: Call) -> None:
    code = v["code"]
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,40}", code):
        raise RowError("事项编码应为 1–40 位字母、数字或 ._-", "事项编码")
    if not v.get("name"):
        raise RowError("事项名称不能为空", "事项名称")
    item = item_admin.ItemDefinition(
        name=v["name"],
        department=v.get("department", ""),
        category=v.get("category", ""),
        kind=_choice(v.get("kind", ""), "办理类型", KIND_LABELS),
        limit_unit=_choice(v.get("limit_unit", ""), "时限单位", UNIT_LABELS, "working_day"),
        statutory_limit=_int(v, "statutory_limit", "法定时限") or 0,
        promised_limit=_int(v, "promised_limit", "承诺时限", optional=True) or 0,
        urgent_limit=_int(v, "urgent_limit", "急办时限", optional=True),
        queue=v.get("queue") or None,
        requires_signoff=_bool(v, "requires_signoff", "需领导签批", False),
        service_norm_minutes=_int(v, "service_norm_minutes", "服务时长标准", optional=True),
        active=_bool(v, "active", "启用", True),
        materials=parse_materials(v.get("materials", "")),
        fees=parse_fees(v.get("fees", "")),
    )
    await item_admin.publish_in(tx, hall, code, item)


KIND_OF: Final[dict[str, _Kind]] = {
    "departments": _Kind(
        hall_setup.list_departments,
        [("部门编码", lambda r: r["code"]), ("部门名称", lambda r: r["name"])],
        _apply_department,
    ),
    "queues": _Kind(
        hall_setup.list_queues,
        [
            ("队列编码", lambda r: r["code"]),
            ("名称", lambda r: r["name"]),
            ("号码前缀", lambda r: r["prefix"]),
            ("部门", lambda r: r["department"] or ""),
            ("服务时长标准（分钟）", lambda r: r["service_norm_minutes"]),
        ],
        _apply_queue,
    ),
    "staff": _Kind(
        staff_admin.list_staff,
        [
            ("用户名", lambda r: r["username"]),
            ("姓名", lambda r: r["name"]),
            ("角色", lambda r: ROLE_NAMES[r["role"]]),
            ("部门", lambda r: r["department"] or ""),
            ("手机", lambda r: r["phone"] or ""),
            ("在岗", lambda r: "是" if r["active"] else "否"),
        ],
        _apply_staff,
    ),
    "windows": _Kind(
        window_admin.list_windows,
        [
            ("窗口号", lambda r: r["window_no"]),
            ("名称", lambda r: r["name"]),
            ("部门", lambda r: r["department"]),
            ("区域", lambda r: r["zone"]),
            ("队列", lambda r: "; ".join("+".join(g) for g in r["queues"])),
            ("优先规则", lambda r: RULE_NAMES[r["priority_rule"]]),
        ],
        _apply_window,
    ),
    "items": _Kind(
        item_admin.list_items,
        [
            ("事项编码", lambda r: r["code"]),
            ("事项名称", lambda r: r["name"]),
            ("部门", lambda r: r["department"]),
            ("类别", lambda r: r["category"]),
            ("办理类型", lambda r: KIND_LABELS[r["kind"]]),
            ("时限单位", lambda r: UNIT_LABELS[r["limit_unit"]]),
            ("法定时限", lambda r: r["statutory_limit"]),
            ("承诺时限", lambda r: r["promised_limit"]),
            ("急办时限", lambda r: "" if r["urgent_limit"] is None else r["urgent_limit"]),
            ("队列", lambda r: r["queue"] or ""),
            ("需领导签批", lambda r: "是" if r["requires_signoff"] else "否"),
            (
                "服务时长标准（分钟）",
                lambda r: "" if r["service_norm_minutes"] is None else r["service_norm_minutes"],
            ),
            ("启用", lambda r: "是" if r["active"] else "否"),
            ("材料", lambda r: format_materials(r["materials"])),
            ("收费", lambda r: format_fees(r["fees"])),
        ],
        _apply_item,
    ),
}


async def export(call: Call, hall_code: str, kind: str, fmt: str) -> tuple[bytes, str, str]:
    """(content, media type, file name)."""
    spec = KIND_OF[kind]
    async with call.ctx.store.read() as conn:
        hall = await get_hall(conn, hall_code)
        call.check(hall.target())
        rows = await spec.export(conn, hall)
    name = f"{hall.name}-{KIND_NAMES[kind]}.{fmt}"
    if fmt == "csv":
        return to_csv(spec.columns, rows), CSV_TYPE, name
    return to_xlsx({KIND_NAMES[kind]: (spec.columns, rows)}), XLSX_TYPE, name


async def import_sheet(
    call: Call, hall_code: str, kind: str, content: bytes, fmt: str
) -> tuple[dict[str, Any], list[EventRecord]]:
    """Applies every row in one transaction, or none: refused rows are reported together
    (400 `import_refused`, `rows`: [{row, column, code, message}])."""
    spec = KIND_OF[kind]
    refused: list[dict[str, Any]] = []
    passwords: list[dict[str, Any]] = []
    async with call.command() as tx:
        hall = await get_hall(tx.conn, hall_code)
        tx.detail.update(hall=hall.code, kind=kind)
        call.check(hall.target())  # before the file is read: a stranger learns nothing of it
        rows = read_rows(kind, content, fmt)
        if not rows:
            raise Invalid("文件中没有数据行", code="unreadable_file")
        tx.detail["rows"] = len(rows)
        key = COLUMNS[kind][0]
        seen: dict[str, int] = {}
        for number, values in rows:
            try:
                if values.get(key[1], "") == "":
                    raise RowError(f"{key[0]}不能为空", key[0])
                if values[key[1]] in seen:
                    raise RowError(f"与第 {seen[values[key[1]]]} 行重复", key[0])
                seen[values[key[1]]] = number
                async with tx.conn.transaction():  # a savepoint: the next row still runs
                    created = await spec.apply(tx, hall, values, call)
                if created:
                    passwords.append(created)
            except RowError as exc:
                refused.append(_refusal(number, exc.column, "invalid_row", exc.message))
            except DomainError as exc:
                refused.append(_refusal(number, exc.field, exc.code, exc.message))
            except asyncpg.IntegrityConstraintViolationError as exc:
                refused.append(_refusal(number, None, "constraint", _constraint(exc)))
        if refused:
            raise Invalid(
                f"有 {len(refused)} 行不能导入，未导入任何数据",
                code="import_refused",
                details={"rows": refused},
            )
        tx.detail["created"] = [p["username"] for p in passwords]
    return {"kind": kind, "rows": len(rows), "created": passwords}, tx.records


def _refusal(row: int, column: str | None, code: str, message: str) -> dict[str, Any]:
    return {"row": row, "column": column, "code": code, "message": message}


def _constraint(exc: asyncpg.IntegrityConstraintViolationError) -> str:
    return f"数据不符合约束（{getattr(exc, 'constraint_name', None) or exc.sqlstate}）"


MEDIA_TYPES: Final = {"csv": CSV_TYPE, "xlsx": XLSX_TYPE}
