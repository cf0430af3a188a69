"""The deterministic demo hall: Rizhao city service center (日照市政务服务中心) and two county halls.

The data tables live in server/demo_catalogue.py; this module turns them into a plan (pure
Python, the same every run) and inserts the plan in one transaction. Row ids come out the same
in a fresh database because every insert runs in plan order.

Public API:
    DEMO_PASSWORDS                       role -> demo password (staff roles and device kinds)
    await seed_demo(conn) -> dict        seed everything once; a summary (counts, halls, logins)
    await is_seeded(conn) -> bool        the city hall 'rizhao' exists
    await seed_calendar(conn, hall_id, years) -> int   statutory holidays and 调休 days of a hall
    demo_logins() -> list[dict]          example logins to print
    password_for(username) -> str        the demo password of a seeded username or device code
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from db.pool import Conn
from server import demo_catalogue as cat
from server.demo_workflows import DEMO_WORKFLOWS
from server.domain.calendar import calendar_from_library
from server.domain.passwords import hash_password
from server.domain.queueing import TZ

DEMO_PASSWORDS: dict[str, str] = {
    "clerk": "Clerk#2026",
    "leader": "Leader#2026",
    "supervisor": "Supervisor#2026",
    "admin": "Admin#2026",
    "kiosk": "Kiosk#2026",
    "display": "Display#2026",
    "rater": "Rater#2026",
}

CITY_CODE = "rizhao"
CITY_NAME = "日照市政务服务中心"
NOTICE_LINE = "请凭本告知单到指定窗口办理；办结后请扫描告知单上的二维码，或将评议联投入评议箱，对我们的服务作出评价。"
SUPERVISORS = 3  # supervisor1..3, supervision office (no department)
ADMINS = 2  # admin, admin2
COUNTY_GENERAL_MIN_WINDOWS = 2  # in a county hall a 2-window department also serves 综合受理


def calendar_years(today: date) -> range:
    """The demo's calendar: 2024 (the oldest data the tests read) to next year; years
    chinese_calendar lacks (1.11: 2027) are skipped."""
    return range(min(2024, today.year - 1), max(2028, today.year + 2))


def duty_period(today: date) -> tuple[date, date]:
    """The demo's 领导带班 roster: from 2026 (the tests' dates) to the end of next year, so a
    demo seeded in any year has its leaders on duty."""
    return date(2026, 1, 1), date(max(2027, today.year + 1), 12, 31)


_SEED_LOCK = 0x4A11_0002  # advisory lock: two processes seeding at once do not collide


# ---------------------------------------------------------------- the plan (pure, deterministic)
@dataclass
class _Item:
    department: str
    code: str
    name: str
    category: str
    kind: str
    limit_unit: str
    statutory_limit: int
    promised_limit: int
    materials: list[tuple[str, bool, int, str]]
    fees: list[tuple[str, int, str]]
    requires_signoff: bool = False
    urgent_limit: int | None = None


@dataclass
class _Hall:
    code: str
    name: str
    level: str
    parent: str | None
    # (code, name, short name)
    departments: list[tuple[str, str, str]] = field(default_factory=list)
    # (code, name, prefix, department code or None)
    queues: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    # (window_no, display_name, department code, zone, queue codes in serving order)
    windows: list[tuple[int, str, str, str, list[str]]] = field(default_factory=list)
    # (username, display_name, role, department code or None, usual window_no or None)
    staff: list[tuple[str, str, str, str | None, int | None]] = field(default_factory=list)
    items: list[_Item] = field(default_factory=list)
    # (code, kind, name)
    devices: list[tuple[str, str, str]] = field(default_factory=list)


def queue_prefix(i: int) -> str:
    """A, B, .. Z, AA, AB, .. for the i-th queue (from 0)."""
    if i < 26:
        return chr(65 + i)
    i -= 26
    return chr(65 + i // 26) + chr(65 + i % 26)


def _item(dept: str, number: int, row: tuple) -> _Item:
    name, category, limits, materials = row
    kind, unit, statutory, promised = cat.parse_limits(limits)
    return _Item(
        department=dept,
        code=f"{dept}-{number:03d}",
        name=name,
        category=category,
        kind=kind,
        limit_unit=unit,
        statutory_limit=statutory,
        promised_limit=promised,
        materials=[cat.parse_material(m) for m in materials],
        fees=list(cat.FEES.get(name, [])),
        requires_signoff=cat.requires_signoff(kind, unit, statutory),
        urgent_limit=cat.urgent_limit(kind, promised),
    )


def _queues_and_windows(
    hall: _Hall, layout: list[tuple[str, str, int, str]], general_min: int
) -> None:
    """layout: (department code, short name, windows, zone), in window order."""
    for i, (dept, short, _, _) in enumerate(layout):
        hall.queues.append((dept, f"{short}业务", queue_prefix(i), dept))
    general_code, general_name = cat.GENERAL_QUEUE
    hall.queues.append((general_code, general_name, "Z", None))
    no = 0
    for dept, short, count, zone in layout:
        for k in range(count):
            no += 1
            queues = [dept]
            if k == count - 1 and count >= general_min:
                queues.append(general_code)
            hall.windows.append((no, f"{no}号窗口 {short}", dept, zone, queues))


@functools.cache
def _plan() -> tuple[_Hall, ...]:
    people = iter(range(10_000))  # one counter over all halls: every person gets a distinct name

    def name() -> str:
        return cat.person_name(next(people))

    # ---- city hall
    city = _Hall(CITY_CODE, CITY_NAME, "city", None)
    city.departments = [(code, full, short) for code, full, short, _, _ in cat.CITY_DEPARTMENTS]
    layout = [(code, short, n, zone) for code, _, short, n, zone in cat.CITY_DEPARTMENTS]
    _queues_and_windows(city, layout, cat.GENERAL_QUEUE_MIN_WINDOWS)
    # one clerk per window (clerk001 is the usual clerk of window 1), then the leaders
    for no, _, dept, _, _ in city.windows:
        city.staff.append((f"clerk{no:03d}", name(), "clerk", dept, no))
    for code, _, _ in city.departments:
        city.staff.append((f"leader.{code}", name(), "leader", code, None))
    for i in range(1, SUPERVISORS + 1):
        city.staff.append((f"supervisor{i}", name(), "supervisor", None, None))
    city.staff.append(("admin", "系统管理员", "admin", None, None))
    for i in range(2, ADMINS + 1):
        city.staff.append((f"admin{i}", name(), "admin", None, None))
    for code, _, _ in city.departments:
        city.items.extend(_item(code, n, row) for n, row in enumerate(cat.ITEMS[code], start=1))
    city.devices = [
        *[(f"kiosk-{i:02d}", "kiosk", f"自助受理机{i}号（一楼大厅）") for i in range(1, 5)],
        ("display-01", "display", "一楼A区叫号屏"),
        ("display-02", "display", "一楼B、C区叫号屏"),
        ("display-03", "display", "二楼叫号屏"),
        ("led-01", "display", "大厅综合LED屏"),
    ]
    halls = [city]

    # ---- county halls: the same departments, a few of the city's items under the same codes
    city_items = {item.name: item for item in city.items}
    city_depts = {code: (full, short) for code, full, short, _, _ in cat.CITY_DEPARTMENTS}
    for code, hall_name in cat.COUNTY_HALLS:
        county = _Hall(code, hall_name, "county", CITY_CODE)
        place = hall_name.removesuffix("政务服务中心")
        for dept, _, _ in cat.COUNTY_DEPARTMENTS:
            full = city_depts[dept][0].split("（")[0]
            county.departments.append((dept, place + full, city_depts[dept][1]))
        layout = [
            (dept, city_depts[dept][1], n, cat.COUNTY_ZONE) for dept, n, _ in cat.COUNTY_DEPARTMENTS
        ]
        _queues_and_windows(county, layout, COUNTY_GENERAL_MIN_WINDOWS)
        for no, _, dept, _, _ in county.windows:
            county.staff.append((f"{code}.clerk{no:02d}", name(), "clerk", dept, no))
        for dept, _, _ in cat.COUNTY_DEPARTMENTS:
            county.staff.append((f"{code}.leader.{dept}", name(), "leader", dept, None))
        county.staff.append((f"{code}.admin", name(), "admin", None, None))
        for _, _, names in cat.COUNTY_DEPARTMENTS:
            county.items.extend(city_items[n] for n in names)
        county.devices = [
            (f"{code}.kiosk-01", "kiosk", "自助受理机1号"),
            (f"{code}.kiosk-02", "kiosk", "自助受理机2号"),
            (f"{code}.display-01", "display", "大厅叫号屏"),
        ]
        halls.append(county)
    return tuple(halls)


_DEVICE_HAS_WINDOW = """
select exists (select 1 from information_schema.columns
               where table_name = 'device' and column_name = 'window_id'
                 and table_schema = current_schema())
