"""The event bus between server processes.

Every process publishes the events it committed and consumes everyone's (its own included):
one broadcast path. In-process when there is no Redis; Redis pub/sub otherwise. Pub/sub may
drop messages, so consumers treat the bus as a hint and the PostgreSQL log as the truth."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

import orjson

from server import metrics
from server.background import stop_tasks, within
from server.domain.events import EventRecord

log = logging.getLogger(__name__)

Handler = Callable[[list[EventRecord]], None]
CHANNEL = "hallops:events"


class Bus(Protocol):
    kind: str

    def subscribe(self, handler: Handler, on_reconnect: Callable[[], None]) -> None: ...
    async def publish(self, records: list[EventRecord]) -> None: ...
    async def start(self) -> None: ...
    async def close(self) -> None: ...
    def status(self) -> dict: ...
    async def probe(self) -> dict: ...


class LocalBus:
    kind = "local"

    def __init__(self) -> None:
        self._handlers: list[Handler] = []

    def subscribe(self, handler: Handler, on_reconnect: Callable[[], None]) -> None:
        self._handlers.append(handler)

    async def publish(self, records: list[EventRecord]) -> None:
        for handler in self._handlers:
            handler(records)

    async def start(self) -> None:
        metrics.dependency(metrics.BUS, True)

    async def close(self) -> None:
        pass

    def status(self) -> dict:
        return {"kind": self.kind, "ok": True}

    async def probe(self) -> dict:
        return self.status()


def encode_batch(records: list[EventRecord]) -> bytes:
    return orjson.dumps([r.to_bus() for r in records])


def decode_batch(raw: bytes) -> list[EventRecord]:
    return [EventRecord.from_bus(w) for w in orjson.loads(raw)]


# Batches waiting for Redis while it is slow or away: beyond this the oldest are dropped (the
# log is the truth: every consumer fills a gap from it), so a frozen Redis costs memory once.
OUTBOX_LIMIT = 10_000
PUBLISH_TIMEOUT = 1.0  # one publish's bound: a frozen Redis must not hold the sender for long
PROBE_TIMEOUT = 1.0  # /healthz asks Redis itself, within this


class RedisBus:
    kind = "redis"

    def __init__(self, url: str, channel: str = CHANNEL):
        import redis.asyncio as redis  # only the multi-process mode needs it

        self._redis_mod = redis
        self.url = url
        self.channel = channel
        self._client = redis.Redis.from_url(url)
        self._handlers: list[Handler] = []
        self._reconnect_hooks: list[Callable[[], None]] = []
        self._task: asyncio.Task | None = None
        self._connected = asyncio.Event()
        self.ok = False
        # Publishing never delays a command's answer: batches go to an outbox that one task
        # sends in order.
        self._outbox: collections.deque[bytes] = collections.deque(maxlen=OUTBOX_LIMIT)
        self._pending = asyncio.Event()
        self._sender: asyncio.Task | None = None
        self.publishing = True  # the last publish went through
        self.dropped = 0

    def subscribe(self, handler: Handler, on_reconnect: Callable[[], None]) -> None:
        self._handlers.append(handler)
        self._reconnect_hooks.append(on_reconnect)

    async def publish(self, records: list[EventRecord]) -> None:
        if len(self._outbox) == self._outbox.maxlen:
            self.dropped += 1  # the oldest goes; its consumers read it from the log
            metrics.OUTBOX_DROPPED.inc()
        self._outbox.append(encode_batch(records))
        metrics.OUTBOX_BACKLOG.set(len(self._outbox))
        self._pending.set()

    async def _send(self) -> None:
        """Sends the outbox in order; a failing Redis is retried with a backoff, its state
        changes logged once each."""
        backoff = 0.2
        while True:
            await self._pending.wait()
            while self._outbox:
                raw = self._outbox[0]
                try:
                    await asyncio.wait_for(self._client.publish(self.channel, raw), PUBLISH_TIMEOUT)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 (whatever it is, the log has the events)
                    if self.publishing:
                        log.warning("publishing to Redis failed (%s); retrying", exc)
                    self.publishing = False
                    metrics.dependency_error(metrics.BUS)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                if self._outbox and self._outbox[0] is raw:
                    self._outbox.popleft()
                    metrics.OUTBOX_BACKLOG.set(len(self._outbox))
                if not self.publishing:
                    log.warning("publishing to Redis works again")
                    self.publishing = True
                    metrics.dependency(metrics.BUS, self.ok)
                backoff = 0.2
            self._pending.clear()

    async def start(self) -> None:
        self._sender = asyncio.create_task(self._send(), name="redis-bus-send")
        self._task = asyncio.create_task(self._listen(), name="redis-bus-listen")
        # Start-up waits briefly for the subscription so the first events are not missed; a
        # Redis that is down does not stop the server (the log fills any gap later).
        try:
            await asyncio.wait_for(self._connected.wait(), 5)
        except TimeoutError:
            log.warning("Redis bus not connected yet at %s", self.url)

    async def _listen(self) -> None:
        backoff = 0.2
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.ok = True
                metrics.dependency(metrics.BUS, self.publishing)
                self._connected.set()
                backoff = 0.2
                # Whatever was published while we were not listening is in the log.
                for hook in self._reconnect_hooks:
                    hook()
                async for message in pubsub.listen():
                    if message["type"] != "message":
                        continue
                    try:
                        records = decode_batch(message["data"])
                    except Exception:
                        log.exception("undecodable bus message dropped")
                        continue
                    for handler in self._handlers:
                        handler(records)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 (whatever broke the link: reconnect)
                if self.ok:
                    log.warning("Redis bus lost (%s); retrying", exc)
                self.ok = False
                metrics.dependency_error(metrics.BUS)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                # closing a link that already broke may fail too; it is gone either way
                with contextlib.suppress(self._redis_mod.RedisError, OSError):
                    await pubsub.aclose()

    async def close(self) -> None:
        await stop_tasks(self._task, self._sender)
        await self._client.aclose()
        # what was still unsent waits no more (the other processes read it from the log): a
        # gauge left at its last value would count it for the process's life (a test's, or
        # an app's restarted in one process)
        self._outbox.clear()
        metrics.OUTBOX_BACKLOG.set(0)

    def status(self) -> dict:
        return {
            "kind": self.kind,
            "ok": self.ok and self.publishing,
            "outbox": len(self._outbox),
            "dropped": self.dropped,
        }

    async def probe(self) -> dict:
        """The status, with Redis asked now: a frozen Redis neither refuses nor breaks the
        subscription, so only an answer within PROBE_TIMEOUT shows it is there."""
        status = self.status()
        try:
            await within(self._client.ping(), PROBE_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 (any failure: not there)
            status.update(ok=False, error=type(exc).__name__)
            metrics.dependency_error(metrics.BUS)
        else:
            metrics.dependency(metrics.BUS, status["ok"])
        return status


def create_bus(redis_url: str | None, channel: str = CHANNEL) -> Bus:
    return RedisBus(redis_url, channel) if redis_url else LocalBus()
