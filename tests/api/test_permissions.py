"""The whole permission matrix over HTTP: role × route × own/other target -> allowed or the
exact refusal code.

The expectations are written out below by hand, NOT derived from server.domain.permissions.
POLICY: a wrong policy row (or a handler that checks the wrong command) must make this test
fail. Every authenticated route in the catalogue must appear in ROUTES, so a new route forces
an update here.

Cell values in the tables:
  ok                 2xx
  wrong_role, other_hall, other_department, not_your_window, not_signed_in
                     403 with that error code
  409:<code>, 404:<code>
                     authorised, but refused by the command itself (e.g. window taken)
  own                in the ticket commands' table: that command's own exact answer; in the
                     case commands' table: that command's answer on that case (C1, CJ), as
                     the command sequence below has moved it

Denied commands must change nothing (window sign-ins and statuses, notice lines, calendar day,
duty roster, cases and their history, materials, fees, notices, sign-offs, irregularities, SMS,
the event log) and must be in the audit trail with outcome 'denied'."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Self

import asyncpg
import orjson
import socketio
import websockets
from aiohttp import ClientSession, DummyCookieJar

from db.queries import admin as admin_sql
from server import demo_hall
from server.app import create_app  # noqa: F401  (importing the app registers every route)
from server.catalogue import CATALOGUE
from server.demo_workflows import COMPANY_SETUP
from server.keys import AUTH
from tests.cases.helpers import at, use_clock
from tests.conftest import LiveServer
from tests.conftest import test_settings as settings_for_test
from tests.realtime.sio import SioClient

FORBIDDEN_CODES = {
    "wrong_role",
    "other_hall",
    "other_department",
    "not_your_window",
    "not_signed_in",
}


def table(text: str) -> dict[tuple[str, str], str]:
    """A whitespace-separated table: header row of targets, then `actor cell cell ...`."""
    lines = [ln.split() for ln in text.strip().splitlines() if ln.strip()]
    header, rows = lines[0], lines[1:]
    out: dict[tuple[str, str], str] = {}
    for row in rows:
        actor, cells = row[0], row[1:]
        assert len(cells) == len(header), f"table row {row} does not match header {header}"
        for target, cell in zip(header, cells):
            out[(actor, target)] = cell
    return out


# ------------------------------------------------------------------------------ the actors
# label -> (login, kind). Clerks' sign-ins are set by reset_windows() before every command.
ACTORS: dict[str, tuple[str, str]] = {
    "clerk": ("clerk001", "staff"),  # signed in at rizhao window 1 (amr)
    "clerk_unsigned": ("clerk003", "staff"),  # amr clerk, not signed in anywhere
    "leader": ("leader.amr", "staff"),
    "supervisor": ("supervisor1", "staff"),  # city supervision office
    "admin": ("admin", "staff"),  # city hall admin
    "county_clerk": ("juxian.clerk01", "staff"),  # signed in at juxian window 1
    "county_admin": ("juxian.admin", "staff"),
    "kiosk": ("kiosk-01", "device"),
    "display": ("display-01", "device"),
}

# hall targets: the actor's city hall, and a county hall of that city
HALLS = {"city": "rizhao", "county": "juxian"}

# window targets: (hall, window_no). Baseline state (reset_windows):
#   W1  rizhao 1  amr  clerk001 signed in, open
#   W2  rizhao 2  amr  clerk002 signed in, open
#   W3  rizhao 3  amr  nobody, closed
#   W30 rizhao 30 psb  clerk030 signed in, open
#   J1  juxian 1  amr  juxian.clerk01 signed in, open
WINDOWS = {
    "W1": ("rizhao", 1),
    "W2": ("rizhao", 2),
    "W3": ("rizhao", 3),
    "W30": ("rizhao", 30),
    "J1": ("juxian", 1),
}
BASELINE_SIGNINS = [
    ("clerk001", "rizhao", 1),
    ("clerk002", "rizhao", 2),
    ("clerk030", "rizhao", 30),
    ("juxian.clerk01", "juxian", 1),
]

# case targets: promised cases accepted through the API before the matrix runs, at DAY 10:00
# (the server's clock throughout the matrix, a day leader.amr is on duty):
#   C1   rizhao amr-001, accepted by clerk001 at W1
#   C30  rizhao psb-001, accepted by clerk030 at W30 (another department)
#   CJ   juxian amr-001, accepted by juxian.clerk01 at J1 (a county hall)
CASES = {
    "C1": ("rizhao", "clerk001", "amr-001"),
    "C30": ("rizhao", "clerk030", "psb-001"),
    "CJ": ("juxian", "juxian.clerk01", "amr-001"),
}

# joint step targets (多证联办, accepted after the cases above): the licence step (amr) of a
# joint case accepted by clerk001 at W1, and of one accepted by juxian.clerk01 at J1
STEPS = {
    "S1": ("rizhao", "clerk001"),
    "SJ": ("juxian", "juxian.clerk01"),
}

# project targets (一表通): a construction project of each hall, its record written directly
# (no stage accepted yet: the record shows the first stage's intake)
PROJECTS = {"P1": "rizhao", "PJ": "juxian"}

# ------------------------------------------------------------------------------ expectations
ANYONE = table("""
                 -
clerk            ok
clerk_unsigned   ok
leader           ok
supervisor       ok
admin            ok
county_clerk     ok
county_admin     ok
kiosk            ok
display          ok
""")

HALL_READ = table("""
                 city        county
clerk            ok          other_hall
clerk_unsigned   ok          other_hall
leader           ok          other_hall
supervisor       ok          ok
admin            ok          other_hall
county_clerk     other_hall  ok
county_admin     other_hall  ok
kiosk            ok          other_hall
display          ok          other_hall
""")

EVENTS_READ = table("""
                 city        county
clerk            ok          other_hall
clerk_unsigned   ok          other_hall
leader           ok          other_hall
supervisor       ok          ok
admin            ok          other_hall
county_clerk     other_hall  ok
county_admin     other_hall  ok
kiosk            wrong_role  wrong_role
display          ok          other_hall
""")

STAFF_READ = table("""
                 city        county
clerk            wrong_role  wrong_role
clerk_unsigned   wrong_role  wrong_role
leader           ok          other_hall
supervisor       ok          ok
admin            ok          other_hall
county_clerk     wrong_role  wrong_role
county_admin     other_hall  ok
kiosk            wrong_role  wrong_role
display          wrong_role  wrong_role
""")

AUDIT_READ = table("""
                 city        county
clerk            wrong_role  wrong_role
clerk_unsigned   wrong_role  wrong_role
leader           wrong_role  wrong_role
supervisor       ok          ok
admin            ok          other_hall
county_clerk     wrong_role  wrong_role
county_admin     other_hall  ok
kiosk            wrong_role  wrong_role
display          wrong_role  wrong_role
""")

# calendar PUT, duty PUT, notice PUT: the hall's own admin only (not even the supervisor)
HALL_ADMIN = table("""
                 city        county
clerk            wrong_role  wrong_role
clerk_unsigned   wrong_role  wrong_role
leader           wrong_role  wrong_role
supervisor       wrong_role  wrong_role
admin            ok          other_hall
county_clerk     wrong_role  wrong_role
county_admin     other_hall  ok
kiosk            wrong_role  wrong_role
display          wrong_role  wrong_role
""")

WORKFLOW_READ = table("""
                 city        county
clerk            ok          other_hall
clerk_unsigned   ok          other_hall
leader           ok          other_hall
supervisor       ok          ok
admin            ok          other_hall
county_clerk     other_hall  ok
county_admin     other_hall  ok
kiosk            wrong_role  wrong_role
display          wrong_role  wrong_role
""")

# a county hall runs its city's definitions: its own admin is let in, and told so
WORKFLOW_PUBLISH = {
    cell: ("409:defined_by_city" if cell == ("county_admin", "county") else want)
    for cell, want in HALL_ADMIN.items()
}

# leaders sign in at a window of their department too: they sign off there
SIGN_IN = table("""
               W1                W2                W3                       W30               J1
clerk          ok                409:window_taken  409:signed_in_elsewhere  other_department  other_hall
clerk_unsigned 409:window_taken  409:window_taken  ok                       other_department  other_hall
leader         409:window_taken  409:window_taken  ok                       other_department  other_hall
supervisor     wrong_role        wrong_role        wrong_role               wrong_role        wrong_role
admin          wrong_role        wrong_role        wrong_role               wrong_role        wrong_role
county_clerk   other_hall        other_hall        other_hall               other_hall        ok
county_admin   wrong_role        wrong_role        wrong_role               wrong_role        wrong_role
kiosk          wrong_role        wrong_role        wrong_role               wrong_role        wrong_role
display        wrong_role        wrong_role        wrong_role               wrong_role        wrong_role
""")

SIGN_OUT = table("""
                 W1             W2               W3                 W30              J1
