"""The reports' tables as files (issue 11): CSV (UTF-8 with a byte-order mark, so Excel reads
the Chinese headers) and Excel .xlsx (openpyxl, write-only: rows stream into the file), with
Chinese column headers. A table is a list of (header, value getter) columns over rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from openpyxl import Workbook

from server.domain.reports import LEVEL_NAMES, WEEKDAYS

Column = tuple[str, Callable[[dict[str, Any]], Any]]

CSV_TYPE: Final = "text/csv; charset=utf-8"
XLSX_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BY_NAMES: Final = {"hall": "服务中心", "department": "部门", "window": "窗口", "clerk": "工作人员"}
TABLE_NAMES: Final = {
    "groups": "综合报表",
    "trend": "每日趋势",
    "waits": "等候时长分布",
    "heatmap": "到达热力",
}


def _pct(v: float | None) -> float | None:
    return None if v is None else round(v * 100, 2)


def _min(v: float | None) -> float | None:
    return None if v is None else round(v / 60, 2)


def _level(lv: int) -> Callable[[dict[str, Any]], Any]:
    return lambda r: r["levels"][str(lv)]


def _alarm_kind(kind: str) -> Callable[[dict[str, Any]], Any]:
    return lambda r: r["alarms_by_kind"].get(kind, 0)


def group_columns(by: str, kinds: Sequence[str], kind_names: dict[str, str]) -> list[Column]:
    cols: list[Column] = [
        ("排名", lambda r: r["rank"]),
        (BY_NAMES[by], lambda r: r["key"]),
        ("名称", lambda r: r["label"]),
        ("评价数", lambda r: r["ratings"]),
    ]
    for lv, name in LEVEL_NAMES.items():
        cols.append((name, _level(lv)))
    cols += [
        ("满意率(%)", lambda r: _pct(r["satisfaction_rate"])),
        ("申诉剔除", lambda r: r["excluded"]),
        ("差评数", lambda r: r["bad_reviews"]),
        ("整改中", lambda r: r["rectification"]["open"]),
        ("已整改", lambda r: r["rectification"]["rectified"]),
        ("已回访", lambda r: r["rectification"]["called_back"]),
        ("整改办结", lambda r: r["rectification"]["closed"]),
        ("整改逾期", lambda r: r["rectification"]["overdue"]),
        ("受理办件", lambda r: r["cases"]),
        ("办结", lambda r: r["completed"]),
        ("即办率(%)", lambda r: _pct(r["immediate_rate"])),
        ("按时办结率(%)", lambda r: _pct(r["on_time_rate"])),
        ("提前办结率(%)", lambda r: _pct(r["early_share"])),
        ("平均节省工时(小时)", lambda r: r["avg_saved_hours"]),
        ("件均跑动次数", lambda r: r["avg_visits"]),
        ("叫号数", lambda r: r["tickets"]),
        ("办结号数", lambda r: r["served"]),
        ("平均等候(分钟)", lambda r: _min(r["avg_wait_s"])),
        ("平均到窗(分钟)", lambda r: _min(r["avg_walk_s"])),
        ("平均办理(分钟)", lambda r: _min(r["avg_service_s"])),
        ("空闲合计(小时)", lambda r: None if r["idle_s"] is None else round(r["idle_s"] / 3600, 2)),
        ("日均空闲(分钟)", lambda r: _min(r["avg_idle_s"])),
        ("联办件", lambda r: r["joint_cases"]),
        ("联办办结", lambda r: r["joint_completed"]),
        ("联办平均工时(小时)", lambda r: r["joint_avg_working_hours"]),
        ("告警合计", lambda r: r["alarms"]),
    ]
    for kind in kinds:
        cols.append((f"告警:{kind_names.get(kind, kind)}", _alarm_kind(kind)))
    return cols


TREND_COLUMNS: Final[list[Column]] = [
    ("日期", lambda r: r["day"]),
    ("取号人数", lambda r: r["arrivals"]),
    ("办结号数", lambda r: r["served"]),
    ("平均等候(分钟)", lambda r: _min(r["avg_wait_s"])),
    ("评价数", lambda r: r["ratings"]),
    ("满意率(%)", lambda r: _pct(r["satisfaction_rate"])),
]
WAIT_COLUMNS: Final[list[Column]] = [
    (
        "等候时长(分钟)",
        lambda r: f"{r['from_min']}–{r['to_min']}" if r["to_min"] else f"{r['from_min']}+",
    ),
    ("叫号数", lambda r: r["count"]),
]
HEAT_COLUMNS: Final[list[Column]] = [
    ("星期", lambda r: WEEKDAYS[r["dow"] - 1]),
    ("时段", lambda r: f"{r['hour']:02d}:00"),
    ("到达人数", lambda r: r["arrivals"]),
]


def tables(report: dict[str, Any]) -> dict[str, tuple[list[Column], list[dict[str, Any]]]]:
    """The report's tables: name -> (columns, rows)."""
    kinds = sorted({k for g in report["groups"] for k in g["alarms_by_kind"]})
    series = report["series"]
    return {
        "groups": (group_columns(report["by"], kinds, report["kind_names"]), report["groups"]),
        "trend": (TREND_COLUMNS, series["trend"]),
        "waits": (WAIT_COLUMNS, series["waits"]),
        "heatmap": (HEAT_COLUMNS, series["heatmap"]),
    }


def to_csv(columns: list[Column], rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([h for h, _ in columns])
    for r in rows:
        w.writerow(["" if (v := get(r)) is None else v for _, get in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(sheets: Mapping[str, tuple[list[Column], list[dict[str, Any]]]]) -> bytes:
    """One sheet per table, named by TABLE_NAMES."""
    wb = Workbook(write_only=True)
    for name, (columns, rows) in sheets.items():
        ws = wb.create_sheet(TABLE_NAMES.get(name, name)[:31])
        ws.append([h for h, _ in columns])
        for r in rows:
            ws.append([get(r) for _, get in columns])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def filename(report: dict[str, Any], table: str | None, ext: str) -> str:
    what = TABLE_NAMES.get(table or "", "报表")
    return (
        f"{report['hall']['name']}-{what}-按{BY_NAMES[report['by']]}-"
        f"{report['from']}至{report['to']}.{ext}"
    )
