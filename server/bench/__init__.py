"""Load generation and measurement for hallops: `python run.py bench` and `python run.py simulate`.

wire.py      minimal WebSocket and HTTP/1.1 clients on asyncio protocols (a load generator
             built on aiohttp's client saturates long before the server does)
control.py   worker processes driven over a pipe (each reports its own CPU)
displays.py  display subscribers: plain feed, Socket.IO (Engine.IO v4 over WebSocket), raw
windows.py   window terminals issuing commands (as fast as they can, or at a fixed rate)
ceiling.py   the raw PostgreSQL ceiling for one small durable write (asyncpg, pool of 8)
rawcast.py   a minimal aiohttp WebSocket broadcast server: the fan-out ceiling
stage.py     throwaway database, the server subprocess, halls, sessions, queue pre-fill
runner.py    the phases and the report (table or JSON)
caseload.py  bulk-loads open cases (valid rows, histories and clocks) for `bench cases`
cases.py     `bench cases`: case commands and timeline reads with many open cases
"""
