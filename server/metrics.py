"""What /metrics tells Prometheus: operations and their latency, live screens per hall, timer lag,
the bus's outbox, and the state of PostgreSQL and Redis with the count of their errors.

The metrics are prometheus_client's, module-level: every part of the server updates them where
the thing happens (the dispatcher, the fan-out, the timers, the bus, the store's reachability),
and nothing is computed at scrape time that another process could not see.

With `serve --workers N` the supervisor gives every worker one shared directory
(PROMETHEUS_MULTIPROC_DIR, set before prometheus_client is imported: it chooses its storage at
import). Each worker writes its values to its own memory-mapped files there, and whichever worker
answers /metrics reads them all: behind one port (SO_REUSEPORT) a scrape lands on any worker, so a
worker answering only for itself would make every counter jump between workers' values. Counters
and histograms are summed over the workers (a dead worker's counts stay: they happened); gauges
say how they combine (`livesum`: the live screens of all workers; `livemin`: a dependency is
down when any live worker finds it down); the supervisor removes a dead worker's gauges."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

from server.domain.store import Reachability

# No `_created` series beside every counter and histogram: twice the lines for a timestamp that
# Prometheus does not need (a restart shows as a counter reset).
disable_created_metrics()

# The variable prometheus_client reads (at import) to keep its values in files shared by workers.
MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"

# seconds: a command takes milliseconds and is cut off at 1.5 s (HALLOPS_COMMAND_TIMEOUT); a
# read may take a year's report (~6 s) up to HALLOPS_QUERY_TIMEOUT (20 s)
LATENCY_BUCKETS: Final = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    1.5,
    2.5,
    5.0,
    10.0,
    20.0,
)
# an alarm must be raised within 1 s of its instant; the jobs look every 0.5-5 s
TIMER_BUCKETS: Final = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

COMMANDS: Final = Counter(
    "hallops_commands",
    "Commands answered, per operation and outcome (ok: 2xx; refused: 4xx, the command said no; "
    "error: 5xx, the server could not: database away, a bug)",
    ["operation", "outcome"],
)
COMMAND_SECONDS: Final = Histogram(
    "hallops_command_duration_seconds",
    "Time from a command's request to its answer, per operation (the session lookup included)",
    ["operation"],
    buckets=LATENCY_BUCKETS,
)
QUERIES: Final = Counter(
    "hallops_queries",
    "Reads answered, per operation and outcome (ok, refused, error as for commands)",
    ["operation", "outcome"],
)
QUERY_SECONDS: Final = Histogram(
    "hallops_query_duration_seconds",
    "Time from a read's request to its answer, per operation",
    ["operation"],
    buckets=LATENCY_BUCKETS,
)
LIVE_CLIENTS: Final = Gauge(
    "hallops_live_clients",
    "Live connections following a hall's events, per hall, transport (feed: the plain "
    "WebSocket /ws/display; socketio: /hall) and role of who connected (display, clerk, ..., "
    "citizen for /track)",
    ["hall", "transport", "role"],
    multiprocess_mode="livesum",
)
LIVE_DELIVERIES: Final = Counter(
    "hallops_live_deliveries",
    "Events handed to live connections (one per event and connection)",
)
LIVE_GAPS_FILLED: Final = Counter(
    "hallops_live_gaps_filled",
    "Events the fan-out read from the log because the bus did not bring them (lost or late)",
)
TIMER_LAG: Final = Histogram(
    "hallops_timer_lag_seconds",
    "How late a timer job ran for a hall after the instant its look was due",
    ["job"],
    buckets=TIMER_BUCKETS,
)
TIMER_SECONDS: Final = Histogram(
    "hallops_timer_job_duration_seconds",
    "How long one run of a timer job for one hall took",
    ["job"],
    buckets=TIMER_BUCKETS,
)
TIMER_HALLS: Final = Gauge(
    "hallops_timer_halls_owned",
    "Halls whose timers this deployment runs (each hall has one owner: the sum is the halls)",
    multiprocess_mode="livesum",
)
OUTBOX_BACKLOG: Final = Gauge(
    "hallops_bus_outbox_batches",
    "Committed event batches waiting to be published to Redis (0 on the in-process bus)",
    multiprocess_mode="livesum",
)
OUTBOX_DROPPED: Final = Counter(
    "hallops_bus_outbox_dropped",
    "Batches dropped from a full outbox (consumers read them from the log instead)",
)
DEPENDENCY_UP: Final = Gauge(
    "hallops_dependency_up",
    "Whether a dependency answered when last used or asked (1) or not (0): database "
    "(PostgreSQL), bus (Redis; always 1 in-process)",
    ["dependency"],
    multiprocess_mode="livemin",
)
DEPENDENCY_ERRORS: Final = Counter(
    "hallops_dependency_errors",
    "Failures to reach a dependency (each is counted here; only the changes of state are logged)",
    ["dependency"],
)
SMS: Final = Counter("hallops_sms", "SMS handed to the gateway, per outcome", ["outcome"])
WORKERS: Final = Gauge(
    "hallops_workers",
    "Server processes answering (serve --workers N: N)",
    multiprocess_mode="livesum",
)

DATABASE: Final = "database"
BUS: Final = "bus"


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def exposition() -> tuple[bytes, str]:
    """The text format and its content type: this process's registry, or every worker's files."""
    path = multiprocess_dir()
    if path is None:
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    registry = CollectorRegistry()
    _multiprocess.MultiProcessCollector(registry, path)
    return generate_latest(registry), CONTENT_TYPE_LATEST


def dependency(name: str, up: bool) -> None:
    DEPENDENCY_UP.labels(name).set(1 if up else 0)


def dependency_error(name: str) -> None:
    DEPENDENCY_ERRORS.labels(name).inc()
    DEPENDENCY_UP.labels(name).set(0)


def _database(up: bool) -> None:
    if up:
        dependency(DATABASE, True)
    else:
        dependency_error(DATABASE)


Reachability.listeners.append(_database)


def worker_started() -> None:
    """A server process is up (its app started): it counts as a worker, and the database and the
    bus count as answering until one of them fails."""
    WORKERS.set(1)
    dependency(DATABASE, Reachability.ok)


def worker_dead(pid: int, path: str) -> None:
    """The supervisor's bookkeeping when a worker died: its live gauges go (its counts stay)."""
    _multiprocess.mark_process_dead(pid, path)


def clear_dir(path: str) -> None:
    """A fresh start of `serve --workers`: values of an earlier run must not be added in."""
    for name in _db_files(path):
        os.remove(os.path.join(path, name))


def _db_files(path: str) -> Iterable[str]:
    return [n for n in os.listdir(path) if n.endswith(".db")]


__all__ = [
    "BUS",
    "COMMANDS",
    "COMMAND_SECONDS",
    "DATABASE",
    "DEPENDENCY_ERRORS",
    "DEPENDENCY_UP",
    "LIVE_CLIENTS",
    "LIVE_DELIVERIES",
    "LIVE_GAPS_FILLED",
    "MULTIPROC_ENV",
    "OUTBOX_BACKLOG",
    "OUTBOX_DROPPED",
    "QUERIES",
    "QUERY_SECONDS",
    "SMS",
    "TIMER_HALLS",
    "TIMER_LAG",
    "TIMER_SECONDS",
    "WORKERS",
    "exposition",
]
