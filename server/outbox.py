"""The SMS outbox: notifications written in the command's transaction, sent after commit by the
process that owns the hall's timers, retried with backoff.

Each row has a unique dedupe key (one SMS per ticket per moment), and the key travels to the
gateway as an Idempotency-Key, so a retry after a crash mid-send is not a second SMS for the
citizen. Senders are pluggable: the log (default) or an HTTP webhook of a real SMS gateway."""

from __future__ import annotations

import logging
from typing import Protocol

import aiohttp
import asyncpg

from db.queries import timers as q

log = logging.getLogger("hallops.sms")

MAX_ATTEMPTS = 8
LEASE_SECONDS = 60


class SmsSender(Protocol):
    async def send(self, recipient: str, body: str, key: str) -> None: ...


class LogSender:
    """Writes each SMS to the log: the default without a gateway."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    async def send(self, recipient: str, body: str, key: str) -> None:
        log.info("SMS to %s: %s (%s)", recipient, body, key)
        self.sent.append((recipient, body, key))


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

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def backoff_seconds(attempts: int) -> float:
    return min(600.0, 2.0**attempts)


async def send_due(
    conn: asyncpg.Connection, hall_id: int, sender: SmsSender, batch: int = 50
) -> int:
    """Sends what is due for one hall; returns how many were sent."""
    sent = 0
    for row in await conn.fetch(q.CLAIM_NOTIFICATIONS, hall_id, batch, LEASE_SECONDS):
        try:
            await sender.send(row["recipient"], row["body"], row["dedupe_key"])
        except Exception as exc:
            await conn.execute(
                q.MARK_RETRY,
                row["id"],
                backoff_seconds(row["attempts"]),
                str(exc)[:500],
                MAX_ATTEMPTS,
            )
            continue
        await conn.execute(q.MARK_SENT, row["id"])
        sent += 1
    return sent


def create_sender(webhook_url: str | None) -> SmsSender:
    return WebhookSender(webhook_url) if webhook_url else LogSender()
