"""The fan-out's write coalescing (realtime/fanout.py Flusher), driven turn by turn on a loop
whose clock the test sets: no sleeps, no timing.

The policy: every client with something due is written once per event-loop turn, in ONE write
of everything due by then; events that arrive before the loop comes back to a client share
its write; at most `writes_per_turn` writes per turn, the rest on the next one; an optional
min_interval spaces the writes of new events, never delays the first after a quiet spell, and
never holds back a client catching up."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from realtime.fanout import Flusher, HallRing, Subscriber
from server.domain.events import EventRecord


class TurnLoop:
    """What Flusher needs of an event loop: callbacks run only when the test turns it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.ready: list[Callable[[], Any]] = []
        self.timers: list[tuple[float, Callable[[], Any]]] = []

    def time(self) -> float:
        return self.now

    def call_soon(self, cb: Callable[[], Any]) -> Handle:
        h = Handle(cb)
        self.ready.append(h)
        return h

    def call_later(self, delay: float, cb: Callable[[], Any]) -> Handle:
        h = Handle(cb)
        self.timers.append((self.now + delay, h))
        return h

    def turn(self) -> None:
        """One iteration: the timers that are due, then what was ready at its start."""
        due = [h for at, h in self.timers if at <= self.now]
        self.timers = [(at, h) for at, h in self.timers if at > self.now]
        ready, self.ready = self.ready, []
        for h in due + ready:
            h()

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Handle:
    def __init__(self, cb: Callable[[], Any]):
        self.cb = cb
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def __call__(self) -> None:
        if not self.cancelled:
            self.cb()


class RecordingSubscriber(Subscriber):
    def __init__(self, flusher: Flusher) -> None:
        super().__init__(hall_id=1, flusher=flusher)
        self.writes: list[bytes] = []

    def write_now(self, data: bytes) -> bool:
        self.writes.append(data)
        return True

    async def abort(self, reason: str) -> None:
        pass


def test_an_event_is_written_on_the_next_turn_without_waiting_for_anything():
    loop = TurnLoop()
    flusher = Flusher(loop)
    a, b = RecordingSubscriber(flusher), RecordingSubscriber(flusher)
    a.send(b"1")
    b.send(b"1")
    assert a.writes == [] and b.writes == []  # not written inside the fan-out's own turn
    loop.turn()
    assert a.writes == [b"1"] and b.writes == [b"1"]
    assert loop.timers == []  # no clock involved
    a.send(b"2")
    loop.turn()
    assert a.writes == [b"1", b"2"] and b.writes == [b"1"]


def test_events_that_come_before_the_loop_gets_back_to_a_client_share_one_write():
    loop = TurnLoop()
    flusher = Flusher(loop)
    a = RecordingSubscriber(flusher)
    a.send(b"1")
    a.send(b"2")
    a.send(b"3")
    loop.turn()
    assert a.writes == [b"123"]
    loop.turn()
    assert a.writes == [b"123"]  # nothing due, nothing written


def test_at_most_writes_per_turn_and_later_events_join_the_writes_still_to_make():
    loop = TurnLoop()
    flusher = Flusher(loop, writes_per_turn=2)
    subs = [RecordingSubscriber(flusher) for _ in range(5)]
    for s in subs:
        s.send(b"a")
    loop.turn()
    assert [s.writes for s in subs] == [[b"a"], [b"a"], [], [], []]
    for s in subs:  # the next event comes while the flush is under way
        s.send(b"b")
    loop.turn()
    # those not yet written get both events in one write; the first two wait their turn
    assert [s.writes for s in subs] == [[b"a"], [b"a"], [b"ab"], [b"ab"], []]
    loop.turn()
    loop.turn()
    assert [s.writes for s in subs] == [[b"a", b"b"], [b"a", b"b"], [b"ab"], [b"ab"], [b"ab"]]
    assert flusher.pending() == 0 and loop.ready == []


def test_a_client_far_behind_is_written_a_writes_worth_per_turn_the_others_meanwhile():
    loop = TurnLoop()
    flusher = Flusher(loop)
    ring = HallRing(lambda frame: frame)
    behind, other = RecordingSubscriber(flusher), RecordingSubscriber(flusher)
    for s in (behind, other):
        s.ring = ring
        s.go_live(0)
    behind.max_write = 2  # bytes of ring frames per write (each frame here is one byte)
    for seq in range(1, 6):
        _deliver(ring, [behind, other], seq)
    loop.turn()
    assert behind.writes == [b"12"] and other.writes == [b"12345"]
    loop.turn()
    assert behind.writes == [b"12", b"34"]
    _deliver(ring, [behind, other], 6)
    loop.turn()
    assert behind.writes == [b"12", b"34", b"56"] and other.writes == [b"12345", b"6"]
    loop.turn()
    assert flusher.pending() == 0 and loop.ready == []


def _deliver(ring: HallRing, subs: list[RecordingSubscriber], seq: int) -> None:
    """What Fanout._deliver does with one event: into the ring, then every client's position."""
    frame = str(seq % 10).encode()
    rec = EventRecord(1, seq, "t", {}, None, datetime.now(UTC))
    ring.append(seq, frame)
    for s in subs:
        s.push(rec, frame)


def test_min_interval_spaces_writes_but_never_delays_the_first_event():
    loop = TurnLoop()
    flusher = Flusher(loop, min_interval=0.05)
    a = RecordingSubscriber(flusher)
    a.send(b"1")
    loop.turn()
    assert a.writes == [b"1"]  # after a quiet spell: at once
    loop.advance(0.01)
    a.send(b"2")
    loop.turn()
    assert a.writes == [b"1"]  # within the interval: held ...
    loop.advance(0.02)
    a.send(b"3")  # ... and joined by the next one
    loop.turn()
    assert a.writes == [b"1"]
    loop.advance(0.02)  # 0.05 after the first write
    loop.turn()
    assert a.writes == [b"1", b"23"]
    loop.advance(1.0)
    a.send(b"4")
    loop.turn()
    assert a.writes == [b"1", b"23", b"4"]


def test_each_fanout_has_its_own_flusher_configuration():
    from realtime.fanout import Fanout

    async def no_snapshot(hall_id: int) -> dict:
        raise AssertionError

    one = Fanout(None, no_snapshot, flush_ms=40, writes_per_turn=7)  # type: ignore[arg-type]
    two = Fanout(None, no_snapshot)  # type: ignore[arg-type]
    assert (one.flusher.min_interval, one.flusher.writes_per_turn) == (0.04, 7)
    assert two.flusher.min_interval == 0 and two.flusher is not one.flusher
