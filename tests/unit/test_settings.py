"""server.settings.from_env reads the mapping it is given, and only that."""

from __future__ import annotations

import logging
from ipaddress import ip_address
from pathlib import Path

import pytest

from server import settings as settings_module
from server.settings import (
    ROOT,
    Settings,
    SettingsError,
    from_env,
    lan_address,
    public_base_url,
)

# Every variable from_env reads, with a value other than its default.
EVERY = {
    "DATABASE_URL": "postgresql://db.example/hall",
    "HALLOPS_DB_APP_ROLE": "hall_server",
    "HALLOPS_DB_APP_PASSWORD": "app-s3cret",
    "HALLOPS_APP_DATABASE_URL": "postgresql://server@db.example/hall",
    "REDIS_URL": "redis://bus.example/1",
    "HALLOPS_REDIS_CHANNEL": "hallops:test",
    "HALLOPS_HOST": "0.0.0.0",
    "HALLOPS_PORT": "9090",
    "HALLOPS_DATA_DIR": "/srv/hallops",
    "HALLOPS_SECRET": "s3cret",
    "HALLOPS_ALLOWED_ORIGINS": " https://a.example , https://b.example,",
    "HALLOPS_SESSION_HOURS": "8.5",
    "HALLOPS_LOCKOUT_ATTEMPTS": "3",
    "HALLOPS_LOCKOUT_MINUTES": "30",
    "HALLOPS_RESUME_LIMIT": "500",
    "HALLOPS_FEED_FLUSH_MS": "25",
    "HALLOPS_COOKIE_SECURE": "1",
    "HALLOPS_KIOSK_PER_MINUTE": "600",
    "HALLOPS_KIOSK_BURST": "50",
    "HALLOPS_SMS_WEBHOOK_URL": "https://sms.example/send",
    "HALLOPS_RETENTION_MONTHS": "24",
    "HALLOPS_PG_BINDIR": "/usr/lib/postgresql/15/bin",
    "HALLOPS_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8",
}

EXPECTED = Settings(
    database_url="postgresql://db.example/hall",
    db_app_role="hall_server",
    db_app_password="app-s3cret",
    app_database_url="postgresql://server@db.example/hall",
    redis_url="redis://bus.example/1",
    redis_channel="hallops:test",
    host="0.0.0.0",
    port=9090,
    data_dir=Path("/srv/hallops"),
    secret="s3cret",
    allowed_origins=("https://a.example", "https://b.example"),
    session_hours=8.5,
    lockout_attempts=3,
    lockout_minutes=30.0,
    resume_limit=500,
    feed_flush_ms=25.0,
    cookie_secure=True,
    kiosk_per_minute=600.0,
    kiosk_burst=50,
    sms_webhook_url="https://sms.example/send",
    retention_months=24,
    pg_bindir="/usr/lib/postgresql/15/bin",
    trusted_proxies=("127.0.0.1", "10.0.0.0/8"),
)


@pytest.fixture
def other_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """os.environ holds different values for every variable, so reading it shows."""
    for name in EVERY:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HALLOPS_FEED_FLUSH_MS", "7")
    monkeypatch.setenv("HALLOPS_KIOSK_PER_MINUTE", "7")
    monkeypatch.setenv("HALLOPS_PORT", "7777")


def test_from_env_reads_every_setting_from_the_mapping(other_environ: None) -> None:
    assert from_env(EVERY) == EXPECTED


def test_an_empty_mapping_gives_the_defaults(other_environ: None) -> None:
    assert from_env({}) == Settings(data_dir=ROOT / "var")


def test_without_a_mapping_the_process_environment_is_read(other_environ: None) -> None:
    got = from_env()
    assert (got.port, got.feed_flush_ms, got.kiosk_per_minute) == (7777, 7.0, 7.0)


@pytest.mark.parametrize("raw", ["5", "0", "-13", "six", "6.5"])
def test_a_retention_shorter_than_six_months_or_not_whole_is_refused(raw: str) -> None:
    with pytest.raises(SettingsError, match="HALLOPS_RETENTION_MONTHS"):
        from_env({"HALLOPS_RETENTION_MONTHS": raw})


def test_retention_is_thirteen_months_by_default_and_six_at_least() -> None:
    assert from_env({}).retention_months == 13
    assert from_env({"HALLOPS_RETENTION_MONTHS": "6"}).retention_months == 6


def test_a_trusted_proxy_must_be_an_address_or_a_network() -> None:
    with pytest.raises(SettingsError, match="HALLOPS_TRUSTED_PROXIES"):
        from_env({"HALLOPS_TRUSTED_PROXIES": "127.0.0.1,nginx"})


def test_the_public_url_is_an_allowed_origin_unless_the_list_is_given() -> None:
    s = from_env({"HALLOPS_PUBLIC_URL": "https://zwfw.example.gov.cn/", "HALLOPS_PORT": "8080"})
    assert "https://zwfw.example.gov.cn" in s.origins()
    assert "http://127.0.0.1:8080" in s.origins()
    given = from_env(
        {"HALLOPS_PUBLIC_URL": "https://a.example", "HALLOPS_ALLOWED_ORIGINS": "https://b.example"}
    )
    assert given.origins() == ("https://b.example",)


