"""The fault harness's own checks can fail: a display's stream with a gap, a repeat or a payload
unlike the log's is found wrong; and the database-away classification that turns a broken
connection into a 503 (found by the harness: a `pg_ctl -m fast stop` answered one command 500)."""

from __future__ import annotations

import asyncpg
import orjson

from db.pool import database_unreachable
from server.bench.displays import DisplayWorker, Sub
from server.faults.common import exactness

HEAD = 13


def _frame(seq: int, text: str = "x") -> dict:
    return {"seq": seq, "hall_id": 1, "type": "hall.notice_set", "data": {"text": text}}


def _sub(seqs: list[int], changed: int | None = None) -> Sub:
    sub = Sub(DisplayWorker(), {"kind": "feed", "since": 10, "keep": True})
    sub.control({"type": "live", "seq": 10})
    for seq in seqs:
        sub.event(seq, 0.0, orjson.dumps(_frame(seq, "y" if seq == changed else "x")))
    return sub


EXPECTED = {seq: _frame(seq) for seq in range(11, HEAD + 1)}


async def test_an_exact_stream_passes():
    assert exactness(_sub([11, 12, 13]), HEAD, EXPECTED) == []


async def test_a_gap_a_repeat_and_a_changed_payload_are_found():
    gap = exactness(_sub([11, 13]), HEAD, EXPECTED)
    assert any("missing [12]" in p for p in gap), gap
    repeat = exactness(_sub([11, 12, 12, 13]), HEAD, EXPECTED)
    assert any("duplicated [12]" in p for p in repeat), repeat
    changed = exactness(_sub([11, 12, 13], changed=12), HEAD, EXPECTED)
    assert changed == ["1 frames differ from the log, e.g. seq 12"], changed
    short = exactness(_sub([11, 12]), HEAD, EXPECTED)
    assert any("missing [13]" in p for p in short), short


def test_a_connection_left_mid_operation_is_the_database_away():
    left = asyncpg.exceptions.InternalClientError(
        "cannot switch to state 11; another operation (2) is in progress"
    )
    assert database_unreachable(left)
    assert not database_unreachable(asyncpg.exceptions.InternalClientError("a bug of ours"))
