"""The raw ceiling of this machine's PostgreSQL for one small durable write, measured in the
same run as the server: asyncpg, uvloop, a pool of 8, the same number of concurrent clients as
window terminals, synchronous commit. One statement (one round trip, one transaction) inserts
an event row of the events' size and bumps a counter:

    shape "rows"     each client bumps its own counter row: no lock contention; the true
                     ceiling of a small write transaction (the target's denominator)
    shape "hall"     every client of a hall bumps the hall's one counter row, which is what the
                     server's gapless per-hall event sequence (hall_seq) has to do
"""

from __future__ import annotations

import asyncio
import time
from array import array
from typing import Any

import asyncpg

from server.bench.control import BaseHandler
from server.bench.windows import percentile

TABLES = """
create table if not exists bench_ceiling_counter (id int primary key, n bigint not null default 0);
create table if not exists bench_ceiling_event (
    k int not null, seq bigint not null, payload jsonb not null,
    at timestamptz not null default now(), primary key (k, seq));
"""
DROP = "drop table if exists bench_ceiling_event; drop table if exists bench_ceiling_counter;"
WRITE = """
with c as (update bench_ceiling_counter set n = n + 1 where id = $1 returning n)
insert into bench_ceiling_event (k, seq, payload) select $1, c.n, $2::jsonb from c
"""


async def prepare(conn: asyncpg.Connection, keys: int) -> None:
    await conn.execute(DROP)
    await conn.execute(TABLES)
    await conn.execute(
        "insert into bench_ceiling_counter (id) select g from generate_series(1, $1) g", keys
    )


async def drop(conn: asyncpg.Connection) -> None:
    await conn.execute(DROP)


class CeilingWorker(BaseHandler):
    pool: asyncpg.Pool | None = None

    async def op_open(self, dsn: str, pool_size: int = 8) -> None:
        self.pool = await asyncpg.create_pool(
            dsn,
            min_size=pool_size,
            max_size=pool_size,
            server_settings={"application_name": "hallops-bench-ceiling"},
        )

    async def op_close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
            self.pool = None

    async def op_run(
        self,
        clients: int,
        keys_of_client: list[int],
        seconds: float,
        payload: str,
        pool_size: int = 8,
    ) -> dict[str, Any]:
        pool = self.pool
        assert pool is not None, "op_open first"
        stop = False
        done = 0
        lat = array("d")

        async def client(key: int) -> None:
            nonlocal done
            while not stop:
                t0 = time.monotonic()
                await pool.execute(WRITE, key, payload)
                lat.append(time.monotonic() - t0)
                done += 1

        try:
            # warm-up: prepared statements on every connection
            await asyncio.gather(
                *(
                    pool.execute(WRITE, keys_of_client[i % len(keys_of_client)], payload)
                    for i in range(pool_size * 2)
                )
            )
            tasks = [
                asyncio.create_task(client(keys_of_client[i % len(keys_of_client)]))
                for i in range(clients)
            ]
            t0 = time.monotonic()
            start_done = done
            lat_start = len(lat)
            await asyncio.sleep(seconds)
            n, t1 = done - start_done, time.monotonic()
            stop = True
            await asyncio.wait(tasks, timeout=10)
        finally:
            stop = True
        window = sorted(lat[lat_start:])
        return {
            "tx": n,
            "seconds": t1 - t0,
            "tx_per_s": n / (t1 - t0),
            "p50_ms": percentile(window, 0.5) * 1000,
            "p99_ms": percentile(window, 0.99) * 1000,
        }