clerk            ok             not_your_window  not_your_window    not_your_window  other_hall
clerk_unsigned   not_signed_in  not_signed_in    not_signed_in      not_signed_in    other_hall
leader           not_signed_in  not_signed_in    not_signed_in      not_signed_in    other_hall
supervisor       wrong_role     wrong_role       wrong_role         wrong_role       wrong_role
admin            ok             ok               409:not_signed_in  ok               other_hall
county_clerk     other_hall     other_hall       other_hall         other_hall       ok
county_admin     other_hall     other_hall       other_hall         other_hall       ok
kiosk            wrong_role     wrong_role       wrong_role         wrong_role       wrong_role
display          wrong_role     wrong_role       wrong_role         wrong_role       wrong_role
""")

# body {"status": "paused"}: a window without a clerk cannot be opened or paused
SET_STATUS = table("""
                 W1             W2               W3                W30              J1
clerk            ok             not_your_window  not_your_window   not_your_window  other_hall
clerk_unsigned   not_signed_in  not_signed_in    not_signed_in     not_signed_in    other_hall
leader           wrong_role     wrong_role       wrong_role        wrong_role       wrong_role
supervisor       wrong_role     wrong_role       wrong_role        wrong_role       wrong_role
admin            ok             ok               409:no_clerk      ok               other_hall
county_clerk     other_hall     other_hall       other_hall        other_hall       ok
county_admin     other_hall     other_hall       other_hall        other_hall       ok
kiosk            wrong_role     wrong_role       wrong_role        wrong_role       wrong_role
display          wrong_role     wrong_role       wrong_role        wrong_role       wrong_role
""")

# GET a window's board: the clerk at it, its department's leader, supervision, the hall admin
WINDOW_BOARD = table("""
                 W1             W2               W3                W30               J1
clerk            ok             not_your_window  not_your_window   not_your_window   other_hall
clerk_unsigned   not_signed_in  not_signed_in    not_signed_in     not_signed_in     other_hall
leader           ok             ok               ok                other_department  other_hall
supervisor       ok             ok               ok                ok                ok
admin            ok             ok               ok                ok                other_hall
county_clerk     other_hall     other_hall       other_hall        other_hall        ok
county_admin     other_hall     other_hall       other_hall        other_hall        ok
kiosk            wrong_role     wrong_role       wrong_role        wrong_role        wrong_role
display          wrong_role     wrong_role       wrong_role        wrong_role        wrong_role
""")

# ticket commands at a window (call-next, call, recall, no-show, start, finish, transfer, park,
# resume): only the clerk signed in at that very window. `own` is what that clerk gets, which
# differs per command (own_window() puts each command's exact answer there).
TICKET_CALL = table("""
                 W1             W2               W3                W30               J1
clerk            own            not_your_window  not_your_window   not_your_window   other_hall
clerk_unsigned   not_signed_in  not_signed_in    not_signed_in     not_signed_in     other_hall
leader           wrong_role     wrong_role       wrong_role        wrong_role        wrong_role
supervisor       wrong_role     wrong_role       wrong_role        wrong_role        wrong_role
admin            wrong_role     wrong_role       wrong_role        wrong_role        wrong_role
county_clerk     other_hall     other_hall       other_hall        other_hall        own
county_admin     wrong_role     wrong_role       wrong_role        wrong_role        wrong_role
kiosk            wrong_role     wrong_role       wrong_role        wrong_role        wrong_role
display          wrong_role     wrong_role       wrong_role        wrong_role        wrong_role
""")

# 好差评: the ballot box's slips are keyed by supervision (a city's for its county halls too);
# the slip of the matrix is no notice's
BALLOT = table("""
                 city              county
clerk            wrong_role        wrong_role
clerk_unsigned   wrong_role        wrong_role
leader           wrong_role        wrong_role
supervisor       404:unknown_slip  404:unknown_slip
admin            wrong_role        wrong_role
county_clerk     wrong_role        wrong_role
county_admin     wrong_role        wrong_role
kiosk            wrong_role        wrong_role
display          wrong_role        wrong_role
""")

# register at the kiosk (the hall admin may register on a citizen's behalf)
REGISTER = table("""
                 city        county
clerk            wrong_role  wrong_role
clerk_unsigned   wrong_role  wrong_role
leader           wrong_role  wrong_role
supervisor       wrong_role  wrong_role
admin            ok          other_hall
county_clerk     wrong_role  wrong_role
county_admin     other_hall  ok
kiosk            ok          other_hall
display          wrong_role  wrong_role
""")

# a registration by its barcode: staff of the hall (a clerk only when signed in). The barcode
# asked for does not exist, so "allowed" shows as 404 unknown_registration.
REGISTRATION_READ = table("""
                 city                          county
clerk            404:unknown_registration      other_hall
clerk_unsigned   not_signed_in                 other_hall
leader           404:unknown_registration      other_hall
supervisor       404:unknown_registration      404:unknown_registration
admin            404:unknown_registration      other_hall
county_clerk     other_hall                    404:unknown_registration
county_admin     other_hall                    404:unknown_registration
kiosk            wrong_role                    wrong_role
display          wrong_role                    wrong_role
""")

# a case: the clerks and the leader of its department, supervision, its hall's admin
CASE_READ = table("""
                 C1          C30               CJ
clerk            ok          other_department  other_hall
clerk_unsigned   ok          other_department  other_hall
leader           ok          other_department  other_hall
supervisor       ok          ok                ok
admin            ok          ok                other_hall
county_clerk     other_hall  other_hall        ok
county_admin     other_hall  other_hall        ok
kiosk            wrong_role  wrong_role        wrong_role
display          wrong_role  wrong_role        wrong_role
""")

# a command on a case: a clerk of its department signed in at any window of it; `own` is what
# that clerk gets on that case (own_case() puts each command's exact answer there)
CASE_WORK = table("""
                 C1             C30               CJ
clerk            own            other_department  other_hall
clerk_unsigned   not_signed_in  other_department  other_hall
leader           wrong_role     wrong_role        wrong_role
supervisor       wrong_role     wrong_role        wrong_role
admin            wrong_role     wrong_role        wrong_role
county_clerk     other_hall     other_hall        own
county_admin     wrong_role     wrong_role        wrong_role
kiosk            wrong_role     wrong_role        wrong_role
display          wrong_role     wrong_role        wrong_role
""")

# a joint step is claimed, then completed by the claimer, at a window of its department: run in
# this order, the clerk's claim and then their completion succeed
STEP_WORK = table("""
                 S1             SJ
clerk            ok             other_hall
clerk_unsigned   not_signed_in  other_hall
leader           wrong_role     wrong_role
supervisor       wrong_role     wrong_role
admin            wrong_role     wrong_role
county_clerk     other_hall     ok
county_admin     wrong_role     wrong_role
kiosk            wrong_role     wrong_role
display          wrong_role     wrong_role
""")

# the leader's sign-off: the case's department's leader (on duty: test_signoff_not_on_duty)
CASE_SIGNOFF = table("""
                 C1          C30               CJ
clerk            wrong_role  wrong_role        wrong_role
clerk_unsigned   wrong_role  wrong_role        wrong_role
leader           ok          other_department  other_hall
supervisor       wrong_role  wrong_role        wrong_role
admin            wrong_role  wrong_role        wrong_role
county_clerk     wrong_role  wrong_role        wrong_role
county_admin     wrong_role  wrong_role        wrong_role
kiosk            wrong_role  wrong_role        wrong_role
display          wrong_role  wrong_role        wrong_role
""")

# accept (or not accept) at the window: a clerk signed in at a window of the hall
CASE_ACCEPT = table("""
                 city           county
clerk            ok             other_hall
clerk_unsigned   not_signed_in  other_hall
leader           wrong_role     wrong_role
supervisor       wrong_role     wrong_role
admin            wrong_role     wrong_role
county_clerk     other_hall     ok
county_admin     wrong_role     wrong_role
kiosk            wrong_role     wrong_role
display          wrong_role     wrong_role
""")

# a case found by the paper the applicant brings: ?code= names the hall's first case of DAY
# (C1 in the city, CJ in the county), so the scope is that case's department and hall
CASE_FIND = table("""
                 city        county
clerk            ok          other_hall
clerk_unsigned   ok          other_hall
leader           ok          other_hall
supervisor       ok          ok
admin            ok          other_hall
county_clerk     other_hall  ok
county_admin     other_hall  ok
kiosk            wrong_role  wrong_role
display          wrong_role  wrong_role
""")

# the leader's waiting sign-offs (own department), case metrics (own hall): the same roles and
# scopes as the staff list
SIGNOFF_LIST = STAFF_READ
CASE_METRICS = STAFF_READ

# supervision's alarms of a hall: a clerk's own window's (signed in), a leader's department's,
# supervision (the city's over its county halls), the hall admin
ALARM_LIST = table("""
                 city           county
clerk            ok             other_hall
clerk_unsigned   not_signed_in  other_hall
leader           ok             other_hall
supervisor       ok             ok
admin            ok             other_hall
county_clerk     other_hall     ok
county_admin     other_hall     ok
kiosk            wrong_role     wrong_role
display          wrong_role     wrong_role
""")

# one alarm, raised on the case of that name at the case's window (A1 at W1, A30 at W30, AJ at
# J1): the clerk of that window, the department's leader, supervision, the hall admin
ALARM_GET = table("""
                 C1             C30               CJ
