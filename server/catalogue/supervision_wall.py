"""The supervision wall's reads, declared: the hall live, the drill-down from hall to case, the
city's view of its county halls and the month's scoring (server/domain/supervision_views.py)."""

from __future__ import annotations

from server.catalogue.spine import Operation

OPERATIONS: tuple[Operation, ...] = ()
