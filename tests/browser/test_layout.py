"""Layout faults a newcomer saw first (issue 12), measured in the browser: the start page's
section headings readable (WCAG AA, 4.5:1, against what is really behind them); every window
number of the lobby display inside a 1920 × 1080 screen, in its LED layout and its lobby
layout, with the demo's 130 windows and calls at the last of them; and the window terminal
saying of a ticket only called that it has not started."""

from __future__ import annotations

import os
import re

from playwright.async_api import expect

from tests.browser.conftest import collect_errors, device_token, open_window_terminal
from tests.queue_helpers import clerk_at_window, command, item_of_window, kiosk_token, register

HD = {"width": 1920, "height": 1080}
SHOTS = os.environ.get("HALLOPS_LAYOUT_SHOTS")  # a directory: save what was measured


def _rgb(css: str) -> tuple[float, float, float]:
    r, g, b = (float(x) for x in re.findall(r"[\d.]+", css)[:3])
    return r, g, b


def luminance(css: str) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(css))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# For an element: its text colour, and every colour painted behind its text, found by walking
# the stack of elements under points of the text (what overlaps it from a sibling included: a
# negative margin puts a heading over the header's band); a gradient counts with each stop.
BEHIND = """(el) => {
  const range = document.createRange();
  range.selectNodeContents(el);
  const box = range.getBoundingClientRect();
  const points = [];
  for (const fx of [0.05, 0.5, 0.95]) for (const fy of [0.2, 0.5, 0.8]) {
    points.push([box.left + box.width * fx, box.top + box.height * fy]);
  }
  const behind = [];
  for (const [x, y] of points) {
    for (const e of document.elementsFromPoint(x, y)) {
      if (e === el || el.contains(e)) continue;
      const cs = getComputedStyle(e);
      const colors = (cs.backgroundImage.match(/rgba?\\([^)]*\\)/g) || []);
      if (!/^rgba\\(.*, 0\\)$/.test(cs.backgroundColor) && cs.backgroundColor !== "transparent") {
        colors.push(cs.backgroundColor);
      }
      if (colors.length) { behind.push(...colors); break; }
    }
  }
  return { text: el.textContent.trim(), color: getComputedStyle(el).color, behind };
}"""


async def test_the_start_pages_headings_are_readable(live, new_context):
    errors: list[str] = []
    page = await (await new_context(viewport={"width": 1280, "height": 900})).new_page()
    collect_errors(page, errors)
    await page.goto(live.url)
    headings = page.locator("main h2")
    await expect(headings.first).to_have_text("办事群众")
    if SHOTS:
        await page.screenshot(path=f"{SHOTS}/start.png")
    found = [await h.evaluate(BEHIND) for h in await headings.all()]
    assert [f["text"] for f in found] == ["办事群众", "大厅设备", "工作人员"]
    for f in found:
        assert f["behind"], f
        worst = min(contrast(f["color"], bg) for bg in f["behind"])
        assert worst >= 4.5, f"{f['text']}: {f['color']} on {f['behind']}: {worst:.2f}:1"
    assert errors == []


async def _calls_at_the_last_windows(http, db) -> list[int]:
    """Citizens called at the hall's last windows (three-digit numbers), the newest at 130."""
    kiosk = await kiosk_token(http)
    windows = [126, 127, 128, 129, 130]
    for no in windows:
        clerk = await clerk_at_window(db, no)
        await register(http, kiosk, await item_of_window(db, no))
        await command(http, clerk, no, "call-next")
    return windows


async def _window_numbers_inside(page, selector: str) -> list[str]:
    """The elements of `selector` (each showing a window number) not wholly on the screen."""
    return await page.locator(selector).evaluate_all(
        """(els) => els.filter((e) => {
            const r = e.getBoundingClientRect();
            return r.width > 0 && (r.left < 0 || r.top < 0 || r.right > innerWidth + 0.5
                   || r.bottom > innerHeight + 0.5);
        }).map((e) => `${e.id || e.className} ${e.textContent} ${JSON.stringify(
            e.getBoundingClientRect())}`)"""
    )


