"""The event fixtures of the node tests, generated from the catalogue: one event per declared
type, with the type's declared example as its payload.

test_browser_consumers.py hands them to `node --test` in a temporary file; the committed copy,
frontend/tests/fixtures/events.sample.json, is what `node --test frontend/tests/` reads when run
on its own, and a test fails when it differs from what the catalogue generates. After declaring
or changing an event type, write it again:

    .venv/bin/python -m tests.contract.sample_events > frontend/tests/fixtures/events.sample.json
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson

from server.catalogue import CATALOGUE

SAMPLE = (
    Path(__file__).resolve().parents[2] / "frontend" / "tests" / "fixtures" / "events.sample.json"
)
REGENERATE = (
    ".venv/bin/python -m tests.contract.sample_events > frontend/tests/fixtures/events.sample.json"
)


def fixtures() -> dict[str, Any]:
    """One event per declared type, internal ones included: a consumer must still name them."""
    events = []
    for seq, (name, ev) in enumerate(sorted(CATALOGUE.events.items()), start=1):
        events.append(
            {
                "seq": seq,
                "hall_id": 1,
                "type": name,
                "at": "2026-12-01T10:00:00+08:00",
                "window_id": 15 if "window" in ev.rooms else None,
                "data": dict(ev.example),
            }
        )
    return {
        "_comment": f"Generated from the catalogue, do not edit: {REGENERATE}",
        "events": events,
    }


def render() -> bytes:
    """The file's exact bytes (indented, so a change of the catalogue shows as a readable diff)."""
    return orjson.dumps(fixtures(), option=orjson.OPT_INDENT_2) + b"\n"


if __name__ == "__main__":
    sys.stdout.buffer.write(render())
