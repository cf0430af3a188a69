"""What may follow what in a case's life: the one transition table.

Every command on a case is a row here, named after the command (its policy key and audit
action) and, where a command has outcomes that lead to different states, the outcome after a
colon. A row maps each state the command is allowed from to the state it leads to; a command
that changes no state (recording materials, a pause) maps a state to itself. Nothing else in
the product decides whether a transition is allowed: the case service asks `next_state`, the
terminal and the tests read `allowed_actions`, and the stateful test walks this table.

    (new) ──accept──▶ accepted ──start──▶ in_progress ──request_signoff──▶ awaiting_signoff
      │                  │                    │                                │
      └─not_accept──▶ not_accepted ◀──────────┘ (accepted only)      signoff:approve / :reject
                         decide:approve / decide:refuse (no sign-off needed)  │
                             approved / refused ◀──────────────────────────────┘
                                   └──complete──▶ completed ──deliver──▶ delivered
    accepted / in_progress / awaiting_signoff ──withdraw──▶ withdrawn
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from server.domain.errors import Conflict

NEW: Final = "new"  # before acceptance: the application at the window

STATES: Final = (
    "accepted",
    "in_progress",
    "awaiting_signoff",
    "approved",
    "refused",
    "completed",
    "delivered",
    "not_accepted",
    "withdrawn",
)
# No command leads out of these.
FINAL: Final = frozenset({"delivered", "not_accepted", "withdrawn"})
# The case is still the hall's work (listed at the window, its clock may run).
OPEN: Final = frozenset({"accepted", "in_progress", "awaiting_signoff", "approved", "refused"})
# Where the applicant may still bring materials or be asked for them.
WORKING: Final = ("accepted", "in_progress")

STATE_NAMES: Final[Mapping[str, str]] = {
    "accepted": "已受理",
    "in_progress": "办理中",
    "awaiting_signoff": "待领导签批",
    "approved": "已批准",
    "refused": "不予许可",
    "completed": "已办结",
    "delivered": "已领取",
    "not_accepted": "不予受理",
    "withdrawn": "已撤回",
}


def _same(*states: str) -> dict[str, str]:
    return {s: s for s in states}


TRANSITIONS: Final[Mapping[str, Mapping[str, str]]] = {
    "case.accept": {NEW: "accepted"},
    "case.not_accept": {NEW: "not_accepted", "accepted": "not_accepted"},
    "case.start": {"accepted": "in_progress"},
    "case.decide:approve": {"accepted": "approved", "in_progress": "approved"},
    "case.decide:refuse": {"accepted": "refused", "in_progress": "refused"},
    "case.request_signoff:decision": {"in_progress": "awaiting_signoff"},
    # an extension (§42) is a leader's decision too, but the case goes on being worked
    "case.request_signoff:extension": {"in_progress": "awaiting_signoff"},
    "case.signoff:approve": {"awaiting_signoff": "approved"},
    "case.signoff:reject": {"awaiting_signoff": "refused"},
    "case.signoff:extension": {"awaiting_signoff": "in_progress"},
    "case.complete": {"approved": "completed", "refused": "completed"},
    "case.deliver": {"completed": "delivered"},
    "case.withdraw": {
        "accepted": "withdrawn",
        "in_progress": "withdrawn",
        "awaiting_signoff": "withdrawn",
    },
    # commands that keep the state
    "case.materials": _same(*WORKING),
    "case.supplement_request": _same(*WORKING),
    "case.supplement_receive": _same(*WORKING, "approved"),
    "case.pause": _same(*WORKING),
    "case.resume": _same(*WORKING),
    "case.escalate": _same(*WORKING),
    "case.fee": _same("accepted", "in_progress", "awaiting_signoff", "approved", "completed"),
}

# Transitions that need a reason from the person who makes them.
NEEDS_REASON: Final = frozenset(
    {"case.not_accept", "case.decide:refuse", "case.signoff:reject", "case.withdraw"}
)


def next_state(transition: str, state: str) -> str:
    """The state `transition` leads to from `state`; Conflict (409 case_state) if the table has
    no such edge."""
    edges = TRANSITIONS[transition]
    target = edges.get(state)
    if target is None:
        allowed = "、".join(STATE_NAMES.get(s, s) for s in edges if s != NEW) or "新申请"
        raise Conflict(
            f"办件当前为「{STATE_NAMES.get(state, state)}」，不能执行此操作（仅限：{allowed}）",
            code="case_state",
            field="state",
        )
    return target


def allowed_actions(state: str) -> list[str]:
    """The transitions the table allows from `state` (the terminal shows these keys)."""
    return [name for name, edges in TRANSITIONS.items() if state in edges]
