"""The SMS outbox: notifications written in the command's transaction, sent after commit by the
process that owns the hall's timers, retried with backoff.

Each row has a unique dedupe key (one SMS per ticket per moment), and the key travels to the
gateway as an Idempotency-Key, so a retry after a crash mid-send is not a second SMS for the
citizen. Senders are pluggable: the log (default) or an HTTP webhook of a real SMS gateway.

Sending runs apart from the timer jobs (SmsDispatcher): at most `concurrency` sends in flight,
each in a task of its own that holds no database connection while it waits for the gateway,
so a slow or hanging gateway delays nothing else."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Protocol

import aiohttp
import asyncpg

from db.queries import timers as q
from server import metrics
from server.background import stop_tasks
from server.domain.store import Store

log = logging.getLogger("hallops.sms")

MAX_ATTEMPTS = 8
# A claimed row is not claimed again for this long: longer than a send may take
# (WebhookSender's timeout), so a send in flight is never duplicated by another claim.
LEASE_SECONDS = 60
SEND_CONCURRENCY = 8


class SmsSender(Protocol):
    async def send(self, recipient: str, body: str, key: str) -> None: ...
    async def close(self) -> None: ...


class LogSender:
    """Writes each SMS to the log: the default without a gateway."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    async def send(self, recipient: str, body: str, key: str) -> None:
        log.info("SMS to %s: %s (%s)", recipient, body, key)
        self.sent.append((recipient, body, key))

    async def close(self) -> None:
        pass


class WebhookSender:
    """POSTs {"to", "body", "key"} as JSON to the gateway; any non-2xx answer is a failure."""

    def __init__(self, url: str, timeout: float = 10.0):
        self.url = url
        self._session: aiohttp.ClientSession | None = None
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, recipient: str, body: str, key: str) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        async with self._session.post(
            self.url,
            json={"to": recipient, "body": body, "key": key},
            headers={"Idempotency-Key": key},
        ) as resp:
            if resp.status >= 300:
                raise RuntimeError(f"gateway answered {resp.status}")

    @property
    def closed(self) -> bool:
        return self._session is None or self._session.closed

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def backoff_seconds(attempts: int) -> float:
    return min(600.0, 2.0**attempts)


class SmsDispatcher:
    """Claims due notifications and sends each in a task of its own, `concurrency` at most in
    flight; it claims only as many rows as it has free slots, so a claimed row never waits
    behind a hanging send until its lease runs out."""

    def __init__(self, store: Store, sender: SmsSender, concurrency: int = SEND_CONCURRENCY):
        self.store = store
        self.sender = sender
        self.concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self._inflight: set[asyncio.Task] = set()
        self.sent = 0
        self.failed = 0

    @property
    def in_flight(self) -> int:
        return len(self._inflight)

    async def dispatch(self, hall_ids: Iterable[int]) -> int:
        """Starts sending what is due in these halls, as far as slots are free; returns how
        many sends it started (it does not wait for them)."""
        started = 0
        for hall_id in hall_ids:
            free = self.concurrency - len(self._inflight)
            if free <= 0:
                break
            async with self.store.read() as conn:
                rows = await conn.fetch(q.CLAIM_NOTIFICATIONS, hall_id, free, LEASE_SECONDS)
            for row in rows:
                task = asyncio.create_task(self._send(row), name=f"sms-{row['id']}")
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)
                started += 1
        return started

    async def _send(self, row: asyncpg.Record) -> None:
        async with self._slots:
            try:
                await self.sender.send(row["recipient"], row["body"], row["dedupe_key"])
            except asyncio.CancelledError:
                raise  # shutting down: the lease runs out and the row is sent again later
            # whatever the gateway or its client raised, the row is retried later
            except Exception as exc:  # noqa: BLE001
                self.failed += 1
                metrics.SMS.labels("failed").inc()
                async with self.store.read() as conn:
                    await conn.execute(
                        q.MARK_RETRY,
                        row["id"],
                        backoff_seconds(row["attempts"]),
                        str(exc)[:500],
                        MAX_ATTEMPTS,
                    )
                return
            self.sent += 1
            metrics.SMS.labels("sent").inc()
            async with self.store.read() as conn:
                await conn.execute(q.MARK_SENT, row["id"])

    async def idle(self) -> None:
        """Until every send started so far has ended (tests; an orderly stop)."""
        while self._inflight:
            await asyncio.wait(set(self._inflight))

    async def close(self) -> None:
        """Cancels the sends in flight (their rows are retried after their lease), then closes
        the sender's client."""
        await stop_tasks(*self._inflight)
        await self.sender.close()


def create_sender(webhook_url: str | None) -> SmsSender:
    return WebhookSender(webhook_url) if webhook_url else LogSender()
