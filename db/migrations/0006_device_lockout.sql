-- Devices are locked out after repeated failed logins, like staff: a kiosk's secret is typed on
-- a public screen, so guessing it must cost as much as guessing a password.
alter table device
    add column failed_logins int not null default 0,
    add column locked_until  timestamptz;
