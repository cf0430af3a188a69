"""Pydantic's refusals in the UI's language: a clerk reads "应为整数", not "Input should be a
valid integer". Only the kinds our bodies and parameters can meet are named; any other falls
back to a plain "格式不正确" (the code and the field name still say exactly what was wrong)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_PLAIN: Mapping[str, str] = {
    "missing": "必须填写",
    "extra_forbidden": "不是可接受的字段",
    "string_type": "应为文本",
    "string_pattern_mismatch": "格式不正确",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "decimal_parsing": "应为数字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "list_type": "应为数组",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "date_type": "应为 YYYY-MM-DD 格式的日期",
    "date_parsing": "应为 YYYY-MM-DD 格式的日期",
    "date_from_datetime_parsing": "应为 YYYY-MM-DD 格式的日期",
    "date_from_datetime_inexact": "应为 YYYY-MM-DD 格式的日期",
    "datetime_type": "应为日期时间（ISO 8601）",
    "datetime_parsing": "应为日期时间（ISO 8601）",
    "datetime_from_date_parsing": "应为日期时间（ISO 8601）",
    "time_parsing": "应为 HH:MM 格式的时间",
    "time_type": "应为 HH:MM 格式的时间",
    "timezone_aware": "应带时区",
    "url_parsing": "应为网址",
    "url_scheme": "应为 http 或 https 网址",
    "uuid_parsing": "格式不正确",
    "json_invalid": "不是合法的 JSON",
}

_WITH_LIMIT: Mapping[str, str] = {
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "不能超过 {max_length} 个字符",
    "too_short": "至少 {min_length} 项",
    "too_long": "不能超过 {max_length} 项",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "不能小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "不能大于 {le}",
    "multiple_of": "应为 {multiple_of} 的倍数",
    "literal_error": "应为以下之一：{expected}",
    "enum": "应为以下之一：{expected}",
}


def describe(error: Mapping[str, Any]) -> str:
    """What is wrong with the value, in Chinese, from one of pydantic's `errors()` entries."""
    kind = str(error.get("type", ""))
    ctx = dict(error.get("ctx") or {})
    if kind in ("value_error", "assertion_error"):
        # a validator of ours: its own message when it wrote one for people
        said = str(ctx.get("error", ""))
        return said if any("\u4e00" <= ch <= "\u9fff" for ch in said) else "不合法"
    if "expected" in ctx:
        ctx["expected"] = str(ctx["expected"]).replace(" or ", "、").replace(", ", "、")
    if kind in _PLAIN:
        return _PLAIN[kind]
    template = _WITH_LIMIT.get(kind)
    if template is not None:
        try:
            return template.format(**ctx)
        except (KeyError, IndexError):
            pass
    return "格式不正确"


__all__ = ["describe"]
