"""A hall's settings, kept by its admin: opening hours (the working periods that working-hour
limits count, and the time unserved tickets close), the queue's recall and parking rules, and
the limits of sign-off, supplement notices and rectification. (The calendar, the duty roster
and the notice line have commands of their own; supervision's rules are versioned by
supervision.)

New working periods change when a working-hour limit runs out: every open case is repriced in
the same transaction, as a calendar change does."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import time
from typing import TYPE_CHECKING, Any, Final

from db.queries import admin as q
from server.domain.calendar import format_work_periods, parse_work_periods
from server.domain.cases import reprice_open_cases
from server.domain.errors import Invalid
from server.domain.events import EventRecord
from server.domain.hall import HallRef, get_hall

if TYPE_CHECKING:
    from server.catalogue.spine import Call

SETTINGS_CHANGED: Final = "hall.settings_changed"


@dataclass(frozen=True)
class HallSettings:
    work_periods: list[list[str]]  # [["09:00","12:00"],["13:00","17:00"]]
    closes_at: str  # "17:30": tickets still waiting then are closed for the day
    # the kiosks register from this many minutes before the first working period
    registration_lead_minutes: int
    no_show_recalls: int
    park_minutes: int
    signoff_wait_minutes: int
    supplement_notice_days: int
    supplement_warn_days: int
    rectification_days: int
    notice_templates: list[str] = field(default_factory=list)  # lobby notice lines at hand

    def checked(self) -> HallSettings:
        periods = parse_work_periods(self.work_periods)
        try:
            closes = time.fromisoformat(self.closes_at)
        except ValueError:
            raise Invalid("关门时间格式应为 HH:MM", code="invalid_settings", field="closes_at")
        if closes < periods[-1][1]:
            raise Invalid(
                "关门时间不能早于最后一个工作时段的结束", code="invalid_settings", field="closes_at"
            )
        for name in (
            "park_minutes",
            "signoff_wait_minutes",
            "supplement_notice_days",
            "rectification_days",
        ):
            if getattr(self, name) < 1:
                raise Invalid(f"{name} 至少为 1", code="invalid_settings", field=name)
        if not 0 <= self.registration_lead_minutes <= 240:
            raise Invalid(
                "提前取号时间应在 0–240 分钟",
                code="invalid_settings",
                field="registration_lead_minutes",
            )
        if self.no_show_recalls < 0 or self.supplement_warn_days < 0:
            raise Invalid("次数和天数不能为负数", code="invalid_settings", field="no_show_recalls")
        templates = [t.strip() for t in self.notice_templates if t.strip()]
        if len(templates) > 20 or any(len(t) > 500 for t in templates):
            raise Invalid(
                "公告模板最多 20 条，每条最多 500 字",
                code="invalid_settings",
                field="notice_templates",
            )
        if self.supplement_warn_days >= self.supplement_notice_days:
            raise Invalid(
                "补正提醒须早于补正告知期限", code="invalid_settings", field="supplement_warn_days"
            )
        return HallSettings(
            **{
                **asdict(self),
                "work_periods": format_work_periods(periods),
                "closes_at": f"{closes:%H:%M}",
                "notice_templates": templates,
            }
        )


def settings_of(row: Any) -> HallSettings:
    return HallSettings(
        work_periods=row["work_periods"],
        closes_at=f"{row['closes_at']:%H:%M}",
        registration_lead_minutes=row["registration_lead_minutes"],
        no_show_recalls=row["no_show_recalls"],
        park_minutes=row["park_minutes"],
        signoff_wait_minutes=row["signoff_wait_minutes"],
        supplement_notice_days=row["supplement_notice_days"],
        supplement_warn_days=row["supplement_warn_days"],
        rectification_days=row["rectification_days"],
        notice_templates=list(row["notice_templates"]),
    )


async def read(call: Call, hall_code: str) -> dict[str, Any]:
    async with call.ctx.store.read() as conn:
        hall = await get_hall(conn, hall_code)
        call.check(hall.target())
        row = await conn.fetchrow(q.HALL_SETTINGS_READ, hall.id)
    assert row is not None  # the hall was just found
    return {**asdict(settings_of(row)), "is_demo": row["is_demo"]}


async def write(
    call: Call, hall_code: str, new: HallSettings, templates: list[str] | None
) -> tuple[dict[str, Any], list[EventRecord]]:
    async with call.command() as tx:
        hall: HallRef = await get_hall(tx.conn, hall_code)
        tx.detail["hall"] = hall.code
        call.check(hall.target())
        old = settings_of(await tx.conn.fetchrow(q.HALL_SETTINGS, hall.id))
        if templates is None:  # a client that does not know them keeps them
            templates = old.notice_templates
        new = replace(new, notice_templates=templates).checked()
        changed = {k: v for k, v in asdict(new).items() if asdict(old)[k] != v}
        tx.detail["changes"] = changed
        await tx.conn.execute(
            q.SET_HALL_SETTINGS,
            hall.id,
            new.work_periods,
            time.fromisoformat(new.closes_at),
            new.no_show_recalls,
            new.park_minutes,
            new.signoff_wait_minutes,
            new.supplement_notice_days,
            new.supplement_warn_days,
            new.rectification_days,
            new.notice_templates,
            new.registration_lead_minutes,
        )
        if "work_periods" in changed:
            tx.detail["repriced_cases"] = await reprice_open_cases(tx.conn, hall.id)
        tx.emit(SETTINGS_CHANGED, {"changes": changed}, hall_id=hall.id)
    return {**asdict(new), "changes": changed}, tx.records