"""


def rater_code(hall_code: str, window_no: int) -> str:
    """The demo code of a window's rating device (评价器): rater-001 in the city hall (the
    window's number), juxian.rater-01 in a county hall, as its clerks' logins."""
    if hall_code == CITY_CODE:
        return f"rater-{window_no:03d}"
    return f"{hall_code}.rater-{window_no:02d}"


def _rater_pattern(hall_code: str) -> str:
    return "rater-NNN（NNN 为窗口号）" if hall_code == CITY_CODE else f"{hall_code}.rater-NN"


def _raters(hall: _Hall) -> list[tuple[str, str, str, int]]:
    """One rating device per window: (code, 'rater', name, window_no)."""
    return [
        (rater_code(hall.code, no), "rater", f"{no}号窗口评价器", no) for no, *_ in hall.windows
    ]


def demo_logins() -> list[dict]:
    """A handful of example logins (staff and devices) with their demo passwords.

    Each: hall, kind ('staff' | 'device'), username (a device's code), role (staff role or device
    kind), display_name, department (short name or None), window_no (the clerk's usual window or
    None), password, note (one line for a banner)."""
    wanted = {
        CITY_CODE: [
            "clerk001",
            "clerk060",
            "leader.amr",
            "leader.realty",
            "supervisor1",
            "admin",
            "kiosk-01",
            "display-01",
            "led-01",
            "rater-001",
        ],
        "juxian": [
            "juxian.clerk01",
            "juxian.leader.amr",
            "juxian.admin",
            "juxian.kiosk-01",
            "juxian.rater-01",
        ],
    }
    out = []
    for hall in _plan():
        shorts = {code: short for code, _, short in hall.departments}
        people = {s[0]: s for s in hall.staff}
        devices = {d[0]: d for d in hall.devices}
        devices.update({r[0]: r[:3] for r in _raters(hall)})
        for username in wanted.get(hall.code, []):
            if username in people:
                _, display_name, role, dept, window_no = people[username]
                short = shorts[dept] if dept is not None else None
                if short is None:
                    note = (
                        f"{hall.code}: "
                        + {"supervisor": "电子监察（含县级大厅）", "admin": "系统管理"}[role]
                    )
                elif window_no is not None:
                    note = f"{hall.code}: {window_no}号窗口 {short}"
                else:
                    note = f"{hall.code}: {short} 带班领导"
                out.append(
                    {
                        "hall": hall.code,
                        "kind": "staff",
                        "username": username,
                        "role": role,
                        "display_name": display_name,
                        "department": short,
                        "window_no": window_no,
                        "password": DEMO_PASSWORDS[role],
                        "note": note,
                    }
                )
            else:
                code, kind, device_name = devices[username]
                out.append(
                    {
                        "hall": hall.code,
                        "kind": "device",
                        "username": code,
                        "role": kind,
                        "display_name": device_name,
                        "department": None,
                        "window_no": None,
                        "password": DEMO_PASSWORDS[kind],
                        "note": f"{hall.code}: 设备 {device_name}"
                        + (
                            f"（每个窗口一台：{_rater_pattern(hall.code)}，同一密码）"
                            if kind == "rater"
                            else ""
                        ),
                    }
                )
    return out


@functools.cache
def _roles_by_login() -> dict[str, str]:
    roles = {}
    for hall in _plan():
        roles.update({s[0]: s[2] for s in hall.staff})
        roles.update({d[0]: d[1] for d in hall.devices})
        roles.update({r[0]: r[1] for r in _raters(hall)})
    return roles


def password_for(username: str) -> str:
    """The demo password of any seeded staff username or device code (KeyError if unknown)."""
    return DEMO_PASSWORDS[_roles_by_login()[username]]


# ---------------------------------------------------------------- calendar
async def seed_calendar(conn: Conn, hall_id: int, years: Iterable[int]) -> int:
    """Insert the hall's statutory holidays on weekdays (is_working false, note e.g. 国庆节) and
    adjusted working weekend days (调休上班) for `years`, from chinese_calendar via
    server.domain.calendar.calendar_from_library; years it has no data for are skipped. Days
    already in the hall's calendar (edited by hand) are left alone. The years it had data for
    are recorded in calendar_year (source 'library'), so that /healthz warns of the first year
    it lacks. Returns the rows inserted."""
    rows = sorted(calendar_from_library(years).items())
    if not rows:
        return 0
    # seed_demo also runs on a schema from before migration 0008 (the upgrade test seeds schema
    # v5 and then migrates): there 0008 records the years and the rows' source when it runs.
    recorded = await conn.fetchval("select to_regclass('calendar_year') is not null")
    status = await conn.execute(
        f"""
        insert into calendar_day (hall_id, day, is_working, note{", source" if recorded else ""})
        select $1, t.day, t.is_working, t.note{", 'library'" if recorded else ""}
        from unnest($2::date[], $3::boolean[], $4::text[]) with ordinality as t(day, is_working, note, ord)
        order by t.ord
        on conflict (hall_id, day) do nothing
        """,
        hall_id,
        [day for day, _ in rows],
        [w for _, (w, _) in rows],
        [n for _, (_, n) in rows],
    )
    if recorded:
        # a year the library knows always has holidays on weekdays, so it has rows
        await conn.execute(
            """
            insert into calendar_year (hall_id, year, source, title, loaded_by)
            select $1, y, 'library', $3, null from unnest($2::int[]) as y
            on conflict (hall_id, year) do nothing
            """,
            hall_id,
            sorted({day.year for day, _ in rows}),
            f"chinesecalendar {_library_version()}",
        )
    return int(status.split()[-1])


def _library_version() -> str:
    import chinese_calendar

    return str(getattr(chinese_calendar, "__version__", ""))


# ---------------------------------------------------------------- seeding
@functools.cache
def _demo_hashes() -> dict[str, str]:
    # DEMO ONLY: each distinct demo password is hashed once and the same hash string is reused
    # for every account of that role (argon2 costs ~50 ms a hash; 200 accounts would take 10 s).
    # Real accounts get their own salted hash from hash_password.
    return {role: hash_password(pw) for role, pw in DEMO_PASSWORDS.items()}


async def is_seeded(conn: Conn) -> bool:
    return await conn.fetchval("select exists (select 1 from hall where code = $1)", CITY_CODE)


async def seed_demo(conn: Conn) -> dict:
    """Seed the demo halls in one transaction. Does nothing when the city hall already exists
    (the summary then says created=False)."""
    hashes = await asyncio.to_thread(_demo_hashes)
    created = False
    async with conn.transaction():
        await conn.execute("select pg_advisory_xact_lock($1)", _SEED_LOCK)
        if not await is_seeded(conn):
            hall_ids: dict[str, int] = {}
            for hall in _plan():
                hall_ids[hall.code] = await _seed_hall(conn, hall, hall_ids, hashes)
            await _seed_workflows(conn, hall_ids[CITY_CODE])
            await _mark_demo(conn, list(hall_ids.values()))
            created = True
    summary = await _summary(conn)
    summary["created"] = created
    return summary


_HAS_DEMO_FLAGS = """
select exists (select 1 from information_schema.columns
               where table_name = 'hall' and column_name = 'is_demo'
                 and table_schema = current_schema())
