-- Lookups of a case's rows by the case (or the ticket) that 0007 left to a sequential scan.
-- Measured with `run.py bench cases` at 100,000 open cases: acceptance from a ticket checks
-- that the ticket has no case yet (service_case.ticket_id), 62 ms per acceptance on a cold
-- cache and growing with the table; the timeline (GET /api/cases/{id}) reads the case's
-- supplement notices, sign-off requests and fees by case_id, 1-3 ms each at 100,000 cases and
-- linear in their number. Each is now an index lookup (< 0.1 ms).
create index service_case_ticket on service_case (ticket_id) where ticket_id is not null;
create index supplement_notice_case on supplement_notice (case_id);
create index signoff_request_case on signoff_request (case_id);
create index case_fee_case on case_fee (case_id);
