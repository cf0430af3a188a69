"""The client's address behind a reverse proxy (nginx, a load balancer): the per-address limits
(/track, the SMS rating link, open /track connections) must count citizens, not the proxy,
which is every request's peer once the server listens on 127.0.0.1 behind nginx.

Only a peer listed in HALLOPS_TRUSTED_PROXIES is believed: its X-Forwarded-For is read from
the right (the entry its own proxy appended) past every trusted hop, and the first address
that is not one is the client. An untrusted peer is the client whatever it sends, so a citizen
cannot pick the address a limit counts."""

from __future__ import annotations

import functools
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import Any

from server.keys import SETTINGS

Network = IPv4Network | IPv6Network


@functools.lru_cache(maxsize=8)
def networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    """HALLOPS_TRUSTED_PROXIES' entries (addresses or networks); ValueError for a bad one."""
    return tuple(ip_network(t, strict=False) for t in trusted)


def _is_trusted(address: str, nets: tuple[Network, ...]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in nets)


def client_address(
    remote: str | None, forwarded_for: str | None, trusted: tuple[str, ...]
) -> str | None:
    """The address a request comes from: `remote` (the TCP peer), or, when that is a trusted
    proxy, the right-most X-Forwarded-For entry that is not a trusted proxy itself."""
    nets = networks(trusted)
    if not nets or remote is None or not _is_trusted(remote, nets):
        return remote
    hops = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()]
    for hop in reversed(hops):
        if _is_trusted(hop, nets):
            continue
        try:
            return str(ip_address(hop))
        except ValueError:
            return remote  # garbage where an address should be: count the proxy
    return hops[0] if hops else remote


def request_client(request: Any) -> str | None:
    """client_address of an aiohttp request, by the server's settings."""
    return client_address(
        request.remote,
        request.headers.get("X-Forwarded-For"),
        request.app[SETTINGS].trusted_proxies,
    )
