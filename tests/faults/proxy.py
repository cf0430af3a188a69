"""The fault proxy lives in the product (server/faults/proxy.py): `run.py faults` uses it too."""

from server.faults.proxy import FaultProxy, proxy_for_dsn, via

__all__ = ["FaultProxy", "proxy_for_dsn", "via"]
