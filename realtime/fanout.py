"""Committed events -> this process's live clients, in sequence order, each serialised once.

The fanout consumes the bus. Per hall it remembers the last sequence number it delivered; an
event further ahead means the bus lost something, and the gap is read from the log before the
event is delivered. A periodic look at the halls' counters catches a lost *last* event.

Clients attach with the last sequence number they saw; they are registered first (buffering),
then read their backlog from the log, then go live, dropping what the backlog already covered.

Internal events (session.ended) are never sent to a client: an unfiltered client gets a
position-only frame {"seq": N, "type": "skip"} in their place, so its sequence stays gapless.
A session.ended closes this process's live clients of that session (every process sees it)."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import orjson

from db.queries import events as q
from realtime import protocol as p
from server import metrics, wire
from server.background import stop_tasks
from server.domain.actor import Actor
from server.domain.events import EventRecord
from server.domain.store import Reachability

log = logging.getLogger(__name__)

SnapshotFn = Callable[[int], Awaitable[dict[str, Any]]]
INTERNAL_EVENTS: frozenset[str] = p.INTERNAL_EVENTS
# What writing to a client raises when it is gone or its queue is full: it is dropped.
_WRITE_ERRORS = (OSError, RuntimeError, asyncio.QueueFull)


class Subscriber:
    """One live client. Subclasses say how a frame is written and how the client is dropped."""

    max_queue = 2000  # frames waiting for this client, at most
    max_bytes = 4 * 1024 * 1024  # and bytes
    transport_kind = "other"  # the live transport, as /metrics names it (feed, socketio)

    def __init__(self, hall_id: int, flusher: Flusher | None = None):
        self.hall_id = hall_id
        self.last_seq = 0
        self._buffer: list[tuple[EventRecord, bytes]] | None = []
        self._out: deque[bytes] = deque()
        self._out_bytes = 0
        self.on_drop: Callable[[Subscriber], None] | None = None
        # who the client authenticated as (its session ends it: Fanout.end_session)
        self.actor: Actor | None = None
        self.flusher = flusher  # the fanout's (set at attach)
        self._writer: asyncio.Task | None = None
        self._closing: asyncio.Task | None = None  # abort(reason), kept until it ends
        self._dirty = False  # waiting in the flusher
        self.ring: HallRing | None = None  # the hall's live events, shared (see HallRing)
        self.sent_seq = 0  # the last live event written to this client
        self._ring_live = False  # live events come from the ring (after go_live)
        self.closed = False
        self.dropped_reason: str | None = None
        # A room filter (realtime/rooms.py): only matching events are sent; the position
        # (last_seq) still moves with every event of the hall.
        self.accepts: Callable[[EventRecord], bool] | None = None
        self.internal: frozenset[str] = INTERNAL_EVENTS  # never sent (the fanout's, at attach)
        self.counted: Any = None  # its gauge of /metrics' live clients, while counted there

    def _schedule(self, catching_up: bool = False) -> None:
        if not self._dirty and self._writer is None and not self.closed:
            self._dirty = True
            assert self.flusher is not None, "attach the subscriber (Fanout.attach) first"
            self.flusher.add(self, catching_up=catching_up)

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
        ring = self.ring
        if self._ring_live and ring is not None:
            # the frame is in the hall's ring already: only the position moves
            if self.sent_seq < ring.base - 1:
                self.drop("slow_consumer")  # so far behind that the ring forgot its frames
            else:
                self._schedule()
            return
        if self.accepts is None:
            self.send(self.event_frame(frame))  # an internal event's frame is its skip frame
        elif rec.type not in self.internal and self.accepts(rec):
            self.send(self.event_frame(frame))

    def go_live(self, from_seq: int) -> None:
        self.last_seq = from_seq
        buffered, self._buffer = self._buffer or [], None
        for rec, frame in buffered:
            self._offer(rec, frame)
        if self.ring is not None:
            # what came before (backlog, snapshot, buffered events, the live marker next) goes
            # through the private queue; every later event is read from the ring
            self.sent_seq = self.last_seq
            self._ring_live = True

    # -- outgoing --------------------------------------------------------------------------
    # What precedes going live (backlog, snapshot, buffered events, the live marker) waits in
    # the subscriber's own queue, bounded by max_queue/max_bytes. Live events are read from the
    # hall's ring at the subscriber's own pace (sent_seq), for transports that have one
    # (ring_frame); it is dropped as too slow when it falls out of the ring.
    # Subscribers are written by their fanout's flusher (see Flusher): everything due since
    # the last write goes out in ONE write (write_now of pack(frames)), once per event-loop
    # turn at most. Under light load that is one event per write; when events come faster than
    # the loop gets round to the clients, the writes carry several each, so the cost per
    # delivery falls as the load rises and the fan-out keeps up instead of queueing. A client
    # whose socket buffer is full gets nothing more until it drained, then all that is due.

    def send(self, data: bytes) -> None:
        if self.closed:
            return
        if len(self._out) >= self.max_queue or self._out_bytes + len(data) > self.max_bytes:
            self.drop("slow_consumer")
            return
        self._out.append(data)
        self._out_bytes += len(data)
        self._schedule()

    max_write = 256 * 1024  # ring bytes per write, at most

    def _pending(self) -> bool:
        return bool(self._out) or (self._ring_live and self.sent_seq < self.last_seq)

    def _write_batch(self) -> bool:
        """One write: the private queue, then the ring from sent_seq on. False when the
        client's socket buffer is full (or the client fell out of the ring: dropped)."""
        ring = self.ring
        if not self._out and ring is not None and self._ring_live and self.sent_seq < self.last_seq:
            # The usual case, live and nothing private: what is due is the same for every
            # client at this position, and the ring packs it once for all of them.
            packed = ring.packed(self.sent_seq, self.last_seq, self.max_write, self.pack)
            if packed is None:
                self.drop("slow_consumer")  # so far behind that the ring forgot its frames
                return False
            data, n = packed
            self.sent_seq += n
            return self.write_now(data)
        parts = list(self._out)
        self._out.clear()
        self._out_bytes = 0
        if self._ring_live and ring is not None and self.sent_seq < self.last_seq:
            frames = ring.span(self.sent_seq, self.last_seq, self.max_write)
            if frames is None:
                self.drop("slow_consumer")  # so far behind that the ring forgot its frames
                return False
            self.sent_seq += len(frames)
            parts += frames
        return self.write_now(self.pack(parts)) if parts else True

    def _flush(self) -> bool:
        """Called by the flusher: one write of everything queued, unless the client is full.
        True when something was written."""
        self._dirty = False
        if self.closed or self._writer is not None:
            return False
        if not self._out and not (self._ring_live and self.sent_seq < self.last_seq):
            return False  # nothing due (it was written meanwhile)
        try:
            writable = self._write_batch()
        except _WRITE_ERRORS as exc:  # the peer went away
            log.debug("subscriber write failed: %s", exc)
            self.drop("write_failed")
            return True
        if self.closed:
            return True
        if not writable:
            self._writer = asyncio.create_task(self._drain_loop(), name="subscriber-drain")
        elif self._pending():  # more than one write's worth: go on next turn
            self._schedule(catching_up=True)
        return True

    async def _drain_loop(self) -> None:
        """The client's socket buffer is full: wait until it drained, then go on writing."""
        try:
            while not self.closed:
                await self.wait_writable()
                if self.closed or not self._pending():
                    break
                if not self._write_batch():
                    continue
                break
        except _WRITE_ERRORS as exc:
            log.debug("subscriber write failed: %s", exc)
            self.drop("write_failed")
        finally:
            if self._writer is asyncio.current_task():
                self._writer = None
        if self._pending():
            self._schedule(catching_up=True)

    def pack(self, parts: list) -> Any:
        """What one write carries: the frames queued and read from the ring, in order."""
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def write_now(self, data: Any) -> bool:
        """Write without waiting; False when the client's buffer is full (written all the same)."""
        raise NotImplementedError

    # An event as stored in the hall's ring for this transport (None: no ring, every frame
    # in the subscriber's own queue).
    ring_frame: Callable[[bytes], Any] | None = None

    async def wait_writable(self) -> None:
        raise NotImplementedError

    def drop(self, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self.dropped_reason = reason
        self._out.clear()
        self._out_bytes = 0
        if self._writer is not None and self._writer is not asyncio.current_task():
            self._writer.cancel()  # it may be stuck writing to the client that stopped reading
        if self.on_drop is not None:
            self.on_drop(self)
        self._closing = asyncio.get_running_loop().create_task(
            self.abort(reason), name=f"subscriber-{reason}"
        )

    def close(self) -> None:
        self.closed = True
        if self._writer is not None and self._writer is not asyncio.current_task():
            self._writer.cancel()

    # -- transport-specific ---------------------------------------------------------------
    def event_frame(self, frame: bytes) -> bytes:
        return frame

    def snapshot_frame(self, frame: bytes) -> bytes:
        return frame

    async def abort(self, reason: str) -> None:
        raise NotImplementedError


class HallRing:
    """A hall's recent events, framed for one transport, shared by all its subscribers: each
    keeps only its position (sent_seq), so a display that falls behind costs no memory of its
    own; it catches up from here when it can, and is dropped (to resume from the log) only when
    it is further behind than the ring remembers."""

    max_events = 20_000
    max_bytes = 8 * 1024 * 1024

    max_packed = 64  # writes kept for the clients at the same position (see packed)

    def __init__(self, framer: Callable[[bytes], Any]):
        self.framer = framer
        self.frames: list = []  # framed events (bytes, or str for Socket.IO)
        self.base = 0  # seq of frames[0]
        self.bytes = 0
        self._packed: dict[tuple[int, int, int, Any], tuple[Any, int]] = {}

    def append(self, seq: int, frame: bytes) -> None:
        self._packed.clear()
        framed = self.framer(frame)
        if not self.frames or seq != self.base + len(self.frames):
            if self.frames:
                log.debug("ring restarts at %s (expected %s)", seq, self.base + len(self.frames))
            self.frames, self.base, self.bytes = [], seq, 0
        self.frames.append(framed)
        self.bytes += len(framed)
        if len(self.frames) > self.max_events or self.bytes > self.max_bytes:
            # forget the oldest quarter at once (amortised); the subscribers still needing
            # them are dropped at their next event
            keep_n = len(self.frames) * 3 // 4
            cut = len(self.frames) - keep_n
            self.bytes -= sum(map(len, self.frames[:cut]))
            del self.frames[:cut]
            self.base += cut

    def packed(
        self, after: int, upto: int, limit: int, pack: Callable[[list], Any]
    ) -> tuple[Any, int] | None:
        """One write of span(after, upto, limit) as `pack` makes it, and how many events it
        holds; made once for all the clients at the same position until the ring moves on.
        `pack` must give the same write for the same frames (it is one transport's)."""
        key = (after, upto, limit, getattr(pack, "__func__", pack))
        hit = self._packed.get(key)
        if hit is None:
            frames = self.span(after, upto, limit)
            if frames is None:
                return None
            if len(self._packed) >= self.max_packed:
                self._packed.clear()
            hit = self._packed[key] = (pack(frames), len(frames))
        return hit

    def span(self, after: int, upto: int, limit: int) -> list[bytes] | None:
        """The frames of seqs after+1 .. upto (at least one, about `limit` bytes at most);
        None if the ring no longer has after+1."""
        i = after + 1 - self.base
        if i < 0 or not self.frames:
            return None
        j = min(upto + 1 - self.base, len(self.frames))
        chunk = self.frames[i:j]
        if not chunk:
            return None  # out of step with the ring (cannot happen): resync the client
        if len(chunk) > 1 and (j - i) * len(chunk[0]) > limit // 2:
            total = 0
            for k, f in enumerate(chunk):
                total += len(f)
                if total > limit and k:
                    return chunk[:k]
        return chunk


class Flusher:
    """Writes the subscribers that have something due: once per event-loop turn, when the loop
    comes back to them, each in ONE write of everything due by then. Nothing waits for a
    clock: an event goes out on the next turn, and events that come while the loop is busy
    (writing to other clients, answering commands) join the writes still to be made. A write to
    a socket costs about the same whatever it carries, so under load the writes carry more and
    the cost per delivery falls.

    At most `writes_per_turn` writes per turn: the rest go on the next turn, after the loop
    has read its sockets. So a flush to a thousand displays does not hold up the commands
    whose events come next for its whole length (their database work overlaps it), and what
    they publish meanwhile goes out in the writes not yet made.

    `min_interval` (seconds, default 0: off) additionally spaces the writes of new events
    (an event after a quiet spell still goes at once); clients catching up are written every
    turn whatever it says. `loop` needs only time(), call_soon() and call_later() (a test can
    drive it turn by turn)."""

    def __init__(
        self,
        loop: Any = None,
        *,
        min_interval: float = 0.0,
        writes_per_turn: int = 128,
    ):
        self._loop = loop  # None: the running loop, at first use
        self.min_interval = min_interval
        self.writes_per_turn = max(1, writes_per_turn)
        self._due: deque[Subscriber] = deque()  # new events: spaced by min_interval
        self._soon: deque[Subscriber] = deque()  # the next turn, whatever min_interval says
        self._handle: Any = None  # the scheduled run
        self._timed = False  # _handle is call_later's
        self._last = float("-inf")
        self.turns = 0  # runs that wrote something (for tests and status)
        self.writes = 0

    @property
    def loop(self) -> Any:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    def add(self, sub: Subscriber, *, catching_up: bool = False) -> None:
        (self._soon if catching_up else self._due).append(sub)
        self._schedule()

    def _schedule(self) -> None:
        if self._handle is not None and not self._timed:
            return  # a turn is coming anyway
        wait = 0.0
        if not self._soon:
            if not self._due:
                return
            wait = self._last + self.min_interval - self.loop.time()
        if wait <= 0:
            if self._handle is not None:
                self._handle.cancel()
            self._handle, self._timed = self.loop.call_soon(self.run), False
        elif self._handle is None:
            self._handle, self._timed = self.loop.call_later(wait, self.run), True

    def run(self) -> None:
        self._handle = None
        now = self.loop.time()
        if self._due and now >= self._last + self.min_interval:
            self._last = now
            self._soon.extend(self._due)
            self._due.clear()
        # Clients added during this run (catching up) are written on the next turn, after
        # those still waiting from this one.
        batch, self._soon = self._soon, deque()
        budget = self.writes_per_turn
        wrote = 0
        while batch and wrote < budget:
            if batch.popleft()._flush():
                wrote += 1
        batch.extend(self._soon)
        self._soon = batch
        if wrote:
            self.turns += 1
            self.writes += wrote
        self._schedule()

    def pending(self) -> int:
        return len(self._due) + len(self._soon)


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
    def __init__(
        self,
        pool: asyncpg.Pool,
        snapshot: SnapshotFn,
        *,
        resume_limit: int = 2000,
        poll_seconds: float = 1.0,
        flush_ms: float = 0.0,
        writes_per_turn: int = 128,
        internal_events: frozenset[str] | None = None,
    ):
        self.pool = pool
        # this fanout's own: two apps in one process (tests) do not share it
        self.flusher = Flusher(min_interval=flush_ms / 1000, writes_per_turn=writes_per_turn)
        self.internal_events = INTERNAL_EVENTS if internal_events is None else internal_events
        self.snapshot = snapshot
        self.resume_limit = resume_limit
        self.poll_seconds = poll_seconds
        self._last: dict[int, int] = {}
        self._subs: dict[int, set[Subscriber]] = defaultdict(set)
        self._rings: dict[int, list[HallRing]] = defaultdict(list)  # per hall, per framer
        self._inbox: asyncio.Queue = asyncio.Queue()
        self._tasks: list[asyncio.Task] = []
        # live clients by the session they authenticated under, and by staff / device
        self._by_key: dict[tuple[str, Any], set[Subscriber]] = defaultdict(set)
        # sessions ended lately: a client that authenticated just before its session ended
        # and attaches just after is closed at once (see attach)
        self._ended: dict[str, None] = {}
        self.delivered = 0
        self.gaps_filled = 0
        self.sessions_closed = 0
        self._hall_codes: dict[int, str] = {}  # the label of /metrics' live clients

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        async with self.pool.acquire() as conn:
            self._last = await q.all_last_seq(conn)
        self._tasks = [
            asyncio.create_task(self._consume(), name="fanout-consume"),
            asyncio.create_task(self._poll(), name="fanout-poll"),
        ]

    async def close(self) -> None:
        await stop_tasks(*self._tasks)
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
                    Reachability.answered()  # it read the log: the database is there
                else:
                    for rec in sorted(item, key=lambda r: (r.hall_id, r.seq)):
                        await self._accept(rec)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # the database away is a change of state, logged once and counted; the poll
                # repairs what was missed when it is back
                if not Reachability.failed(exc):
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
                    metrics.LIVE_GAPS_FILLED.inc(len(missed))
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
            metrics.LIVE_GAPS_FILLED.inc(len(missed))
            for m in missed:
                self._deliver(m)
            if self._last.get(rec.hall_id, 0) != rec.seq - 1:
                log.error("hall %s: log lacks events before %s", rec.hall_id, rec.seq)
        self._deliver(rec)

    def _deliver(self, rec: EventRecord) -> None:
        self._last[rec.hall_id] = rec.seq
        if rec.type == p.SESSION_ENDED:
            self.end_session(rec.payload)
        subs = self._subs.get(rec.hall_id)
        if not subs:
            return
        frame = self._frame(rec)  # once, for every client of every transport
        for ring in self._rings.get(rec.hall_id, ()):
            ring.append(rec.seq, frame)  # before the subscribers move: they read from it
        for sub in list(subs):
            sub.push(rec, frame)
        self.delivered += len(subs)
        metrics.LIVE_DELIVERIES.inc(len(subs))

    # -- clients --------------------------------------------------------------------------
    async def attach(self, sub: Subscriber, since: int | None) -> str:
        """Registers the client and sends what it missed (or a snapshot), then goes live.

        Returns "resumed", "snapshot" or "closed"."""
        framer = type(sub).ring_frame
        if framer is not None and sub.accepts is None:
            sub.ring = self._ring(sub.hall_id, framer)
        sub.flusher = self.flusher
        sub.internal = self.internal_events
        self._subs[sub.hall_id].add(sub)  # first: from now on nothing live is missed
        sub.on_drop = self.detach
        code = self._hall_codes.get(sub.hall_id)
        if code is not None:
            self._count(sub, code)
        keys = _actor_keys(sub.actor)
        for key in keys:
            self._by_key[key].add(sub)
        if sub.actor is not None and sub.actor.session in self._ended:
            sub.drop("session_ended")  # ended while it authenticated
            return "closed"
        try:
            async with self.pool.acquire() as conn:
                if code is None:  # a hall this process has not served yet
                    code = await q.hall_code(conn, sub.hall_id) or str(sub.hall_id)
                    self._hall_codes[sub.hall_id] = code
                    if not sub.closed:
                        self._count(sub, code)
                head = await q.last_seq(conn, sub.hall_id)
                backlog = None
                resume_from = 0
                # The backlog must fit the client's private queue with the live marker after
                # it, or the client would be dropped at once and come back with the same since.
                limit = min(self.resume_limit, sub.max_queue - 2)
                if since is not None and since <= head and head - since <= limit:
                    resume_from = since
                    backlog = await q.events_after(conn, sub.hall_id, since, head)
                    if since < head and (not backlog or backlog[0].seq != since + 1):
                        # archived (older than the retention): a snapshot, never a silent gap
                        backlog = None
                if backlog is not None:
                    frames = [
                        sub.event_frame(self._frame(rec))
                        for rec in backlog
                        if sub.accepts is None
                        or (rec.type not in self.internal_events and sub.accepts(rec))
                    ]
                    if sum(map(len, frames)) > sub.max_bytes // 2:
                        backlog = None  # big events: a snapshot is smaller
            if sub.closed:  # the client left while we read
                self.detach(sub)
                return "closed"
            if backlog is not None:
                for frame in frames:
                    sub.send(frame)
                sub.go_live(backlog[-1].seq if backlog else resume_from)
                self._send_live_marker(sub)
                return "resumed"
            snap = await self.snapshot(sub.hall_id)
            frame = wire.dumps({"type": "snapshot", "seq": snap["seq"], "data": snap})
            sub.send(sub.snapshot_frame(frame))
            sub.go_live(snap["seq"])
            self._send_live_marker(sub)
            return "snapshot"
        except BaseException:
            self.detach(sub)
            raise

    def _ring(self, hall_id: int, framer: Callable[[bytes], Any]) -> HallRing:
        for ring in self._rings[hall_id]:
            if ring.framer == framer:
                return ring
        ring = HallRing(framer)
        self._rings[hall_id].append(ring)
        return ring

    def _send_live_marker(self, sub: Subscriber) -> None:
        sub.send(sub.snapshot_frame(orjson.dumps({"type": "live", "seq": sub.last_seq})))

    def _count(self, sub: Subscriber, code: str) -> None:
        """Counts the client in /metrics' live clients until it is detached."""
        role = sub.actor.role if sub.actor is not None else "citizen"  # /track's, anonymous
        sub.counted = metrics.LIVE_CLIENTS.labels(code, sub.transport_kind, role)
        sub.counted.inc()

    def detach(self, sub: Subscriber) -> None:
        if sub.counted is not None:  # detach runs more than once for some clients
            sub.counted.dec()
            sub.counted = None
        subs = self._subs.get(sub.hall_id)
        if subs is not None:
            subs.discard(sub)
        for key in _actor_keys(sub.actor):
            keyed = self._by_key.get(key)
            if keyed is not None:
                keyed.discard(sub)
                if not keyed:
                    del self._by_key[key]
        sub.close()

    def _frame(self, rec: EventRecord) -> bytes:
        return rec.encode()  # an internal event's is its skip frame (EventRecord.to_wire)

    # -- sessions -------------------------------------------------------------------------
    max_ended = 10_000  # ended sessions remembered (see attach)

    def end_session(self, payload: dict[str, Any]) -> int:
        """A session.ended event: closes this process's live clients of that session (or,
        when it names no session, every client of that staff member or device). Returns how
        many were closed."""
        session = payload.get("session")
        if session:
            keys = [("session", session)]
            self._ended[session] = None
            while len(self._ended) > self.max_ended:
                del self._ended[next(iter(self._ended))]
        else:
            keys = [(k, payload.get(f"{k}_id")) for k in ("staff", "device")]
            keys = [(k, v) for k, v in keys if v is not None]
        closing = {s for key in keys for s in self._by_key.get(key, ())}
        for sub in closing:
            sub.drop("session_ended")
        self.sessions_closed += len(closing)
        if closing:
            log.info("session ended (%s): closed %d live connection(s)", payload, len(closing))
        return len(closing)

    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._subs.values())

    def status(self) -> dict:
        return {
            "subscribers": self.subscriber_count(),
            "delivered": self.delivered,
            "gaps_filled": self.gaps_filled,
            "inbox": self._inbox.qsize(),
            "sessions_closed": self.sessions_closed,
        }


def _actor_keys(actor: Actor | None) -> list[tuple[str, Any]]:
    if actor is None:
        return []
    keys: list[tuple[str, Any]] = []
    if actor.session:
        keys.append(("session", actor.session))
    if actor.kind in ("staff", "device") and actor.id is not None:
        keys.append((actor.kind, actor.id))
    return keys
