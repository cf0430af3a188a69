"""The browser's event consumers against the catalogue: fixtures generated from the declared
event types (one example event per type) are handed to the JavaScript tests, which run under
Node's own test runner. Every consumer (hallstate.js, window/events.js, the pages to come) must
handle each declared type or name it as ignored, and its reducers must do the right thing with
the examples."""

from __future__ import annotations

import os
import shutil
import subprocess

import orjson

from server.catalogue import CATALOGUE
from tests.conftest import ROOT, missing


def fixtures() -> dict:
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
    return {"events": events}


def test_browser_consumers_handle_every_declared_event_type(tmp_path):
    node = shutil.which("node")
    if node is None:
        missing("Node.js not installed (the browser's event reducers run under node --test)")
    path = tmp_path / "events.json"
    path.write_bytes(orjson.dumps(fixtures()))
    result = subprocess.run(
        [node, "--test", "frontend/tests/"],
        check=False,  # the assertion below shows node's report
        cwd=ROOT,
        env={**os.environ, "HALLOPS_EVENT_FIXTURES": str(path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout
