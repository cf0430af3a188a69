"""Settings, read once from the environment (and run.py flags) into a frozen dataclass."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from ipaddress import ip_address, ip_network
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent

# The event log and the audit trail stay in their tables at least this long (months); older
# days move to their archive tables (server/retention.py). Half a year is the floor the issue
# sets, and the database function refuses a shorter one whoever asks.
MIN_RETENTION_MONTHS = 6
DEFAULT_RETENTION_MONTHS = 13  # a year and the month before it: last year's same month stays


class SettingsError(ValueError):
    """A setting whose value the server refuses to start with."""


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None  # None: start the embedded PostgreSQL under data_dir
    # The server connects as this role, not as the tables' owner (migrate creates it and grants
    # it what the server needs); its DSN is app_database_url, or database_url with this user.
    db_app_role: str = "hallops_app"
    db_app_password: str | None = None  # set on the role by migrate; None: no password
    app_database_url: str | None = None
    redis_url: str | None = None  # None: in-process bus (one server process)
    redis_channel: str = "hallops:events"  # pub/sub channel; one per deployment sharing a Redis
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = ROOT / "var"
    secret: str = ""  # signs socket tokens; generated into data_dir if unset
    allowed_origins: tuple[str, ...] = ()  # Socket.IO/WebSocket Origin allowlist; derived if empty
    session_hours: float = 12.0
    lockout_attempts: int = 5
    lockout_minutes: float = 15.0
    resume_limit: int = 2000  # a client further behind than this gets a snapshot
    max_body_bytes: int = 64 * 1024
    gap_poll_seconds: float = 1.0  # how often each process checks the log for lost events
    # live clients are written once per event-loop turn; >0 also spaces their writes (ms)
    feed_flush_ms: float = 0.0
    cookie_secure: bool = False
    pool_size: int = 8
    # The longest a command, or a read, waits for its answer before a 503: a frozen database
    # must not hold a clerk's terminal (a command takes milliseconds; a year's report ~6 s).
    command_timeout: float = 1.5
    query_timeout: float = 20.0
    kiosk_per_minute: float = 20.0  # registrations per kiosk per minute (burst below)
    kiosk_burst: int = 10
    timers: bool = True  # run the hall timers (end of day, parked expiry, SMS)
    # kiosks register only within the hall's opening hours (or the admin's opening); tests on
    # the real clock turn it off, as they turn the timers off: their hour is any hour
    registration_hours: bool = True
    # cases whose due alarms one statement raises (a burst takes several, within one look)
    alarm_batch: int = 5000
    sms_webhook_url: str | None = None  # None: SMS are written to the log
    strict_contracts: bool = False  # tests: an answer outside its declaration becomes a 500
    # The base URL citizens reach the hall at (QR codes on notices, SMS links); never the
    # server's loopback address: unset, it is derived from this machine's LAN address.
    public_url: str = ""
    # HALLOPS_DEMO=1: the demo halls (and their published passwords) may run on a production
    # database (DATABASE_URL set); without it `run.py serve` refuses to start while one is live
    demo: bool = False

    @property
    def production(self) -> bool:
        """A database of its own (DATABASE_URL): what a real hall runs; the embedded one is
        `make run`'s demo."""
        return self.database_url is not None

    retention_months: int = DEFAULT_RETENTION_MONTHS
    # reverse proxies whose X-Forwarded-For names the client (server/proxy.py); none: the peer
    trusted_proxies: tuple[str, ...] = ()
    # where run.py backup / restore find pg_dump and pg_restore (None: look around, db/backup.py)
    pg_bindir: str | None = None
    # /metrics asks for this bearer token when set (Prometheus sends it); unset, it is open to
    # whoever reaches the listening address, as /healthz is
    metrics_token: str = ""

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def origins(self) -> tuple[str, ...]:
        if self.allowed_origins:
            return self.allowed_origins
        hosts = {self.host, "127.0.0.1", "localhost"}
        derived = {f"http://{h}:{self.port}" for h in hosts}
        if self.public_url:  # behind a proxy the screens are opened at the public address
            parts = urlsplit(self.public_url)
            derived.add(f"{parts.scheme}://{parts.netloc}")
        return tuple(sorted(derived))