"""


async def _mark_demo(conn: Conn, hall_ids: list[int]) -> None:
    """The demo halls say they are one (the screens' banner), and their published passwords are
    flagged: production refuses to start while one is live (run.py serve). Not in the schemas
    before migration 0024, where the upgrade tests seed."""
    if not await conn.fetchval(_HAS_DEMO_FLAGS):
        return
    await conn.execute("update hall set is_demo = true where id = any($1::int[])", hall_ids)
    await conn.execute(
        "update staff set password_is_demo = true where hall_id = any($1::int[])", hall_ids
    )
    await conn.execute(
        "update device set secret_is_demo = true where hall_id = any($1::int[])", hall_ids
    )


async def _seed_workflows(conn: Conn, city_id: int) -> None:
    """The city's 多证联办 and 一表通 definitions (its county halls run them too), stored the way
    an admin publishes them: checked against the hall. Not where the schema has no such table:
    the upgrade tests seed the demo into earlier releases' schemas."""
    if not await conn.fetchval("select to_regclass('workflow_definition') is not null"):
        return
    from server.domain.workflow_def import WorkflowDefinition
    from server.domain.workflows import store_definition

    now = datetime.now(TZ)
    for raw in DEMO_WORKFLOWS:
        await store_definition(conn, city_id, WorkflowDefinition.model_validate(raw), now, None)


async def _seed_hall(
    conn: Conn, hall: _Hall, hall_ids: dict[str, int], hashes: dict[str, str]
) -> int:
    hall_id = await conn.fetchval(
        "insert into hall (code, name, level, parent_id, notice_line) values ($1, $2, $3, $4, $5)"
        " returning id",
        hall.code,
        hall.name,
        hall.level,
        hall_ids.get(hall.parent) if hall.parent else None,
        NOTICE_LINE,
    )

    rows = await conn.fetch(
        """
        insert into department (hall_id, code, name)
        select $1, t.code, t.name
        from unnest($2::text[], $3::text[]) with ordinality as t(code, name, ord)
        order by t.ord
        returning id, code
        """,
        hall_id,
        [d[0] for d in hall.departments],
        [d[1] for d in hall.departments],
    )
    dept_ids = {r["code"]: r["id"] for r in rows}

    rows = await conn.fetch(
        """
        insert into queue (hall_id, code, name, prefix, department_id)
        select $1, t.code, t.name, t.prefix, t.department_id
        from unnest($2::text[], $3::text[], $4::text[], $5::int[])
             with ordinality as t(code, name, prefix, department_id, ord)
        order by t.ord
        returning id, code
        """,
        hall_id,
        [q[0] for q in hall.queues],
        [q[1] for q in hall.queues],
        [q[2] for q in hall.queues],
        [dept_ids.get(q[3]) for q in hall.queues],
    )
    queue_ids = {r["code"]: r["id"] for r in rows}

    rows = await conn.fetch(
        """
        insert into service_window (hall_id, window_no, display_name, department_id, zone, status)
        select $1, t.window_no, t.display_name, t.department_id, t.zone, 'closed'
        from unnest($2::int[], $3::text[], $4::int[], $5::text[])
             with ordinality as t(window_no, display_name, department_id, zone, ord)
        order by t.ord
        returning id, window_no
        """,
        hall_id,
        [w[0] for w in hall.windows],
        [w[1] for w in hall.windows],
        [dept_ids[w[2]] for w in hall.windows],
        [w[3] for w in hall.windows],
    )
    window_ids = {r["window_no"]: r["id"] for r in rows}
    await conn.copy_records_to_table(
        "window_queue",
        columns=["window_id", "queue_id", "position"],
        records=[
            (window_ids[no], queue_ids[q], pos)
            for no, _, _, _, queues in hall.windows
            for pos, q in enumerate(queues, start=1)
        ],
    )

    rows = await conn.fetch(
        """
        insert into staff (hall_id, username, display_name, role, department_id, password_hash)
        select $1, t.username, t.display_name, t.role, t.department_id, t.password_hash
        from unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::text[])
             with ordinality as t(username, display_name, role, department_id, password_hash, ord)
        order by t.ord
        returning id, username
        """,
        hall_id,
        [s[0] for s in hall.staff],
        [s[1] for s in hall.staff],
        [s[2] for s in hall.staff],
        [dept_ids.get(s[3]) for s in hall.staff],
        [hashes[s[2]] for s in hall.staff],
    )
    # Clerks and leaders get supervision's alarms by SMS; the demo's numbers are made up. On
    # its own and only where the column exists: the upgrade tests seed the demo into the
    # schemas of earlier releases, which had no staff phones.
    if await conn.fetchval(
        "select exists (select 1 from information_schema.columns"
        " where table_name = 'staff' and column_name = 'phone')"
    ):
        await conn.execute(
            """
            update staff set phone = '1390' || lpad(($1 % 100)::text, 2, '0')
                                            || lpad(id::text, 5, '0')
            where hall_id = $1 and role in ('clerk', 'leader')
            """,
            hall_id,
        )
    staff_ids = {r["username"]: r["id"] for r in rows}

    items = hall.items
    rows = await conn.fetch(
        """
        insert into item (hall_id, department_id, code, name, category, kind, limit_unit,
                          statutory_limit, promised_limit, queue_id)
        select $1, t.department_id, t.code, t.name, t.category, t.kind, t.limit_unit,
               t.statutory_limit, t.promised_limit, t.queue_id
        from unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                    $8::int[], $9::int[], $10::int[])
             with ordinality as t(department_id, code, name, category, kind, limit_unit,
                                  statutory_limit, promised_limit, queue_id, ord)
        order by t.ord
        returning id, code
        """,
        hall_id,
        [dept_ids[i.department] for i in items],
        [i.code for i in items],
        [i.name for i in items],
        [i.category for i in items],
        [i.kind for i in items],
        [i.limit_unit for i in items],
        [i.statutory_limit for i in items],
        [i.promised_limit for i in items],
        [queue_ids[i.department] for i in items],
    )
    item_ids = {r["code"]: r["id"] for r in rows}
    # seed_demo also runs on a schema from before migration 0007 (the upgrade test seeds schema
    # v5 and then migrates), which has no sign-off or urgent limit on items yet
    if await conn.fetchval(
        "select exists (select 1 from information_schema.columns"
        " where table_name = 'item' and column_name = 'requires_signoff')"
    ):
        await conn.execute(
            """
            update item set requires_signoff = t.requires_signoff, urgent_limit = t.urgent_limit
            from unnest($1::int[], $2::bool[], $3::int[]) as t(id, requires_signoff, urgent_limit)
            where item.id = t.id
            """,
            [item_ids[i.code] for i in items],
            [i.requires_signoff for i in items],
            [i.urgent_limit for i in items],
        )
    await conn.copy_records_to_table(
        "item_material",
        columns=["item_id", "position", "name", "is_key", "copies", "note"],
        records=[
            (item_ids[i.code], pos, name, is_key, copies, note)
            for i in items
            for pos, (name, is_key, copies, note) in enumerate(i.materials, start=1)
        ],
    )
    await conn.copy_records_to_table(
        "item_fee",
        columns=["item_id", "name", "amount_cents", "basis"],
        records=[
            (item_ids[i.code], name, cents, basis) for i in items for name, cents, basis in i.fees
        ],
    )

    await conn.execute(
        """
        insert into device (hall_id, code, kind, name, secret_hash)
        select $1, t.code, t.kind, t.name, t.secret_hash
        from unnest($2::text[], $3::text[], $4::text[], $5::text[])
             with ordinality as t(code, kind, name, secret_hash, ord)
        order by t.ord
        """,
        hall_id,
        [d[0] for d in hall.devices],
        [d[1] for d in hall.devices],
        [d[2] for d in hall.devices],
        [hashes[d[1]] for d in hall.devices],
    )
    # the rating device (评价器) of every window, bound to it (from migration 0020 on: the
    # upgrade test seeds an older schema, where the statement itself would not prepare)
    if await conn.fetchval(_DEVICE_HAS_WINDOW):
        raters = _raters(hall)
        await conn.execute(
            """
            insert into device (hall_id, code, kind, name, secret_hash, window_id)
            select $1, t.code, 'rater', t.name, $4, t.window_id
            from unnest($2::text[], $3::text[], $5::int[])
                 with ordinality as t(code, name, window_id, ord)
            order by t.ord
            """,
            hall_id,
            [r[0] for r in raters],
            [r[2] for r in raters],
            hashes["rater"],
            [window_ids[r[3]] for r in raters],
        )

    today = datetime.now(TZ).date()
    await seed_calendar(conn, hall_id, calendar_years(today))

    # 领导带班: every department's leader is on duty on every working day of the roster period
    leaders = [(staff_ids[s[0]], dept_ids[s[3]]) for s in hall.staff if s[2] == "leader"]
    await conn.copy_records_to_table(
        "leader_duty",
        columns=["hall_id", "duty_date", "staff_id", "department_id"],
        records=[
            (hall_id, day, staff_id, dept_id)
            for day in _working_days(*duty_period(today))
            for staff_id, dept_id in leaders
        ],
    )
    return hall_id


def _working_days(first: date, last: date) -> list[date]:
    """Working days by the same rule as the seeded hall calendar: the chinese_calendar overrides
    where the library has data, Monday–Friday otherwise (2027 and later, for now)."""
    overrides = calendar_from_library(range(first.year, last.year + 1))
    days, day = [], first
    while day <= last:
        working, _ = overrides.get(day, (day.weekday() < 5, ""))
        if working:
            days.append(day)
        day += timedelta(days=1)
    return days


async def _summary(conn: Conn) -> dict:
    rows = await conn.fetch(
        """
        select h.code, h.name, h.level, p.code as parent,
          (select count(*) from department d where d.hall_id = h.id) as departments,
          (select count(*) from queue q where q.hall_id = h.id) as queues,
          (select count(*) from service_window w where w.hall_id = h.id) as windows,
          (select count(*) from staff s where s.hall_id = h.id) as staff,
          (select count(*) from item i where i.hall_id = h.id) as items,
          (select count(*) from item i where i.hall_id = h.id and i.kind = 'immediate') as immediate_items,
          (select count(*) from item_material m join item i on i.id = m.item_id
            where i.hall_id = h.id) as materials,
          (select count(*) from item_fee f join item i on i.id = f.item_id where i.hall_id = h.id) as fees,
          (select count(*) from device v where v.hall_id = h.id) as devices,
          (select count(*) from calendar_day c where c.hall_id = h.id) as calendar_days,
          (select count(*) from leader_duty l where l.hall_id = h.id) as leader_duty
        from hall h left join hall p on p.id = h.parent_id
        where h.code = any($1::text[])
        order by h.id
        """,
        [h.code for h in _plan()],
    )
    halls = {r["code"]: dict(r) for r in rows}
    return {
        "hall_codes": list(halls),
        # one line per hall, for printing
        "counts": {
            code: {k: v for k, v in h.items() if k not in ("code", "name", "level", "parent")}
            for code, h in halls.items()
        },
        "halls": halls,
        "logins": demo_logins(),
    }
