"""The screens a newcomer is shown are the screens there are (issue 12: "unbuilt screens answer
raw JSON 404s, and the banner lists them while leaving out /admin, /login and /notice"): every
tile of the start page and every address of `run.py serve`'s banner answers a page, every
screen directory under frontend/ has a tile, and a path that is no page answers a 404 page in
Chinese to a browser, while the API keeps its JSON 404."""

from __future__ import annotations

import contextlib
import io
import re
from urllib.parse import urlsplit

from run import print_banner
from tests.conftest import ROOT

FRONTEND = ROOT / "frontend"
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}  # what a browser sends
TILE = re.compile(r'<a class="card tile[^"]*" href="([^"]+)"')


def _directory(href: str) -> str:
    return urlsplit(href).path.strip("/").split("/")[0]


async def test_every_tile_answers_a_page_and_every_screen_has_a_tile(live, http):
    resp = await http.get("/", headers=HTML)
    assert resp.status == 200 and resp.content_type == "text/html"
    tiles = TILE.findall(await resp.text())
    assert len(tiles) == len(set(tiles)) >= 15, tiles
    for href in tiles:
        page = await http.get(href, headers=HTML)
        assert (page.status, page.content_type) == (200, "text/html"), href
    # every screen directory (frontend/<name>/index.html) has its tile, nothing else has one
    screens = {p.parent.name for p in FRONTEND.glob("*/index.html")}
    assert {_directory(href) for href in tiles} == screens
    assert {"/admin", "/login", "/notice", "/reports", "/ballots", "/rate/window/1"} <= set(tiles)


def test_the_banner_lists_the_same_screens(live):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        print_banner(live.settings, demo=True)
    base = f"http://{live.settings.host}:{live.settings.port}"
    addresses = re.findall(re.escape(base) + r"(\S*)", out.getvalue())
    screens = {p.parent.name for p in FRONTEND.glob("*/index.html")}
    shown = {_directory(a) for a in addresses} - {"", "healthz", "api", "ws"}
    assert shown == screens
    for path in ("/admin", "/login", "/notice"):
        assert any(a.startswith(path) for a in addresses), path
    # the demo says it is one, with its published logins; a real hall's banner has neither
    assert "This is the DEMO" in out.getvalue() and "Demo logins" in out.getvalue()
    real = io.StringIO()
    with contextlib.redirect_stdout(real):
        print_banner(live.settings, demo=False)
    assert "DEMO" not in real.getvalue() and "Demo logins" not in real.getvalue()


async def test_a_path_that_is_no_page_answers_a_404_page_to_a_browser(live, http):
    for path in ("/statistics", "/reports/2026", "/kiosk/setup"):
        resp = await http.get(path, headers=HTML)
        assert (resp.status, resp.content_type) == (404, "text/html"), path
        text = await resp.text()
        assert "页面不存在" in text and 'href="/"' in text and "返回首页" in text
    # a client that asks for JSON, and any API path, keep the JSON 404 with its code
    resp = await http.get("/statistics", headers={"Accept": "application/json"})
    assert resp.status == 404
    assert (await resp.json())["error"]["code"] == "not_found"
    for path in ("/api/statistics", "/api/halls/rizhao/nothing"):
        resp = await http.get(path, headers=HTML)
        assert resp.status == 404 and resp.content_type == "application/json", path
        assert (await resp.json())["error"]["code"] == "not_found"
