"""JSON as the hall's screens and clients receive it: every instant in the hall's zone.

Instants come from two places, PostgreSQL (asyncpg gives them in UTC) and the server's clock
(the hall's zone), and orjson writes each with its own offset, so one answer mixed `+00:00` and
`+08:00`. Every JSON the server writes (answers, live frames, and the payloads it stores in the
log) goes through `dumps`, which writes instants in the hall's zone (Asia/Shanghai: every hall
of the deployment is in it)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

import orjson

HALL_ZONE: Final = ZoneInfo("Asia/Shanghai")


def instant(value: datetime) -> str:
    """An instant as ISO 8601 in the hall's zone (a naive one is written as it is)."""
    return (value.astimezone(HALL_ZONE) if value.tzinfo else value).isoformat()


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME)


def maybe_instant(value: datetime | None) -> str | None:
    """`instant`, and None for None (a column that may be empty)."""
    return None if value is None else instant(value)


__all__ = ["HALL_ZONE", "dumps", "instant", "maybe_instant"]
