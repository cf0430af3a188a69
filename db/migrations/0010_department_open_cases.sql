-- The window's list reads its department's open cases oldest first (OPEN_CASES_OF_WINDOW):
-- with 15,000 open cases in one department that was 14-23 ms (run.py bench cases); by this
-- index it is the first 200 entries of one range.
create index service_case_department_open on service_case (department_id, accepted_at)
    where state not in ('completed', 'delivered', 'not_accepted', 'withdrawn');
create index service_case_department_done on service_case (department_id, completed_at)
    where state = 'completed';
