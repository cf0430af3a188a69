"""A hall's supervision rules, declared: read them and publish a new version (checked by
server/domain/alarm_ladder.parse_rules and check_step_limits; server/domain/alarms.set_rules)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from server.catalogue.params import HallParams
from server.catalogue.spine import Call, Operation, Reply, query
from server.domain import alarms
from server.domain.policies import SUPERVISION_READ, SUPERVISION_RULES


class RulesBody(BaseModel):
    """The rule set (alarm_ladder.SupervisionRules' fields; absent ones take the defaults);
    the version is assigned on publishing."""

    model_config = ConfigDict(extra="forbid")
    rules: dict[str, Any] = Field(
        examples=[
            {
                "warning_days_left": 1,
                "warning_share": 0.75,
                "red_after_days": 3,
                "supplement_notice_days": 5,
                "pause_max_days": {"supplement": 30, "escalation": 20},
                "step_limits": {"amr-001": {"accepted": 1, "in_progress": 1}},
            }
        ]
    )


class RulesReply(BaseModel):
    model_config = ConfigDict(extra="allow")
    hall: str
    version: int
    step_limits: dict[str, dict[str, int]]
    pause_max_days: dict[str, int]
    created_at: str | None
    created_by: str | None


async def get_rules(call: Call, p: HallParams, body: None) -> dict[str, Any]:
    return await alarms.get_rules(call, p.hall)


async def set_rules(call: Call, p: HallParams, body: RulesBody) -> Reply:
    data, events = await alarms.set_rules(call, p.hall, body.rules)
    return Reply(data, events=events, status=201)


_PATH = "/api/halls/{hall}/supervision/rules"

OPERATIONS: tuple[Operation, ...] = (
    query(
        "supervision.rules",
        "The hall's supervision rules in force, with their version (0: the built-in defaults)",
        get_rules,
        SUPERVISION_READ,
        _PATH,
        HallParams,
        RulesReply,
        tag="supervision",
    ),
    Operation(
        "supervision.set_rules",
        "Publishes the hall's supervision rules as a new version (the latest + 1); refused when "
        "an item's step limits add up to more than its promised limit, the item named",
        "command",
        set_rules,
        SUPERVISION_RULES,
        http=("POST", _PATH),
        params=HallParams,
        body=RulesBody,
        response=RulesReply,
        status=201,
        errors={400: ("invalid_rule", "step_limits_exceed", "unknown_item")},
        tag="supervision",
    ),
)
