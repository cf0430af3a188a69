-- The reports (issue 11, /reports) read a range of service days of every table once. The
-- windows' idle spells had only an index of the open spell: a month's report scanned a year's
-- spells. By day, a month is an index range.
create index window_idle_day on window_idle (service_day);