clerk            ok             not_your_window   other_hall
clerk_unsigned   not_signed_in  not_signed_in     other_hall
leader           ok             other_department  other_hall
supervisor       ok             ok                ok
admin            ok             ok                other_hall
county_clerk     other_hall     other_hall        ok
county_admin     other_hall     other_hall        ok
kiosk            wrong_role     wrong_role        wrong_role
display          wrong_role     wrong_role        wrong_role
""")

# the supervision wall and the month's scoring: supervision and the hall admin (as the audit)
SUPERVISION_READ = AUDIT_READ

# an alarm's life (A1, A30, AJ as in ALARM_GET): the supervisors of its hall or of the city
# above it handle it; `own` is supervisor1's answer on that alarm (own_alarm())
ALARM_SUPERVISE = table("""
                 C1          C30         CJ
clerk            wrong_role  wrong_role  wrong_role
clerk_unsigned   wrong_role  wrong_role  wrong_role
leader           wrong_role  wrong_role  wrong_role
supervisor       own         own         own
admin            wrong_role  wrong_role  wrong_role
county_clerk     wrong_role  wrong_role  wrong_role
county_admin     wrong_role  wrong_role  wrong_role
kiosk            wrong_role  wrong_role  wrong_role
display          wrong_role  wrong_role  wrong_role
""")

# the leader of the alarm's department answers a 督办 and appeals
ALARM_DEPARTMENT = table("""
                 C1          C30               CJ
clerk            wrong_role  wrong_role        wrong_role
clerk_unsigned   wrong_role  wrong_role        wrong_role
leader           own         other_department  other_hall
supervisor       wrong_role  wrong_role        wrong_role
admin            wrong_role  wrong_role        wrong_role
county_clerk     wrong_role  wrong_role        wrong_role
county_admin     wrong_role  wrong_role        wrong_role
kiosk            wrong_role  wrong_role        wrong_role
display          wrong_role  wrong_role        wrong_role
""")

# 整改: a bad review's task on the case of that name (R1 on C1's amr, R30 on C30's psb, RJ on CJ):
# its department's leader works and appeals it; supervision (the city's over its county hall)
# decides an appeal; its department's leader, supervision and the hall admin read it
RECT_WORK = table("""
                 C1          C30               CJ
clerk            wrong_role  wrong_role        wrong_role
clerk_unsigned   wrong_role  wrong_role        wrong_role
leader           own         other_department  other_hall
supervisor       wrong_role  wrong_role        wrong_role
admin            wrong_role  wrong_role        wrong_role
county_clerk     wrong_role  wrong_role        wrong_role
county_admin     wrong_role  wrong_role        wrong_role
kiosk            wrong_role  wrong_role        wrong_role
display          wrong_role  wrong_role        wrong_role
""")
RECT_DECIDE = ALARM_SUPERVISE
RECT_READ = table("""
                 C1          C30               CJ
clerk            wrong_role  wrong_role        wrong_role
clerk_unsigned   wrong_role  wrong_role        wrong_role
leader           ok          other_department  other_hall
supervisor       ok          ok                ok
admin            ok          ok                other_hall
county_clerk     wrong_role  wrong_role        wrong_role
county_admin     other_hall  other_hall        ok
kiosk            wrong_role  wrong_role        wrong_role
display          wrong_role  wrong_role        wrong_role
""")

# a manual alarm raised on a hall's window 1: its supervisors, or the city's on a county hall
ALARM_RAISE = table("""
                 city        county
clerk            wrong_role  wrong_role
clerk_unsigned   wrong_role  wrong_role
leader           wrong_role  wrong_role
supervisor       ok          ok
admin            wrong_role  wrong_role
county_clerk     wrong_role  wrong_role
county_admin     wrong_role  wrong_role
kiosk            wrong_role  wrong_role
display          wrong_role  wrong_role
""")

DAY = "2026-12-02"


@dataclass(frozen=True)
class RouteCase:
    expect: dict[tuple[str, str], str]
    # "hall" | "window" | "case" | "alarm" (one raised on that case) | "rect" (a bad review's
    # rectification task on that case) | "step" (a joint step) |
    # "project" | "none" (no hall in the path)
    kind: str = "hall"
    command: str | None = None  # audit action of a refusal, for state-changing routes
    query: str = ""
    body: Callable[[dict, str], dict] | None = None  # (ids, hall code) -> JSON body
    code: str | None = None  # the {code} of the path, when not the workflow's or amr-001


HALL = "/api/halls/{hall}"
WINDOW = HALL + "/windows/{window_no}"


def own_window(expect: dict[tuple[str, str], str], own: str) -> dict[tuple[str, str], str]:
    return {cell: own if want == "own" else want for cell, want in expect.items()}


def own_case(c1: str, cj: str) -> dict[tuple[str, str], str]:
    """CASE_WORK with the allowed clerk's answer on C1 and on CJ."""
    own = {"C1": c1, "CJ": cj}
    return {(a, t): own[t] if want == "own" else want for (a, t), want in CASE_WORK.items()}


def admin_answers(answer: str) -> dict[tuple[str, str], str]:
    """HALL_ADMIN with the allowed admin's exact answer."""
    return {cell: answer if want == "ok" else want for cell, want in HALL_ADMIN.items()}


CASE = "/api/cases/{case_id}"
ALARM = "/api/alarms/{alarm_id}"
RECT = "/api/rectifications/{rectification_id}"


def own_alarm(expect: dict[tuple[str, str], str], *own: str) -> dict[tuple[str, str], str]:
    """An alarm table with the allowed actor's answer on A1, A30 and AJ (or one for all)."""
    by = dict(zip(("C1", "C30", "CJ"), own * 3 if len(own) == 1 else own))
    return {(a, t): by[t] if want == "own" else want for (a, t), want in expect.items()}


