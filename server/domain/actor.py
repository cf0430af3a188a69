"""Who is acting: a staff member, a device or the system itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

STAFF_ROLES: Final = ("clerk", "leader", "supervisor", "admin")
DEVICE_ROLES: Final = ("kiosk", "display", "rater")

ActorKind = Literal["staff", "device", "system"]


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: int | None
    hall_id: int
    role: str  # one of STAFF_ROLES, DEVICE_ROLES or "system"
    name: str = ""
    department_id: int | None = None
    window_id: int | None = None  # clerks: the window they are signed in at
    window_no: int | None = None
    city_hall_id: int | None = None  # for county halls: the city that supervises them
    hall_code: str = ""
    # the login session this actor acts under (a prefix of its token's SHA-256): live
    # connections opened under it are closed when it ends
    session: str | None = None
    # a password reset by the admin: until it is changed, the actor may only change it
    must_change_password: bool = False

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.id}:{self.role}"


def system_actor(hall_id: int) -> Actor:
    return Actor(kind="system", id=None, hall_id=hall_id, role="system", name="system")
