"""The permission rules the declarations use: role -> scope (see permissions.in_scope). Each
operation in the catalogue names one of these as its rule, under its own name; the permission
table is derived from the catalogue, so a rule here is written once however many operations
share it."""

from __future__ import annotations

from typing import Final

from server.domain.permissions import Scope

Rule = dict[str, Scope]

# every logged-in actor, about itself (log out, who am I, which halls it sees)
ANYONE: Final[Rule] = {
    "clerk": "self",
    "leader": "self",
    "supervisor": "self",
    "admin": "self",
    "kiosk": "self",
    "display": "self",
    "rater": "self",
}
# a member of staff about themselves (their own password)
STAFF_SELF: Final[Rule] = {"clerk": "self", "leader": "self", "supervisor": "self", "admin": "self"}
HALL_READ: Final[Rule] = {
    "clerk": "hall",
    "leader": "hall",
    "supervisor": "supervised",
    "admin": "hall",
    "kiosk": "hall",
    "display": "hall",
}
# the hall's event stream read back: kiosks have no business with it (it tells every call and
# window change)
HALL_EVENTS: Final[Rule] = {
    "clerk": "hall",
    "leader": "hall",
    "supervisor": "supervised",
    "admin": "hall",
    "display": "hall",
}
# live (Socket.IO and the plain feed): the same, and two devices whose Socket.IO connection the
# server confines: a window's rating device (评价器) to its own window's rating events
# (realtime/rooms.rater_filter), a kiosk to the registration hours' changes
# (realtime/rooms.kiosk_filter); the plain feed, unfiltered, refuses both
HALL_STREAM: Final[Rule] = {**HALL_EVENTS, "rater": "hall", "kiosk": "hall"}
STAFF_READ: Final[Rule] = {"leader": "department", "supervisor": "supervised", "admin": "hall"}
AUDIT_READ: Final[Rule] = {"supervisor": "supervised", "admin": "hall"}
HALL_ADMIN: Final[Rule] = {"admin": "hall"}
# leaders sign in at a window of their department too: they sign off there
WINDOW_SIGN_IN: Final[Rule] = {"clerk": "department", "leader": "department"}
WINDOW_OWN_OR_ADMIN: Final[Rule] = {"clerk": "own_window", "admin": "hall"}
# who signed in at a window signs out of it (a leader too: leaders sign off at a window)
WINDOW_SIGN_OUT: Final[Rule] = {"clerk": "own_window", "leader": "own_window", "admin": "hall"}
KIOSK_REGISTER: Final[Rule] = {"kiosk": "hall", "admin": "hall"}
TICKET_WINDOW: Final[Rule] = {"clerk": "own_window"}
WINDOW_BOARD: Final[Rule] = {
    "clerk": "own_window",
    "leader": "department",
    "supervisor": "supervised",
    "admin": "hall",
}
REGISTRATION_READ: Final[Rule] = {
    "clerk": "signed_in",
    "leader": "hall",
    "supervisor": "supervised",
    "admin": "hall",
}

# Cases: a clerk of the case's department works it at the window they are signed in at; a
# clerk accepts at their own window (from the ticket served there).
CASE_ACCEPT: Final[Rule] = {"clerk": "own_window"}
CASE_WORK: Final[Rule] = {"clerk": "department_window"}
# the leader of the case's department signs off (being on duty is checked by the domain)
CASE_SIGNOFF: Final[Rule] = {"leader": "department"}
CASE_READ: Final[Rule] = {
    "clerk": "department",
    "leader": "department",
    "supervisor": "supervised",
    "admin": "hall",
}
SIGNOFF_READ: Final[Rule] = {"leader": "department", "supervisor": "supervised", "admin": "hall"}
METRICS_READ: Final[Rule] = {"leader": "hall", "supervisor": "supervised", "admin": "hall"}

# Supervision: an alarm is handled by the supervisors of its hall or of the city above it
# (acknowledge, annotate, 督办, decide an appeal, close, cancel, raise one by hand); the
# leader of its department answers a 督办 and appeals.
ALARM_SUPERVISE: Final[Rule] = {"supervisor": "supervised"}
ALARM_DEPARTMENT: Final[Rule] = {"leader": "department"}

# Supervision's alarms: the clerk of the alarm's window, its department's leader, supervision
# (a city's over its county halls too) and the hall admin; the wall and the month's scoring:
# supervision and the admin only.
ALARM_READ: Final[Rule] = {
    "clerk": "own_window",
    "leader": "department",
    "supervisor": "supervised",
    "admin": "hall",
}
SUPERVISION_READ: Final[Rule] = {"supervisor": "supervised", "admin": "hall"}
# A hall's supervision rules: published as a new version by supervision or the hall's admin.
SUPERVISION_RULES: Final[Rule] = {"supervisor": "supervised", "admin": "hall"}
# workflow definitions (联办套餐, 一表通): every member of staff reads them (the intake, the
# inbox, supervision); a county hall's staff read their city's
WORKFLOW_READ: Final[Rule] = {
    "clerk": "hall",
    "leader": "hall",
    "supervisor": "supervised",
    "admin": "hall",
}
# joint steps (联办): a clerk signed in at a window of the step's department claims and completes
# it; the inbox is read by the hall's staff (a clerk's and a leader's: their department's)
JOINT_STEP_WORK: Final[Rule] = {"clerk": "department_window"}
JOINT_STEP_INBOX: Final[Rule] = WORKFLOW_READ
# 一表通 projects: the hall's staff follow them (a city's supervision and admin its county
# halls' too); the credit blacklist that bars 容缺 is kept by the admin, read by supervision
PROJECT_READ: Final[Rule] = WORKFLOW_READ
CREDIT_READ: Final[Rule] = {"supervisor": "supervised", "admin": "hall"}
# 好差评: the clerk asks at their window for a rating; the window's rating device (评价器) reads
# the request and sends the tap; supervision keys the ballot box's slips; the ratings are read
# by a clerk (their window's), a leader (their department's), supervision and the admin
RATING_REQUEST: Final[Rule] = {"clerk": "own_window"}
RATING_DEVICE: Final[Rule] = {"rater": "own_window"}
RATING_PENDING: Final[Rule] = {"clerk": "own_window", "rater": "own_window"}
RATING_BALLOT: Final[Rule] = {"supervisor": "supervised"}
# 整改: the leader of the task's department verifies, rectifies, calls back, closes and appeals;
# supervision (a city's over its county halls too) decides an appeal; the tasks are read by
# their department's leader, supervision and the hall admin, who sets the hall's days.
# The ratings read back: a clerk their own window's (without comments), a leader their
# department's, supervision and the admin the hall's.
RECTIFICATION_WORK: Final[Rule] = {"leader": "department"}
RECTIFICATION_DECIDE: Final[Rule] = {"supervisor": "supervised"}
RECTIFICATION_READ: Final[Rule] = {
    "leader": "department",
    "supervisor": "supervised",
    "admin": "hall",
}
RATINGS_READ: Final[Rule] = {
    "clerk": "own_window",
    "leader": "department",
    "supervisor": "supervised",
    "admin": "hall",
}