ROUTES: dict[tuple[str, str], RouteCase] = {
    ("GET", "/api/session"): RouteCase(ANYONE, kind="none"),
    ("POST", "/api/auth/logout"): RouteCase(ANYONE, kind="none"),  # run last, see test below
    ("GET", "/api/halls"): RouteCase(ANYONE, kind="none"),
    ("GET", HALL): RouteCase(HALL_READ),
    ("GET", HALL + "/snapshot"): RouteCase(HALL_READ),
    ("GET", HALL + "/events"): RouteCase(EVENTS_READ, query="?since=0"),
    ("GET", HALL + "/departments"): RouteCase(HALL_READ),
    ("GET", HALL + "/windows"): RouteCase(HALL_READ),
    ("GET", HALL + "/queues"): RouteCase(HALL_READ),
    ("GET", HALL + "/items"): RouteCase(HALL_READ, query="?department=amr"),
    ("GET", HALL + "/items/{code}"): RouteCase(HALL_READ),
    ("GET", HALL + "/staff"): RouteCase(STAFF_READ),
    ("GET", HALL + "/audit"): RouteCase(AUDIT_READ),
    ("GET", HALL + "/calendar"): RouteCase(HALL_READ, query="?from=2026-01-01&to=2026-12-31"),
    ("GET", HALL + "/deadline"): RouteCase(
        HALL_READ, query="?start=2026-12-01T10:00:00%2B08:00&amount=1&unit=working_day"
    ),
    ("GET", HALL + "/duty"): RouteCase(HALL_READ, query=f"?date={DAY}"),
    ("GET", HALL + "/calendar/years"): RouteCase(HALL_READ),
    ("PUT", HALL + "/calendar/{day}"): RouteCase(
        HALL_ADMIN,
        command="calendar.edit",
        body=lambda ids, hall: {"is_working": False, "note": "权限矩阵"},
    ),
    ("POST", HALL + "/calendar/notice"): RouteCase(
        HALL_ADMIN,
        command="calendar.import",
        body=lambda ids, hall: {
            "year": 2027,
            "title": f"权限矩阵 {hall}",
            "holidays": [{"name": "元旦", "from": "2027-01-01", "to": "2027-01-03"}],
        },
    ),
    ("PUT", HALL + "/duty/{day}"): RouteCase(
        HALL_ADMIN,
        command="duty.set",
        body=lambda ids, hall: {"staff_ids": [ids[f"{hall}.leader"]]},
    ),
    ("POST", HALL + "/sessions/revoke"): RouteCase(
        HALL_ADMIN,
        command="auth.revoke_sessions",
        body=lambda ids, hall: {"device_id": ids[f"{hall}.spare_display"]},
    ),
    ("PUT", HALL + "/notice"): RouteCase(
        HALL_ADMIN, command="notice.set", body=lambda ids, hall: {"text": f"权限矩阵 {hall}"}
    ),
    # the administration (issue 12): the hall's own admin only
    ("GET", HALL + "/admin/staff"): RouteCase(HALL_ADMIN),
    ("POST", HALL + "/staff"): RouteCase(
        HALL_ADMIN,
        command="staff.create",
        body=lambda ids, hall: {
            "username": f"pm.{hall}",
            "name": "权限矩阵",
            "role": "clerk",
            "department": "amr",
        },
    ),
    ("PUT", HALL + "/staff/{staff_id}"): RouteCase(
        HALL_ADMIN,
        command="staff.update",
        body=lambda ids, hall: {"name": "权限矩阵", "role": "clerk", "department": "amr"},
    ),
    ("POST", HALL + "/staff/{staff_id}/password-reset"): RouteCase(
        HALL_ADMIN, command="staff.reset_password"
    ),
    ("POST", HALL + "/staff/{staff_id}/unlock"): RouteCase(HALL_ADMIN, command="staff.unlock"),
    ("GET", HALL + "/staff/{staff_id}/sessions"): RouteCase(HALL_ADMIN),
    ("POST", HALL + "/staff/{staff_id}/sessions/{session}/end"): RouteCase(
        admin_answers("404:unknown_session"), command="staff.end_session"
    ),
    ("POST", "/api/auth/password"): RouteCase(
        {
            cell: "wrong_role" if cell[0] in ("kiosk", "display") else "400:wrong_password"
            for cell in ANYONE
        },
        kind="none",
        command="auth.change_password",
        body=lambda ids, hall: {"current": "not-the-password", "new": "Matrix-2026-pw"},
    ),
    ("GET", HALL + "/devices"): RouteCase(HALL_ADMIN),
    ("POST", HALL + "/devices"): RouteCase(
        HALL_ADMIN,
        command="device.register",
        body=lambda ids, hall: {"code": f"pm-{hall}", "kind": "kiosk", "name": "权限矩阵"},
    ),
    ("PUT", HALL + "/devices/{device_id}"): RouteCase(
        HALL_ADMIN, command="device.rename", body=lambda ids, hall: {"name": "备用叫号屏"}
    ),
    ("POST", HALL + "/devices/{device_id}/revoke"): RouteCase(HALL_ADMIN, command="device.revoke"),
    ("POST", HALL + "/devices/{device_id}/rotate"): RouteCase(HALL_ADMIN, command="device.rotate"),
    ("GET", HALL + "/admin/windows"): RouteCase(HALL_ADMIN),
    ("POST", HALL + "/windows"): RouteCase(
        HALL_ADMIN,
        command="window.create",
        body=lambda ids, hall: {
            "window_no": 901,
            "name": "权限矩阵",
            "department": "amr",
            "queues": [["amr"]],
        },
    ),
    ("PUT", HALL + "/windows/{window_no}"): RouteCase(
        HALL_ADMIN, command="window.configure", body=lambda ids, hall: ids[f"{hall}.window3"]
    ),
    ("GET", HALL + "/admin/items"): RouteCase(HALL_ADMIN),
    ("PUT", HALL + "/items/{code}"): RouteCase(
        HALL_ADMIN,
        command="item.publish",
        code="pm-item",
        body=lambda ids, hall: {
            "name": "权限矩阵事项",
            "department": "amr",
            "kind": "immediate",
            "statutory_limit": 0,
        },
    ),
    ("GET", HALL + "/items/{code}/versions"): RouteCase(HALL_ADMIN),
    ("GET", HALL + "/settings"): RouteCase(HALL_ADMIN),
    ("PUT", HALL + "/settings"): RouteCase(
        HALL_ADMIN, command="hall.set_settings", body=lambda ids, hall: ids[f"{hall}.settings"]
    ),
    ("PUT", HALL + "/departments/{code}"): RouteCase(
        HALL_ADMIN,
        command="department.save",
        code="pm-dept",
        body=lambda ids, hall: {"name": "权限矩阵部门"},
    ),
    ("PUT", HALL + "/queues/{code}"): RouteCase(
        HALL_ADMIN,
        command="queue.save",
        code="pm-queue",
        body=lambda ids, hall: {"name": "权限矩阵队列", "prefix": "PM"},
    ),
    ("GET", HALL + "/admin/export/{kind}"): RouteCase(HALL_ADMIN, query="?format=csv"),
    ("POST", HALL + "/admin/import/{kind}"): RouteCase(
        admin_answers("400:unreadable_file"),
        command="admin.import",
        body=lambda ids, hall: {"format": "xlsx", "content": "bm90IGEgc3ByZWFkc2hlZXQ="},
    ),
    ("PUT", HALL + "/registration-hours"): RouteCase(
        HALL_ADMIN, command="registration.set_open", body=lambda ids, hall: {"open": True}
    ),
    ("POST", WINDOW + "/sign-in"): RouteCase(SIGN_IN, kind="window", command="window.sign_in"),
    ("POST", WINDOW + "/sign-out"): RouteCase(SIGN_OUT, kind="window", command="window.sign_out"),
    ("POST", WINDOW + "/status"): RouteCase(
        SET_STATUS,
        kind="window",
        command="window.set_status",
        body=lambda ids, hall: {"status": "paused"},
    ),
    ("GET", WINDOW + "/board"): RouteCase(WINDOW_BOARD, kind="window"),
    # 好差评 at the window: the clerk asks (the matrix's ticket is nobody's), the window's
    # device reads the request and sends the tap (no actor of the matrix is a rating device)
    ("POST", WINDOW + "/rating-request"): RouteCase(
        own_window(TICKET_CALL, "404:unknown_ticket"),
        kind="window",
        command="rating.request",
        body=lambda ids, hall: {"ticket_id": 999999999},
    ),
    ("GET", WINDOW + "/rating-request"): RouteCase(own_window(TICKET_CALL, "ok"), kind="window"),
    ("POST", WINDOW + "/rating"): RouteCase(
        {cell: "wrong_role" for cell in TICKET_CALL},
        kind="window",
        command="rating.by_device",
        body=lambda ids, hall: {"level": 5},
    ),
    ("POST", HALL + "/ballots"): RouteCase(
        BALLOT,
        command="rating.by_slip",
        body=lambda ids, hall: {"slip": "00000000000000", "level": 5},
    ),
    ("GET", HALL + "/registrations/{reg_no}"): RouteCase(REGISTRATION_READ),
    ("POST", HALL + "/registrations"): RouteCase(
        REGISTER, command="ticket.register", body=lambda ids, hall: {"item": "amr-001"}
    ),
    **{
        ("POST", WINDOW + "/" + action): RouteCase(
            own_window(TICKET_CALL, own), kind="window", command=f"ticket.{name}", body=body
        )
        # the matrix runs them in this order on the baseline windows, after the kiosk's and the
        # admin's registrations: what the clerk at their own window gets is exact
        for action, name, body, own in [
            ("call-next", "call_next", None, "ok"),
            (
                "call",
                "call_ticket",
                lambda ids, hall: {"ticket_no": "A001", "reason": "权限矩阵"},
                "409:window_busy",
            ),
            ("recall", "recall", None, "ok"),
            ("no-show", "no_show", lambda ids, hall: {"requeue": False}, "409:recall_first"),
            ("start", "start", None, "ok"),
            ("finish", "finish", None, "ok"),
            ("transfer", "transfer", lambda ids, hall: {"queue": "amr"}, "409:nothing_current"),
            ("park", "park", None, "409:nothing_current"),
            ("cancel", "cancel", lambda ids, hall: {"reason": "权限矩阵"}, "409:nothing_current"),
            ("resume", "resume", lambda ids, hall: {"ticket_id": 1}, "404:unknown_ticket"),
        ]
    },
    # cases: reads
    ("GET", CASE): RouteCase(CASE_READ, kind="case"),
    ("GET", CASE + "/notice"): RouteCase(CASE_READ, kind="case"),
    ("GET", WINDOW + "/cases"): RouteCase(WINDOW_BOARD, kind="window"),
    ("GET", HALL + "/cases/find"): RouteCase(CASE_FIND, query="?code={case_no}"),
    ("GET", HALL + "/signoffs"): RouteCase(SIGNOFF_LIST),
    ("GET", HALL + "/case-metrics"): RouteCase(CASE_METRICS),
    ("GET", HALL + "/alarms"): RouteCase(ALARM_LIST),
    ("GET", "/api/alarms/{alarm_id}"): RouteCase(ALARM_GET, kind="alarm"),
    ("GET", HALL + "/supervision"): RouteCase(SUPERVISION_READ),
    ("GET", HALL + "/supervision/month"): RouteCase(SUPERVISION_READ, query="?month=2026-12"),
    ("GET", HALL + "/supervision/rules"): RouteCase(SUPERVISION_READ),
    ("POST", HALL + "/supervision/rules"): RouteCase(
        SUPERVISION_READ,
        command="supervision.set_rules",
        body=lambda ids, hall: {"rules": {"answer_days": 5}},
    ),
    # workflow definitions
    ("GET", HALL + "/workflows"): RouteCase(WORKFLOW_READ),
    # joint steps: the inbox (a clerk's and a leader's own department's), a case's steps, and
    # the licence step claimed, then completed, by the clerk at its department's window
    ("GET", HALL + "/inbox"): RouteCase(WORKFLOW_READ),
    ("GET", CASE + "/steps"): RouteCase(CASE_READ, kind="case"),
    ("POST", "/api/joint-steps/{step_id}/claim"): RouteCase(
        STEP_WORK, kind="step", command="joint_step.claim"
    ),
    ("POST", "/api/joint-steps/{step_id}/complete"): RouteCase(
        STEP_WORK,
        kind="step",
        command="joint_step.complete",
        body=lambda ids, hall: {"note": "权限矩阵", "issued": ["营业执照"]},
    ),
    ("GET", HALL + "/workflows/{code}"): RouteCase(WORKFLOW_READ),
    # 一表通: what an intake asks for, a hall's projects, one project's record
    ("GET", HALL + "/workflows/{code}/intake"): RouteCase(WORKFLOW_READ),
    ("GET", HALL + "/projects"): RouteCase(WORKFLOW_READ),
    ("GET", "/api/projects/{project_no}"): RouteCase(
        {
            (actor, target): WORKFLOW_READ[(actor, "city" if hall == "rizhao" else "county")]
            for actor, target in WORKFLOW_READ
            for target, hall in PROJECTS.items()
        },
        kind="project",
    ),
    # the credit blacklist: kept by the hall's admin, read by supervision and the admin
    ("GET", HALL + "/credit-flags"): RouteCase(SUPERVISION_READ),
    ("PUT", HALL + "/credit-flags"): RouteCase(
        HALL_ADMIN,
        command="credit.set",
        body=lambda ids, hall: {"applicant_name": "权限矩阵", "blacklisted": False},
    ),
    # a workflow's figures (联办成效): the readers of the case metrics
    ("GET", HALL + "/workflows/{code}/figures"): RouteCase(CASE_METRICS),
    # the reports (/reports, issue 11): the readers of the case metrics
    ("GET", HALL + "/reports"): RouteCase(CASE_METRICS),
    ("GET", HALL + "/reports/export"): RouteCase(CASE_METRICS, query="?format=csv"),
    ("GET", HALL + "/reports/talks"): RouteCase(CASE_METRICS, query="?month=2026-12"),
    ("PUT", HALL + "/workflows/{code}"): RouteCase(
        WORKFLOW_PUBLISH,
        command="workflow.publish",
        body=lambda ids, hall: {"definition": COMPANY_SETUP},
    ),
    # cases: commands, run in this order; C1 and CJ go through a life, the C1 one signed off
    # by leader.amr (CJ's leader is none of the actors, so CJ waits and is withdrawn)
    ("POST", HALL + "/cases"): RouteCase(
        CASE_ACCEPT,
        command="case.accept",
        body=lambda ids, hall: {"item": "amr-001", "applicant": {"name": "权限矩阵"}},
    ),
    ("POST", HALL + "/cases/not-accepted"): RouteCase(
        CASE_ACCEPT,
        command="case.not_accept",
        body=lambda ids, hall: {
            "item": "amr-001",
            "applicant": {"name": "权限矩阵"},
            "reason": "不属于受理范围",
        },
    ),
    **{
        (method, CASE + "/" + verb): RouteCase(
            own_case(c1, cj), kind="case", command=name, body=body
        )
        for method, verb, name, body, c1, cj in [
            ("POST", "start", "case.start", None, "ok", "ok"),
            (
                "PUT",
                "materials",
                "case.materials",
                lambda ids, hall: {"materials": [{"position": 6, "status": "missing"}]},
                "ok",
                "ok",
            ),
            (
                "POST",
                "supplement",
                "case.supplement_request",
                lambda ids, hall: {"materials": [{"position": 6, "status": "missing"}]},
                "ok",
                "ok",
            ),
            (
                "POST",
                "supplement/received",
                "case.supplement_receive",
                lambda ids, hall: {},
                "ok",
                "ok",
            ),
            (
                "POST",
                "pause",
                "case.pause",
                lambda ids, hall: {"kind": "inspection", "reason": "现场核查"},
                "ok",
                "ok",
            ),
            (
                "POST",
                "escalate",
                "case.escalate",
                lambda ids, hall: {"reason": "报上级审批"},
                "409:clock_paused",
                "409:clock_paused",
            ),
            ("POST", "resume", "case.resume", lambda ids, hall: {}, "ok", "ok"),
            (
                "POST",
                "fees",
                "case.fee",
                # amr-001 publishes no fee: refused (and recorded as an irregularity)
                lambda ids, hall: {"fee_id": 1, "amount_cents": 100, "receipt_no": "权限矩阵"},
                "409:fee_not_listed",
                "409:fee_not_listed",
            ),
            (
                "POST",
                "signoff-request",
                "case.request_signoff",
                lambda ids, hall: {"note": "请签批"},
                "ok",
                "ok",
            ),
        ]
    },
    ("POST", CASE + "/signoff"): RouteCase(
        CASE_SIGNOFF,
        kind="case",
        command="case.signoff",
        body=lambda ids, hall: {"decision": "approve", "comment": "同意"},
    ),
    **{
        ("POST", CASE + "/" + verb): RouteCase(
            own_case(c1, cj), kind="case", command=name, body=body
        )
        for verb, name, body, c1, cj in [
            (
                "decision",
                "case.decide",
                lambda ids, hall: {"decision": "approve"},
                "409:case_state",  # approved by the leader
                "409:case_state",  # awaiting sign-off
            ),
            ("complete", "case.complete", None, "ok", "409:case_state"),
            ("deliver", "case.deliver", None, "ok", "409:case_state"),
            (
                "withdraw",
                "case.withdraw",
                lambda ids, hall: {"reason": "申请人撤回"},
                "409:case_state",  # delivered
                "ok",
            ),
        ]
    },
    # 整改, read and run in this order on R1, R30, RJ: R1's leader (amr) walks it to closed,
    # then appeals too late; no task has an appeal for supervision to decide
    ("GET", "/api/rectifications/{rectification_id}"): RouteCase(RECT_READ, kind="rect"),
    ("GET", HALL + "/rectifications"): RouteCase(STAFF_READ),
    ("GET", HALL + "/ratings"): RouteCase(ALARM_LIST),
    ("PUT", HALL + "/rectification-days"): RouteCase(
        HALL_ADMIN, command="rectification.set_days", body=lambda ids, hall: {"days": 5}
    ),
    **{
        ("POST", RECT + "/" + verb): RouteCase(
            own_alarm(rule, *own), kind="rect", command=name, body=body
        )
        for verb, name, rule, body, own in [
            (
                "verify",
                "rectification.verify",
                RECT_WORK,
                lambda i, h: {"note": "权限矩阵"},
                ("ok",),
            ),
            ("rectify", "rectification.rectify", RECT_WORK, lambda i, h: {"note": "矩阵"}, ("ok",)),
            (
                "call-back",
                "rectification.call_back",
                RECT_WORK,
                lambda i, h: {"reached": True, "note": "矩阵"},
                ("ok",),
            ),
            ("close", "rectification.close", RECT_WORK, lambda i, h: {"note": ""}, ("ok",)),
            (
                "appeal",
                "rectification.appeal",
                RECT_WORK,
                lambda i, h: {"reason": "矩阵"},
                ("409:rectification_state",),
            ),
            (
                "decide-appeal",
                "rectification.decide_appeal",
                RECT_DECIDE,
                lambda i, h: {"decision": "rejected", "note": "矩阵"},
                ("409:rectification_state", "409:no_appeal", "409:no_appeal"),
            ),
        ]
    },
    # an alarm's life, run in this order on A1, A30, AJ: A1's department (amr) appeals and
    # answers; the others are not leader.amr's, so they have no appeal to decide
    **{
        ("POST", ALARM + "/" + verb): RouteCase(
            own_alarm(rule, *own), kind="alarm", command=name, body=body
        )
        for verb, name, rule, body, own in [
            ("acknowledge", "alarm.acknowledge", ALARM_SUPERVISE, None, ("ok",)),
            (
                "annotate",
                "alarm.annotate",
                ALARM_SUPERVISE,
                lambda ids, hall: {"note": "权限矩阵"},
                ("ok",),
            ),
            (
                "appeal",
                "alarm.appeal",
                ALARM_DEPARTMENT,
                lambda ids, hall: {"reason": "权限矩阵"},
                ("ok",),
            ),
            (
                "decide-appeal",
                "alarm.decide_appeal",
                ALARM_SUPERVISE,
                lambda ids, hall: {"decision": "send_back", "note": "权限矩阵"},
                ("ok", "409:no_appeal", "409:no_appeal"),
            ),
            (
                "supervise",
                "alarm.supervise",
                ALARM_SUPERVISE,
                lambda ids, hall: {"note": "权限矩阵"},
                ("ok",),
            ),
            (
                "answer",
                "alarm.answer",
                ALARM_DEPARTMENT,
                lambda ids, hall: {"answer": "权限矩阵"},
                ("ok",),
            ),
            ("close", "alarm.close", ALARM_SUPERVISE, lambda ids, hall: {"note": ""}, ("ok",)),
            (
                "cancel",
                "alarm.cancel",
                ALARM_SUPERVISE,
                lambda ids, hall: {"reason": "权限矩阵"},
                ("409:alarm_state",),  # closed
            ),
        ]
    },
    ("POST", HALL + "/alarms"): RouteCase(
        ALARM_RAISE,
        command="alarm.raise",
        body=lambda ids, hall: {"level": "warning", "note": "权限矩阵", "window_no": 1},
    ),
}


