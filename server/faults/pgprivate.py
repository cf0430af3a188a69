"""A PostgreSQL of the fault harness's own: initdb into a temporary directory, on a free port,
so that it can really be stopped, crashed (`pg_ctl -m immediate`) and frozen (SIGSTOP of every
one of its processes) — never the machine's shared server.

The binaries are the machine's (HALLOPS_PG_BINDIR, Debian's /usr/lib/postgresql/*/bin, newest
first, then the PATH). PostgreSQL refuses to run as root: as root, it runs as the `postgres`
user (runuser), which owns the directory."""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import tempfile
from pathlib import Path

import psutil


class Unavailable(RuntimeError):
    """No private PostgreSQL can be run here (no binaries, or root without a postgres user)."""


def find_bindir(bindir: str | None = None) -> Path:
    candidates = [Path(bindir)] if bindir else []
    if not bindir:
        candidates += [
            Path(d) for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
        ]
        on_path = shutil.which("pg_ctl")
        if on_path:
            candidates.append(Path(on_path).parent)
    for d in candidates:
        if all(os.access(d / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return d
    where = bindir or "/usr/lib/postgresql/*/bin, PATH"
    raise Unavailable(f"no PostgreSQL server binaries (initdb, pg_ctl, postgres) in {where}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivatePostgres:
    """start() / stop(mode) / restart(mode) / freeze() / thaw() / cleanup()."""

    @staticmethod
    def check(bindir: str | None = None) -> tuple[Path, str | None]:
        """(the binaries' directory, the user to run them as); Unavailable when there is
        none."""
        found = find_bindir(bindir or os.environ.get("HALLOPS_PG_BINDIR"))
        if os.geteuid() != 0:
            return found, None
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise Unavailable(
                "running as root and there is no `postgres` user to run PostgreSQL as"
            ) from None
        if not shutil.which("runuser"):
            raise Unavailable("running as root and there is no runuser to run PostgreSQL with")
        return found, "postgres"

    def __init__(self, bindir: str | None = None):
        self.bindir, self.user = self.check(bindir)
        self.dir = Path(tempfile.mkdtemp(prefix="hallops-faults-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.port = _free_port()
        self.frozen: list[psutil.Process] = []

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def dsn_of(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    async def _run(self, tool: str, *args: str, check: bool = True) -> str:
        argv = [str(self.bindir / tool), *args]
        if self.user:
            argv = ["runuser", "-u", self.user, "--", *argv]
        # Output into a file, not a pipe: the postmaster that `pg_ctl start` leaves running
        # may inherit a pipe's end (under uvloop it did), and a pipe read to its end would
        # then wait for PostgreSQL to stop.
        out_path = self.dir / f"{tool}.out"
        with out_path.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                *argv, stdout=out, stderr=out, stdin=asyncio.subprocess.DEVNULL
            )
            code = await proc.wait()
        text = out_path.read_text(errors="replace")
        if check and code != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} failed ({code}):\n{text}")
        return text

    def _options(self) -> str:
        # fsync and synchronous_commit stay on (the defaults): an acknowledged commit must
        # survive the crash, which is what the test is about
        return (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
            "-c max_connections=60 -c shared_buffers=64MB"
        )

    async def init(self) -> PrivatePostgres:
        if self.user:
            shutil.chown(self.dir, self.user)
        await self._run(
            "initdb",
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        await self.start()
        return self

    async def start(self) -> None:
        await self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            self._options(),
            "-l",
            str(self.log),
            "-w",
            "start",
        )

    async def stop(self, mode: str = "fast") -> None:
        await self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    async def restart(self, mode: str = "immediate") -> None:
        """`pg_ctl -m immediate restart`: every backend killed mid-transaction, then crash
        recovery from the WAL, as after a power cut."""
        await self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-m",
            mode,
            "-o",
            self._options(),
            "-l",
            str(self.log),
            "-w",
            "restart",
        )

    def postmaster(self) -> psutil.Process:
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        return psutil.Process(pid)

    def freeze(self) -> int:
        """SIGSTOP to the postmaster and every one of its processes: connections stay open,
        new ones are queued by the kernel, nothing answers. Returns how many were stopped."""
        main = self.postmaster()
        self.frozen = [main, *main.children(recursive=True)]
        for p in self.frozen:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.send_signal(signal.SIGSTOP)
        return len(self.frozen)

    def thaw(self) -> None:
        for p in self.frozen:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.send_signal(signal.SIGCONT)
        self.frozen = []

    def log_tail(self, n: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    async def cleanup(self) -> None:
        self.thaw()
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError):
                await self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
