"""Who may do what: one policy table, checked by every command on the server.

A rule names the roles allowed and the scope each must be in: the actor's own hall (or, for a
city supervisor, its county halls), own department, or the window the clerk is signed in at."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from server.domain.actor import Actor
from server.domain.errors import Forbidden

Scope = Literal[
    "self", "hall", "supervised", "department", "department_window", "own_window", "signed_in"
]


@dataclass(frozen=True)
class Target:
    hall_id: int
    hall_parent_id: int | None = None
    department_id: int | None = None
    window_id: int | None = None


# The permission table is derived from the catalogue (server/catalogue): operation name ->
# {role: scope}, the rule each operation declares. A role absent from a rule is refused.
#   self        no target: the actor acts on itself (log out, who am I)
#   hall        the target is in the actor's own hall
#   supervised  own hall, or a county hall whose city is the actor's hall
#   department  own hall and the target's department is the actor's
#   department_window  the same, and the actor is signed in at a window (the command is
#               recorded against it): a case of the department, worked at any of its windows
#   own_window  the target window is the one the clerk is signed in at
#   signed_in   the clerk is signed in at some window of this hall (commands without a window)
def rule_of(name: str) -> Mapping[str, Scope]:
    from server.catalogue import CATALOGUE  # the catalogue imports the domain, not the reverse

    op = CATALOGUE.operations.get(name)
    if op is None or op.policy is None:
        raise KeyError(f"no permission rule declared for {name}")
    return op.policy


_MESSAGES: Final = {
    "wrong_role": "当前身份无权执行此操作",
    "other_hall": "无权操作其他服务中心的数据",
    "other_department": "无权操作其他部门的数据",
    "not_your_window": "只能操作本人签到的窗口",
    "not_signed_in": "请先在窗口签到",
}


def _refuse(code: str) -> Forbidden:
    return Forbidden(_MESSAGES[code], code=code)


def in_scope(actor: Actor, scope: Scope, target: Target | None) -> str | None:
    """None when allowed, else the refusal code."""
    if scope == "self":
        return None
    if target is None:
        raise ValueError(f"scope {scope} needs a target")
    if scope == "supervised":
        if target.hall_id == actor.hall_id or target.hall_parent_id == actor.hall_id:
            return None
        return "other_hall"
    if target.hall_id != actor.hall_id:
        return "other_hall"
    if scope == "hall":
        return None
    if scope in ("department", "department_window"):
        if target.department_id != actor.department_id:
            return "other_department"
        if scope == "department_window" and actor.window_id is None:
            return "not_signed_in"
        return None
    if scope == "signed_in":
        return None if actor.window_id is not None else "not_signed_in"
    if scope == "own_window":
        if actor.window_id is None:
            return "not_signed_in"
        return None if target.window_id == actor.window_id else "not_your_window"
    raise ValueError(scope)


def authorize(actor: Actor, command: str, target: Target | None) -> None:
    """Refuses (Forbidden) unless the operation's declared rule lets this actor act on target."""
    authorize_rule(actor, rule_of(command), target)


def authorize_rule(actor: Actor, rule: Mapping[str, Scope], target: Target | None) -> None:
    if actor.role == "system":
        return
    scope = rule.get(actor.role)
    if scope is None:
        raise _refuse("wrong_role")
    refusal = in_scope(actor, scope, target)
    if refusal:
        raise _refuse(refusal)