# ------------------------------------------------------------------------------ public routes
# The routes that need no session, each with who may call it and why: a new public route must
# be decided here, as an authenticated one must be in ROUTES.
PUBLIC: dict[tuple[str, str], str] = {
    ("POST", "/api/auth/login"): "anyone: how a staff session starts",
    ("POST", "/api/auth/device"): "anyone: how a device session starts",
    ("GET", "/healthz"): "anyone reaching the server: a load balancer has no session",
    ("GET", "/metrics"): "METRICS below: Prometheus has no session; HALLOPS_METRICS_TOKEN",
    ("GET", "/api/openapi.json"): "anyone: the API's description",
    ("GET", "/api/events/schema"): "anyone: the live events' description",
    ("GET", "/api/track/{code}"): "the citizen holding the query code (rate-limited)",
    ("GET", "/api/voice/call"): "the lobby displays' voice: it says what the hall announces",
    ("GET", "/api/notice/{query_code}"): "the citizen holding the query code",
    ("GET", "/api/barcode/{reg_no}.svg"): "anyone: a barcode of a number the caller has",
    ("GET", "/api/halls/{hall}/queue-status"): "anyone: the public queue page",
    ("GET", "/api/rate/{token}"): "the citizen holding the SMS link's one-time token",
    ("POST", "/api/rate/{token}"): "the citizen holding the SMS link's one-time token",
    ("GET", "/api/about"): "anyone: whether this is the demo (the login page's ribbon)",
    ("GET", "/api/halls/{hall}/registration-hours"): "anyone: the kiosk shows the opening hours",
}

