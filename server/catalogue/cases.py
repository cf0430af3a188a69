"""Cases, declared: acceptance at the window and every command of the case's life (each a row
of the transition table in server/domain/case_flow.py), the leader's sign-off, the citizen's
/track view, the acceptance notice and the case metrics."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.catalogue.params import HallParams, Int4Id, Int8Id, Params, WindowParams
from server.catalogue.spine import (
    Call,
    Capability,
    EventType,
    Operation,
    Reply,
    TimerJob,
    merge_errors,
    query,
)
from server.domain import case_metrics, case_views, cases, signoff
from server.domain.cases import Acceptance, Applicant, Fee, MaterialNote
from server.domain.errors import Invalid
from server.domain.policies import (
    CASE_ACCEPT,
    CASE_READ,
    CASE_SIGNOFF,
    CASE_WORK,
    METRICS_READ,
    SIGNOFF_READ,
    WINDOW_BOARD,
)
from server.domain.timers_cases import remind_deficiencies

# ------------------------------------------------------------------------ event payloads


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseClock(BaseModel):
    model_config = ConfigDict(extra="allow")
    status: Literal["running", "paused", "stopped"]
    deadline: str | None


class CaseEvent(_Payload):
    case_id: int
    case_no: str
    transition: str
    action: str | None = None
    state: str
    previous: str | None
    kind: Literal["immediate", "promised", "escalated", "urgent"]
    item: str
    item_name: str
    department: str
    window_no: int
    applicant: str  # masked: 张*三
    reason: str | None
    clock: CaseClock
    missing: list[str]
    deficiency_due: str | None
    visits: int


class FeeCollected(_Payload):
    case_id: int
    case_no: str
    fee: str
    amount_cents: int
    receipt_no: str
    window_no: int | None
    department: str


class SignoffRequested(_Payload):
    signoff_id: int
    case_id: int
    case_no: str
    item_name: str
    department: str
    window_no: int | None
    clerk_name: str
    purpose: Literal["decision", "extension"]
    extension: int | None
    note: str
    requested_at: str


class SignoffDecided(_Payload):
    signoff_id: int
    case_id: int
    case_no: str
    department: str
    purpose: Literal["decision", "extension"]
    decision: Literal["approved", "rejected"]
    comment: str
    leader_name: str
    state: str
    decided_at: str


_CASE_EXAMPLE: dict[str, Any] = {
    "case_id": 1,
    "case_no": "RIZHAO-20261207-00001",
    "transition": "case.accept",
    "state": "accepted",
    "previous": None,
    "kind": "promised",
    "item": "amr-001",
    "item_name": "企业设立登记",
    "department": "amr",
    "window_no": 1,
    "applicant": "张*三",
    "reason": None,
    "clock": {"status": "running", "deadline": "2026-12-09T17:00:00+08:00"},
    "missing": [],
    "deficiency_due": None,
    "visits": 1,
}

EVENTS = (
    EventType(
        "case.accepted",
        "A clerk accepted an application (or recorded it as not accepted): a new case",
        CaseEvent,
        ("window", "department", "case"),
        _CASE_EXAMPLE,
    ),
    EventType(
        "case.changed",
        "A command moved a case: its state, clock or materials",
        CaseEvent,
        ("window", "department", "case"),
        {
            **_CASE_EXAMPLE,
            "transition": "case.start",
            "action": "case.start",
            "state": "in_progress",
            "previous": "accepted",
        },
    ),
    EventType(
        "case.fee_collected",
        "A fee was collected at the window",
        FeeCollected,
        ("window", "department"),
        {
            "case_id": 1,
            "case_no": "RIZHAO-20261207-00001",
            "fee": "不动产登记费",
            "amount_cents": 8000,
            "receipt_no": "SF0001",
            "window_no": 60,
            "department": "realty",
        },
    ),
    EventType(
        "signoff.requested",
        "A clerk asked the department's leader on duty to sign off a case",
        SignoffRequested,
        ("window", "department"),
        {
            "signoff_id": 1,
            "case_id": 1,
            "case_no": "RIZHAO-20261207-00001",
            "item_name": "企业设立登记",
            "department": "amr",
            "window_no": 1,
            "clerk_name": "张敏",
            "purpose": "decision",
            "extension": None,
            "note": "材料齐全，请签批",
            "requested_at": "2026-12-07T10:00:00+08:00",
        },
    ),
    EventType(
        "signoff.decided",
        "The leader approved or rejected a sign-off request",
        SignoffDecided,
        ("window", "department", "case"),
        {
            "signoff_id": 1,
            "case_id": 1,
            "case_no": "RIZHAO-20261207-00001",
            "department": "amr",
            "purpose": "decision",
            "decision": "approved",
            "comment": "同意",
            "leader_name": "王强",
            "state": "approved",
            "decided_at": "2026-12-07T10:01:00+08:00",
        },
    ),
)

# ------------------------------------------------------------------------ inputs


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseParams(Params):
    case_id: Int8Id


class ApplicantBody(_Body):
    name: str = Field(min_length=1, max_length=60)
    phone: str | None = Field(default=None, max_length=20)
    id_number: str | None = Field(default=None, max_length=20)


class MaterialBody(_Body):
    position: int = Field(ge=1, le=1000)
    status: Literal["submitted", "missing", "faulty"]
    problem: str = Field(default="", max_length=200)


class DeficiencyBody(_Body):
    commitment_signed: bool
    due: date


class AcceptBody(_Body):
    ticket_id: Int8Id | None = None
    reg_no: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]{4,40}$")
    item: str | None = Field(default=None, pattern=r"^[a-z0-9-]{2,40}$")
    # a project's later stage may leave it out: its applicant is the project's
    applicant: ApplicantBody | None = None
    urgent: bool = False
    materials: list[MaterialBody] = Field(default_factory=list, max_length=200)
    deficiency: DeficiencyBody | None = None
    # a joint case (多证联办): accepted at the lead department's window as the parent of the
    # workflow's steps, under the definition's overall limit
    workflow: str | None = Field(default=None, pattern=r"^[a-z0-9-]{2,40}$")
    # 一表通: a later stage names its project; the first stage names the new project
    project: str | None = Field(default=None, pattern=r"^XM-[A-Z0-9_-]{1,40}-\d{4}-\d{5}$")
    project_name: str | None = Field(default=None, max_length=120)


class NotAcceptBody(_Body):
    """An accepted case (case_id), or an application refused at the window (as for accept)."""

    reason: str = Field(max_length=500)
    case_id: Int8Id | None = None
    ticket_id: Int8Id | None = None
    reg_no: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]{4,40}$")
    item: str | None = Field(default=None, pattern=r"^[a-z0-9-]{2,40}$")
    applicant: ApplicantBody | None = None


class ReasonBody(_Body):
    reason: str = Field(default="", max_length=500)


class DecideBody(_Body):
    decision: Literal["approve", "refuse"]
    reason: str = Field(default="", max_length=500)


class MaterialsBody(_Body):
    materials: list[MaterialBody] = Field(min_length=1, max_length=200)


class ReceiveBody(_Body):
    positions: list[int] | None = Field(default=None, max_length=200)


class PauseBody(_Body):
    kind: Literal["hearing", "testing", "inspection", "expert_review"]
    reason: str = Field(max_length=500)


class ResumeBody(_Body):
    note: str = Field(default="", max_length=500)


class SignoffRequestBody(_Body):
    purpose: Literal["decision", "extension"] = "decision"
    note: str = Field(default="", max_length=500)
    extension: int | None = Field(default=None, ge=1, le=10)


class SignoffBody(_Body):
    decision: Literal["approve", "reject"]
    comment: str = Field(default="", max_length=500)


class FeeBody(_Body):
    fee_id: Int4Id
    amount_cents: int = Field(ge=1, le=100_000_000)
    receipt_no: str = Field(min_length=1, max_length=40)


class TrackParams(Params):
    code: str = Field(
        pattern=r"^[A-Za-z0-9-]{4,40}$",
        description="the case's query code or its registration's (never the reg_no)",
    )


class FindParams(HallParams):
    code: str = Field(
        pattern=r"^[A-Za-z0-9-]{4,40}$", description="case number, query code or barcode"
    )


class SignoffListParams(HallParams):
    department: str | None = Field(default=None, pattern=r"^[a-z0-9_-]{1,40}$")


class MetricsParams(HallParams):
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    by: Literal["hall", "department", "window", "clerk", "day", "month"] = "hall"
    department: str | None = Field(default=None, pattern=r"^[a-z0-9_-]{1,40}$")


# ------------------------------------------------------------------------ replies


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class CaseReply(_Open):
    case_id: int
    case_no: str
    state: str
    clock: dict[str, Any]


class CaseCommandReply(CaseReply):
    seq: list[int]


class ListReply(_Open):
    pass


# ------------------------------------------------------------------------ handlers


def _materials(body: list[MaterialBody]) -> list[MaterialNote]:
    return [MaterialNote(m.position, m.status, m.problem.strip()) for m in body]


def _acceptance(body: AcceptBody | NotAcceptBody, refusal: str | None = None) -> Acceptance:
    if body.applicant is None and not (isinstance(body, AcceptBody) and body.project):
        raise Invalid("请填写申请人", code="invalid_field", field="applicant")
    applicant = body.applicant
    materials = body.materials if isinstance(body, AcceptBody) else []
    deficiency = body.deficiency if isinstance(body, AcceptBody) else None
    return Acceptance(
        item_code=body.item,
        applicant=Applicant(applicant.name, applicant.phone, applicant.id_number)
        if applicant is not None
        else None,
        ticket_id=body.ticket_id,
        reg_no=body.reg_no,
        urgent=body.urgent if isinstance(body, AcceptBody) else False,
        materials=tuple(_materials(materials)),
        deficiency_due=deficiency.due if deficiency else None,
        commitment_signed=deficiency.commitment_signed if deficiency else False,
        refusal=refusal,
        workflow=body.workflow if isinstance(body, AcceptBody) else None,
        project=body.project if isinstance(body, AcceptBody) else None,
        project_name=body.project_name if isinstance(body, AcceptBody) else None,
    )


async def accept(call: Call, p: HallParams, body: AcceptBody) -> Reply:
    data, events = await cases.accept(call, p.hall, _acceptance(body))
    return Reply(data, events=events, status=201)


async def not_accept(call: Call, p: HallParams, body: NotAcceptBody) -> Reply:
    reason = cases.require_reason(body.reason)
    if body.case_id is not None:
        data, events = await cases.transition(call, body.case_id, "case.not_accept", reason)
        return Reply(data, events=events)
    data, events = await cases.accept(call, p.hall, _acceptance(body, refusal=reason))
    return Reply(data, events=events, status=201)


def _plain(transition: str) -> Any:
    async def handler(call: Call, p: CaseParams, body: ReasonBody | None) -> Reply:
        reason = body.reason if body is not None else None
        data, events = await cases.transition(call, p.case_id, transition, reason)
        return Reply(data, events=events)

    return handler


async def decide(call: Call, p: CaseParams, body: DecideBody) -> Reply:
    data, events = await cases.transition(
        call, p.case_id, f"case.decide:{body.decision}", body.reason
    )
    return Reply(data, events=events)


async def set_materials(call: Call, p: CaseParams, body: MaterialsBody) -> Reply:
    data, events = await cases.set_materials(call, p.case_id, _materials(body.materials))
    return Reply(data, events=events)


async def request_supplement(call: Call, p: CaseParams, body: MaterialsBody) -> Reply:
    data, events = await cases.request_supplement(call, p.case_id, _materials(body.materials))
    return Reply(data, events=events)


async def receive_supplement(call: Call, p: CaseParams, body: ReceiveBody) -> Reply:
    data, events = await cases.receive_supplement(call, p.case_id, body.positions)
    return Reply(data, events=events)


async def pause(call: Call, p: CaseParams, body: PauseBody) -> Reply:
    data, events = await cases.pause(call, p.case_id, body.kind, body.reason)
    return Reply(data, events=events)


async def escalate(call: Call, p: CaseParams, body: ReasonBody) -> Reply:
    data, events = await cases.pause(call, p.case_id, "escalation", body.reason)
    return Reply(data, events=events)


async def resume(call: Call, p: CaseParams, body: ResumeBody) -> Reply:
    data, events = await cases.resume(call, p.case_id, body.note)
    return Reply(data, events=events)


async def collect_fee(call: Call, p: CaseParams, body: FeeBody) -> Reply:
    data, events = await cases.collect_fee(
        call, p.case_id, Fee(body.fee_id, body.amount_cents, body.receipt_no)
    )
    return Reply(data, events=events)


async def request_signoff(call: Call, p: CaseParams, body: SignoffRequestBody) -> Reply:
    data, events = await signoff.request(call, p.case_id, body.purpose, body.note, body.extension)
    return Reply(data, events=events)


async def decide_signoff(call: Call, p: CaseParams, body: SignoffBody) -> Reply:
    data, events = await signoff.decide(call, p.case_id, body.decision, body.comment)
    return Reply(data, events=events)


async def get_case(call: Call, p: CaseParams, body: None) -> Any:
    return await case_views.detail(call, p.case_id)


async def get_notice(call: Call, p: CaseParams, body: None) -> Any:
    return await case_views.acceptance_notice(call, p.case_id)


async def window_cases(call: Call, p: WindowParams, body: None) -> Any:
    return await case_views.window_cases(call, p.hall, p.window_no)


async def find_case(call: Call, p: FindParams, body: None) -> Any:
    return await case_views.find(call, p.hall, p.code)


async def list_signoffs(call: Call, p: SignoffListParams, body: None) -> Any:
    return await case_views.waiting_signoffs(call, p.hall, p.department)


async def track(call: Call, p: TrackParams, body: None) -> Any:
    if call.ctx.track_limit is not None:
        call.ctx.track_limit.check(f"track:{call.client or '-'}")
    async with call.ctx.store.read() as conn:
        return await case_views.track(conn, p.code, call.ctx.clock())


async def metrics(call: Call, p: MetricsParams, body: None) -> Any:
    return await case_metrics.metrics(call, p.hall, p.from_, p.to, p.by, p.department)


# ------------------------------------------------------------------------ operations

CASE = "/api/cases/{case_id}"
HALL = "/api/halls/{hall}"

_STATE_ERRORS: dict[int, tuple[str, ...]] = {
    404: ("unknown_case",),
    409: ("case_state",),
}


def _command(
    name: str,
    summary: str,
    handler: Any,
    path: str,
    body: type[BaseModel] | None,
    emits: tuple[str, ...] = ("case.changed",),
    errors: dict[int, tuple[str, ...]] | None = None,
    policy: Any = CASE_WORK,
    method: str = "POST",
) -> Operation:
    return Operation(
        name,
        summary,
        "command",
        handler,
        policy,
        http=(method, CASE + path),
        params=CaseParams,
        body=body,
        response=CaseCommandReply,
        emits=emits,
        errors=merge_errors(_STATE_ERRORS, errors),
        tag="cases",
    )


_ACCEPT_ERRORS: dict[int, tuple[str, ...]] = {
    400: (
        "invalid_phone",
        "invalid_id_number",
        "no_urgent_limit",
        "unknown_material",
        "deficiency_not_allowed",
        "commitment_missing",
        "nothing_deferred",
        "key_material",
        "deficiency_due",
        "reason_required",
        "too_long",
    ),
    404: (
        "unknown_item",
        "unknown_ticket",
        "unknown_registration",
        "unknown_case",
        "unknown_workflow",
        "unknown_project",
    ),
    409: (
        "item_other_department",
        "ticket_not_here",
        "already_accepted",
        "case_state",
        "workflow_lead_department",
        "workflow_department_missing",
        "project_workflow",
        "project_complete",
        "project_applicant",
        "stage_not_ready",
        "credit_blacklisted",
    ),
}

OPERATIONS = (
    Operation(
        "case.accept",
        "Accept an application at the clerk's window (受理): a new case, its clock started",
        "command",
        accept,
        CASE_ACCEPT,
        http=("POST", HALL + "/cases"),
        params=HallParams,
        body=AcceptBody,
        response=CaseCommandReply,
        status=201,
        emits=("case.accepted", "joint_step.ready", "project.changed"),
        errors=_ACCEPT_ERRORS,
        tag="cases",
    ),
    Operation(
        "case.not_accept",
        "Record an application as not accepted (不予受理), at the window or after acceptance",
        "command",
        not_accept,
        CASE_WORK,
        http=("POST", HALL + "/cases/not-accepted"),
        params=HallParams,
        body=NotAcceptBody,
        response=CaseCommandReply,
        # alarm.issued: a reason supervision finds inadequate (refusal_without_reason)
        emits=("case.accepted", "case.changed", "alarm.issued"),
        errors=_ACCEPT_ERRORS,
        tag="cases",
    ),
    _command("case.start", "Start working a case", _plain("case.start"), "/start", None),
    _command(
        "case.decide",
        "Approve or refuse a case that needs no leader's sign-off",
        decide,
        "/decision",
        DecideBody,
        emits=("case.changed", "alarm.issued"),
        errors={
            400: ("reason_required",),
            409: ("signoff_required", "clock_paused", "steps_open"),
        },
    ),
    _command(
        "case.complete",
        "Complete a decided case (办结); its clock stops and the applicant gets an SMS",
        _plain("case.complete"),
        "/complete",
        None,
        errors={409: ("materials_outstanding", "steps_open")},
    ),
    _command(
        "case.deliver",
        "Hand the result to the applicant (领取)",
        _plain("case.deliver"),
        "/deliver",
        None,
    ),
    _command(
        "case.withdraw",
        "The applicant withdraws the application (撤回), with a reason",
        _plain("case.withdraw"),
        "/withdraw",
        ReasonBody,
        errors={400: ("reason_required",)},
    ),
    _command(
        "case.materials",
        "Record materials as submitted, missing or faulty",
        set_materials,
        "/materials",
        MaterialsBody,
        emits=("case.changed", "joint_step.ready"),
        errors={400: ("unknown_material",), 409: ("supplement_open",)},
        method="PUT",
    ),
    _command(
        "case.supplement_request",
        "Issue the one-time supplement notice (一次性告知补正); the clock pauses",
        request_supplement,
        "/supplement",
        MaterialsBody,
        errors={400: ("unknown_material",), 409: ("supplement_open", "clock_paused")},
    ),
    _command(
        "case.supplement_receive",
        "Materials handed in; when complete the clock runs again",
        receive_supplement,
        "/supplement/received",
        ReceiveBody,
        emits=("case.changed", "joint_step.ready"),
        errors={400: ("unknown_material",), 409: ("nothing_missing", "not_missing")},
    ),
    _command(
        "case.pause",
        "A special procedure (§45) that does not count toward the limit; the clock pauses",
        pause,
        "/pause",
        PauseBody,
        errors={400: ("reason_required",), 409: ("clock_paused",)},
    ),
    _command(
        "case.escalate",
        "Forward the case to a higher authority (报批); the clock pauses with the reason",
        escalate,
        "/escalate",
        ReasonBody,
        errors={400: ("reason_required",), 409: ("clock_paused",)},
    ),
    _command(
        "case.resume",
        "End a special procedure or an escalation; the clock runs again",
        resume,
        "/resume",
        ResumeBody,
        errors={409: ("clock_running", "supplement_pause")},
    ),
    _command(
        "case.fee",
        "Collect a fee from the item's published fee list",
        collect_fee,
        "/fees",
        FeeBody,
        emits=("case.changed", "case.fee_collected"),
        errors={409: ("fee_not_listed", "fee_above_list", "receipt_used")},
    ),
    _command(
        "case.request_signoff",
        "Ask the department's leader on duty to sign off (a decision or a §42 extension)",
        request_signoff,
        "/signoff-request",
        SignoffRequestBody,
        emits=("case.changed", "signoff.requested"),
        errors={400: ("reason_required",), 409: ("clock_paused",)},
    ),
    _command(
        "case.signoff",
        "The on-duty leader approves or rejects, with a comment (签批)",
        decide_signoff,
        "/signoff",
        SignoffBody,
        emits=("case.changed", "signoff.decided", "alarm.issued"),
        errors={400: ("reason_required",), 403: ("not_on_duty",), 409: ("steps_open",)},
        policy=CASE_SIGNOFF,
    ),
    query(
        "case.get",
        "A case with its materials, history, fees, sign-offs and clock",
        get_case,
        CASE_READ,
        CASE,
        CaseParams,
        CaseReply,
        {404: ("unknown_case",)},
        tag="cases",
    ),
    query(
        "case.notice",
        "The acceptance notice (受理回执) with its QR code to /track",
        get_notice,
        CASE_READ,
        CASE + "/notice",
        CaseParams,
        ListReply,
        {404: ("unknown_case",)},
        tag="cases",
    ),
    query(
        "case.list",
        "A window's open cases and the supplements due back",
        window_cases,
        WINDOW_BOARD,
        HALL + "/windows/{window_no}/cases",
        WindowParams,
        ListReply,
        {404: ("unknown_window",)},
        tag="cases",
    ),
    query(
        "case.find",
        "Find a case by the receipt's case number or QR, or the notice's barcode or code",
        find_case,
        CASE_READ,
        HALL + "/cases/find",
        FindParams,
        CaseReply,
        {404: ("unknown_case",)},
        tag="cases",
    ),
    query(
        "signoff.list",
        "Sign-off requests waiting for a leader, with each case",
        list_signoffs,
        SIGNOFF_READ,
        HALL + "/signoffs",
        SignoffListParams,
        ListReply,
        {404: ("unknown_department",)},
        tag="cases",
    ),
    query(
        "case.track",
        "The citizen's view of a case by its query code or its registration's (public)",
        track,
        None,
        "/api/track/{code}",
        TrackParams,
        ListReply,
        {404: ("unknown_query_code",), 429: ("rate_limited",)},
        tag="cases",
    ),
    query(
        "case.metrics",
        "Immediate rate, on-time rate, time saved, visits and paused time, grouped",
        metrics,
        METRICS_READ,
        HALL + "/case-metrics",
        MetricsParams,
        ListReply,
        {400: ("invalid_range",), 404: ("unknown_department",)},
        tag="cases",
    ),
)

TIMERS = (
    TimerJob(
        "case.remind_deficiency",
        "SMS reminders for 容缺 materials due within a working day",
        remind_deficiencies,
    ),
)

CAPABILITY = Capability("cases", operations=OPERATIONS, events=EVENTS, timers=TIMERS)
