"""Fixtures of the live-stream tests: two server processes sharing Redis (`cluster`)."""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path

import pytest

from tests.conftest import redis_url
from tests.realtime.cluster import ServerProcess, server_env


@pytest.fixture
async def redis_channel() -> str:
    # A channel of this test's own: other test databases publish their own halls' seqs.
    return f"hallops:test:{os.getpid()}:{secrets.token_hex(4)}"


@pytest.fixture
async def cluster(db_dsn: str, redis_channel: str, tmp_path: Path):
    env = server_env(db_dsn, tmp_path, REDIS_URL=redis_url(), HALLOPS_REDIS_CHANNEL=redis_channel)
    servers = [ServerProcess("A", env, tmp_path), ServerProcess("B", env, tmp_path)]
    try:
        for s in servers:
            await s.start()
        await asyncio.gather(*(s.wait_ready() for s in servers))
        yield servers
    finally:
        await asyncio.gather(*(s.stop() for s in servers), return_exceptions=True)