# /metrics, by who asks (a staff or device session, none, or the scraper's bearer token) and
# whether HALLOPS_METRICS_TOKEN is set: unset, it is open to whoever reaches the listening
# address, as /healthz; set, only that token reads it, and no session stands in for it.
METRICS_TOKEN = "scrape-5f3a9c"
METRICS = table("""
                 open   token_set
anonymous        ok     401:unauthenticated
clerk            ok     401:unauthenticated
clerk_unsigned   ok     401:unauthenticated
leader           ok     401:unauthenticated
supervisor       ok     401:unauthenticated
admin            ok     401:unauthenticated
county_clerk     ok     401:unauthenticated
county_admin     ok     401:unauthenticated
kiosk            ok     401:unauthenticated
display          ok     401:unauthenticated
wrong_token      ok     401:unauthenticated
scraper          ok     ok
""")


# ------------------------------------------------------------------------------ helpers
def authenticated_routes() -> set[tuple[str, str]]:
    return {op.http for op in CATALOGUE.operations.values() if op.http and not op.public}


def public_routes() -> set[tuple[str, str]]:
    return {op.http for op in CATALOGUE.operations.values() if op.http and op.public}


class Matrix:
    def __init__(self, live, db: asyncpg.Connection):
        self.live = live
        self.db = db
        self.session: ClientSession | None = None
        self.tokens: dict[str, str] = {}
        self.actor_ids: dict[str, tuple[str, int]] = {}
        self.ids: dict[str, int] = {}
        self.mismatches: list[str] = []
        self.cases = 0
        self.baseline: str | None = None  # fingerprint of the baseline state, while it holds
        self.audit_mark = 0  # audit rows up to this id are accounted for

    async def __aenter__(self) -> Self:
        # no cookie jar: every request carries exactly the bearer token it names
        self.session = ClientSession(base_url=self.live.url, cookie_jar=DummyCookieJar())
        for label, (username, kind) in ACTORS.items():
            if kind == "staff":
                resp = await self.session.post(
                    "/api/auth/login",
                    json={
                        "username": username,
                        "password": demo_hall.password_for(username),
                        "bearer": True,
                    },
                )
            else:
                resp = await self.session.post(
                    "/api/auth/device",
                    json={"code": username, "secret": demo_hall.password_for(username)},
                )
            body = await resp.json()
            assert resp.status == 200, (label, body)
            self.tokens[label] = body["token"]
            self.actor_ids[label] = (body["actor"]["kind"], body["actor"]["id"])
        for hall in HALLS.values():
            prefix = "" if hall == "rizhao" else f"{hall}."
            self.ids[f"{hall}.leader"] = await self.db.fetchval(
                "select id from staff where username = $1", f"{prefix}leader.amr"
            )
            # a display no actor of the matrix uses: revoking its sessions locks nobody out
            self.ids[f"{hall}.spare_display"] = await self.db.fetchval(
                "select id from device where code = $1",
                "display-02" if hall == "rizhao" else f"{prefix}display-01",
            )
            # a clerk no actor of the matrix uses, and what the admin's commands write back
            # unchanged: window 3's set-up and the hall's settings
            self.ids[f"{hall}.spare_staff"] = await self.db.fetchval(
                "select id from staff where username = $1",
                "clerk009" if hall == "rizhao" else f"{prefix}clerk03",
            )
            hall_id = await self.db.fetchval("select id from hall where code = $1", hall)
            w3 = await self.db.fetchrow(admin_sql.WINDOW_ADMIN, hall_id, 3)
            self.ids[f"{hall}.window3"] = {
                "name": w3["display_name"],
                "department": w3["department_code"],
                "zone": w3["zone"],
                "queues": w3["queues"],
            }
            settings = await self.db.fetchrow(admin_sql.HALL_SETTINGS_READ, hall_id)
            self.ids[f"{hall}.settings"] = {
                **{k: v for k, v in dict(settings).items() if k not in ("closes_at", "is_demo")},
                "closes_at": f"{settings['closes_at']:%H:%M}",
            }
        # the case targets, accepted at their windows on a day leader.amr is on duty
        use_clock(self.live, at(f"{DAY} 10:00"))
        await self.reset_windows()
        for target, (hall, username, item) in CASES.items():
            token = await self.token_of(username)
            resp = await self.session.post(
                f"/api/halls/{hall}/cases",
                json={"item": item, "applicant": {"name": "权限矩阵"}},
                headers={"Authorization": f"Bearer {token}"},
            )
            body = await resp.json()
            assert resp.status == 201, (target, body)
            self.ids[f"case.{target}"] = body["case_id"]
            # an alarm on it, at its window (written directly: raising one is the triggers')
            self.ids[f"alarm.{target}"] = await self.db.fetchval(
                """
                insert into alarm (hall_id, kind, level, subject, case_id, department_id,
                                   window_id, rule_version, due_at, issued_at, raised_by_hall)
                select c.hall_id, 'manual', 'warning', 'case:' || c.id, c.id, c.department_id,
                       c.window_id, 0, $2, $2, c.hall_id
                from service_case c where c.id = $1
                returning id""",
                body["case_id"],
                at(f"{DAY} 10:00"),
            )
            # a bad review of it and its rectification task (written directly: the rating
            # channels are tests/ratings')
            self.ids[f"rect.{target}"] = await self.db.fetchval(
                """
                with g as (
                    insert into rating (hall_id, subject, case_id, window_id, clerk_id,
                                        department_id, level, channel, real_name, rated_at)
                    select c.hall_id, 'case:' || c.id, c.id, c.window_id, c.clerk_id,
                           c.department_id, 1, 'device', false, $2
                    from service_case c where c.id = $1
                    returning *)
                insert into rectification (hall_id, rating_id, department_id, window_id, state,
                                           opened_at, due_at)
                select g.hall_id, g.id, g.department_id, g.window_id, 'open', $2,
                       $2 + interval '7 days'
                from g
                returning id""",
                body["case_id"],
                at(f"{DAY} 10:00"),
            )
        # the joint steps: the licence step of a 多证联办 case accepted at W1 and at J1
        for target, (hall, username) in STEPS.items():
            token = await self.token_of(username)
            resp = await self.session.post(
                f"/api/halls/{hall}/cases",
                json={
                    "item": "amr-001",
                    "applicant": {"name": "权限矩阵"},
                    "workflow": "company-setup",
                },
                headers={"Authorization": f"Bearer {token}"},
            )
            body = await resp.json()
            assert resp.status == 201, (target, body)
            self.ids[f"step.{target}"] = await self.db.fetchval(
                "select id from joint_step where case_id = $1 and code = 'licence'",
                body["case_id"],
            )
        for target, hall in PROJECTS.items():
            await self.db.execute(
                """
                insert into project (hall_id, project_no, name, workflow_code, workflow_version,
                                     applicant_name, state, opened_at, opened_by, window_id)
                select h.id, $2, '权限矩阵项目', 'construction-project', 1, '权限矩阵', 'active',
                       $3, (select s.id from staff s where s.hall_id = h.id order by s.id limit 1), w.id
                from hall h join service_window w on w.hall_id = h.id and w.window_no = 1
                where h.code = $1""",
                hall,
                f"XM-{hall.upper()}-2026-00001",
                at(f"{DAY} 10:00"),
            )
        self.audit_mark = await self.db.fetchval("select coalesce(max(id), 0) from audit")
        return self

    async def token_of(self, username: str) -> str:
        """The bearer token of an actor of the matrix, or of another clerk (signed in anew)."""
        assert self.session is not None
        label = next((a for a, (u, _) in ACTORS.items() if u == username), None)
        if label is not None:
            return self.tokens[label]
        resp = await self.session.post(
            "/api/auth/login",
            json={
                "username": username,
                "password": demo_hall.password_for(username),
                "bearer": True,
            },
        )
        return (await resp.json())["token"]

    async def __aexit__(self, *exc) -> None:
        assert self.session is not None
        await self.session.close()

    async def reset_windows(self) -> None:
        """The baseline sign-ins and statuses of the target windows."""
        await self.db.execute("""
            update service_window w set status = 'closed' from hall h
            where h.id = w.hall_id and h.code in ('rizhao', 'juxian')
              and w.window_no in (1, 2, 3, 30)""")
        await self.db.execute("""
            delete from window_signin ws using service_window w, hall h
            where w.id = ws.window_id and h.id = w.hall_id and h.code in ('rizhao', 'juxian')""")
        for username, hall, no in BASELINE_SIGNINS:
            await self.db.execute(
                """
                insert into window_signin (window_id, staff_id)
                select w.id, s.id from service_window w join hall h on h.id = w.hall_id,
                       staff s where h.code = $2 and w.window_no = $3 and s.username = $1""",
                username,
                hall,
                no,
            )
            await self.db.execute(
                """
                update service_window w set status = 'open' from hall h
                where h.id = w.hall_id and h.code = $1 and w.window_no = $2""",
                hall,
                no,
            )
        # Written behind the server's back (no sign-in events): drop its cached sessions.
        self.live.app[AUTH].forget_all()

    async def fingerprint(self) -> str:
        """Everything a command in the matrix could change."""
        row = await self.db.fetchrow(
            """
            select
              (select json_agg(json_build_object('hall', h.code, 'no', w.window_no,
                        'status', w.status, 'clerk', ws.staff_id) order by h.code, w.window_no)
               from service_window w join hall h on h.id = w.hall_id
               left join window_signin ws on ws.window_id = w.id
               where h.code in ('rizhao', 'juxian')) as windows,
              (select json_agg(json_build_object('hall', code, 'notice', notice_line,
                        'open_until', registration_open_until)
                               order by code) from hall) as notices,
              (select json_agg(json_build_object('hall', hall_id, 'working', is_working,
                        'note', note) order by hall_id)
               from calendar_day where day = $1::date) as calendar,
              (select json_agg(json_build_object('hall', hall_id, 'staff', staff_id)
                               order by hall_id, staff_id)
               from leader_duty where duty_date = $1::date) as duty,
              (select json_agg(json_build_object('hall', hall_id, 'seq', last_seq)
                               order by hall_id) from hall_seq) as seqs,
              (select count(*) from event) as events,
              (select json_agg(json_build_object('id', id, 'state', state, 'clock', clock,
                        'visits', visits) order by id) from service_case) as cases,
              (select count(*) from case_history) as case_history,
              (select json_agg(json_build_object('case', case_id, 'p', position,
                        's', status) order by case_id, position) from case_material) as materials,
              (select count(*) from case_fee) as fees,
              (select count(*) from supplement_notice where received_at is null) as notices,
              (select json_agg(json_build_object('id', id, 'decision', decision) order by id)
               from signoff_request) as signoffs,
              (select count(*) from irregularity) as irregularities,
              (select json_agg(json_build_object('id', id, 'state', state,
                        'ack', acknowledged_at, 'appeal', appealed_at, 'due', rectify_due_at,
                        'answer', answered_at) order by id) from alarm) as alarms,
              (select count(*) from alarm_action) as alarm_actions,
              (select count(*) from notification) as sms
            """,
            date.fromisoformat(DAY),
        )
        return json.dumps(dict(row), sort_keys=True, default=str)

    def url(self, path: str, case: RouteCase, target: str) -> tuple[str, str | None]:
        """The URL for a target, and the hall it is in."""
        if case.kind == "none":
            return path + case.query, None
        if case.kind == "window":
            hall, no = WINDOWS[target]
            url = path.replace("{hall}", hall).replace("{window_no}", str(no))
        elif case.kind == "case":
            hall = CASES[target][0]
            url = path.replace("{case_id}", str(self.ids[f"case.{target}"]))
        elif case.kind == "step":
            hall = STEPS[target][0]
            url = path.replace("{step_id}", str(self.ids[f"step.{target}"]))
        elif case.kind == "project":
            hall = PROJECTS[target]
            url = path.replace("{project_no}", f"XM-{hall.upper()}-2026-00001")
        elif case.kind == "alarm":
            hall = CASES[target][0]
            url = path.replace("{alarm_id}", str(self.ids[f"alarm.{target}"]))
        elif case.kind == "rect":
            hall = CASES[target][0]
            url = path.replace("{rectification_id}", str(self.ids[f"rect.{target}"]))
        else:
            hall = HALLS[target]
            url = (
                path.replace("{hall}", hall)
                # the administration's targets: window 3 (nobody signed in), a spare clerk and
                # display no actor of the matrix uses, an unknown session, the windows' sheet
                .replace("{window_no}", "3")
                .replace("{staff_id}", str(self.ids[f"{hall}.spare_staff"]))
                .replace("{device_id}", str(self.ids[f"{hall}.spare_display"]))
                .replace("{session}", "0" * 16)
                .replace("{kind}", "windows")
            )
        code = "company-setup" if "/workflows/" in url else "amr-001"  # a workflow, an item
        code = case.code or code
        url = (
            url.replace("{code}", code).replace("{day}", DAY).replace("{reg_no}", "26120100000000")
        )
        assert "{" not in url, url
        # the case number of the hall's first case of DAY (see CASE_FIND)
        query = case.query.replace(
            "{case_no}", f"{(hall or '').upper()}-{DAY.replace('-', '')}-00001"
        )
        return url + query, hall

    async def check(self, method: str, path: str, case: RouteCase, actor: str, target: str) -> None:
        assert self.session is not None
        self.cases += 1
        want = case.expect[(actor, target)]
        url, hall = self.url(path, case, target)
        body = case.body(self.ids, hall) if case.body else None
        if case.command and self.baseline is None:
            # the last command changed something (or this is the first): back to the baseline
            await self.reset_windows()
            self.baseline = await self.fingerprint()
        before_audit = self.audit_mark
        resp = await self.session.request(
            method, url, json=body, headers={"Authorization": f"Bearer {self.tokens[actor]}"}
        )
        text = await resp.text()
        try:
            got_code = json.loads(text).get("error", {}).get("code")
        except (ValueError, AttributeError):
            got_code = None
        where = f"{actor:15} {method:4} {path} [{target}]"
        if want == "ok":
            ok = 200 <= resp.status < 300
            want_desc = "2xx"
        elif ":" in want:
            status, code = want.split(":")
            ok = resp.status == int(status) and got_code == code
            want_desc = f"{status} {code}"
        else:
            assert want in FORBIDDEN_CODES, want
            ok = resp.status == 403 and got_code == want
            want_desc = f"403 {want}"
        if case.command and not (ok and want in FORBIDDEN_CODES):
            self.baseline = None  # state may have changed: reset before the next command
        if not ok:
            self.mismatches.append(
                f"{where}: want {want_desc}, got {resp.status} {got_code or text[:120]}"
            )
            if case.command:
                self.audit_mark = await self.db.fetchval("select coalesce(max(id), 0) from audit")
            return
        if not case.command:
            return
        audit = await self.db.fetch(
            "select id, actor_kind, actor_id, action, outcome, detail from audit where id > $1 "
            "order by id",
            before_audit,
        )
        if audit:
            self.audit_mark = audit[-1]["id"]
        kind, actor_id = self.actor_ids[actor]
        if want in FORBIDDEN_CODES:
            if await self.fingerprint() != self.baseline:
                self.mismatches.append(f"{where}: denied but the state changed")
                self.baseline = None
            expected = [(kind, actor_id, case.command, "denied", want)]
            got = [
                (a["actor_kind"], a["actor_id"], a["action"], a["outcome"], a["detail"].get("code"))
                for a in audit
            ]
            if got != expected:
                self.mismatches.append(f"{where}: denied, audit should be {expected}, is {got}")
        elif want == "ok":
            got = [(a["actor_kind"], a["actor_id"], a["action"], a["outcome"]) for a in audit]
            action = case.command  # one name: the policy key is the audit action
            if got != [(kind, actor_id, action, "ok")]:
                self.mismatches.append(
                    f"{where}: allowed, audit should have one 'ok' row "
                    f"{(kind, actor_id, action)}, has {got}"
                )

    def targets(self, case: RouteCase) -> list[str]:
        return sorted({t for (_, t) in case.expect})

    def report(self) -> str:
        return (
            f"{len(self.mismatches)} of {self.cases} permission cases are wrong:\n  "
            + "\n  ".join(self.mismatches)
        )


