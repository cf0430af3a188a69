"""Two real server processes sharing one PostgreSQL and one Redis (`run.py serve` each), for
the tests that need every process to see every event: the `cluster` fixture (conftest.py)."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
import time
from pathlib import Path

import pytest
from aiohttp import ClientSession, ClientTimeout

from tests.conftest import ROOT, free_port

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def server_env(db_dsn: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a `run.py serve` process of a test: this machine's, without its own
    hallops settings, with the test's database, a secret, a data directory and `extra`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HALLOPS_") and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(
        DATABASE_URL=db_dsn,
        HALLOPS_SECRET=secrets.token_urlsafe(24),
        HALLOPS_DEMO="1",  # the demo halls on the test's own database (production refuses them)
        HALLOPS_DATA_DIR=str(tmp_path),
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


class ServerProcess:
    """`run.py serve` in a process of its own (timers on, as deployed); its output goes to a
    log file."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path, args: tuple[str, ...] = ()):
        self.name = name
        self.args = args  # more `run.py serve` arguments (--workers N)
        self.port = free_port()
        self.env = env
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"server-{name}.log"
        self.proc: asyncio.subprocess.Process | None = None
        self.spawned_at = 0.0  # wall clock (time.time) just before the exec
        self.ready_at = 0.0  # wall clock when /healthz first said it was ready

    async def start(self) -> ServerProcess:
        with self.log_path.open("wb") as out:  # the child keeps its own descriptor
            self.spawned_at = time.time()
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "run.py",
                "serve",
                "--port",
                str(self.port),
                "--no-seed",
                *self.args,
                cwd=ROOT,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )
        return self

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def owns(self, hall: str) -> bool:
        """Whether this process took the hall's timers (its log says so)."""
        return f"now runs the timers of hall {hall}" in self.log()

    async def health(self, session: ClientSession) -> dict:
        async with session.get(self.url + "/healthz") as resp:
            return await resp.json()

    async def wait_ready(self, timeout: float = START_TIMEOUT, bus: str | None = "redis") -> dict:
        """Until /healthz says the database is fine and the bus (of kind `bus`, any when None)
        is up; `ready_at` records when it first did."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        body: dict | str = "no answer"
        async with ClientSession(timeout=ClientTimeout(total=2)) as session:
            while loop.time() < deadline:
                assert self.proc is not None
                if self.proc.returncode is not None:
                    pytest.fail(
                        f"server {self.name} exited with {self.proc.returncode}:\n"
                        f"{self.log()[-4000:]}"
                    )
                try:
                    body = await self.health(session)
                    if body.get("ok") and body["bus"]["ok"] and bus in (None, body["bus"]["kind"]):
                        self.ready_at = time.time()
                        return body
                except (OSError, ValueError) as exc:  # not listening yet (or not JSON)
                    body = repr(exc)
                await asyncio.sleep(0.1)
        pytest.fail(f"server {self.name} not ready in {timeout}s ({body}):\n{self.log()[-4000:]}")

    async def kill(self) -> None:
        """kill -9: nothing of it runs on."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> None:
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), STOP_TIMEOUT)
        except TimeoutError:
            proc.kill()
            await asyncio.wait_for(proc.wait(), STOP_TIMEOUT)


async def set_notice(http: ClientSession, token: str, text: str) -> None:
    async with http.put(
        "/api/halls/rizhao/notice",
        json={"text": text},
        headers={"Authorization": f"Bearer {token}"},
    ) as resp:
        assert resp.status == 200, await resp.text()
