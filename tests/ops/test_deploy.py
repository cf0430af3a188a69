"""The production guide (docs/deploy.md) against the code: every HALLOPS_ setting the code reads
is in it and every one it names exists; its environment file is accepted by the settings; its
systemd units' and cron's run.py command lines are accepted by run.py's parser; its nginx
configuration passes `nginx -t` (where nginx is installed). And what the guide relies on:
HALLOPS_COOKIE_SECURE makes the session cookie Secure, HALLOPS_TRUSTED_PROXIES makes the
per-address limits count the citizen behind nginx."""

from __future__ import annotations

import asyncio
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from aiohttp import ClientSession

from run import build_parser
from server import demo_hall
from server.proxy import client_address
from server.settings import from_env
from tests.conftest import ROOT, LiveServer, missing
from tests.conftest import test_settings as make_settings

GUIDE = (ROOT / "docs" / "deploy.md").read_text()
# a whole setting's name (not a prefix such as HALLOPS_KIOSK_* in a sentence)
SETTING = re.compile(r"HALLOPS_[A-Z0-9_]*[A-Z0-9](?![A-Z0-9_*])")
PRODUCT = [
    ROOT / "run.py",
    *(p for d in ("server", "realtime", "db") for p in (ROOT / d).rglob("*.py")),
]


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", GUIDE, re.DOTALL)


def block_named(lang: str, first_line: str) -> str:
    (found,) = [b for b in blocks(lang) if b.startswith(first_line)]
    return found


def settings_table() -> set[str]:
    """The names in the first column of the guide's table of every setting."""
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", GUIDE, re.MULTILINE))


def test_every_setting_the_code_reads_is_in_the_guide_and_every_one_it_names_exists():
    in_code = {name for path in PRODUCT for name in SETTING.findall(path.read_text())}
    assert {"HALLOPS_COOKIE_SECURE", "HALLOPS_PUBLIC_URL", "HALLOPS_WORKERS"} <= in_code
    table = settings_table()
    missing = sorted(in_code - table)
    assert not missing, f"read by the code, not in docs/deploy.md's table: {missing}"
    assert {"DATABASE_URL", "REDIS_URL"} <= table
    everywhere = in_code | {
        name
        for path in (ROOT / "tests").rglob("*.py")
        for name in SETTING.findall(path.read_text())
    }
    stale = sorted(set(SETTING.findall(GUIDE)) - everywhere)
    assert not stale, f"docs/deploy.md names settings nothing reads: {stale}"


def env_file() -> dict[str, str]:
    text = block_named("sh", "# /etc/hallops/hallops.env")
    pairs = re.findall(r'^([A-Z][A-Z0-9_]+)="([^"]*)"$', text, re.MULTILINE)
    assert len(pairs) == len([ln for ln in text.splitlines() if ln and not ln.startswith("#")])
    return dict(pairs)


def test_the_guides_environment_file_is_accepted_and_sets_up_https():
    settings = from_env(env_file())
    assert settings.database_url and settings.redis_url and settings.secret
    assert settings.cookie_secure and settings.public_url.startswith("https://")
    assert settings.public_url in settings.origins()  # the screens opened at the public name
    assert "127.0.0.1" in settings.trusted_proxies
    assert str(settings.data_dir) == "/var/lib/hallops"


def run_py_lines() -> list[list[str]]:
    """run.py's arguments in every ExecStart= of the units and every cron line of the guide."""
    argvs = []
    for unit in blocks("ini"):
        for line in re.findall(r"^ExecStart=(.*)$", unit, re.MULTILINE):
            argv = shlex.split(line)
            if any(a.endswith("run.py") for a in argv):
                argvs.append(argv[[a.endswith("run.py") for a in argv].index(True) + 1 :])
    cron = block_named("sh", "# /etc/cron.d/hallops")
    for command in re.findall(r"/usr/local/bin/hallops ([^&\n]+)", cron):
        argvs.append(shlex.split(command))
    return argvs


def test_the_units_and_cron_command_lines_are_accepted_by_run_py():
    argvs = run_py_lines()
    parser = build_parser()
    parsed = []
    for argv in argvs:
        try:
            parsed.append(parser.parse_args(argv))
        except SystemExit:
            pytest.fail(f"run.py refuses the guide's command line: {argv}")
    commands = [a.command for a in parsed]
    assert commands.count("serve") == 1 and "backup" in commands and "archive" in commands
    (serve,) = [a for a in parsed if a.command == "serve"]
    assert serve.workers >= 2 and serve.no_seed  # production never seeds the demo hall
    assert all(a.keep and a.out for a in parsed if a.command == "backup")