# ------------------------------------------------------------------ HALLOPS_PUBLIC_URL


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("https://zwfw.example.gov.cn/", "https://zwfw.example.gov.cn"),
        (" HTTP://hall.example:8080 ", "http://hall.example:8080"),
        ("http://192.168.1.20:8080", "http://192.168.1.20:8080"),
        ("http://[2001:db8::5]:8080/", "http://[2001:db8::5]:8080"),
    ],
)
def test_a_public_url_is_kept_as_its_scheme_and_host(raw: str, kept: str) -> None:
    assert from_env({"HALLOPS_PUBLIC_URL": raw}).public_url == kept


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("zwfw.example.gov.cn", "http:// or https://"),
        ("ftp://zwfw.example.gov.cn", "http:// or https://"),
        ("https://", "no host"),
        ("https://zwfw.example.gov.cn/hall", "without a path"),
        ("https://zwfw.example.gov.cn/?x=1", "without a path, query"),
        ("https://zwfw.example.gov.cn#top", "fragment"),
        ("https://user:pw@zwfw.example.gov.cn", "no user"),
        ("https://zwfw.example.gov.cn:99999", "port"),
        ("http://2001:db8::5:8080", "IPv6 address in brackets"),
        ("http://0.0.0.0:8080", "listening address"),
    ],
)
def test_a_public_url_that_is_not_a_plain_address_is_refused(raw: str, why: str) -> None:
    with pytest.raises(SettingsError, match="HALLOPS_PUBLIC_URL") as refused:
        from_env({"HALLOPS_PUBLIC_URL": raw, "HALLOPS_DEMO": "1"})
    assert why in str(refused.value)


LOOPBACK = ["http://127.0.0.1:8080", "http://127.1.2.3", "http://[::1]:8080", "http://localhost"]


@pytest.mark.parametrize("raw", [*LOOPBACK, "http://LOCALHOST.:8080", "http://[::ffff:127.0.0.1]"])
def test_a_loopback_public_url_is_refused(raw: str) -> None:
    with pytest.raises(SettingsError, match="loopback.*HALLOPS_DEMO=1"):
        from_env({"HALLOPS_PUBLIC_URL": raw, "DATABASE_URL": "postgresql://db.example/hall"})
    with pytest.raises(SettingsError, match="loopback"):
        from_env({"HALLOPS_PUBLIC_URL": raw})  # the embedded database's demo too


@pytest.mark.parametrize("raw", LOOPBACK)
def test_a_loopback_public_url_is_taken_for_a_demo(raw: str) -> None:
    settings = from_env({"HALLOPS_PUBLIC_URL": raw, "HALLOPS_DEMO": "1"})
    assert public_base_url(settings) == raw


def test_a_set_public_url_is_the_base_whatever_the_listening_address() -> None:
    settings = from_env(
        {"HALLOPS_PUBLIC_URL": "https://zwfw.example.gov.cn/", "HALLOPS_HOST": "::"}
    )
    assert public_base_url(settings) == "https://zwfw.example.gov.cn"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "0.0.0.0", "::", ""])
def test_unset_a_loopback_or_wildcard_listener_links_to_the_lan_address(
    monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    monkeypatch.setattr(settings_module, "lan_address", lambda: "10.20.30.40")
    assert public_base_url(Settings(host=host, port=8080)) == "http://10.20.30.40:8080"
    monkeypatch.setattr(settings_module, "lan_address", lambda: "2001:db8::7")
    assert public_base_url(Settings(host=host, port=8080)) == "http://[2001:db8::7]:8080"


@pytest.mark.parametrize(
    ("host", "base"),
    [
        ("10.1.2.3", "http://10.1.2.3:8081"),
        ("2001:db8::5", "http://[2001:db8::5]:8081"),
        ("[2001:db8::5]", "http://[2001:db8::5]:8081"),
        ("hall.lan", "http://hall.lan:8081"),
    ],
)
def test_unset_a_specific_listening_address_is_the_base(host: str, base: str) -> None:
    assert public_base_url(Settings(host=host, port=8081)) == base


def test_the_lan_address_is_never_loopback_or_link_local_unless_there_is_no_other() -> None:
    found = lan_address()
    addr = ip_address(found)
    assert found == "127.0.0.1" or not (addr.is_loopback or addr.is_link_local)


def test_start_up_says_where_the_links_lead(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from run import warn_public_url

    def logged(settings: Settings) -> list[tuple[str, str]]:
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="hallops"):
            warn_public_url(settings)
        return [(r.levelname, r.getMessage()) for r in caplog.records]

    monkeypatch.setattr(settings_module, "lan_address", lambda: "10.20.30.40")
    assert logged(from_env({"HALLOPS_PUBLIC_URL": "https://zwfw.example.gov.cn"})) == []
    ((level, message),) = logged(Settings(port=8080))
    assert level == "WARNING" and "http://10.20.30.40:8080" in message
    # no LAN address: the derived link is loopback, and said so loudly
    monkeypatch.setattr(settings_module, "lan_address", lambda: "127.0.0.1")
    ((level, message),) = logged(Settings(port=8080))
    assert level == "ERROR" and "http://127.0.0.1:8080" in message and "no LAN address" in message
    # a demo's loopback base: allowed, and said
    demo = from_env({"HALLOPS_PUBLIC_URL": "http://localhost:8080", "HALLOPS_DEMO": "1"})
    ((level, message),) = logged(demo)
    assert level == "WARNING" and "loopback" in message and "http://localhost:8080" in message
