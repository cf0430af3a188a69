"""SQL of the kiosk's registration hours (server/domain/registration_hours.py)."""

from __future__ import annotations

HOURS_OF_HALL = """
select work_periods, registration_lead_minutes, registration_open_until from hall where id = $1
"""

# what a registration checks: the hall's hours, the override and today's calendar row (null:
# the default rule, Monday to Friday)
TODAY_OF_HALL = """
select h.work_periods, h.registration_lead_minutes, h.registration_open_until,
       (select c.is_working from calendar_day c where c.hall_id = h.id and c.day = $2)
           as is_working
from hall h where h.id = $1
"""

SET_OPEN_UNTIL = "update hall set registration_open_until = $2 where id = $1"
