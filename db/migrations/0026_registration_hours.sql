-- Registration at the kiosk keeps the hall's opening hours (issue 12): it opens
-- registration_lead_minutes before the first work period of a working day and closes at the
-- end of the last one; outside them the admin may open it until an instant
-- (registration_open_until; null: the hours alone). server/domain/registration_hours.py.
alter table hall add column registration_lead_minutes int not null default 30
    check (registration_lead_minutes between 0 and 240);
alter table hall add column registration_open_until timestamptz;
