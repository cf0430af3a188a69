"""The fan-out baseline: a minimal aiohttp server that broadcasts each message to every
connected WebSocket with send_frame (compress=False), nothing else. Run in its own process:

    python -m server.bench.rawcast --port 8099

    GET  /ws      a subscriber (frames: {"seq":N,...}, N from 1, one frame per message)
    POST /run     {"sample": "<an event frame>", "rate": 0 | messages per second}
                  broadcasts copies of the sample (its seq replaced) until /stop
    POST /stop    -> {"sent": messages, "seq": last seq, "sends": {seq: monotonic send time}}
    GET  /status  -> {"sockets": n, "seq": last seq}
"""

from __future__ import annotations

import argparse
import asyncio
import time

import orjson
from aiohttp import WSMsgType, web

SOCKETS = web.AppKey("sockets", set)
STATE = web.AppKey("state", dict)


async def handle_ws(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(compress=False)
    await ws.prepare(request)
    request.app[SOCKETS].add(ws)
    try:
        async for _ in ws:
            pass
    finally:
        request.app[SOCKETS].discard(ws)
    return ws


async def _broadcast(app: web.Application, rest: bytes, rate: float) -> None:
    state = app[STATE]
    socks = app[SOCKETS]
    loop = asyncio.get_running_loop()
    start = loop.time()
    n = 0
    sends = state["sends"]
    while not state["stop"]:
        state["seq"] += 1
        seq = state["seq"]
        frame = b'{"seq":%d,' % seq + rest
        sends[seq] = time.monotonic()
        for ws in list(socks):
            try:
                await ws.send_frame(frame, WSMsgType.TEXT)
            except (OSError, RuntimeError):  # the client went away
                socks.discard(ws)
        n += 1
        state["sent"] += 1
        if rate:
            delay = start + n / rate - loop.time()
            await asyncio.sleep(max(0, delay))
        else:
            await asyncio.sleep(0)  # let reads, pings and /stop in


async def handle_run(request: web.Request) -> web.Response:
    body = await request.json()
    sample = body["sample"].encode()
    rest = sample[sample.index(b",") + 1 :]
    state = request.app[STATE]
    state.update(stop=False, sent=0, sends={})
    state["task"] = asyncio.create_task(_broadcast(request.app, rest, float(body.get("rate", 0))))
    return web.json_response({"seq": state["seq"], "sockets": len(request.app[SOCKETS])})


async def handle_stop(request: web.Request) -> web.Response:
    state = request.app[STATE]
    state["stop"] = True
    if state.get("task"):
        await state["task"]
        state["task"] = None
    want_sends = request.query.get("sends") == "1"
    return web.Response(
        body=orjson.dumps(
            {
                "sent": state["sent"],
                "seq": state["seq"],
                "sends": state["sends"] if want_sends else {},
            },
            option=orjson.OPT_NON_STR_KEYS,
        ),
        content_type="application/json",
    )


async def handle_status(request: web.Request) -> web.Response:
    return web.json_response(
        {"sockets": len(request.app[SOCKETS]), "seq": request.app[STATE]["seq"]}
    )


def make_app() -> web.Application:
    app = web.Application()
    app[SOCKETS] = set()
    app[STATE] = {"seq": 0, "sent": 0, "stop": True, "task": None, "sends": {}}
    app.router.add_get("/ws", handle_ws)
    app.router.add_post("/run", handle_run)
    app.router.add_post("/stop", handle_stop)
    app.router.add_get("/status", handle_status)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    import uvloop

    uvloop.install()
    web.run_app(
        make_app(), host=args.host, port=args.port, access_log=None, print=None, backlog=4096
    )


if __name__ == "__main__":
    main()
