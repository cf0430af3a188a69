"""The lobby's call ("请 A012 号到 15 号窗口办理") spoken by Debian's espeak-ng Mandarin voice,
as WAV, for display PCs whose browser has no Chinese voice (Debian's Chromium has none).

It can only ever say the call phrase: the text is built here from a validated ticket number and
window number, never taken from a request. Each phrase is rendered once by a subprocess (with a timeout) and kept in a small
in-memory cache, so the dozen displays of a hall asking for the same call at the same moment
cost one rendering."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from typing import Final

from server.domain.errors import Unavailable

log = logging.getLogger(__name__)

_DIGITS: Final = "零一二三四五六七八九"


def call_phrase(ticket_no: str, window_no: int) -> str:
    """The phrase the lobby reads out; the ticket's digits one by one ("A零一二", not "A十二"),
    the window number as a number ("十五号窗口")."""
    spelled = " ".join(_DIGITS[int(ch)] if ch.isdigit() else ch for ch in ticket_no)
    return f"请 {spelled} 号，到 {window_no} 号窗口办理"


class VoiceUnavailable(Exception):
    """espeak-ng (or its Mandarin voice) is missing, failed or took too long."""


class VoiceRenderer:
    """espeak-ng in a subprocess, a bounded cache of what it rendered, and one rendering per
    phrase however many displays ask at once."""

    def __init__(
        self,
        executable: str = "espeak-ng",
        voice: str = "cmn",
        timeout: float = 10.0,
        max_entries: int = 64,  # a 4-second WAV is ~200 kB
    ) -> None:
        self.executable = executable
        self.voice = voice
        self.timeout = timeout
        self.max_entries = max_entries
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._rendering: dict[str, asyncio.Task[bytes]] = {}

    async def render(self, text: str) -> bytes:
        cached = self._cache.get(text)
        if cached is not None:
            self._cache.move_to_end(text)
            return cached
        task = self._rendering.get(text)
        if task is None or task.get_loop() is not asyncio.get_running_loop():
            task = asyncio.get_running_loop().create_task(self._run(text))
            self._rendering[text] = task
            task.add_done_callback(
                lambda done: (
                    self._rendering.pop(text) if self._rendering.get(text) is done else None
                )
            )
        # shielded: a display that hangs up does not cancel the rendering the others wait for
        wav = await asyncio.shield(task)
        self._cache[text] = wav
        self._cache.move_to_end(text)
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
        return wav

    async def _run(self, text: str) -> bytes:
        try:
            proc = await asyncio.create_subprocess_exec(
                self.executable,
                "-v",
                self.voice,
                "--stdout",
                text,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:  # not installed
            raise VoiceUnavailable(f"{self.executable}: {exc}") from exc
        try:
            async with asyncio.timeout(self.timeout):
                out, err = await proc.communicate()
        except TimeoutError as exc:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise VoiceUnavailable(f"{self.executable} took over {self.timeout} s") from exc
        if proc.returncode != 0 or not out.startswith(b"RIFF"):
            raise VoiceUnavailable(
                f"{self.executable} exited {proc.returncode}: {err.decode(errors='replace')[:200]}"
            )
        return out


# The rendering is a pure function of the phrase, so one cache serves every app in the process.
renderer = VoiceRenderer()


async def call_audio(ticket_no: str, window_no: int) -> bytes:
    """The WAV of a call; Unavailable (503 voice_unavailable) without a working espeak-ng."""
    try:
        return await renderer.render(call_phrase(ticket_no, window_no))
    except VoiceUnavailable as exc:
        log.warning("no voice for the lobby: %s", exc)
        raise Unavailable(
            "服务器未安装语音合成（espeak-ng），无法播报", code="voice_unavailable"
        ) from exc
