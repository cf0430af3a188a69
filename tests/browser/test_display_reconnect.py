"""The lobby display across a network cut, in a real browser. Its feed socket is routed through
Playwright, which can cut it (closed, and new ones refused) or freeze it (open, but nothing
passes either way: a link that died silently). Time in the page is Playwright's clock.

- After a cut during which 100 calls were made, the display reads out only the calls still
  being called once the backlog is applied, each once, and not the ~80 stale ones.
- A frozen link shows 离线 by the display's own heartbeat, and the display recovers by itself."""

from __future__ import annotations

from aiohttp import ClientSession
from playwright.async_api import Page, WebSocketRoute, expect

from tests.browser.conftest import collect_errors, device_token
from tests.conftest import LiveServer
from tests.conftest import test_settings as make_settings
from tests.queue_helpers import clerk_at_window, command, item_of_window, kiosk_token, register

HD = {"width": 1920, "height": 1080}
# frontend/shared/live.js
OFFLINE_AFTER_MS = 3000
PING_EVERY_MS = 5000
SILENT_AFTER_MS = 15000
RETRY_MAX_MS = 6000  # the reconnect backoff's ceiling, jitter included


class FeedLink:
    """The display's /ws/display sockets, passed through (up), closed and refused (cut), or
    open and mute (frozen)."""

    def __init__(self) -> None:
        self.state = "up"
        self.sockets: list[WebSocketRoute] = []

    async def attach(self, page: Page) -> None:
        await page.route_web_socket("**/ws/display", self._route)

    async def _route(self, ws: WebSocketRoute) -> None:
        if self.state == "cut":
            await ws.close(code=1001, reason="network cut")
            return
        self.sockets.append(ws)
        if self.state == "frozen":
            return  # never connects, never answers: the page sees an open, silent socket
        server = ws.connect_to_server()

        def to_server(message: str | bytes) -> None:
            if self.state == "up":
                server.send(message)

        def to_page(message: str | bytes) -> None:
            if self.state == "up":
                ws.send(message)

        ws.on_message(to_server)
        server.on_message(to_page)

    async def cut(self) -> None:
        self.state = "cut"
        for ws in self.sockets:
            await ws.close(code=1001, reason="network cut")
        self.sockets = []

    def freeze(self) -> None:
        self.state = "frozen"

    async def restore(self) -> None:
        """Back up; a socket opened while frozen is closed, so the next retry gets through."""
        frozen, self.state = self.state == "frozen", "up"
        if frozen:
            await self.cut()
            self.state = "up"


async def open_display(new_context, server_url: str, token: str, errors: list[str]):
    ctx = await new_context(viewport=HD)
    page = await ctx.new_page()
    collect_errors(page, errors)
    await page.clock.install()
    link = FeedLink()
    await link.attach(page)
    await page.goto(f"{server_url}/display?token={token}")
    await expect(page.locator("body")).to_have_attribute("data-connection", "online")
    return page, link


def spoken_text(ticket_no: str, window_no: int) -> str:
    return f"请 {ticket_no} 号到 {window_no} 号窗口办理"


