"""The type of the connection every query function takes.

`pool.acquire()` hands out a PoolConnectionProxy, which forwards everything to its Connection
but is not one to a type checker; `asyncpg.connect()` (timers, migrations, seeding) hands out
the Connection itself. Query and domain functions accept either.
"""

from __future__ import annotations

from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

Conn: TypeAlias = asyncpg.Connection | PoolConnectionProxy