# ------------------------------------------------------------------------------ the tests
def test_every_authenticated_route_is_in_the_matrix():
    registered = authenticated_routes()
    missing = sorted(registered - set(ROUTES))
    stale = sorted(set(ROUTES) - registered)
    assert not missing, f"authenticated routes missing from the permission matrix: {missing}"
    assert not stale, f"routes in the matrix that the catalogue no longer has: {stale}"
    for key, case in ROUTES.items():
        targets = {
            "none": {"-"},
            "hall": set(HALLS),
            "window": set(WINDOWS),
            "case": set(CASES),
            "alarm": set(CASES),
            "rect": set(CASES),
            "step": set(STEPS),
            "project": set(PROJECTS),
        }[case.kind]
        assert set(case.expect) == {(a, t) for a in ACTORS for t in targets}, key


def test_every_public_route_is_decided():
    registered = public_routes()
    assert registered == set(PUBLIC), (
        f"public routes not decided in PUBLIC: {sorted(registered - set(PUBLIC))}; "
        f"decided but gone: {sorted(set(PUBLIC) - registered)}"
    )
    assert {a for a, _ in METRICS} == {*ACTORS, "anonymous", "wrong_token", "scraper"}


async def test_metrics_matrix(live, db_dsn):
    """/metrics on a server without HALLOPS_METRICS_TOKEN and on one with it, asked by every
    actor's session, by nobody, by a wrong token and by the scraper's token."""
    guarded = await LiveServer(settings_for_test(metrics_token=METRICS_TOKEN), db_dsn).start()
    mismatches = []
    try:
        for target, server in (("open", live), ("token_set", guarded)):
            async with ClientSession(base_url=server.url, cookie_jar=DummyCookieJar()) as s:
                bearers: dict[str, str | None] = {
                    "anonymous": None,
                    "wrong_token": "scrape-0000",
                    "scraper": METRICS_TOKEN,
                }
                for label, (username, kind) in ACTORS.items():
                    secret = demo_hall.password_for(username)
                    if kind == "staff":
                        resp = await s.post(
                            "/api/auth/login",
                            json={"username": username, "password": secret, "bearer": True},
                        )
                    else:
                        resp = await s.post(
                            "/api/auth/device", json={"code": username, "secret": secret}
                        )
                    answer = await resp.json()
                    assert resp.status == 200, (label, answer)
                    bearers[label] = answer["token"]
                for who, token in bearers.items():
                    headers = {"Authorization": f"Bearer {token}"} if token else {}
                    resp = await s.get("/metrics", headers=headers)
                    text = await resp.text()
                    if resp.status == 200:
                        got = "ok" if "hallops_commands_total" in text else "200 without metrics"
                    else:
                        got = f"{resp.status}:{json.loads(text)['error']['code']}"
                    want = METRICS[(who, target)]
                    if got != want:
                        mismatches.append(f"{who:15} /metrics [{target}]: want {want}, got {got}")
    finally:
        await guarded.stop()
    assert not mismatches, "\n".join(mismatches)


