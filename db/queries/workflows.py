"""Workflow definitions (issue 10): versions per hall and code; the latest is the one in force.
A county hall uses its city's definitions."""

from __future__ import annotations

# the hall whose definitions a hall uses: its own, or its city's for a county hall
DEFINING_HALL = "select coalesce(parent_id, id) from hall where id = $1"

DEPARTMENTS = "select code, name from department where hall_id = $1"
ITEMS = "select code from item where hall_id = $1 and active"

WINDOWS = """
select w.window_no, d.code from service_window w join department d on d.id = w.department_id
where w.hall_id = $1
"""

# Publishing is serialised per hall and code, so two publishers cannot take one version.
LOCK_CODE = "select pg_advisory_xact_lock(hashtext('workflow:' || $1::int || ':' || $2::text))"

INSERT_VERSION = """
insert into workflow_definition (hall_id, code, version, kind, name, definition, created_at,
                                 created_by)
select $1, $2, coalesce(max(version), 0) + 1, $3, $4, $5, $6, $7
from workflow_definition where hall_id = $1 and code = $2
returning version
"""

_COLS = """
w.code, w.version, w.kind, w.name, w.definition, w.created_at, s.display_name as created_by
from workflow_definition w left join staff s on s.id = w.created_by
"""

LATEST = f"""
select distinct on (w.code) {_COLS}
where w.hall_id = $1
order by w.code, w.version desc
"""

ONE = f"""
select {_COLS}
where w.hall_id = $1 and w.code = $2 and ($3::int is null or w.version = $3)
order by w.version desc limit 1
"""

VERSIONS = "select array_agg(version order by version) from workflow_definition where hall_id = $1 and code = $2"
