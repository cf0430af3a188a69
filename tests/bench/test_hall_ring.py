"""The fan-out's shared ring of live events (realtime/fanout.py HallRing), which the bench's
full-speed phase relies on: a lagging display reads from it at its own pace."""

from __future__ import annotations

from realtime.fanout import HallRing


def ring(max_events: int = 100, max_bytes: int = 10_000) -> HallRing:
    r = HallRing(lambda frame: b"<" + frame + b">")
    r.max_events, r.max_bytes = max_events, max_bytes
    return r


def test_span_returns_the_framed_events_after_a_position():
    r = ring()
    for seq in range(41, 51):
        r.append(seq, str(seq).encode())
    assert r.span(40, 42, 1_000) == [b"<41>", b"<42>"]
    assert r.span(47, 50, 1_000) == [b"<48>", b"<49>", b"<50>"]
    assert r.span(39, 50, 1_000) is None  # 40 is not remembered


def test_span_is_limited_in_bytes_but_never_empty():
    r = ring()
    for seq in range(1, 21):
        r.append(seq, b"x" * 100)
    part = r.span(0, 20, 250)
    assert 1 <= len(part) < 20 and sum(map(len, part)) <= 250 + 102
    assert r.span(0, 20, 1) == [b"<" + b"x" * 100 + b">"]


def test_the_oldest_quarter_is_forgotten_by_count_and_by_bytes():
    r = ring(max_events=8)
    for seq in range(1, 10):
        r.append(seq, b"e")
    assert r.base == 4 and len(r.frames) == 6  # the 9th made it 9 > 8: kept 3/4 of them
    assert r.span(2, 9, 100) is None and len(r.span(3, 9, 100)) == 6
    b = ring(max_events=1_000, max_bytes=100)
    for seq in range(1, 31):
        b.append(seq, b"abcdefgh")  # 10 bytes framed
    assert b.bytes <= 100 and b.bytes == sum(map(len, b.frames))
    assert b.base + len(b.frames) == 31


def test_a_discontinuity_restarts_the_ring():
    r = ring()
    for seq in range(1, 6):
        r.append(seq, b"a")
    r.append(9, b"b")  # 6..8 never came: nobody can be served across the hole
    assert r.base == 9 and r.frames == [b"<b>"]
    assert r.span(5, 9, 100) is None and r.span(8, 9, 100) == [b"<b>"]


def test_clients_at_the_same_position_share_one_packed_write_until_the_ring_moves():
    r = ring()
    for seq in range(1, 4):
        r.append(seq, str(seq).encode())
    packs: list[list[bytes]] = []

    def pack(frames: list[bytes]) -> bytes:
        packs.append(frames)
        return b"".join(frames)

    first = r.packed(1, 3, 1_000, pack)
    assert first == (b"<2><3>", 2)
    assert r.packed(1, 3, 1_000, pack) is first and len(packs) == 1  # packed once
    assert r.packed(0, 3, 1_000, pack) == (b"<1><2><3>", 3)  # another position, its own
    r.append(4, b"4")
    assert r.packed(1, 4, 1_000, pack) == (b"<2><3><4>", 3) and len(packs) == 3
    assert r.packed(-5, 4, 1_000, pack) is None  # forgotten: the client must resync
