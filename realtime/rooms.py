"""Rooms of the hall stream: a terminal may ask for the events of some windows, queues or
departments only ("window:15", "queue:amr", "department:amr").

A room is a filter on the hall's one sequenced stream, not a stream of its own: the client
still resumes with the hall sequence number of the last event it saw, and its backlog is
filtered the same way, so nothing it should see is missed or repeated. Which rooms an event
reaches is declared with its type in the catalogue (EventType.rooms): window changes and
hall-wide announcements reach every room (every terminal shows the window board and the notice
line), internal events none."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

from db.pool import Conn
from server.catalogue import CATALOGUE
from server.domain.errors import Invalid
from server.domain.events import EventRecord

_ROOM = re.compile(r"^(window|queue|department):([a-z0-9_-]{1,40})$")
CASE_ROOM_KIND = "case"
MAX_ROOMS: Final = 20

WINDOW_ROOM = """
select w.id, w.window_no, coalesce(array_agg(q.code) filter (where q.code is not null), '{}') as queues
from service_window w left join window_queue wq on wq.window_id = w.id
left join queue q on q.id = wq.queue_id
where w.hall_id = $1 and w.window_no = $2 group by w.id
"""
QUEUE_ROOM = "select code from queue where hall_id = $1 and code = $2"
DEPARTMENT_ROOM = """
select d.id,
       array(select w.id from service_window w where w.department_id = d.id) as window_ids,
       array(select w.window_no from service_window w where w.department_id = d.id) as window_nos,
       array(select q.code from queue q where q.department_id = d.id) as queues
from department d where d.hall_id = $1 and d.code = $2
"""


@dataclass
class RoomFilter:
    window_ids: set[int]
    window_nos: set[int]
    queues: set[str]
    departments: set[str] = field(default_factory=set)
    case_ids: set[int] = field(default_factory=set)
    # Events for every room ("all": window changes, the notice line) reach staff terminals,
    # which show the window board; not the anonymous citizen following one case.
    hall_wide: bool = True
    # when set, only these event types (a rating device: its window's rating events)
    types: frozenset[str] | None = None
    # event type -> the rooms it is declared to reach (derived once by the catalogue)
    routes: dict[str, frozenset[str]] = field(default_factory=lambda: CATALOGUE.rooms)

    def __call__(self, rec: EventRecord) -> bool:
        if self.types is not None and rec.type not in self.types:
            return False
        rooms = self.routes.get(rec.type, frozenset())
        if "all" in rooms:
            return self.hall_wide
        if "window" in rooms and rec.window_id in self.window_ids:
            return True
        data = rec.payload
        if "queue" in rooms and (
            data.get("queue") in self.queues
            or any(q.get("code") in self.queues for q in data.get("queues") or ())
        ):
            return True
        if "department" in rooms and data.get("department") in self.departments:
            return True
        if "case" in rooms and data.get("case_id") in self.case_ids:
            return True
        return "target_window" in rooms and data.get("target_window_no") in self.window_nos


async def room_filter(conn: Conn, hall_id: int, rooms: Any) -> RoomFilter | None:
    """The filter for the rooms a client asked for; None for the whole hall."""
    if rooms is None:
        return None
    if not isinstance(rooms, list) or not rooms or len(rooms) > MAX_ROOMS:
        raise Invalid(f"rooms 应为 1 到 {MAX_ROOMS} 个房间名", code="invalid_room", field="rooms")
    f = RoomFilter(set(), set(), set())
    for room in rooms:
        m = _ROOM.match(room) if isinstance(room, str) else None
        if m is None:
            raise Invalid(f"房间名 {room!r} 不正确", code="invalid_room", field="rooms")
        kind, key = m.groups()
        if kind == "window":
            row = await conn.fetchrow(WINDOW_ROOM, hall_id, int(key)) if key.isdigit() else None
            if row is None:
                raise Invalid(f"窗口 {key} 不存在", code="invalid_room", field="rooms")
            f.window_ids.add(row["id"])
            f.window_nos.add(row["window_no"])
            f.queues.update(row["queues"])
        elif kind == "queue":
            if await conn.fetchval(QUEUE_ROOM, hall_id, key) is None:
                raise Invalid(f"队列 {key} 不存在", code="invalid_room", field="rooms")
            f.queues.add(key)
        else:
            row = await conn.fetchrow(DEPARTMENT_ROOM, hall_id, key)
            if row is None:
                raise Invalid(f"部门 {key} 不存在", code="invalid_room", field="rooms")
            f.window_ids.update(row["window_ids"])
            f.window_nos.update(row["window_nos"])
            f.queues.update(row["queues"])
            f.departments.add(key)
    return f


def case_filter(case_id: int) -> RoomFilter:
    """The citizen's view: the events of one case only."""
    return RoomFilter(set(), set(), set(), case_ids={case_id}, hall_wide=False)


# What a window's rating device (评价器) is told: its window's request, and the rating given
# (no citizen identity, no comment); nothing else of the hall — it stands facing the citizen.
RATER_EVENTS: Final = frozenset({"rating.requested", "rating.given"})


def rater_filter(window_id: int | None) -> RoomFilter:
    """A rating device's view, whatever rooms it asks for: its own window's rating events."""
    return RoomFilter(
        {window_id} if window_id is not None else set(),
        set(),
        set(),
        hall_wide=False,
        types=RATER_EVENTS,
    )


# What a kiosk is told: that the admin opened registration outside the hours or withdrew it,
# so its screen shows the hours or the catalogue without a reload; nothing else of the hall
# (it stands in the lobby, and registers citizens only).
KIOSK_EVENTS: Final = frozenset({"registration.open_set"})


def kiosk_filter() -> RoomFilter:
    """A kiosk's view, whatever rooms it asks for: the registration hours' changes."""
    return RoomFilter(set(), set(), set(), hall_wide=True, types=KIOSK_EVENTS)
