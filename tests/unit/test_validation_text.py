"""Refusals of malformed input read in Chinese: pydantic's error kinds as the UI says them."""

from __future__ import annotations

from datetime import date
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from server.api.validation_text import describe


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    due: date | None = None
    count: int = Field(default=1, ge=1, le=10)
    name: str = Field(default="x", max_length=4)
    decision: Literal["approve", "refuse"] = "approve"
    items: list[int] = Field(default_factory=list, max_length=2)
    code: str = Field(default="ab", pattern=r"^[a-z]+$")
    phone: str = "1"

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str) -> str:
        if not v.isdigit():
            raise ValueError("手机号码应为数字")
        return v


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"due": "2026-02-30"}, "应为 YYYY-MM-DD 格式的日期"),
        ({"due": "61211-12-11"}, "应为 YYYY-MM-DD 格式的日期"),
        ({"count": "x"}, "应为整数"),
        ({"count": 0}, "不能小于 1"),
        ({"count": 11}, "不能大于 10"),
        ({"name": "abcdef"}, "不能超过 4 个字符"),
        ({"decision": "maybe"}, "应为以下之一：'approve'、'refuse'"),
        ({"items": [1, 2, 3]}, "不能超过 2 项"),
        ({"code": "AB"}, "格式不正确"),
        ({"other": 1}, "不是可接受的字段"),
        ({"phone": "abc"}, "手机号码应为数字"),
    ],
)
def test_each_kind_reads_in_chinese(data, said):
    with pytest.raises(ValidationError) as err:
        Body.model_validate(data)
    assert describe(err.value.errors()[0]) == said


def test_an_unknown_kind_is_plain():
    assert describe({"type": "something_new", "msg": "Something new"}) == "格式不正确"
