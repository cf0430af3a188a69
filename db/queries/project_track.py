"""The citizen's /track of a project's stage case (一表通): the project the case is a stage of, and
its stages' cases, with nothing personal (no applicant, no staff, no window)."""

from __future__ import annotations

PROJECT = """
select p.id, p.project_no, p.name, p.state, p.hall_id, p.workflow_code, p.workflow_version
from project p where p.id = $1
"""

# the stage cases that stand (a stage not accepted or withdrawn may be taken again)
STAGES = """
select c.stage_no, c.state, c.accepted_at, c.completed_at
from service_case c
where c.project_id = $1 and c.state not in ('not_accepted', 'withdrawn')
order by c.stage_no
"""
