"""A hall's supervision rules, declared: read them and publish a new version (checked by
server/domain/alarm_ladder.parse_rules and check_step_limits)."""

from __future__ import annotations

from server.catalogue.spine import Operation

OPERATIONS: tuple[Operation, ...] = ()