def test_the_service_unit_restarts_reads_its_environment_and_may_hold_10000_connections():
    unit = block_named("ini", "# /etc/systemd/system/hallops.service")
    keys = dict(re.findall(r"^(\w+)=(.*)$", unit, re.MULTILINE))
    assert keys["Restart"] == "on-failure"
    assert keys["EnvironmentFile"] == "/etc/hallops/hallops.env"
    assert keys["User"] == "hallops" and keys["WorkingDirectory"] == "/opt/hallops/app"
    assert int(keys["LimitNOFILE"]) >= 2 * 10_000  # a display's socket and its share of more
    assert "/var/lib/hallops" in keys["ReadWritePaths"]  # HALLOPS_DATA_DIR, writable
    timer = block_named("ini", "# /etc/systemd/system/hallops-backup.timer")
    assert "OnCalendar=" in timer and "Persistent=true" in timer


def test_the_nginx_configuration_passes_nginx_t(tmp_path: Path):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not nginx:  # CI installs it (.ci/run)
        missing("nginx is not installed (apt-get install nginx-light): nginx -t not run")
    main = block_named("nginx", "# /etc/nginx/nginx.conf (main context")
    site = block_named("nginx", "# /etc/nginx/sites-available/hallops")
    for needed in (
        "location /socket.io/",
        "location /ws/",
        "location = /healthz",
        "proxy_set_header Upgrade",
        "proxy_set_header Connection        $connection_upgrade",
        "X-Forwarded-For",
        "X-Forwarded-Proto",
        "proxy_read_timeout",
        "ssl_certificate ",
    ):
        assert needed in site, needed
    # no location sets a header of its own (it would drop every server-level one)
    for location in re.findall(r"location [^{]+\{(.*?)\n    \}", site, re.DOTALL):
        assert "proxy_set_header" not in location, location
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=zwfw.example.gov.cn",
            "-keyout", str(tmp_path / "privkey.pem"), "-out", str(tmp_path / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    site = site.replace("/etc/ssl/hallops/", f"{tmp_path}/").replace(
        "/var/log/nginx/", f"{tmp_path}/"
    )
    for temp in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / temp).mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"{main}\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        f"http {{\n"
        f"  client_body_temp_path {tmp_path}/body; proxy_temp_path {tmp_path}/proxy;\n"
        f"  fastcgi_temp_path {tmp_path}/fastcgi; uwsgi_temp_path {tmp_path}/uwsgi;\n"
        f"  scgi_temp_path {tmp_path}/scgi; access_log {tmp_path}/access.log;\n"
        f"{site}\n}}\n"
    )
    done = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(conf)],
        check=False,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr and "test is successful" in done.stderr


async def test_the_session_cookie_is_secure_behind_https(db_dsn):
    for secure in (False, True):
        server = await LiveServer(make_settings(cookie_secure=secure), db_dsn).start()
        try:
            async with ClientSession(base_url=server.url) as http:
                resp = await http.post(
                    "/api/auth/login",
                    json={"username": "admin", "password": demo_hall.password_for("admin")},
                    headers={"Origin": server.url},
                )
                assert resp.status == 200, await resp.text()
                cookie = resp.headers["Set-Cookie"]
        finally:
            await server.stop()
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert ("Secure" in cookie.replace("SameSite", "")) is secure, cookie


def test_the_client_behind_a_trusted_proxy_is_the_forwarded_address():
    trusted = ("127.0.0.1", "10.0.0.0/8")
    # nginx on this machine appended the citizen's address
    assert client_address("127.0.0.1", "203.0.113.5", trusted) == "203.0.113.5"
    # what the citizen sent before it is not believed; trusted hops are skipped
    assert client_address("127.0.0.1", "1.2.3.4, 203.0.113.5, 10.1.2.3", trusted) == "203.0.113.5"
    # an untrusted peer is the client, whatever it claims
    assert client_address("198.51.100.7", "203.0.113.5", trusted) == "198.51.100.7"
    assert client_address("127.0.0.1", "203.0.113.5", ()) == "127.0.0.1"
    # no header, or garbage in it: the peer
    assert client_address("127.0.0.1", None, trusted) == "127.0.0.1"
    assert client_address("127.0.0.1", "unknown", trusted) == "127.0.0.1"


async def test_the_track_limit_counts_each_citizen_behind_nginx(db_dsn):
    async def statuses(url: str, forwarded: str, n: int) -> list[int]:
        async with ClientSession(base_url=url) as http:
            out = []
            for _ in range(n):
                resp = await http.get(
                    "/api/track/NOSUCHCODE", headers={"X-Forwarded-For": forwarded}
                )
                out.append(resp.status)
                await asyncio.sleep(0)
            return out

    server = await LiveServer(make_settings(trusted_proxies=("127.0.0.1",)), db_dsn).start()
    try:
        first = await statuses(server.url, "203.0.113.5", 12)
        assert first[:10] == [404] * 10 and first[-1] == 429, first  # burst 10
        assert (await statuses(server.url, "203.0.113.6", 1)) == [404]  # another citizen
    finally:
        await server.stop()
    server = await LiveServer(make_settings(), db_dsn).start()  # no proxy trusted
    try:
        first = await statuses(server.url, "203.0.113.5", 12)
        assert first[-1] == 429
        assert (await statuses(server.url, "203.0.113.6", 1)) == [429]  # it is one peer
    finally:
        await server.stop()
