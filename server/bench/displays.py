"""Display subscribers, many per worker process.

Kinds:
    feed  the plain WebSocket feed /ws/display (LED controllers, most lobby screens)
    sio   Socket.IO namespace /hall, event "hall", spoken as Engine.IO v4 over a WebSocket
    raw   the raw broadcast server of the baseline (frames from seq 1, no handshake)

Each subscriber checks sequence continuity: after its snapshot or live marker every event must
carry the previous seq + 1; a jump counts the skipped events as lost, a repeat as duplicated.
The final check compares each subscriber's last seq with the hall's head, so a lost *last*
event counts too. While recording (the latency phase) the worker keeps (seq, arrival time) per
hall; arrival minus the command's send time is the latency to that display.

A subscriber cut off (by the server, or by `op_cut`, the fault harness's network cut) comes
back with the last seq it saw, and keeps trying (0.2 s, doubling to 2 s) for RECONNECT_PATIENCE
seconds, as an LED controller does. With `keep` in its target it also keeps every event frame
it received, for a check of each payload against the log (server/faults)."""

from __future__ import annotations

import asyncio
import time
from array import array
from typing import Any
from urllib.parse import urlencode

import orjson

from server.bench.control import BaseHandler
from server.bench.wire import OP_TEXT, WsClient, ws_connect

SIO_NS = "/hall"
_SIO_EVENT_PREFIX = b'42/hall,["hall",'
_SEQ = b'{"seq":'
RECONNECT_PATIENCE = 60.0  # seconds a cut-off subscriber keeps trying to come back


