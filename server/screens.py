"""The screens, declared once: the page routes (server/app.py), the start page's tiles
(frontend/index.html, filled in here) and the banner `run.py serve` prints all come from
SCREENS, so none of them lists a screen that does not exist or leaves one out.

A screen is a page under frontend/ served at its route. Most are one per directory
(frontend/<name>/index.html at /<name>); the lobby display has two tiles (its 1920×1080 layout
and the LED one) on one page; the rating pages have a route each, the SMS link's page reached
only with its token (so it has no tile). A path that is no page answers a 404 page in Chinese
(not_found_page) when a browser asks for HTML; the API keeps its JSON 404."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

FRONTEND: Final = Path(__file__).resolve().parent.parent / "frontend"
TILES_MARK: Final = "<!-- screens -->"

Audience = Literal["citizen", "device", "staff"]
AUDIENCES: Final[dict[Audience, str]] = {
    "citizen": "办事群众",
    "device": "大厅设备",
    "staff": "工作人员",
}


@dataclass(frozen=True)
class Screen:
    route: str  # aiohttp route pattern
    file: str  # the page, relative to frontend/
    audience: Audience
    title: str  # the tile's heading
    summary: str  # the tile's line
    banner: str  # what `run.py serve` prints beside its address
    link: str | None = None  # where the tile and the banner point (default: the route)
    shown: str | None = None  # the address written on the tile (default: the link)
    tile: bool = True  # False: a page reached only by a link made for someone (an SMS)

    @property
    def href(self) -> str:
        return self.link or self.route

    @property
    def directory(self) -> str:
        return self.file.split("/", 1)[0]


SCREENS: Final[tuple[Screen, ...]] = (
    Screen(
        "/queue",
        "queue/index.html",
        "citizen",
        "实时排队情况",
        "各业务等候人数和预计等候时间",
        "public queue status",
    ),
    Screen(
        "/track",
        "track/index.html",
        "citizen",
        "办件进度查询",
        "凭查询码或告知单条码查询进度、评议",
        "case tracking (citizens)",
    ),
    Screen(
        "/notice",
        "notice/index.html",
        "citizen",
        "统一受理告知单",
        "凭查询码查看、打印告知单（80 mm 或 A4）",
        "acceptance notice (by query code)",
        shown="/notice?code=…",
    ),
    Screen(
        r"/rate/{token:[A-Za-z0-9]{8,40}}",
        "rate/index.html",
        "citizen",
        "短信评价",
        "群众凭短信链接评价办结的事项",
        "rating by the SMS link",
        tile=False,
    ),
    Screen(
        "/kiosk",
        "kiosk/index.html",
        "device",
        "自助受理机",
        "选择事项、取号、打印统一受理告知单",
        "self-service kiosk",
        shown="/kiosk?device=kiosk-01",
    ),
    Screen(
        "/display",
        "display/index.html",
        "device",
        "大厅叫号屏",
        "1920×1080 叫号信息、窗口状态、语音呼叫",
        "lobby display",
        shown="/display?device=display-01",
    ),
    Screen(
        "/display",
        "display/index.html",
        "device",
        "LED 条屏",
        "小尺寸点阵屏的大字叫号",
        "lobby display, LED layout",
        link="/display?layout=led",
    ),
    Screen(
        r"/rate/window/{window_no:\d+}",
        "rate/window.html",
        "device",
        "窗口评价器",
        "办结后群众在窗口的平板上评价（好差评）",
        "a window's rating device",
        link="/rate/window/1",
        shown="/rate/window/N",
    ),
    Screen(
        "/window",
        "window/index.html",
        "staff",
        "窗口终端",
        "签到、叫号、重呼、过号、转办、挂起，受理办件",
        "window terminal",
    ),
    Screen(
        "/admin",
        "admin/index.html",
        "staff",
        "大厅管理",
        "滚动公告、窗口开放与签退、各业务排队",
        "hall admin",
    ),
    Screen(
        "/leader",
        "leader/index.html",
        "staff",
        "带班签批",
        "窗口签批请求，实时处理；本部门监察告警的答复与申诉",
        "leader on duty",
    ),
    Screen(
        "/supervision",
        "supervision/index.html",
        "staff",
        "电子监察",
        "预警、黄牌、红牌，超时与缺岗，督办与月度评分",
        "supervision office",
    ),
    Screen(
        "/ballots",
        "ballots/index.html",
        "staff",
        "评议箱计票",
        "扫描告知单条码，逐张录入评议",
        "ballot box count",
    ),
    Screen(
        "/reports",
        "reports/index.html",
        "staff",
        "统计报表",
        "满意率、即办率、按时办结率、等候时长，月报与导出",
        "reports",
    ),
    Screen(
        "/project",
        "project/index.html",
        "staff",
        "工程建设项目",
        "一表通项目的四个阶段、材料与时限",
        "a construction project (by number)",
        shown="/project?no=…",
    ),
    Screen(
        "/login",
        "login/index.html",
        "staff",
        "工作人员登录",
        "登录后按身份进入对应页面",
        "staff login",
    ),
)


def built() -> tuple[Screen, ...]:
    """The screens whose page exists: only these are routed, shown and printed."""
    return tuple(s for s in SCREENS if (FRONTEND / s.file).is_file())


def routes() -> dict[str, Path]:
    """Route pattern -> page, for the router (a route with two tiles is routed once)."""
    return {s.route: FRONTEND / s.file for s in built()}


def _tile(s: Screen) -> str:
    cls = {"citizen": " citizen", "device": " device", "staff": ""}[s.audience]
    shown = s.shown or s.href
    return (
        f'    <a class="card tile{cls}" href="{html.escape(s.href)}"><b>{html.escape(s.title)}'
        f"</b><span>{html.escape(s.summary)}</span><code>{html.escape(shown)}</code></a>"
    )


def start_page() -> str:
    """frontend/index.html with its tiles: every built screen's, by audience."""
    template = (FRONTEND / "index.html").read_text(encoding="utf-8")
    sections = []
    for audience, heading in AUDIENCES.items():
        tiles = [_tile(s) for s in built() if s.tile and s.audience == audience]
        if tiles:
            sections.append(
                f'  <h2>{heading}</h2>\n  <div class="grid">\n' + "\n".join(tiles) + "\n  </div>"
            )
    return template.replace(TILES_MARK, "\n".join(sections))


def not_found_page() -> str:
    """The page a browser gets for a path that is no page (server/api/errors.py)."""
    return (FRONTEND / "404.html").read_text(encoding="utf-8")


def banner_lines(base: str) -> list[str]:
    """What `run.py serve` prints: every built screen's address, then the service endpoints."""
    seen: list[tuple[str, str]] = [("/", "start page")]
    seen += [(s.shown or s.href, s.banner) for s in built() if s.tile]
    seen += [
        ("/healthz", "health"),
        ("/api/openapi.json", "HTTP API (OpenAPI 3)"),
        ("/ws/display", "LED feed (WebSocket)"),
    ]
    return [f"  {base}{path:<28} {what}" for path, what in seen]
