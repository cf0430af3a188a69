"""Worker processes of the load generator, driven over a pipe.

A worker is a fresh interpreter (multiprocessing "spawn": nothing of the parent's event loop or
sockets is inherited) running uvloop. The parent sends {"op": name, **args}; the worker runs
`await handler.op_<name>(**args)` and answers {"ok": result} or {"error": text}. Every answer
carries the worker's CPU seconds so far, so each phase can say how busy the generator was."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import os
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psutil

_CTX = mp.get_context("spawn")
_PIPES: ThreadPoolExecutor | None = None  # the parent's pipe readers and writers


def _pipes() -> ThreadPoolExecutor:
    global _PIPES
    if _PIPES is None:
        _PIPES = ThreadPoolExecutor(max_workers=64, thread_name_prefix="bench-pipe")
    return _PIPES


def cpu_seconds(proc: psutil.Process | None = None) -> float:
    t = (proc or psutil.Process()).cpu_times()
    return t.user + t.system


def _worker_main(conn, factory: Callable[[], Any]) -> None:
    try:
        import uvloop

        uvloop.run(_serve(conn, factory))
    except ImportError:  # pragma: no cover
        asyncio.run(_serve(conn, factory))


async def _serve(conn, factory) -> None:
    handler = factory()
    loop = asyncio.get_running_loop()
    me = psutil.Process()
    # The pipe is read in a thread, never registered with the loop: a loop reader would make
    # the fd non-blocking and a large reply (latency arrays) would then fail with EAGAIN.
    while True:
        try:
            msg = await loop.run_in_executor(None, conn.recv)
        except EOFError:  # the parent went away
            return
        op = msg.pop("op")
        try:
            result = await getattr(handler, f"op_{op}")(**msg)
            reply = {"ok": result}
        except Exception as exc:  # noqa: BLE001 (reported to the parent, which raises it there)
            reply = {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
        reply["cpu"] = cpu_seconds(me)
        conn.send(reply)
        if op == "exit":
            return


class WorkerError(RuntimeError):
    pass


class Worker:
    """The parent's handle on one worker process."""

    def __init__(self, factory: Callable[[], Any], name: str):
        self.name = name
        self.conn, child = _CTX.Pipe()
        self.proc = _CTX.Process(target=_worker_main, args=(child, factory), name=name, daemon=True)
        self.proc.start()
        child.close()
        self._lock = asyncio.Lock()
        self.cpu = 0.0

    def _recv(self) -> Any:
        return self.conn.recv()

    @property
    def pid(self) -> int:
        pid = self.proc.pid
        assert pid is not None, "the worker was started in __init__"
        return pid

    async def call(self, op: str, _timeout: float = 600.0, **args: Any) -> Any:
        async with self._lock:
            loop = asyncio.get_running_loop()
            if not self.proc.is_alive():
                raise WorkerError(f"{self.name} is not running (exit code {self.proc.exitcode})")
            await loop.run_in_executor(_pipes(), self.conn.send, {"op": op, **args})
            try:
                reply = await asyncio.wait_for(loop.run_in_executor(_pipes(), self._recv), _timeout)
            except (EOFError, OSError) as exc:
                raise WorkerError(f"{self.name}.{op}: the worker died ({exc!r})") from None
        self.cpu = reply.get("cpu", self.cpu)
        if "error" in reply:
            raise WorkerError(f"{self.name}.{op}: {reply['error']}\n{reply.get('trace', '')}")
        return reply["ok"]

    async def stop(self) -> None:
        if self.proc.is_alive():
            # it may be gone already; it is killed below if not
            with contextlib.suppress(RuntimeError, TimeoutError, OSError, EOFError):
                await self.call("exit", _timeout=10)
        self.proc.join(timeout=5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(timeout=5)


class BaseHandler:
    async def op_exit(self) -> None:
        return None

    async def op_ping(self) -> float:
        return time.monotonic()

    async def op_pid(self) -> int:
        return os.getpid()
