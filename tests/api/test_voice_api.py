"""GET /api/voice/call: the lobby's call as WAV from espeak-ng's Mandarin voice, for display PCs
whose browser has no Chinese voice. Only the call phrase can be spoken: the text is built from a
validated ticket and window number."""

from __future__ import annotations

import asyncio
import shutil
import stat
from pathlib import Path

import pytest

from server.domain import voice
from server.domain.voice import VoiceRenderer, VoiceUnavailable, call_phrase
from tests.conftest import missing


def need_espeak() -> None:
    if shutil.which("espeak-ng") is None:
        missing("espeak-ng not installed (apt-get install -y espeak-ng)")


def test_the_phrase_spells_the_ticket_and_says_the_window():
    assert call_phrase("A012", 15) == "请 A 零 一 二 号，到 15 号窗口办理"
    assert call_phrase("AB1005", 130) == "请 A B 一 零 零 五 号，到 130 号窗口办理"


async def test_a_call_is_served_as_wav(live, http):
    need_espeak()
    resp = await http.get("/api/voice/call", params={"ticket_no": "A012", "window_no": "15"})
    body = await resp.read()
    assert resp.status == 200, body[:200]
    assert resp.content_type == "audio/wav"
    assert body[:4] == b"RIFF" and body[8:12] == b"WAVE"
    assert len(body) > 20_000  # seconds of speech, not an empty header
    again = await http.get("/api/voice/call", params={"ticket_no": "A012", "window_no": "15"})
    assert await again.read() == body


@pytest.mark.parametrize(
    ("ticket_no", "window_no", "field"),
    [
        ("a012", "15", "ticket_no"),
        ("A012\x00", "15", "ticket_no"),
        ("请到后台", "15", "ticket_no"),
        ("A012 --stdout", "15", "ticket_no"),
        ("A" + "1" * 40, "15", "ticket_no"),
        ("", "15", "ticket_no"),
        ("A012", "0", "window_no"),
        ("A012", "1000", "window_no"),
        ("A012", "9223372036854775808", "window_no"),
        ("A012", "1.5", "window_no"),
        ("A012", "", "window_no"),
    ],
)
async def test_anything_but_a_ticket_and_a_window_is_refused(
    live, http, ticket_no, window_no, field
):
    resp = await http.get(
        "/api/voice/call", params={"ticket_no": ticket_no, "window_no": window_no}
    )
    assert resp.status == 400
    body = await resp.json()
    assert (body["error"]["code"], body["error"]["field"]) == ("invalid_query", field)
    assert body["error"]["message"]


async def test_without_espeak_the_server_answers_503_with_a_code(live, http, monkeypatch):
    monkeypatch.setattr(voice.renderer, "executable", "/nonexistent/espeak-ng")
    resp = await http.get("/api/voice/call", params={"ticket_no": "Z999", "window_no": "7"})
    assert resp.status == 503
    assert (await resp.json())["error"]["code"] == "voice_unavailable"


def fake_espeak(tmp_path: Path, script: str) -> str:
    """A stand-in for espeak-ng (an external program, not ours) that logs each run."""
    exe = tmp_path / "espeak-ng"
    exe.write_text(f"#!/bin/sh\necho run >> {tmp_path}/runs\n{script}\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return str(exe)


async def test_displays_asking_at_once_cost_one_rendering_and_the_cache_is_bounded(tmp_path):
    renderer = VoiceRenderer(fake_espeak(tmp_path, "printf 'RIFF....WAVE'"), max_entries=2)
    wavs = await asyncio.gather(*(renderer.render("请 A 零 一 二 号") for _ in range(12)))
    assert set(wavs) == {b"RIFF....WAVE"}
    assert (tmp_path / "runs").read_text().count("run") == 1
    for text in ("一", "二", "三"):
        await renderer.render(text)
    assert list(renderer._cache) == ["二", "三"]


async def test_a_hanging_or_failing_renderer_is_unavailable_not_a_hang(tmp_path):
    hanging = VoiceRenderer(fake_espeak(tmp_path, "exec sleep 30"), timeout=0.2)
    with pytest.raises(VoiceUnavailable, match="took over"):
        await hanging.render("请")
    failing = VoiceRenderer(fake_espeak(tmp_path, "echo 'no voice cmn' >&2; exit 1"))
    with pytest.raises(VoiceUnavailable, match="no voice cmn"):
        await failing.render("请")