async def test_read_matrix(live, db):
    async with Matrix(live, db) as m:
        await m.reset_windows()
        for (method, path), case in ROUTES.items():
            if case.command or path == "/api/auth/logout":
                continue
            for actor in ACTORS:
                for target in m.targets(case):
                    await m.check(method, path, case, actor, target)
        # the data scope behind an allowed read
        headers = {"Authorization": f"Bearer {m.tokens['leader']}"}
        staff = await (await m.session.get("/api/halls/rizhao/staff", headers=headers)).json()
        departments = {s["department_code"] for s in staff["staff"]}
        if departments != {"amr"}:
            m.mismatches.append(
                f"leader.amr sees staff of departments {departments}, want only amr"
            )
        for actor in ACTORS:
            headers = {"Authorization": f"Bearer {m.tokens[actor]}"}
            halls = (await (await m.session.get("/api/halls", headers=headers)).json())["halls"]
            codes = sorted(h["code"] for h in halls)
            want = {
                "supervisor": ["juxian", "rizhao", "wulian"],
                "county_clerk": ["juxian"],
                "county_admin": ["juxian"],
            }.get(actor, ["rizhao"])
            if codes != want:
                m.mismatches.append(f"{actor}: GET /api/halls lists {codes}, want {want}")
        # logout last: it ends the sessions used above
        case = ROUTES[("POST", "/api/auth/logout")]
        for actor in ACTORS:
            await m.check("POST", "/api/auth/logout", case, actor, "-")
            resp = await m.session.get(
                "/api/session", headers={"Authorization": f"Bearer {m.tokens[actor]}"}
            )
            if resp.status != 401:
                m.mismatches.append(f"{actor}: session still valid after logout ({resp.status})")
        assert not m.mismatches, m.report()


async def run_commands(live, db, routes) -> None:
    async with Matrix(live, db) as m:
        for method, path in routes:
            case = ROUTES[(method, path)]
            for actor in ACTORS:
                for target in m.targets(case):
                    await m.check(method, path, case, actor, target)
        assert not m.mismatches, m.report()


async def test_command_matrix(live, db):
    await run_commands(live, db, [key for key, case in ROUTES.items() if case.command])


async def test_a_leader_not_on_duty_cannot_sign_off(live, db):
    """The leader of the case's own department, but not on duty that day (a Sunday; a working
    day the roster gives to nobody else but does not give to them): 403 not_on_duty, audited
    as denied, nothing changed. On duty the next day, the same request is decided."""
    async with Matrix(live, db) as m:
        assert m.session is not None
        cid = m.ids["case.C1"]

        async def post(actor: str, verb: str, body: dict | None = None) -> tuple[int, dict]:
            assert m.session is not None
            resp = await m.session.post(
                f"/api/cases/{cid}/{verb}",
                json=body,
                headers={"Authorization": f"Bearer {m.tokens[actor]}"},
            )
            return resp.status, await resp.json()

        assert (await post("clerk", "start"))[0] == 200
        assert (await post("clerk", "signoff-request", {"note": "请签批"}))[0] == 200
        await db.execute(
            "delete from leader_duty where duty_date = '2026-12-07' "
            "and staff_id = (select id from staff where username = 'leader.amr')"
        )
        kind, leader_id = m.actor_ids["leader"]
        for when in ("2026-12-06 10:00", "2026-12-07 10:00"):
            use_clock(live, at(when))
            before = await m.fingerprint()
            mark = await db.fetchval("select coalesce(max(id), 0) from audit")
            status, body = await post("leader", "signoff", {"decision": "approve"})
            assert (status, body["error"]["code"]) == (403, "not_on_duty"), (when, body)
            assert await m.fingerprint() == before, f"{when}: refused but changed"
            audit = await db.fetch(
                "select actor_kind, actor_id, action, outcome, detail->>'code' as code "
                "from audit where id > $1",
                mark,
            )
            assert [tuple(a) for a in audit] == [
                (kind, leader_id, "case.signoff", "denied", "not_on_duty")
            ]
        use_clock(live, at("2026-12-08 10:00"))
        status, body = await post("leader", "signoff", {"decision": "approve"})
        assert (status, body["state"]) == (200, "approved"), body


async def test_every_authenticated_route_refuses_without_a_session(live):
    async with ClientSession(base_url=live.url, cookie_jar=DummyCookieJar()) as s:
        wrong = []
        for method, path in sorted(authenticated_routes()):
            url = (
                path.replace("{hall}", "rizhao")
                .replace("{window_no}", "1")
                .replace("{code}", "amr-001")
                .replace("{day}", DAY)
            )
            url = re.sub(r"{\w+}", "1", url)
            for headers in ({}, {"Authorization": "Bearer not-a-token"}):
                resp = await s.request(method, url, json={}, headers=headers)
                body = await resp.json()
                if resp.status != 401 or body["error"]["code"] != "unauthenticated":
                    wrong.append(f"{method} {path} {headers}: {resp.status} {body}")
        assert not wrong, "\n".join(wrong)


# ------------------------------------------------------------------------------ live stream
# Both live transports are authorized by one rule (hall.stream), the same as reading the event
# log back: the expectations are EVENTS_READ's, but for a kiosk, which the rule lets watch its
# own hall: Socket.IO confines it to the registration hours' changes, the plain feed,
# unfiltered, refuses it once it is authorized (tests/realtime/test_stream_permission.py).
STREAM = {
    **EVENTS_READ,
    **table("""
                 city        county
kiosk            wrong_role  other_hall
"""),
}
STREAM_SOCKETIO = {
    **EVENTS_READ,
    **table("""
                 city        county
kiosk            ok          other_hall
"""),
}


async def _feed_outcome(ws_url: str, token: str, hall: str) -> str:
    async with websockets.connect(ws_url + "/ws/display") as ws:
        assert orjson.loads(await ws.recv()) == {"type": "auth_required"}
        await ws.send(orjson.dumps({"type": "auth", "token": token, "hall": hall}).decode())
        frame = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
    return "ok" if frame.get("type") == "auth_ok" else str(frame.get("code"))


async def _socketio_outcome(url: str, token: str, hall: str) -> str:
    client = SioClient()
    try:
        await client.connect(url, auth={"token": token, "hall": hall})
    except socketio.exceptions.ConnectionError:
        error = client.errors[-1] if client.errors else None
        return str(error["data"]["code"]) if isinstance(error, dict) else "transport refused"
    await client.close()
    return "ok"


async def test_stream_matrix_on_both_transports(live, db):
    """Socket.IO /hall and the plain feed /ws/display: role × hall -> allowed or the exact
    refusal, the same for both but for the kiosk (confined on Socket.IO)."""
    async with Matrix(live, db) as m:
        for actor in ACTORS:
            for target, hall in HALLS.items():
                for transport, outcome, want in (
                    (
                        "plain feed",
                        _feed_outcome(live.ws_url, m.tokens[actor], hall),
                        STREAM[(actor, target)],
                    ),
                    (
                        "socket.io",
                        _socketio_outcome(live.url, m.tokens[actor], hall),
                        STREAM_SOCKETIO[(actor, target)],
                    ),
                ):
                    got = await outcome
                    m.cases += 1
                    if got != want:
                        m.mismatches.append(
                            f"{actor:15} {transport} [{target}]: want {want}, got {got}"
                        )
        assert not m.mismatches, m.report()
