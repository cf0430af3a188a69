"""Committed events -> this process's live clients, in sequence order, each serialised once.

The fanout consumes the bus. Per hall it remembers the last sequence number it delivered; an
event further ahead means the bus lost something, and the gap is read from the log before the
event is delivered. A periodic look at the halls' counters catches a lost *last* event.

Clients attach with the last sequence number they saw; they are registered first (buffering),
then read their backlog from the log, then go live, dropping what the backlog already covered."""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict, deque
from typing import Any, Awaitable, Callable

import asyncpg
import orjson

from db.queries import events as q
from server.domain.events import EventRecord

log = logging.getLogger(__name__)

SnapshotFn = Callable[[int], Awaitable[dict[str, Any]]]


class Subscriber:
    """One live client. Subclasses say how a frame is written and how the client is dropped."""

    max_queue = 2000                 # frames waiting for this client, at most
    max_bytes = 4 * 1024 * 1024      # and bytes

    def __init__(self, hall_id: int):
        self.hall_id = hall_id
        self.last_seq = 0
        self._buffer: list[tuple[EventRecord, bytes]] | None = []
        self._out: deque[bytes] = deque()
        self._out_bytes = 0
        self.on_drop: Callable[["Subscriber"], None] | None = None
        self._wake = asyncio.Event()
        self._writer: asyncio.Task | None = None
        self.closed = False
        self.dropped_reason: str | None = None

    # -- called by the fanout, in sequence order, never blocking --------------------------
    def push(self, rec: EventRecord, frame: bytes) -> None:
        if self._buffer is not None:
            self._buffer.append((rec, frame))
        else:
            self._offer(rec, frame)

    def _offer(self, rec: EventRecord, frame: bytes) -> None:
        if rec.seq <= self.last_seq:
            return  # already covered by the backlog or a snapshot
        if rec.seq != self.last_seq + 1:
            self.drop("gap")  # cannot happen while the fanout fills gaps; resync if it does
            return
        self.last_seq = rec.seq
        self.send(self.event_frame(frame))

    def go_live(self, from_seq: int) -> None:
        self.last_seq = from_seq
        buffered, self._buffer = self._buffer or [], None
        for rec, frame in buffered:
            self._offer(rec, frame)

    # -- outgoing queue with one writer ---------------------------------------------------
    def send(self, data: bytes) -> None:
        if self.closed:
            return
        if len(self._out) >= self.max_queue or self._out_bytes + len(data) > self.max_bytes:
            self.drop("slow_consumer")
            return
        self._out.append(data)
        self._out_bytes += len(data)
        self._wake.set()
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_loop(), name="subscriber-writer")

    async def _write_loop(self) -> None:
        try:
            while not self.closed:
                if not self._out:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                data = self._out.popleft()
                self._out_bytes -= len(data)
                await self.write(data)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the peer went away mid-write
            log.debug("subscriber write failed: %s", exc)
            self.drop("write_failed")

    def drop(self, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self.dropped_reason = reason
        self._out.clear()
        self._out_bytes = 0
        self._wake.set()
        if self._writer is not None and self._writer is not asyncio.current_task():
            self._writer.cancel()  # it may be stuck writing to the client that stopped reading
        if self.on_drop is not None:
            self.on_drop(self)
        asyncio.get_running_loop().create_task(self.abort(reason))

    def close(self) -> None:
        self.closed = True
        self._wake.set()
        if self._writer is not None and self._writer is not asyncio.current_task():
            self._writer.cancel()

    # -- transport-specific ---------------------------------------------------------------
    def event_frame(self, frame: bytes) -> bytes:
        return frame

    def snapshot_frame(self, frame: bytes) -> bytes:
        return frame

    async def write(self, data: bytes) -> None:
        raise NotImplementedError

    async def abort(self, reason: str) -> None:
        raise NotImplementedError


def parse_since(raw: Any) -> int | None:
    """A client's last seen sequence number, or None when absent or malformed."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if raw >= 0 else None
    if isinstance(raw, str) and raw.isdigit() and len(raw) < 19:
        return int(raw)
    return None


class Fanout:
    def __init__(self, pool: asyncpg.Pool, snapshot: SnapshotFn, *, resume_limit: int = 2000,
                 poll_seconds: float = 1.0):
        self.pool = pool
        self.snapshot = snapshot
        self.resume_limit = resume_limit
        self.poll_seconds = poll_seconds
        self._last: dict[int, int] = {}
        self._subs: dict[int, set[Subscriber]] = defaultdict(set)
        self._inbox: asyncio.Queue = asyncio.Queue()
        self._tasks: list[asyncio.Task] = []
        self.delivered = 0
        self.gaps_filled = 0

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        async with self.pool.acquire() as conn:
            self._last = await q.all_last_seq(conn)
        self._tasks = [asyncio.create_task(self._consume(), name="fanout-consume"),
                       asyncio.create_task(self._poll(), name="fanout-poll")]

    async def close(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            try:
                await t
            except (asyncio.CancelledError, Exception):
                pass
        for subs in self._subs.values():
            for s in list(subs):
                s.close()

    # -- input from the bus ---------------------------------------------------------------
    def offer(self, records: list[EventRecord]) -> None:
        self._inbox.put_nowait(records)

    def resync_all(self) -> None:
        """After the bus reconnects: whatever it missed is in the log."""
        self._inbox.put_nowait("sync")

    async def _consume(self) -> None:
        while True:
            item = await self._inbox.get()
            try:
                if item == "sync":
                    await self._sync_from_log()
                else:
                    for rec in sorted(item, key=lambda r: (r.hall_id, r.seq)):
                        await self._accept(rec)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("fanout failed on a batch; the next poll repairs it")

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            self._inbox.put_nowait("sync")

    async def _sync_from_log(self) -> None:
        async with self.pool.acquire() as conn:
            heads = await q.all_last_seq(conn)
            for hall_id, head in heads.items():
                last = self._last.get(hall_id, 0)
                if head > last:
                    missed = await q.events_after(conn, hall_id, last, head)
                    self.gaps_filled += len(missed)
                    for rec in missed:
                        self._deliver(rec)

    async def _accept(self, rec: EventRecord) -> None:
        last = self._last.get(rec.hall_id, 0)
        if rec.seq <= last:
            return  # duplicate: already delivered (e.g. filled from the log earlier)
        if rec.seq > last + 1:
            async with self.pool.acquire() as conn:
                missed = await q.events_after(conn, rec.hall_id, last, rec.seq - 1)
            self.gaps_filled += len(missed)
            for m in missed:
                self._deliver(m)
            if self._last.get(rec.hall_id, 0) != rec.seq - 1:
                log.error("hall %s: log lacks events before %s", rec.hall_id, rec.seq)
        self._deliver(rec)

    def _deliver(self, rec: EventRecord) -> None:
        self._last[rec.hall_id] = rec.seq
        subs = self._subs.get(rec.hall_id)
        if not subs:
            return
        frame = rec.encode()  # once, for every client of every transport
        for sub in list(subs):
            sub.push(rec, frame)
        self.delivered += len(subs)

    # -- clients --------------------------------------------------------------------------
    async def attach(self, sub: Subscriber, since: int | None) -> str:
        """Registers the client and sends what it missed (or a snapshot), then goes live.

        Returns "resumed", "snapshot" or "closed"."""
        self._subs[sub.hall_id].add(sub)  # first: from now on nothing live is missed
        sub.on_drop = self.detach
        try:
            async with self.pool.acquire() as conn:
                head = await q.last_seq(conn, sub.hall_id)
                backlog = None
                if since is not None and since <= head and head - since <= self.resume_limit:
                    backlog = await q.events_after(conn, sub.hall_id, since, head)
            if sub.closed:  # the client left while we read
                self.detach(sub)
                return "closed"
            if backlog is not None:
                for rec in backlog:
                    sub.send(sub.event_frame(rec.encode()))
                sub.go_live(since if not backlog else backlog[-1].seq)
                self._send_live_marker(sub)
                return "resumed"
            snap = await self.snapshot(sub.hall_id)
            frame = orjson.dumps({"type": "snapshot", "seq": snap["seq"], "data": snap})
            sub.send(sub.snapshot_frame(frame))
            sub.go_live(snap["seq"])
            self._send_live_marker(sub)
            return "snapshot"
        except BaseException:
            self.detach(sub)
            raise

    def _send_live_marker(self, sub: Subscriber) -> None:
        sub.send(sub.snapshot_frame(orjson.dumps({"type": "live", "seq": sub.last_seq})))

    def detach(self, sub: Subscriber) -> None:
        subs = self._subs.get(sub.hall_id)
        if subs is not None:
            subs.discard(sub)
        sub.close()

    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._subs.values())

    def status(self) -> dict:
        return {"subscribers": self.subscriber_count(), "delivered": self.delivered,
                "gaps_filled": self.gaps_filled, "inbox": self._inbox.qsize()}
