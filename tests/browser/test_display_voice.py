"""The lobby's voice on a Linux display PC, in a real browser: with no Chinese voice in the
browser (Debian's Chromium has none) the display plays the server's rendering of the call
(espeak-ng, audio/wav); with one, it speaks through speechSynthesis and asks the server for
nothing."""

from __future__ import annotations

import shutil

from playwright.async_api import expect

from tests.browser.conftest import collect_errors, device_token
from tests.conftest import missing
from tests.queue_helpers import clerk_at_window, command, item_of_window, kiosk_token, register

HD = {"width": 1920, "height": 1080}

NO_VOICES = "speechSynthesis.getVoices = () => [];"
# A browser that has a Mandarin voice, as far as the page can tell.
ZH_VOICE = """
window.__said = [];
const zh = { lang: "zh-CN", name: "test zh", voiceURI: "test zh", localService: true, default: true };
Object.defineProperty(window, "speechSynthesis", { configurable: true, value: {
  getVoices: () => [zh],
  speak(u) { window.__said.push(u.text); setTimeout(() => u.onend && u.onend(), 50); },
  cancel() {},
}});
window.SpeechSynthesisUtterance = class { constructor(text) { this.text = text; } };
"""


async def display_page(new_context, live, http, errors: list[str], init_script: str):
    ctx = await new_context(viewport=HD)
    page = await ctx.new_page()
    collect_errors(page, errors)
    await page.add_init_script(init_script)
    await page.goto(f"{live.url}/display?token={await device_token(http, 'display-01')}")
    await expect(page.locator("body")).to_have_attribute("data-connection", "online")
    return page


async def test_without_a_browser_voice_the_display_plays_the_servers_audio(
    live, http, db, new_context
):
    if shutil.which("espeak-ng") is None:
        missing("espeak-ng not installed (apt-get install -y espeak-ng)")
    errors: list[str] = []
    clerk = await clerk_at_window(db, 4)
    ticket_no = (await register(http, await kiosk_token(http), await item_of_window(db, 4)))[
        "ticket"
    ]["ticket_no"]
    page = await display_page(new_context, live, http, errors, NO_VOICES)

    async with page.expect_response(lambda r: "/api/voice/call?" in r.url) as answer:
        await command(http, clerk, 4, "call-next")
    resp = await answer.value
    assert resp.url.endswith(f"/api/voice/call?ticket_no={ticket_no}&window_no=4")
    assert resp.status == 200
    assert resp.headers["content-type"] == "audio/wav"
    wav = await page.evaluate(
        """async (url) => {
            const r = await fetch(url);
            const b = new Uint8Array(await r.arrayBuffer());
            return {type: r.headers.get("content-type"), size: b.length,
                    head: String.fromCharCode(...b.slice(0, 4))};
        }""",
        resp.url,
    )
    assert wav["type"] == "audio/wav" and wav["head"] == "RIFF" and wav["size"] > 20_000
    assert await page.evaluate("window.hallopsVoice") == ["audio"]
    assert await page.evaluate("window.hallopsSpoken") == [f"请 {ticket_no} 号到 4 号窗口办理"]
    assert errors == []


async def test_with_a_browser_voice_the_display_speaks_itself(live, http, db, new_context):
    errors: list[str] = []
    clerk = await clerk_at_window(db, 4)
    ticket_no = (await register(http, await kiosk_token(http), await item_of_window(db, 4)))[
        "ticket"
    ]["ticket_no"]
    page = await display_page(new_context, live, http, errors, ZH_VOICE)
    audio_requests: list[str] = []
    page.on("request", lambda r: "/api/voice/" in r.url and audio_requests.append(r.url))

    await command(http, clerk, 4, "call-next")
    await page.wait_for_function("() => window.__said.length === 1")
    digits = "".join("零一二三四五六七八九"[int(c)] for c in ticket_no if c.isdigit())
    said = await page.evaluate("window.__said[0]")
    assert digits in said and "4 号窗口办理" in said
    assert await page.evaluate("window.hallopsVoice") == ["speech"]
    assert audio_requests == []
    assert errors == []
