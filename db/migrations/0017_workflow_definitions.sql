-- Workflows that flow between windows (issue 10): a bundle (联办套餐, e.g. 多证联办) or a project
-- flow (一表通) is a versioned definition, data not code: its steps (each owned by a department,
-- with its own limit, joint mode, dependencies, what it issues and the materials it needs),
-- grouped in serial stages, its overall promised limit, its lead department and its pick-up
-- window. The JSON's shape and its meaning (departments and windows that exist, no cycle, the
-- critical path within the overall limit) are checked by server/domain/workflow_def.py before
-- a version is stored; a case keeps the version it was accepted under. A city's definitions
-- serve its county halls too (市县联动).
create table workflow_definition (
    hall_id     int not null references hall(id),
    code        text not null check (code ~ '^[a-z0-9-]{2,40}$'),
    version     int not null check (version >= 1),
    kind        text not null check (kind in ('bundle', 'project')),
    name        text not null,
    definition  jsonb not null,
    created_at  timestamptz not null default now(),
    created_by  int references staff(id),
    primary key (hall_id, code, version)
);
