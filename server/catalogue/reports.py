"""The reports (issue 11, /reports), declared: a hall's figures over a month or any range per
hall, department, window or clerk with rankings and chart series, their CSV / Excel export, and
the windows flagged for a formal talk (server/domain/reports.py defines every figure)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.catalogue.params import HallParams
from server.catalogue.spine import Call, Capability, Operation, Reply, query
from server.domain import report_export, reports
from server.domain.policies import METRICS_READ

By = Literal["hall", "department", "window", "clerk"]


class ReportParams(HallParams):
    from_: date | None = Field(default=None, alias="from", description="YYYY-MM-DD")
    to: date | None = Field(default=None, description="YYYY-MM-DD (included)")
    by: By = "hall"


class ExportParams(ReportParams):
    format: Literal["csv", "xlsx"] = "csv"
    table: Literal["groups", "trend", "waits", "heatmap"] | None = Field(
        default=None, description="csv: one table (default groups); xlsx: default every table"
    )


class TalkParams(HallParams):
    month: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class HallRefReply(_Closed):
    code: str
    name: str
    level: str | None = None


class Rectification(_Closed):
    open: int
    rectified: int
    called_back: int
    closed: int
    overdue: int


class GroupRow(_Closed):
    key: str
    label: str
    rank: int | None
    ratings: int
    excluded: int
    levels: dict[str, int] = Field(description="{level 5..1: ratings}")
    satisfaction_rate: float | None
    bad_reviews: int
    rectification: Rectification
    cases: int
    completed: int
    immediate_rate: float | None
    on_time_rate: float | None
    early_share: float | None
    avg_saved_hours: float | None
    avg_visits: float | None
    tickets: int
    served: int
    avg_wait_s: float | None
    avg_walk_s: float | None
    avg_service_s: float | None
    idle_s: int | None
    avg_idle_s: float | None
    joint_cases: int
    joint_completed: int
    joint_avg_working_hours: float | None
    alarms: int
    alarms_by_kind: dict[str, int]


class TrendDay(_Closed):
    day: str
    arrivals: int
    served: int
    avg_wait_s: float | None
    ratings: int
    satisfaction_rate: float | None


class WaitBucket(_Closed):
    from_min: int
    to_min: int | None
    count: int


class HeatCell(_Closed):
    dow: int = Field(description="ISO weekday, 1 = Monday")
    hour: int
    arrivals: int


class Series(_Closed):
    trend: list[TrendDay]
    waits: list[WaitBucket]
    heatmap: list[HeatCell]


class ReportReply(_Closed):
    hall: HallRefReply
    halls: list[HallRefReply]
    from_: str = Field(alias="from")
    to: str
    by: By
    kind_names: dict[str, str]
    groups: list[GroupRow]
    series: Series


class Talk(_Closed):
    window_no: int
    label: str
    rank: int
    of: int
    previous_rank: int
    previous_of: int
    satisfaction_rate: float | None
    on_time_rate: float | None
    previous_satisfaction_rate: float | None
    previous_on_time_rate: float | None


class TalksReply(_Closed):
    hall: HallRefReply
    month: str
    previous_month: str
    last: list[int]
    previous_last: list[int]
    talks: list[Talk]


async def get_report(call: Call, p: ReportParams, body: None) -> dict[str, Any]:
    return await reports.report(call, p.hall, p.from_, p.to, p.by)


async def export(call: Call, p: ExportParams, body: None) -> Reply:
    data = await reports.report(call, p.hall, p.from_, p.to, p.by)
    tables = report_export.tables(data)
    if p.format == "csv":
        table = p.table or "groups"
        columns, rows = tables[table]
        return Reply(
            report_export.to_csv(columns, rows),
            media_type=report_export.CSV_TYPE,
            filename=report_export.filename(data, table, "csv"),
        )
    chosen = {k: v for k, v in tables.items() if p.table in (None, k)}
    return Reply(
        report_export.to_xlsx(chosen),
        media_type=report_export.XLSX_TYPE,
        filename=report_export.filename(data, p.table, "xlsx"),
    )


async def get_talks(call: Call, p: TalkParams, body: None) -> dict[str, Any]:
    return await reports.talks(call, p.hall, p.month)


_REPORTS = "/api/halls/{hall}/reports"

OPERATIONS: tuple[Operation, ...] = (
    query(
        "report.figures",
        "A hall's report over a range of days (default: this month) per hall (a city with its "
        "county halls side by side), department, window or clerk: ratings and satisfaction, bad "
        "reviews and their rectification, case rates, waiting / walk / service / idle times, "
        "joint cases, alarms by kind, each row's rank; the daily trend, the waiting-time "
        "distribution and the arrivals by weekday and hour",
        get_report,
        METRICS_READ,
        _REPORTS,
        ReportParams,
        ReportReply,
        {400: ("invalid_range",)},
        tag="reports",
    ),
    query(
        "report.export",
        "The report's tables as a file: CSV (one table, UTF-8 with BOM) or Excel .xlsx (one "
        "sheet per table), Chinese column headers",
        export,
        METRICS_READ,
        _REPORTS + "/export",
        ExportParams,
        None,
        {400: ("invalid_range",)},
        tag="reports",
    ),
    query(
        "report.talks",
        "The windows ranked last in the month and in the month before (formal talk, 约谈)",
        get_talks,
        METRICS_READ,
        _REPORTS + "/talks",
        TalkParams,
        TalksReply,
        {400: ("invalid_month",)},
        tag="reports",
    ),
)

CAPABILITY = Capability("reports", operations=OPERATIONS)