class Sub:
    __slots__ = (
        "close_code",
        "closed",
        "closing",
        "dup",
        "error",
        "first",
        "frames",
        "hall_code",
        "hall_id",
        "host",
        "kind",
        "last",
        "live",
        "lost",
        "mismatch",
        "port",
        "ready",
        "reconnecting",
        "reconnects",
        "since",
        "token",
        "w",
        "ws",
    )

    def __init__(self, w: DisplayWorker, target: dict):
        self.w = w
        self.kind = target["kind"]
        self.hall_id = target.get("hall_id", 0)
        self.hall_code = target.get("hall_code")
        self.token = target.get("token")
        self.since = target.get("since")
        self.last: int | None = self.since if self.kind != "raw" else 0
        self.lost = 0
        self.dup = 0
        self.mismatch = 0
        self.ws: WsClient | None = None
        self.ready: asyncio.Future = asyncio.get_running_loop().create_future()
        self.live = self.kind == "raw"
        self.close_code: int | None = None
        self.closed = False
        self.closing = False
        self.error: str | None = None
        self.host, self.port = "", 0
        self.reconnects = 0
        self.reconnecting = False
        # with `keep`: every event frame as received (bytes, or the parsed frame when it came
        # with others in one Socket.IO packet), and the seq the stream started after
        self.frames: list[tuple[int, bytes | dict]] | None = [] if target.get("keep") else None
        self.first: int | None = None

    # -- frames ------------------------------------------------------------------------------
    def event(self, seq: int, now: float, frame: bytes | dict = b"") -> None:
        if self.frames is not None:
            self.frames.append((seq, frame))
        last = self.last
        if last is None:
            self.mismatch += 1  # an event before any snapshot: protocol error
            self.last = seq
        elif seq == last + 1:
            self.last = seq
        elif seq <= last:
            self.dup += 1
        else:
            self.lost += seq - last - 1
            self.last = seq
        w = self.w
        w.received += 1
        if w.recording:
            rec = w.rec.get(self.hall_id)
            if rec is None:
                rec = w.rec[self.hall_id] = (array("q"), array("d"))
            rec[0].append(seq)
            rec[1].append(now)

    def control(self, frame: dict) -> None:
        t = frame.get("type")
        if t == "snapshot":
            if self.last is not None and frame["seq"] > self.last:
                self.lost += frame["seq"] - self.last  # never delivered as events
            self.last = frame["seq"]
            if self.first is None:
                self.first = frame["seq"]
        elif t == "live":
            if self.last is None:
                self.last = frame["seq"]
            elif self.last != frame["seq"]:
                self.mismatch += 1
                self.last = frame["seq"]
            if self.first is None:
                self.first = self.since if self.since is not None else frame["seq"]
            self.live = True
            if not self.ready.done():
                self.ready.set_result(True)
        elif t == "auth_required":
            hello = {"type": "auth", "token": self.token, "hall": self.hall_code}
            if self.since is not None:
                hello["since"] = self.since
            self._send(orjson.dumps(hello))
        elif t == "auth_invalid":
            self.fail(f"auth_invalid {frame.get('code')}")

    def on_feed(self, op: int, payload: bytes, now: float) -> None:
        if payload[:7] == _SEQ:
            self.event(int(payload[7 : payload.index(b",", 7)]), now, payload)
        elif op == OP_TEXT or payload[:1] == b"{":
            self.control(orjson.loads(payload))

    def on_raw(self, op: int, payload: bytes, now: float) -> None:
        if payload[:7] == _SEQ:
            self.event(int(payload[7 : payload.index(b",", 7)]), now)

    def on_sio(self, op: int, payload: bytes, now: float) -> None:
        if payload[:16] == _SIO_EVENT_PREFIX:
            # one event "hall" carries one or more frames: its arguments
            if payload[16:23] == _SEQ and payload.count(b'{"seq":') == 1:
                self.event(int(payload[23 : payload.index(b",", 23)]), now, payload[16:-1])
                return
            for frame in orjson.loads(b"[" + payload[16:]):
                if (
                    "seq" in frame
                    and "type" in frame
                    and frame.get("type") not in ("live", "snapshot")
                ):
                    self.event(frame["seq"], now, frame)
                else:
                    self.control(frame)
            return
        if payload == b"2":  # Engine.IO ping
            self._send(b"3")
        elif payload[:1] == b"0":  # Engine.IO open: connect to the namespace with auth
            auth = {"token": self.token, "hall": self.hall_code}
            if self.since is not None:
                auth["since"] = self.since
            self._send(b"40" + SIO_NS.encode() + b"," + orjson.dumps(auth))
        elif payload[:2] == b"44":
            self.fail("connect_error " + payload[2:200].decode(errors="replace"))
        elif payload[:2] == b"41":  # the server left the namespace (too slow): come back
            self.reconnects += 1
            self.w.reconnects += 1
            self.live = False
            auth = {"token": self.token, "hall": self.hall_code, "since": self.last}
            self._send(b"40" + SIO_NS.encode() + b"," + orjson.dumps(auth))

    def _send(self, data: bytes) -> None:
        assert self.ws is not None, "connected before the server speaks"
        self.ws.send_text(data)

    def fail(self, why: str) -> None:
        self.error = why
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(why))

    def on_close(self, code: int | None, why: str) -> None:
        self.close_code = code
        if not self.ready.done():
            # failed while connecting: connect() raises it (and a reconnect tries again)
            if not self.reconnecting:
                self.closed = True
            self.ready.set_exception(ConnectionError(f"closed {code} {why}"))
            return
        if self.closing or self.kind == "raw":
            self.closed = True
            return
        # Dropped by the server (too slow, resync) or cut: a display comes back with the last
        # seq it saw and gets the rest from the log, as the protocol says.
        self.reconnects += 1
        self.w.reconnects += 1
        self.since = self.last
        self.live = False
        self.reconnecting = True
        self.ready = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RECONNECT_PATIENCE
        delay = 0.2
        while True:
            await asyncio.sleep(delay)
            try:
                await self.connect(self.host, self.port, 30.0)
                self.reconnecting = False
                return
            except (OSError, TimeoutError, RuntimeError, ValueError) as exc:
                if self.closing or loop.time() > deadline:
                    self.reconnecting = False
                    self.closed = True
                    self.error = f"reconnect failed: {exc}"
                    return
                self.w.retries += 1
                delay = min(delay * 2, 2.0)
                stale, self.ws = self.ws, None  # its close is no news any more
                if stale is not None and stale.transport is not None:
                    stale.transport.abort()
                self.ready = loop.create_future()

    # -- connecting --------------------------------------------------------------------------
    def _bind(self, ws: WsClient) -> None:
        self.ws = ws

    async def connect(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port = host, port
        if self.kind == "feed":
            path, handler = "/ws/display", self.on_feed
        elif self.kind == "sio":
            path = "/socket.io/?" + urlencode({"EIO": "4", "transport": "websocket"})
            handler = self.on_sio
        else:
            path, handler = "/ws", self.on_raw
        made: list[WsClient] = []

        def bind(ws: WsClient) -> None:
            made.append(ws)
            self._bind(ws)

        def closed(code: int | None, why: str) -> None:
            if made and made[0] is self.ws:  # not a connection given up on before
                self.on_close(code, why)

        await ws_connect(host, port, path, handler, closed, timeout=timeout, on_create=bind)
        if self.kind == "raw":
            self.ready.set_result(True)
        await asyncio.wait_for(asyncio.shield(self.ready), timeout)


class DisplayWorker(BaseHandler):
    def __init__(self) -> None:
        self.subs: list[Sub] = []
        self.received = 0
        self.reconnects = 0
        self.retries = 0  # reconnect attempts that failed and were made again
        self.recording = False
        self.rec: dict[int, tuple[array, array]] = {}
        self._phase_t0 = 0.0

    async def op_connect(
        self,
        host: str,
        port: int,
        targets: list[dict],
        concurrency: int = 25,
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        t0 = time.monotonic()
        sem = asyncio.Semaphore(concurrency)
        new = [Sub(self, t) for t in targets]

        async def one(s: Sub) -> None:
            async with sem:
                try:
                    await s.connect(host, port, timeout)
                except (OSError, TimeoutError, RuntimeError, ValueError) as exc:
                    s.error = s.error or f"{type(exc).__name__}: {exc}"

        await asyncio.gather(*(one(s) for s in new))
        self.subs += new
        failed = [s.error for s in new if s.error]
        return {
            "connected": len(new) - len(failed),
            "failed": len(failed),
            "errors": sorted(set(failed))[:5],
            "seconds": time.monotonic() - t0,
        }

    async def op_disconnect(self, kind: str | None = None) -> int:
        keep, gone = [], 0
        for s in self.subs:
            if kind is None or s.kind == kind:
                s.closing = True
                if s.ws is not None:
                    s.ws.close()
                gone += 1
            else:
                keep.append(s)
        self.subs = keep
        await asyncio.sleep(0.1)
        return gone

    async def op_begin(self, record: bool = False) -> float:
        self.received = 0
        self.recording = record
        self.rec = {}
        self._phase_t0 = time.monotonic()
        return self._phase_t0

    async def op_end(self) -> dict[str, Any]:
        self.recording = False
        return {"received": self.received, "t": time.monotonic(), **self._health()}

    def _health(self) -> dict[str, Any]:
        return {
            "subs": len(self.subs),
            "closed": sum(1 for s in self.subs if s.closed),
            "close_codes": sorted(
                {s.close_code for s in self.subs if s.closed}, key=lambda c: -1 if c is None else c
            ),
            "reconnects": self.reconnects,
            "retries": self.retries,
            "live": sum(1 for s in self.subs if s.live and not s.closed),
            "lost": sum(s.lost for s in self.subs),
            "dup": sum(s.dup for s in self.subs),
            "mismatch": sum(s.mismatch for s in self.subs),
        }

    async def op_cut(self) -> int:
        """A network cut: every connection aborted at once (no close handshake); each
        subscriber comes back with the last seq it saw."""
        cut = 0
        for s in self.subs:
            if s.ws is not None and not s.closed and s.ws.transport is not None:
                s.ws.transport.abort()
                cut += 1
        return cut

    async def op_status(self, heads: dict[int, int] | None = None) -> dict[str, Any]:
        """The subscribers' health, and how many are live at (or past) their hall's head."""
        at_head = sum(
            1
            for s in self.subs
            if s.live and not s.closed and (s.last or 0) >= (heads or {}).get(s.hall_id, 0)
        )
        return {"at_head": at_head, **self._health()}

    async def op_wait_heads(self, heads: dict[int, int], timeout: float = 10.0) -> dict[str, Any]:
        """Waits until every open subscriber reached its hall's head; then counts what is
        missing at the tail as lost (the stream ended early) and anything beyond as duplicated."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if all(s.closed or (s.last or 0) >= heads.get(s.hall_id, 0) for s in self.subs):
                break
            await asyncio.sleep(0.05)
        behind = sum(max(0, heads.get(s.hall_id, 0) - (s.last or 0)) for s in self.subs)
        ahead = sum(
            max(0, (s.last or 0) - heads.get(s.hall_id, 0)) for s in self.subs if s.hall_id in heads
        )
        return {"behind": behind, "ahead": ahead, "waited": time.monotonic() - t0, **self._health()}

    async def op_latencies(
        self, sends: dict[int, dict[int, float]], keep: bool = False
    ) -> dict[str, Any]:
        """Latency of every recorded arrival whose command send time is known, and per event
        the latest arrival in this process (the parent takes the max over processes). `keep`:
        the recording stays for another call (with other start times)."""
        lat = array("d")
        last_arrival: dict[tuple[int, int], float] = {}
        count: dict[tuple[int, int], int] = {}
        for hall_id, (seqs, times) in self.rec.items():
            sent = sends.get(hall_id, {})
            for seq, t in zip(seqs, times):
                t0 = sent.get(seq)
                if t0 is None:
                    continue
                lat.append(t - t0)
                key = (hall_id, seq)
                if t > last_arrival.get(key, 0.0):
                    last_arrival[key] = t
                count[key] = count.get(key, 0) + 1
        if not keep:
            self.rec = {}
        return {"lat": lat.tobytes(), "last_arrival": last_arrival, "count": count}

    async def op_close(self) -> None:
        for s in self.subs:
            s.closing = True
            if s.ws is not None:
                s.ws.close()
        self.subs = []
        await asyncio.sleep(0.05)
