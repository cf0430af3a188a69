-- 一表通 projects (issue 10): a construction project is the main thread, with its own number,
-- across the serial stages of a project flow. Each stage is accepted at the lead window as a
-- joint case of its own (its steps, its clock, its fees); the project ties them together.
-- The project's material store is not a table: it is every material its stage cases hold as
-- handed in (case_material), so a stage's intake cannot disagree with what is on file.
create table project_year (
    hall_id      int not null references hall(id),
    year         int not null,
    last_number  int not null default 0,
    primary key (hall_id, year)
);

create table project (
    id                bigserial primary key,
    hall_id           int not null references hall(id),
    -- unique across the city and its county halls: the hall's code is in it
    project_no        text not null unique,
    name              text not null check (length(name) between 1 and 120),
    workflow_code     text not null,
    workflow_version  int not null,
    applicant_name    text not null,
    applicant_phone   text,
    applicant_id_no   text,
    state             text not null check (state in ('active', 'completed')),
    opened_at         timestamptz not null,
    opened_by         int not null references staff(id),
    window_id         int not null references service_window(id),
    completed_at      timestamptz,
    check ((state = 'completed') = (completed_at is not null))
);
create index project_hall_open on project (hall_id, opened_at) where state = 'active';

alter table service_case
    add column project_id  bigint references project(id),
    add column stage_no    int check (stage_no >= 1),
    add constraint service_case_project check ((project_id is null) = (stage_no is null));
-- a stage is worked once: a second intake of it while one stands is refused (a stage not
-- accepted or withdrawn may be taken again)
create unique index service_case_project_stage on service_case (project_id, stage_no)
    where project_id is not null and state not in ('not_accepted', 'withdrawn');

-- The credit blacklist (失信名单): an applicant on it cannot be accepted with deficiency (容缺).
-- One list for a city and its county halls (kept on the city's hall row), keyed by the
-- applicant's ID number when known, else by the name (a company's registered name).
create table credit_flag (
    hall_id        int not null references hall(id),
    applicant_key  text not null,
    applicant_name text not null,
    blacklisted    boolean not null,
    reason         text not null default '',
    set_at         timestamptz not null,
    set_by         int references staff(id),
    primary key (hall_id, applicant_key)
);

-- A step's materials (by name, from its definition): a material accepted missing under 容缺
-- blocks only the steps that need it, until it is handed in.
alter table joint_step add column materials text[] not null default '{}';
