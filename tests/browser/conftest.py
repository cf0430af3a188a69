"""Browser tests: Playwright (async API, inside the test's event loop) driving Debian's
Chromium. No browser is ever downloaded: the executable is the system one (chromium_path()
skips, or fails in CI, when it is missing)."""

from __future__ import annotations

import pytest
from aiohttp import ClientSession

from server import demo_hall
from tests.conftest import ROOT, chromium_path, missing

SOCKET_IO_CLIENT = (
    ROOT / "frontend" / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
)
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="module")
async def browser():
    executable = chromium_path()
    if not SOCKET_IO_CLIENT.exists():
        missing("frontend/node_modules missing: run `make install` (npm ci --prefix frontend)")
    try:
        from playwright.async_api import async_playwright
    except ImportError:  # pragma: no cover - requirements-dev.txt has it
        missing("playwright not installed (pip install -r requirements-dev.txt)")
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=executable, headless=True, args=LAUNCH_ARGS
        )
        yield browser
        await browser.close()


@pytest.fixture
async def new_context(browser):
    """Makes browser contexts and closes them when the test ends, before the server stops (a
    live Socket.IO connection would hold the server's shutdown)."""
    made = []

    async def make(base_url: str | None = None, token: str | None = None, **options):
        ctx = await browser.new_context(**options)
        made.append(ctx)
        if token is not None:
            await ctx.add_cookies([{"name": "hallops_session", "value": token, "url": base_url}])
        return ctx

    yield make
    for ctx in made:
        await ctx.close()


async def device_token(http: ClientSession, code: str) -> str:
    kind = "display" if "display" in code or code.startswith("led") else "kiosk"
    resp = await http.post(
        "/api/auth/device", json={"code": code, "secret": demo_hall.DEMO_PASSWORDS[kind]}
    )
    body = await resp.json()
    assert resp.status == 200, body
    return body["token"]


def collect_errors(page, into: list) -> None:
    """Uncaught exceptions of a page (a screen that throws is broken even if it looks fine)."""
    page.on("pageerror", lambda exc: into.append(f"{page.url}: {exc}"))


async def to_time(page, clock, when: str) -> None:
    """The server's clock (tests.cases.helpers.use_clock) and the page's move to `when` together
    (the page's timers are not fired: its live connection stays as it is)."""
    from tests.cases.helpers import at

    clock.set(at(when))
    await page.clock.set_system_time(clock.now)


async def open_terminal(new_context, live, token: str, clock, errors: list[str]):
    """/window of the staff member signed in by `token`, live, its page's time running on from
    the server's controllable `clock`: (context, page)."""
    from playwright.async_api import expect

    ctx = await new_context(live.url, token, viewport={"width": 1920, "height": 1080})
    page = await ctx.new_page()
    collect_errors(page, errors)
    await page.clock.install(time=clock.now)
    await page.goto(f"{live.url}/window")
    await expect(page.locator("#conn")).to_have_text("实时")
    return ctx, page


async def open_window_terminal(new_context, live, token: str, errors: list[str]):
    """/window of a clerk signed in at a window (its bearer `token`), live, its inbox shown."""
    from playwright.async_api import expect

    ctx = await new_context(live.url, token, viewport={"width": 1920, "height": 1080})
    page = await ctx.new_page()
    collect_errors(page, errors)
    await page.goto(f"{live.url}/window")
    await expect(page.locator("#conn")).to_have_text("实时")
    await expect(page.locator("#terminal")).to_be_visible()
    await expect(page.locator("#inbox")).to_be_visible()
    return page


__all__ = ["collect_errors", "device_token", "open_terminal", "open_window_terminal", "to_time"]
