"""The browser's event consumers against the catalogue: fixtures generated from the declared
event types (one example event per type) are handed to the JavaScript tests, which run under
Node's own test runner. Every consumer (hallstate.js, window/events.js, the pages to come) must
handle each declared type or name it as ignored, and its reducers must do the right thing with
the examples. The same fixtures are committed, for `node --test frontend/tests/` on its own."""

from __future__ import annotations

import os
import shutil
import subprocess

from tests.conftest import ROOT, missing
from tests.contract.sample_events import REGENERATE, SAMPLE, render


def test_browser_consumers_handle_every_declared_event_type(tmp_path):
    node = shutil.which("node")
    if node is None:
        missing("Node.js not installed (the browser's event reducers run under node --test)")
    path = tmp_path / "events.json"
    path.write_bytes(render())
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


def test_the_committed_sample_is_what_the_catalogue_generates():
    """frontend/tests/fixtures/events.sample.json is the node tests' fixtures when run without
    this module: a type declared (or an example changed) since it was written would leave the
    standalone run testing an older catalogue."""
    assert SAMPLE.read_bytes() == render(), f"the sample is stale: {REGENERATE}"
