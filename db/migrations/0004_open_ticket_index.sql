-- The hall timers look for open tickets every few seconds (closing time, parked expiry); a
-- year holds ~650,000 tickets per hall, the open ones are a handful: index only those.
create index ticket_open on ticket (hall_id, created_at) where status <> 'done';
