"""The hall's administration, declared: staff, devices, windows, the item catalogue, hall
settings, and their spreadsheets. Every change is a command of the hall's admin (audited under
its name); a member of staff changes their own password here too."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.catalogue.params import HallParams, Int4Id, Params, WindowNo
from server.catalogue.spine import Call, Capability, EventType, Operation, Reply, query
from server.domain import (
    admin_sheets,
    device_admin,
    hall_settings,
    hall_setup,
    item_admin,
    staff_admin,
    window_admin,
)
from server.domain.errors import Invalid
from server.domain.hall import get_hall
from server.domain.policies import HALL_ADMIN, STAFF_SELF

Username = Field(pattern=r"^[a-z0-9._-]{2,40}$", description="login name")
Phone = Field(None, pattern=r"^1[3-9][0-9]{9}$")
ItemCode = Field(pattern=r"^[A-Za-z0-9._-]{1,40}$")


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


# ------------------------------------------------------------------------ events


class StaffChanged(_Payload):
    staff_id: int
    username: str
    change: Literal["created", "updated", "password_reset", "unlocked", "password"]
    role: str | None = None
    changes: dict[str, Any] | None = None


class DeviceChanged(_Payload):
    device_id: int
    code: str
    change: Literal["registered", "renamed", "revoked", "rotated"]


class WindowConfigured(_Payload):
    window_no: int
    name: str
    department: str
    department_name: str
    zone: str
    queues: list[str]  # in serving order
    priority_rule: Literal["priority_first", "priority_only"]
    created: bool


class ItemPublished(_Payload):
    code: str
    name: str
    version: int
    active: bool


class SettingsChanged(_Payload):
    changes: dict[str, Any]


class StructureChanged(_Payload):
    kind: Literal["department", "queue"]
    code: str
    name: str
    created: bool


EVENTS = (
    EventType(
        staff_admin.STAFF_CHANGED,
        "A member of staff was created or changed by the admin, or changed their password "
        "(internal: their cached sessions are dropped in every process)",
        StaffChanged,
        (),
        {"staff_id": 42, "username": "wangfang", "change": "created", "role": "clerk"},
    ),
    EventType(
        device_admin.DEVICE_CHANGED,
        "A device was registered, renamed, revoked or given a new secret (internal)",
        DeviceChanged,
        (),
        {"device_id": 7, "code": "kiosk-3", "change": "revoked"},
    ),
    EventType(
        window_admin.WINDOW_CONFIGURED,
        "A window was added or changed (name, department, queues, priority rule)",
        WindowConfigured,
        ("all",),
        {
            "window_no": 131,
            "name": "综合受理 131",
            "department": "amr",
            "department_name": "市场监督管理局",
            "zone": "B 区",
            "queues": ["sc", "zh"],
            "priority_rule": "priority_first",
            "created": True,
        },
    ),
    EventType(
        item_admin.ITEM_PUBLISHED,
        "A new version of an item was published (internal)",
        ItemPublished,
        (),
        {"code": "amr-001", "name": "个体工商户设立登记", "version": 2, "active": True},
    ),
    EventType(
        hall_setup.STRUCTURE_CHANGED,
        "A department or a queue was added or changed (internal: screens read them on load)",
        StructureChanged,
        (),
        {"kind": "queue", "code": "food", "name": "食品经营", "created": True},
    ),
    EventType(
        hall_settings.SETTINGS_CHANGED,
        "The hall's settings changed (internal)",
        SettingsChanged,
        (),
        {"changes": {"park_minutes": 45}},
    ),
)

# ------------------------------------------------------------------------ bodies and params


class StaffParams(HallParams):
    staff_id: Int4Id


class StaffSessionParams(StaffParams):
    session: str = Field(pattern=r"^[0-9a-f]{16}$")


class DeviceParams(HallParams):
    device_id: Int4Id


class ItemCodeParams(HallParams):
    code: str = ItemCode


class SheetParams(HallParams):
    kind: Literal["departments", "queues", "windows", "staff", "items"]


class SheetExportParams(SheetParams):
    format: Literal["csv", "xlsx"] = "xlsx"


class StaffBody(BaseModel):
    name: str = Field(min_length=1, max_length=40)
    role: Literal["clerk", "leader", "supervisor", "admin"]
    department: str | None = Field(None, max_length=40, description="department code")
    phone: str | None = Phone
    active: bool = True

    def fields(self) -> staff_admin.StaffFields:
        return staff_admin.StaffFields(
            self.name, self.role, self.department, self.phone, self.active
        )


class NewStaffBody(StaffBody):
    username: str = Username


class PasswordBody(BaseModel):
    current: str = Field(min_length=1, max_length=200)
    new: str = Field(min_length=1, max_length=200)


class DeviceBody(BaseModel):
    code: str = Field(pattern=r"^[a-z0-9._-]{2,40}$")
    kind: Literal["kiosk", "display", "rater"]
    name: str = Field(min_length=1, max_length=60)
    window_no: WindowNo | None = Field(None, description="a rating device's window")


class RenameBody(BaseModel):
    name: str = Field(min_length=1, max_length=60)


class WindowBody(BaseModel):
    name: str = Field(min_length=1, max_length=40)
    department: str = Field(min_length=1, max_length=40)
    zone: str = Field("", max_length=20)
    queues: list[list[str]] = Field(
        description="queue codes in serving order; queues in one inner list are served together"
    )
    priority_rule: Literal["priority_first", "priority_only"] = "priority_first"

    def fields(self) -> window_admin.WindowFields:
        return window_admin.WindowFields(
            self.name, self.department, self.queues, self.zone, self.priority_rule
        )


class NewWindowBody(WindowBody):
    window_no: WindowNo


class ItemMaterialBody(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    is_key: bool = True
    copies: int = Field(1, ge=1, le=99)
    note: str = Field("", max_length=200)


class ItemFeeBody(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    amount_cents: int = Field(ge=0, le=100_000_000)
    basis: str = Field("", max_length=200)


class ItemBody(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    department: str = Field(min_length=1, max_length=40)
    kind: Literal["immediate", "promised"]
    limit_unit: Literal["working_day", "working_hour"] = "working_day"
    statutory_limit: int = Field(ge=0, le=3650)
    promised_limit: int = Field(0, ge=0, le=3650)
    urgent_limit: int | None = Field(None, ge=0, le=3650)
    queue: str | None = Field(None, max_length=40)
    category: str = Field("", max_length=40)
    requires_signoff: bool = False
    service_norm_minutes: int | None = Field(None, ge=1, le=600)
    active: bool = True
    materials: list[ItemMaterialBody] = Field(default_factory=list, max_length=100)
    fees: list[ItemFeeBody] = Field(default_factory=list, max_length=50)

    def definition(self) -> item_admin.ItemDefinition:
        data = self.model_dump()
        data["materials"] = [item_admin.Material(**m) for m in data["materials"]]
        data["fees"] = [item_admin.Fee(**f) for f in data["fees"]]
        return item_admin.ItemDefinition(**data)


class SettingsBody(BaseModel):
    work_periods: list[list[str]] = Field(min_length=1, max_length=6)
    closes_at: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    registration_lead_minutes: int = Field(ge=0, le=240)
    no_show_recalls: int = Field(ge=0, le=10)
    park_minutes: int = Field(ge=1, le=600)
    signoff_wait_minutes: int = Field(ge=1, le=600)
    supplement_notice_days: int = Field(ge=1, le=30)
    supplement_warn_days: int = Field(ge=0, le=30)
    rectification_days: int = Field(ge=1, le=60)
    notice_templates: list[str] | None = Field(
        None, max_length=20, description="the notice lines at hand; left out: kept as they are"
    )


IMPORT_MAX_BYTES = 4 * 1024 * 1024


class ImportBody(BaseModel):
    format: Literal["csv", "xlsx"]
    content: str = Field(description="the file, base64", max_length=IMPORT_MAX_BYTES * 4 // 3 + 4)


class StructureParams(HallParams):
    code: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")


class DepartmentBody(BaseModel):
    name: str = Field(min_length=1, max_length=60)


class QueueBody(BaseModel):
    name: str = Field(min_length=1, max_length=60)
    prefix: str = Field(pattern=r"^[A-Z]{1,2}$", description="ticket number prefix: A, B, GA")
    department: str | None = Field(None, max_length=40)
    service_norm_minutes: int = Field(15, ge=1, le=600)


class AdminReply(_Open):
    pass


# ------------------------------------------------------------------------ handlers


async def _hall_read(call: Call, hall_code: str, lister: Any) -> Any:
    async with call.ctx.store.read() as conn:
        hall = await get_hall(conn, hall_code)
        call.check(hall.target())
        return await lister(conn, hall)


async def list_staff(call: Call, p: HallParams, body: None) -> Any:
    return {"staff": await _hall_read(call, p.hall, staff_admin.list_staff)}


async def create_staff(call: Call, p: HallParams, body: NewStaffBody) -> Reply:
    data, events = await staff_admin.create_staff(call, p.hall, body.username, body.fields())
    return Reply(data, events=events, status=201)


async def update_staff(call: Call, p: StaffParams, body: StaffBody) -> Reply:
    data, events = await staff_admin.update_staff(call, p.hall, p.staff_id, body.fields())
    return Reply(data, events=events)


async def reset_password(call: Call, p: StaffParams, body: None) -> Reply:
    data, events = await staff_admin.reset_password(call, p.hall, p.staff_id)
    return Reply(data, events=events)


async def unlock_staff(call: Call, p: StaffParams, body: None) -> Reply:
    data, events = await staff_admin.unlock(call, p.hall, p.staff_id)
    return Reply(data, events=events)


async def staff_sessions(call: Call, p: StaffParams, body: None) -> Any:
    return {"sessions": await staff_admin.sessions_of(call, p.hall, p.staff_id)}


async def end_staff_session(call: Call, p: StaffSessionParams, body: None) -> Reply:
    data, events = await staff_admin.end_session(call, p.hall, p.staff_id, p.session)
    return Reply(data, events=events)


async def change_password(call: Call, p: Params, body: PasswordBody) -> Reply:
    data, events = await staff_admin.change_password(call, body.current, body.new)
    return Reply(data, events=events)


async def list_devices(call: Call, p: HallParams, body: None) -> Any:
    return {"devices": await _hall_read(call, p.hall, device_admin.list_devices)}


async def register_device(call: Call, p: HallParams, body: DeviceBody) -> Reply:
    data, events = await device_admin.register(
        call, p.hall, body.code, body.kind, body.name, body.window_no
    )
    return Reply(data, events=events, status=201)


async def rename_device(call: Call, p: DeviceParams, body: RenameBody) -> Reply:
    data, events = await device_admin.rename(call, p.hall, p.device_id, body.name)
    return Reply(data, events=events)


async def revoke_device(call: Call, p: DeviceParams, body: None) -> Reply:
    data, events = await device_admin.revoke(call, p.hall, p.device_id)
    return Reply(data, events=events)


async def rotate_device(call: Call, p: DeviceParams, body: None) -> Reply:
    data, events = await device_admin.rotate(call, p.hall, p.device_id)
    return Reply(data, events=events)


async def list_windows(call: Call, p: HallParams, body: None) -> Any:
    return {"windows": await _hall_read(call, p.hall, window_admin.list_windows)}


async def create_window(call: Call, p: HallParams, body: NewWindowBody) -> Reply:
    data, events = await window_admin.create_window(call, p.hall, body.window_no, body.fields())
    return Reply(data, events=events, status=201)


class WindowConfigParams(HallParams):
    window_no: WindowNo


async def configure_window(call: Call, p: WindowConfigParams, body: WindowBody) -> Reply:
    data, events = await window_admin.update_window(call, p.hall, p.window_no, body.fields())
    return Reply(data, events=events)


async def list_items(call: Call, p: HallParams, body: None) -> Any:
    return {"items": await _hall_read(call, p.hall, item_admin.list_items)}


async def publish_item(call: Call, p: ItemCodeParams, body: ItemBody) -> Reply:
    data, events = await item_admin.publish(call, p.hall, p.code, body.definition())
    return Reply(data, events=events)


async def item_versions(call: Call, p: ItemCodeParams, body: None) -> Any:
    return {"versions": await item_admin.versions(call, p.hall, p.code)}


async def get_settings(call: Call, p: HallParams, body: None) -> Any:
    return await hall_settings.read(call, p.hall)


async def set_settings(call: Call, p: HallParams, body: SettingsBody) -> Reply:
    fields = body.model_dump(exclude={"notice_templates"})
    data, events = await hall_settings.write(
        call, p.hall, hall_settings.HallSettings(**fields), body.notice_templates
    )
    return Reply(data, events=events)


async def save_department(call: Call, p: StructureParams, body: DepartmentBody) -> Reply:
    data, events = await hall_setup.save_department(call, p.hall, p.code, body.name)
    return Reply(data, events=events)


async def save_queue(call: Call, p: StructureParams, body: QueueBody) -> Reply:
    data, events = await hall_setup.save_queue(
        call, p.hall, p.code, body.name, body.prefix, body.department, body.service_norm_minutes
    )
    return Reply(data, events=events)


async def export_sheet(call: Call, p: SheetExportParams, body: None) -> Reply:
    content, media_type, name = await admin_sheets.export(call, p.hall, p.kind, p.format)
    return Reply(content, media_type=media_type, filename=name)


async def import_sheet(call: Call, p: SheetParams, body: ImportBody) -> Reply:
    try:
        content = base64.b64decode(body.content, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("文件内容应为 base64 编码", code="invalid_field", field="content")
    data, events = await admin_sheets.import_sheet(call, p.hall, p.kind, content, body.format)
    return Reply(data, events=events)


# ------------------------------------------------------------------------ operations

HALL = "/api/halls/{hall}"
STAFF = HALL + "/staff/{staff_id}"
DEVICE = HALL + "/devices/{device_id}"
STAFF_ERRORS = {404: ("unknown_staff",)}
DEVICE_ERRORS = {404: ("unknown_device",)}
STAFF_FIELD_ERRORS = {
    400: ("invalid_role", "department_required"),
    403: ("self_demotion",),
    404: ("unknown_staff", "unknown_department"),
}
WINDOW_FIELD_ERRORS = {
    400: ("invalid_queues", "invalid_priority_rule"),
    404: ("unknown_department", "unknown_queue"),
}
ITEM_ERRORS = {
    400: ("invalid_kind", "invalid_limit", "invalid_materials", "invalid_fees"),
    404: ("unknown_department", "unknown_queue"),
}


def _admin_read(
    name: str,
    path: str,
    summary: str,
    handler: Any,
    params: Any = HallParams,
    errors: Mapping[int, tuple[str, ...]] | None = None,
) -> Operation:
    return query(name, summary, handler, HALL_ADMIN, path, params, AdminReply, errors, "admin")


def _command(
    name: str,
    summary: str,
    handler: Any,
    method: str,
    path: str,
    params: Any,
    body: Any = None,
    emits: tuple[str, ...] = (),
    errors: Mapping[int, tuple[str, ...]] | None = None,
    status: int = 200,
    timeout: float | None = None,
    max_body: int | None = None,
) -> Operation:
    return Operation(
        name,
        summary,
        "command",
        handler,
        HALL_ADMIN,
        http=(method, path),
        params=params,
        body=body,
        response=AdminReply,
        status=status,
        emits=emits,
        errors=dict(errors or {}),
        tag="admin",
        timeout=timeout,
        max_body=max_body,
    )


ENDED = ("session.ended",)
SIGNED_OUT = ("window.signed_out", "window.status_changed")

OPERATIONS = (
    # a hall from nothing: no route and nobody over HTTP, only `run.py init-hall` on the machine
    Operation(
        "hall.init",
        "Create a hall, its county halls and their first admins (run.py init-hall only)",
        "command",
        None,
        {},
        tag="admin",
    ),
    _admin_read(
        "staff.admin_list", HALL + "/admin/staff", "Staff with their state (admin)", list_staff
    ),
    _command(
        "staff.create",
        "Create a member of staff; the answer holds their one-time password (admin)",
        create_staff,
        "POST",
        HALL + "/staff",
        HallParams,
        NewStaffBody,
        (staff_admin.STAFF_CHANGED,),
        {**STAFF_FIELD_ERRORS, 409: ("username_taken",)},
        status=201,
        timeout=10.0,  # argon2 hashing of the one-time password
    ),
    _command(
        "staff.update",
        "Change a member of staff: name, role, department, phone, disabled (admin)",
        update_staff,
        "PUT",
        STAFF,
        StaffParams,
        StaffBody,
        (staff_admin.STAFF_CHANGED, *ENDED, *SIGNED_OUT),
        STAFF_FIELD_ERRORS,
    ),
    _command(
        "staff.reset_password",
        "A new one-time password, to be changed at the next login (admin)",
        reset_password,
        "POST",
        STAFF + "/password-reset",
        StaffParams,
        emits=(staff_admin.STAFF_CHANGED, *ENDED),
        errors=STAFF_ERRORS,
        timeout=10.0,
    ),
    _command(
        "staff.unlock",
        "Unlock an account locked out after failed logins (admin)",
        unlock_staff,
        "POST",
        STAFF + "/unlock",
        StaffParams,
        emits=(staff_admin.STAFF_CHANGED,),
        errors=STAFF_ERRORS,
    ),
    _admin_read(
        "staff.sessions",
        STAFF + "/sessions",
        "A member of staff's live login sessions (admin)",
        staff_sessions,
        StaffParams,
        STAFF_ERRORS,
    ),
    _command(
        "staff.end_session",
        "End one login session of a member of staff; its screens close (admin)",
        end_staff_session,
        "POST",
        STAFF + "/sessions/{session}/end",
        StaffSessionParams,
        emits=ENDED,
        errors={404: ("unknown_staff", "unknown_session")},
    ),
    Operation(
        "auth.change_password",
        "Change one's own password (required after a reset)",
        "command",
        change_password,
        STAFF_SELF,
        http=("POST", "/api/auth/password"),
        body=PasswordBody,
        response=AdminReply,
        emits=(staff_admin.STAFF_CHANGED, *ENDED),
        errors={400: ("wrong_password", "weak_password", "password_reused")},
        tag="auth",
        timeout=10.0,  # up to six argon2 verifications and a hash
    ),
    _admin_read("device.list", HALL + "/devices", "The hall's devices (admin)", list_devices),
    _command(
        "device.register",
        "Register a kiosk, display or rating device; the answer holds its secret (admin)",
        register_device,
        "POST",
        HALL + "/devices",
        HallParams,
        DeviceBody,
        (device_admin.DEVICE_CHANGED,),
        {
            400: ("invalid_kind", "invalid_window"),
            404: ("unknown_window",),
            409: ("device_code_taken",),
        },
        status=201,
        timeout=10.0,
    ),
    _command(
        "device.rename",
        "Rename a device (admin)",
        rename_device,
        "PUT",
        DEVICE,
        DeviceParams,
        RenameBody,
        (device_admin.DEVICE_CHANGED,),
        DEVICE_ERRORS,
    ),
    _command(
        "device.revoke",
        "Revoke a device: it cannot log in and its live connections close (admin)",
        revoke_device,
        "POST",
        DEVICE + "/revoke",
        DeviceParams,
        emits=(device_admin.DEVICE_CHANGED, *ENDED),
        errors=DEVICE_ERRORS,
    ),
    _command(
        "device.rotate",
        "A new secret for a device; the old one and its sessions stop working (admin)",
        rotate_device,
        "POST",
        DEVICE + "/rotate",
        DeviceParams,
        emits=(device_admin.DEVICE_CHANGED, *ENDED),
        errors=DEVICE_ERRORS,
        timeout=10.0,
    ),
    _admin_read(
        "window.admin_list",
        HALL + "/admin/windows",
        "Windows with their queues in serving order and priority rule (admin)",
        list_windows,
    ),
    _command(
        "window.create",
        "Add a window (admin)",
        create_window,
        "POST",
        HALL + "/windows",
        HallParams,
        NewWindowBody,
        (window_admin.WINDOW_CONFIGURED,),
        {**WINDOW_FIELD_ERRORS, 409: ("window_exists",)},
        status=201,
    ),
    _command(
        "window.configure",
        "Change a window's name, department, queues and priority rule, live (admin)",
        configure_window,
        "PUT",
        HALL + "/windows/{window_no}",
        WindowConfigParams,
        WindowBody,
        (window_admin.WINDOW_CONFIGURED, *SIGNED_OUT),
        {**WINDOW_FIELD_ERRORS, 404: (*WINDOW_FIELD_ERRORS[404], "unknown_window")},
    ),
    _admin_read(
        "item.admin_list",
        HALL + "/admin/items",
        "Every item with materials and fees, inactive ones too (admin)",
        list_items,
    ),
    _command(
        "item.publish",
        "Publish an item's new version (created when new) (admin)",
        publish_item,
        "PUT",
        HALL + "/items/{code}",
        ItemCodeParams,
        ItemBody,
        (item_admin.ITEM_PUBLISHED,),
        ITEM_ERRORS,
    ),
    _admin_read(
        "item.versions",
        HALL + "/items/{code}/versions",
        "Every published version of an item, newest first (admin)",
        item_versions,
        ItemCodeParams,
        {404: ("unknown_item",)},
    ),
    _admin_read("hall.settings", HALL + "/settings", "The hall's settings (admin)", get_settings),
    _command(
        "hall.set_settings",
        "Change the hall's settings: opening hours, queue rules, limits (admin)",
        set_settings,
        "PUT",
        HALL + "/settings",
        HallParams,
        SettingsBody,
        (hall_settings.SETTINGS_CHANGED,),
        {400: ("invalid_settings", "invalid_work_periods")},
        timeout=120.0,  # new working periods reprice every open case
    ),
    _command(
        "department.save",
        "Add a department or rename it (admin)",
        save_department,
        "PUT",
        HALL + "/departments/{code}",
        StructureParams,
        DepartmentBody,
        (hall_setup.STRUCTURE_CHANGED,),
        {400: ("invalid_code",)},
    ),
    _command(
        "queue.save",
        "Add a queue or change it: name, ticket prefix, department, service-time norm (admin)",
        save_queue,
        "PUT",
        HALL + "/queues/{code}",
        StructureParams,
        QueueBody,
        (hall_setup.STRUCTURE_CHANGED,),
        {
            400: ("invalid_code", "invalid_prefix", "invalid_norm"),
            404: ("unknown_department",),
            409: ("prefix_taken",),
        },
    ),
    _admin_read(
        "admin.export",
        HALL + "/admin/export/{kind}",
        "Staff, windows or items as .xlsx or CSV (admin)",
        export_sheet,
        SheetExportParams,
    ),
    _command(
        "admin.import",
        "Import staff, windows or items from .xlsx or CSV: all rows or none (admin)",
        import_sheet,
        "POST",
        HALL + "/admin/import/{kind}",
        SheetParams,
        ImportBody,
        (
            staff_admin.STAFF_CHANGED,
            window_admin.WINDOW_CONFIGURED,
            item_admin.ITEM_PUBLISHED,
            hall_setup.STRUCTURE_CHANGED,
            *ENDED,
            *SIGNED_OUT,
        ),
        {
            400: (
                "unreadable_file",
                "missing_columns",
                "too_many_rows",
                "import_refused",
            )
        },
        timeout=120.0,  # a staff import hashes a one-time password per new member
        max_body=IMPORT_MAX_BYTES * 4 // 3 + 1024,
    ),
)

CAPABILITY = Capability("admin", operations=OPERATIONS, events=EVENTS)