async def test_the_led_layout_keeps_every_window_number_on_a_1920_screen(
    live, http, db, new_context
):
    errors: list[str] = []
    await _calls_at_the_last_windows(http, db)
    page = await (await new_context(viewport=HD)).new_page()
    collect_errors(page, errors)
    await page.goto(f"{live.url}/display?layout=led&token={await device_token(http, 'display-01')}")
    await expect(page.locator("body")).to_have_attribute("data-connection", "online")
    await expect(page.locator("#led-win")).to_have_text("130号")
    await expect(page.locator("#led-prev span")).to_have_count(2)
    if SHOTS:
        await page.screenshot(path=f"{SHOTS}/led.png")
    outside = await _window_numbers_inside(page, "#led-no, #led-win, #led-prev span")
    assert outside == [], outside
    assert errors == []


async def test_the_lobby_layout_keeps_every_window_number_on_a_1920_screen(
    live, http, db, new_context
):
    errors: list[str] = []
    await _calls_at_the_last_windows(http, db)
    page = await (await new_context(viewport=HD)).new_page()
    collect_errors(page, errors)
    await page.goto(f"{live.url}/display?token={await device_token(http, 'display-01')}")
    await expect(page.locator("body")).to_have_attribute("data-connection", "online")
    await expect(page.locator("#window-board .d-tile")).to_have_count(130)
    if SHOTS:
        await page.screenshot(path=f"{SHOTS}/lobby.png")
    outside = await _window_numbers_inside(
        page, "#window-board .d-tile, #current-body *, #recent-calls li"
    )
    assert outside == [], outside
    assert errors == []


async def test_the_window_terminal_says_a_called_ticket_has_not_started(
    live, http, db, new_context
):
    """Pausing the window with a citizen only called asks "已呼叫 …，尚未开始办理", never
    "正在办理" (that is said once service has started); signing out is refused the same way."""
    errors: list[str] = []
    clerk = await clerk_at_window(db, 1)
    ticket_no = (await register(http, await kiosk_token(http), await item_of_window(db, 1)))[
        "ticket"
    ]["ticket_no"]
    page = await open_window_terminal(new_context, live, clerk, errors)
    await command(http, clerk, 1, "call-next")
    await expect(page.locator("#current-state")).to_have_text("已叫号 · 等待到场")

    dialog = page.locator("#confirm-dialog")
    await page.locator("#status-switch").get_by_role("button", name="暂停").click()
    await expect(dialog).to_be_visible()
    await expect(page.locator("#confirm-body")).to_have_text(
        f"1 号窗口已呼叫 {ticket_no} 号，尚未开始办理，确定要暂停吗？"
    )
    await dialog.get_by_role("button", name="取消").click()
    await expect(dialog).to_be_hidden()
    status = await db.fetchval(
        "select w.status from service_window w join hall h on h.id = w.hall_id "
        "where h.code = 'rizhao' and w.window_no = 1"
    )
    assert status == "open"  # the question was declined: nothing changed
    await page.locator("#sign-out").click()
    await expect(page.locator("#message")).to_have_text(
        f"已呼叫 {ticket_no} 号，尚未开始办理：请先开始办理、过号或取消，再签退"
    )

    await command(http, clerk, 1, "start")
    await expect(page.locator("#current-state")).to_have_text("办理中")
    await page.locator("#status-switch").get_by_role("button", name="暂停").click()
    await expect(page.locator("#confirm-body")).to_have_text(
        f"1 号窗口正在办理 {ticket_no} 号，确定要暂停吗？"
    )
    await dialog.get_by_role("button", name="暂停").click()
    await expect(page.locator("#message")).to_have_text("窗口已暂停")
    assert errors == []
