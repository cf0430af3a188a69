-- Which years of a hall's calendar hold official holiday data, and where each calendar day came
-- from. chinesecalendar carries the State Council's notices only up to the year it was released
-- for (1.11: 2026); later years are loaded from the notice itself (calendar.import, run.py
-- calendar-import; docs/calendar.md). A year without a row here has no statutory holidays in
-- the hall's calendar: /healthz and the start-up log warn when one is near.
-- The app role gets its privileges from migrate's grant_app_role (every table, read and write),
-- as for every earlier table.

create table calendar_year (
    hall_id    int not null references hall(id),
    year       int not null check (year between 1900 and 2999),
    -- library: the chinesecalendar package (demo seed); notice: a loaded notice;
    -- manual: a year entered day by day and declared complete (no command does this yet)
    source     text not null check (source in ('library', 'notice', 'manual')),
    title      text not null default '',
    loaded_at  timestamptz not null default now(),
    loaded_by  int references staff(id),   -- null: the system (seed, file import)
    primary key (hall_id, year)
);

-- A day set by hand ('manual') survives the load of its year's notice unless the notice lists
-- that very day; rows from the library or a notice are replaced by the next notice of the year.
alter table calendar_day
    add column source text not null default 'manual'
        check (source in ('library', 'notice', 'manual'));

-- Until now every hall was made by the demo seed, which filled the years chinesecalendar knew
-- (up to 2026) with these notes; any other row was set by hand.
update calendar_day set source = 'library'
where day < date '2027-01-01'
  and note in ('元旦', '春节', '清明节', '劳动节', '端午节', '中秋节', '国庆节', '调休上班',
               '中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日');

insert into calendar_year (hall_id, year, source, title)
select hall_id, extract(year from day)::int, 'library', 'chinesecalendar（升级时据已有日历补记）'
from calendar_day
where source = 'library'
group by 1, 2;
