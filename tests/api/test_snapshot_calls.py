"""The snapshot's calls are the calls being made now: a ticket served, started, cancelled or
moved is no longer "正在呼叫". The recent-call history is a separate list, and the number of
recent calls kept is said once, by the snapshot."""

from __future__ import annotations

from server.domain.snapshot import CALLS_KEPT
from tests.api_client import Api
from tests.queue_helpers import clerk_at_window, command, item_of_window, kiosk_token, register

H = "/api/halls/rizhao"


async def test_snapshot_calls_are_only_the_current_ones(live, http, db):
    kiosk = await kiosk_token(http)
    clerks = {n: await clerk_at_window(db, n) for n in (1, 2, 3, 4)}
    for n in (1, 2, 3, 4):
        for _ in range(2):
            await register(http, kiosk, await item_of_window(db, n))

    async def call(n: int) -> str:
        return (await command(http, clerks[n], n, "call-next"))["ticket"]["ticket_no"]

    served = await call(1)
    await command(http, clerks[1], 1, "start")
    await command(http, clerks[1], 1, "finish")
    waiting_at_1 = await call(1)  # still called
    serving = await call(2)
    await command(http, clerks[2], 2, "start")  # the citizen came: no longer called
    cancelled = await call(4)
    await command(http, clerks[4], 4, "cancel", {"reason": "群众撤回"})
    recalled = await call(3)
    await command(http, clerks[3], 3, "recall")  # the newest call

    api = Api(http)
    await api.login("admin")
    snap = await api.ok("admin", "GET", H + "/snapshot")

    assert [(c["ticket_no"], c["window_no"], c["recalled"]) for c in snap["calls"]] == [
        (recalled, 3, True),
        (waiting_at_1, 1, False),
    ]
    assert snap["calls"][0]["window_name"] and snap["calls"][0]["queue"]
    assert [(c["ticket_no"], c["window_no"]) for c in snap["recent_calls"]] == [
        (recalled, 3),
        (cancelled, 4),
        (serving, 2),
        (waiting_at_1, 1),
        (served, 1),
    ]
    assert snap["calls_kept"] == CALLS_KEPT
    board = {w["window_no"]: w["ticket"] for w in snap["windows"]}
    assert board[2] == {"ticket_no": serving, "status": "serving"}
    assert board[4] is None


async def test_recent_calls_are_kept_as_many_as_the_snapshot_says(live, http, db):
    kiosks = [await kiosk_token(http, "kiosk-01"), await kiosk_token(http, "kiosk-02")]
    clerk = await clerk_at_window(db, 1)
    item = await item_of_window(db, 1)
    for i in range(CALLS_KEPT + 2):  # a kiosk's burst is 10
        await register(http, kiosks[i % 2], item)
    for _ in range(CALLS_KEPT + 2):
        await command(http, clerk, 1, "call-next")
        await command(http, clerk, 1, "recall")
        await command(http, clerk, 1, "start")
        await command(http, clerk, 1, "finish")
    api = Api(http)
    await api.login("admin")
    snap = await api.ok("admin", "GET", H + "/snapshot")
    assert snap["calls"] == []
    assert len(snap["recent_calls"]) == snap["calls_kept"] == CALLS_KEPT
    assert len({c["ticket_no"] for c in snap["recent_calls"]}) == CALLS_KEPT
