"""The kiosk outside the opening hours (issue 12): at 01:05 it shows the hours and the next
opening instead of the catalogue; when the admin opens registration the catalogue comes back
live, without a reload, and a citizen gets a ticket."""

from __future__ import annotations

import pytest
from aiohttp import ClientSession, CookieJar
from playwright.async_api import expect

from server import demo_hall
from tests.browser.conftest import collect_errors
from tests.cases.helpers import at, use_clock
from tests.conftest import LiveServer, login
from tests.conftest import test_settings as make_settings
from tests.queue_helpers import bearer


@pytest.fixture
async def hours_live(db_dsn: str):
    server = await LiveServer(make_settings(registration_hours=True), db_dsn).start()
    yield server
    await server.stop()


async def test_the_kiosk_shows_the_hours_at_night_and_opens_live(hours_live, new_context):
    use_clock(hours_live, at("2026-12-07 01:05"))  # a Monday, in the night
    errors: list[str] = []
    page = await (await new_context(viewport={"width": 1920, "height": 1080})).new_page()
    collect_errors(page, errors)
    await page.goto(f"{hours_live.url}/kiosk?device=kiosk-01")
    await page.get_by_label("设备密钥").fill(demo_hall.DEMO_PASSWORDS["kiosk"])
    await page.get_by_role("button", name="完成设置").click()

    closed = page.locator("#step-closed")
    await expect(closed).to_be_visible()
    await expect(page.locator("#closed-title")).to_have_text("现在不是取号时间")
    await expect(page.locator("#closed-hours")).to_have_text(
        "取号时间：工作日 08:30–17:00（办理时间 09:00–12:00、13:00–17:00）"
    )
    await expect(page.locator("#closed-next")).to_have_text("下次取号：12月7日（星期一）08:30")
    await expect(page.locator("#step-browse")).to_be_hidden()

    async with ClientSession(base_url=hours_live.url, cookie_jar=CookieJar(unsafe=True)) as http:
        admin = (await login(http, "admin"))["token"]
        resp = await http.put(
            "/api/halls/rizhao/registration-hours",
            json={"open": True, "until": "2026-12-07T03:00:00+08:00"},
            headers=bearer(admin),
        )
        assert resp.status == 200, await resp.text()

    # the event reaches the kiosk's confined live connection: the catalogue is back
    await expect(closed).to_be_hidden()
    await expect(page.locator("body")).to_have_attribute("data-registration", "open")
    await page.locator(".k-card[data-code='amr-002']").click()
    await page.get_by_role("button", name="确认取号").click()
    await expect(page.get_by_text("取号成功")).to_be_visible()
    assert errors == [], errors
