"""Who may do what: one policy table, checked by every command on the server.

A rule names the roles allowed and the scope each must be in: the actor's own hall (or, for a
city supervisor, its county halls), own department, or the window the clerk is signed in at."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from server.domain.actor import Actor
from server.domain.errors import Forbidden

Scope = Literal["hall", "supervised", "department", "own_window", "signed_in"]


@dataclass(frozen=True)
class Target:
    hall_id: int
    hall_parent_id: int | None = None
    department_id: int | None = None
    window_id: int | None = None


# command -> {role: scope}. A role absent from a command's rule is refused.
#   hall        the target is in the actor's own hall
#   supervised  own hall, or a county hall whose city is the actor's hall
#   department  own hall and the target's department is the actor's
#   own_window  the target window is the one the clerk is signed in at
#   signed_in   the clerk is signed in at some window of this hall (commands without a window)
POLICY: Final[dict[str, dict[str, Scope]]] = {
    "hall.read": {
        "clerk": "hall",
        "leader": "hall",
        "supervisor": "supervised",
        "admin": "hall",
        "kiosk": "hall",
        "display": "hall",
    },
    "staff.read": {"leader": "department", "supervisor": "supervised", "admin": "hall"},
    "audit.read": {"supervisor": "supervised", "admin": "hall"},
    # the live stream (Socket.IO /hall and the plain feed /ws/display): one rule for both
    "hall.stream": {
        "clerk": "hall",
        "leader": "hall",
        "supervisor": "supervised",
        "admin": "hall",
        "display": "hall",
    },
    "events.read": {
        "clerk": "hall",
        "leader": "hall",
        "supervisor": "supervised",
        "admin": "hall",
        "display": "hall",
    },
    "window.sign_in": {"clerk": "department"},
    "window.sign_out": {"clerk": "own_window", "admin": "hall"},
    "window.set_status": {"clerk": "own_window", "admin": "hall"},
    "calendar.edit": {"admin": "hall"},
    "ticket.register": {"kiosk": "hall", "admin": "hall"},
    "ticket.call": {"clerk": "own_window"},
    "window.board": {
        "clerk": "own_window",
        "leader": "department",
        "supervisor": "supervised",
        "admin": "hall",
    },
    "registration.read": {
        "clerk": "signed_in",
        "leader": "hall",
        "supervisor": "supervised",
        "admin": "hall",
    },
    "notice.set": {"admin": "hall"},
    "duty.set": {"admin": "hall"},
}

_MESSAGES: Final = {
    "wrong_role": "当前身份无权执行此操作",
    "other_hall": "无权操作其他服务中心的数据",
    "other_department": "无权操作其他部门的数据",
    "not_your_window": "只能操作本人签到的窗口",
    "not_signed_in": "请先在窗口签到",
}


def _refuse(code: str) -> Forbidden:
    return Forbidden(_MESSAGES[code], code=code)


def in_scope(actor: Actor, scope: Scope, target: Target) -> str | None:
    """None when allowed, else the refusal code."""
    if scope == "supervised":
        if target.hall_id == actor.hall_id or target.hall_parent_id == actor.hall_id:
            return None
        return "other_hall"
    if target.hall_id != actor.hall_id:
        return "other_hall"
    if scope == "hall":
        return None
    if scope == "department":
        return None if target.department_id == actor.department_id else "other_department"
    if scope == "signed_in":
        return None if actor.window_id is not None else "not_signed_in"
    if scope == "own_window":
        if actor.window_id is None:
            return "not_signed_in"
        return None if target.window_id == actor.window_id else "not_your_window"
    raise ValueError(scope)


def authorize(actor: Actor, command: str, target: Target) -> None:
    if actor.role == "system":
        return
    rule = POLICY[command]
    scope = rule.get(actor.role)
    if scope is None:
        raise _refuse("wrong_role")
    refusal = in_scope(actor, scope, target)
    if refusal:
        raise _refuse(refusal)


def allowed(actor: Actor, command: str, target: Target) -> bool:
    try:
        authorize(actor, command, target)
    except Forbidden:
        return False
    return True
