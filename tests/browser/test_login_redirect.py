"""After login the browser goes to ?next= only when it is a path of this site; and no page
breaks under the Content-Security-Policy (no inline script, live connections allowed)."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from server import demo_hall
from tests.browser.conftest import collect_errors, device_token

EVIL = "http://evil.example"


async def log_in(page, base: str, next_param: str, username: str = "admin") -> None:
    await page.goto(f"{base}/login?next={next_param}")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(demo_hall.password_for(username))
    await page.locator("#login-submit").click()
    await page.wait_for_url(lambda url: "/login" not in url)


@pytest.mark.parametrize(
    "next_param",
    [
        "%2F%5Cevil.example%2Fstolen",  # "/\evil.example/stolen"
        "/%09/evil.example/stolen",  # "/<TAB>/evil.example/stolen"
        "%2F%0A%2Fevil.example%2Fstolen",  # "/<LF>/evil.example/stolen"
        "//evil.example/stolen",
        "http://evil.example/stolen",
    ],
)
async def test_next_outside_the_site_lands_on_the_role_screen(live, new_context, next_param):
    ctx = await new_context()
    # the other site answers, so a redirect there would be seen, not a failed navigation
    await ctx.route(f"{EVIL}/**", lambda route: route.fulfill(body="gotcha", status=200))
    page = await ctx.new_page()
    await log_in(page, live.url, next_param)
    await expect(page).to_have_url(f"{live.url}/admin")


async def test_a_supervisor_lands_on_the_supervision_wall(live, new_context):
    page = await (await new_context()).new_page()
    await log_in(page, live.url, "", username="supervisor1")
    await expect(page).to_have_url(f"{live.url}/supervision")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("电子监察")


async def test_next_inside_the_site_is_followed(live, new_context):
    page = await (await new_context()).new_page()
    await log_in(page, live.url, "%2Fqueue%3Fhall%3Drizhao")
    await expect(page).to_have_url(f"{live.url}/queue?hall=rizhao")


async def test_pages_run_under_the_content_security_policy(live, http, new_context):
    """Every screen loads and goes live with the policy on: Chromium reports each blocked
    script, style or connection on the console."""
    display = await device_token(http, "display-01")
    ctx = await new_context()
    violations: list[str] = []
    errors: list[str] = []
    page = await ctx.new_page()
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    collect_errors(page, errors)
    resp = await page.goto(f"{live.url}/display?token={display}")
    assert "script-src 'self'" in resp.headers["content-security-policy"]
    assert resp.headers["referrer-policy"] == "no-referrer"
    # the plain WebSocket feed connected under connect-src 'self'
    await expect(page.locator("body")).to_have_attribute("data-connection", "online")
    for path in ("/", "/kiosk", "/queue", "/notice?code=nope", "/track", "/login"):
        await page.goto(f"{live.url}{path}")
        await page.wait_for_load_state("networkidle")
    # the admin's screen goes live over Socket.IO (a WebSocket) with the same policy
    await log_in(page, live.url, "")
    await expect(page.locator("#conn")).to_have_text("实时")
    assert violations == [], violations
    assert errors == [], errors