async def test_after_a_cut_only_the_calls_still_current_are_read_out_once(db_dsn, db, new_context):
    settings = make_settings(kiosk_per_minute=100_000, kiosk_burst=1_000)
    server = await LiveServer(settings, db_dsn).start()
    errors: list[str] = []
    try:
        async with ClientSession(base_url=server.url) as http:
            windows = range(1, 11)
            clerks = {n: await clerk_at_window(db, n) for n in windows}
            kiosk = await kiosk_token(http)
            for n in windows:
                item = await item_of_window(db, n)
                for _ in range(10):
                    await register(http, kiosk, item)
            page, link = await open_display(
                new_context, server.url, await device_token(http, "display-01"), errors
            )

            async def call(n: int) -> str:
                return (await command(http, clerks[n], n, "call-next"))["ticket"]["ticket_no"]

            # a call while online is read out at once
            first = await call(1)
            await page.wait_for_function("() => window.hallopsSpoken.length === 1")
            assert await page.evaluate("window.hallopsSpoken") == [spoken_text(first, 1)]

            await link.cut()
            await page.clock.run_for(OFFLINE_AFTER_MS + 500)
            await expect(page.locator("#offline")).to_be_visible()

            # 100 calls while the display is away; most are served at once
            await command(http, clerks[1], 1, "start")
            await command(http, clerks[1], 1, "finish")
            calls = 1
            for rnd in range(10):
                for n in windows:
                    if n == 1 and rnd == 0:
                        continue  # window 1 made its first call before the cut
                    await call(n)
                    calls += 1
                    if rnd < 9 or n >= 10:
                        await command(http, clerks[n], n, "start")
                        await command(http, clerks[n], n, "finish")
            # the last round leaves windows 1-5 calling; 6-9 end their call otherwise
            for _ in range(2):
                await command(http, clerks[5], 5, "recall")
            await command(http, clerks[6], 6, "cancel", {"reason": "群众撤回"})
            await command(http, clerks[7], 7, "start")
            await command(http, clerks[8], 8, "park")
            await command(http, clerks[9], 9, "transfer", {"to_window_no": 10})
            assert calls == 100

            current = await db.fetch(
                "select t.ticket_no, w.window_no from ticket t "
                "join service_window w on w.id = t.window_id where t.status = 'called' "
                "order by w.window_no"
            )
            assert [r["window_no"] for r in current] == [1, 2, 3, 4, 5]
            expected = sorted(spoken_text(r["ticket_no"], r["window_no"]) for r in current)

            await link.restore()
            await page.clock.run_for(RETRY_MAX_MS)
            # the catch-up is applied and read out in the same turn as the live marker
            await expect(page.locator("body")).to_have_attribute("data-connection", "online")
            await expect(page.locator("#offline")).to_be_hidden()
            spoken = (await page.evaluate("window.hallopsSpoken"))[1:]
            assert sorted(spoken) == expected, spoken
            # resumed from its last event, not replaced by a snapshot
            await expect(page.locator("body")).to_have_attribute("data-snapshots", "1")
            # 正在呼叫 shows the newest call still being made
            newest = current[-1]  # window 5's recall is the last call made
            await expect(page.locator("#current-ticket")).to_have_text(newest["ticket_no"])
            await expect(page.locator("#current-call")).to_contain_text("重复呼叫")
        assert errors == []
    finally:
        await server.stop()


async def test_a_silently_dead_link_shows_offline_and_recovers(live, http, db, new_context):
    errors: list[str] = []
    clerk = await clerk_at_window(db, 2)
    kiosk = await kiosk_token(http)
    ticket_no = (await register(http, kiosk, await item_of_window(db, 2)))["ticket"]["ticket_no"]
    page, link = await open_display(
        new_context, live.url, await device_token(http, "display-01"), errors
    )

    link.freeze()  # no close, no frame: only the heartbeat can tell
    await page.clock.run_for(SILENT_AFTER_MS - PING_EVERY_MS)
    await expect(page.locator("#offline")).to_be_hidden()
    await page.clock.run_for(2 * PING_EVERY_MS + OFFLINE_AFTER_MS + 1000)
    await expect(page.locator("#offline")).to_be_visible()
    await expect(page.locator("body")).to_have_attribute("data-connection", "offline")

    # meanwhile the hall goes on; once the link is back the display catches up by itself
    await command(http, clerk, 2, "call-next")
    await link.restore()
    await page.clock.run_for(RETRY_MAX_MS)
    await expect(page.locator("body")).to_have_attribute("data-connection", "online")
    await expect(page.locator("#offline")).to_be_hidden()
    await expect(page.locator("#current-ticket")).to_have_text(ticket_no)
    assert await page.evaluate("window.hallopsSpoken") == [spoken_text(ticket_no, 2)]
    assert errors == []