def _float(e: Mapping[str, str], name: str, default: float) -> float:
    raw = e.get(name)
    return float(raw) if raw else default


def retention_months(raw: str | None) -> int:
    """HALLOPS_RETENTION_MONTHS: whole months, never fewer than MIN_RETENTION_MONTHS."""
    if not raw:
        return DEFAULT_RETENTION_MONTHS
    try:
        months = int(raw)
    except ValueError:
        raise SettingsError(f"HALLOPS_RETENTION_MONTHS={raw!r}: a whole number of months") from None
    if months < MIN_RETENTION_MONTHS:
        raise SettingsError(
            f"HALLOPS_RETENTION_MONTHS={months}: the event log and the audit trail are kept at "
            f"least {MIN_RETENTION_MONTHS} months"
        )
    return months


def trusted_proxies(raw: str | None) -> tuple[str, ...]:
    """HALLOPS_TRUSTED_PROXIES: comma-separated addresses or networks (127.0.0.1, 10.0.0.0/8)."""
    entries = tuple(t.strip() for t in (raw or "").split(",") if t.strip())
    for entry in entries:
        try:
            ip_network(entry, strict=False)
        except ValueError:
            raise SettingsError(
                f"HALLOPS_TRUSTED_PROXIES: {entry!r} is not an address or a network"
            ) from None
    return entries


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 (also IPv4-mapped), localhost and *.localhost (RFC 6761): an address
    only this machine reaches."""
    h = host.strip("[]").lower().rstrip(".")
    if h == "localhost" or h.endswith(".localhost"):
        return True
    try:
        addr = ip_address(h)
    except ValueError:
        return False
    mapped = getattr(addr, "ipv4_mapped", None)
    return addr.is_loopback or (mapped is not None and mapped.is_loopback)


def public_url(raw: str | None, demo: bool = False) -> str:
    """HALLOPS_PUBLIC_URL: http(s)://host[:port], without a path (the pages load /static, /api
    and /socket.io from the host's root, so the hall cannot live under one), query, fragment or
    user. A loopback host is refused unless `demo` (HALLOPS_DEMO=1): printed on a notice, it
    would send every citizen's phone to the phone itself."""
    text = (raw or "").strip()
    if not text:
        return ""

    def refuse(why: str) -> SettingsError:
        return SettingsError(f"HALLOPS_PUBLIC_URL={text!r}: {why}")

    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise refuse("an http:// or https:// address, e.g. https://zwfw.example.gov.cn")
    try:
        if parts.port == 0:
            raise ValueError
    except ValueError:
        if parts.netloc.count(":") > 1 and "[" not in parts.netloc:
            raise refuse("an IPv6 address in brackets, e.g. http://[2001:db8::5]:8080") from None
        raise refuse("the port is not a number from 1 to 65535") from None
    host = parts.hostname or ""
    if not host:
        raise refuse("no host name")
    if parts.username is not None or parts.password is not None:
        raise refuse("no user or password in the address")
    if parts.path.strip("/") or "?" in text or "#" in text:
        raise refuse(
            "the address alone, without a path, query or fragment: the links add /track and "
            "/rate to it, and the pages load /static and /api from the host's root"
        )
    if _unspecified(host):
        raise refuse("0.0.0.0 or :: is a listening address, no address a phone can open")
    if is_loopback_host(host) and not demo:
        raise refuse(
            "a loopback address: the QR codes and SMS links would lead every citizen's phone "
            "to the phone itself. Set the address citizens reach the hall at (HALLOPS_DEMO=1 "
            "allows it for a demo on one machine)"
        )
    return f"{scheme}://{parts.netloc}"


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from `env` (os.environ when None); nothing else is read. Raises SettingsError
    for a value the server refuses."""
    e = os.environ if env is None else env
    data_dir = Path(e.get("HALLOPS_DATA_DIR") or ROOT / "var")
    origins = tuple(o.strip() for o in e.get("HALLOPS_ALLOWED_ORIGINS", "").split(",") if o.strip())
    demo = (e.get("HALLOPS_DEMO") or "0") == "1"
    return Settings(
        database_url=e.get("DATABASE_URL") or None,
        db_app_role=e.get("HALLOPS_DB_APP_ROLE") or "hallops_app",
        db_app_password=e.get("HALLOPS_DB_APP_PASSWORD") or None,
        app_database_url=e.get("HALLOPS_APP_DATABASE_URL") or None,
        redis_url=e.get("REDIS_URL") or None,
        redis_channel=e.get("HALLOPS_REDIS_CHANNEL") or "hallops:events",
        host=e.get("HALLOPS_HOST") or "127.0.0.1",
        port=int(e.get("HALLOPS_PORT") or 8080),
        data_dir=data_dir,
        secret=e.get("HALLOPS_SECRET") or "",
        allowed_origins=origins,
        session_hours=float(e.get("HALLOPS_SESSION_HOURS") or 12),
        lockout_attempts=int(e.get("HALLOPS_LOCKOUT_ATTEMPTS") or 5),
        lockout_minutes=float(e.get("HALLOPS_LOCKOUT_MINUTES") or 15),
        resume_limit=int(e.get("HALLOPS_RESUME_LIMIT") or 2000),
        feed_flush_ms=_float(e, "HALLOPS_FEED_FLUSH_MS", 0.0),
        cookie_secure=(e.get("HALLOPS_COOKIE_SECURE") or "0") == "1",
        kiosk_per_minute=_float(e, "HALLOPS_KIOSK_PER_MINUTE", 20.0),
        kiosk_burst=int(e.get("HALLOPS_KIOSK_BURST") or 10),
        sms_webhook_url=e.get("HALLOPS_SMS_WEBHOOK_URL") or None,
        alarm_batch=max(1, int(e.get("HALLOPS_ALARM_BATCH") or 5000)),
        public_url=public_url(e.get("HALLOPS_PUBLIC_URL"), demo=demo),
        command_timeout=_float(e, "HALLOPS_COMMAND_TIMEOUT", 1.5),
        query_timeout=_float(e, "HALLOPS_QUERY_TIMEOUT", 20.0),
        demo=demo,
        retention_months=retention_months(e.get("HALLOPS_RETENTION_MONTHS")),
        pg_bindir=e.get("HALLOPS_PG_BINDIR") or None,
        trusted_proxies=trusted_proxies(e.get("HALLOPS_TRUSTED_PROXIES")),
        metrics_token=e.get("HALLOPS_METRICS_TOKEN") or "",
    )


def ensure_secret(settings: Settings) -> Settings:
    """A secret shared by every process of one deployment: from the environment, or kept in
    data_dir so that restarts (and processes on one machine) agree."""
    if settings.secret:
        return settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / "secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return settings.with_(secret=path.read_text().strip())


def lan_address() -> str:
    """This machine's address on its LAN (the one a route to the outside leaves from, IPv4
    first, else IPv6); no packet is sent. 127.0.0.1 only when the machine has no other (the
    start-up log then says the links are loopback: run.py warn_public_url)."""
    import socket

    probes = ((socket.AF_INET, "10.255.255.255"), (socket.AF_INET6, "2001:db8::1"))
    for family, far in probes:
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as s:
                s.connect((far, 1))
                found = str(s.getsockname()[0])
        except OSError:
            continue
        addr = ip_address(found.split("%")[0])
        # link-local needs the interface's name (fe80::1%eth0), which a URL on paper cannot carry
        if not (addr.is_loopback or addr.is_link_local or addr.is_unspecified):
            return found
    return "127.0.0.1"


def url_host(host: str) -> str:
    """A host as a URL writes it: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def public_base_url(settings: Settings) -> str:
    """Where phones reach this hall: HALLOPS_PUBLIC_URL (from_env checked it), else this
    machine's LAN address on the port served; the listening address only when it is a specific
    one other than loopback."""
    if settings.public_url:
        return settings.public_url
    host = settings.host.strip("[]")
    if not host or is_loopback_host(host) or _unspecified(host):
        host = lan_address()
    return f"http://{url_host(host)}:{settings.port}"


def _unspecified(host: str) -> bool:
    try:
        return ip_address(host).is_unspecified
    except ValueError:
        return False
