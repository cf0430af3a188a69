"""Contract tests: the catalogue (server/catalogue) is the one declaration of every operation,
event type and timer job, and every consumer agrees with it.

- every event type that SQL or Python emits is declared, and every declared type is emitted
  somewhere;
- each command that is a database function audits under its own name and emits exactly the
  event types it declares;
- every audit action written anywhere is a declared operation or timer job;
- each declared event type's example validates against its payload schema, and the browser's
  event schema is served from the catalogue."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiohttp import ClientSession

from server.catalogue import CATALOGUE
from server.catalogue.spine import Capability, Catalogue, EventType, Operation

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "db" / "functions"

_SQL_TYPE = re.compile(r"'type',\s*'([a-z_]+\.[a-z_]+)'")
_SQL_FUNCTION = re.compile(r"create\s+or\s+replace\s+function\s+(\w+)\s*\(", re.IGNORECASE)
_SQL_COMMIT_ACTION = re.compile(r"hq_commit\((?:[^;]*?),\s*'([a-z_]+\.[a-z_]+)'", re.DOTALL)
_PY_EMIT = re.compile(r"\.emit\(\s*(\"[a-z_]+\.[a-z_]+\"|[A-Z_][A-Z0-9_]*)")
_PY_CONST = re.compile(r"^([A-Z_][A-Z0-9_]*)\s*(?::[^=]+)?=\s*\"([a-z_]+\.[a-z_]+)\"", re.MULTILINE)
_PY_AUDIT = re.compile(r"(?:_audit|write_audit|\.audit)\([^)]*?\"([a-z_]+\.[a-z_]+)\"", re.DOTALL)
# a transaction opened under a literal name (store.command(actor, "x.y")) audits under that name
_PY_COMMAND_ACTION = re.compile(r"\.command\([^\n]*?,\s*\"([a-z_]+\.[a-z_]+)\"\s*\)")


def sql_functions() -> dict[str, str]:
    """Function name -> its body, from db/functions/*.sql."""
    out: dict[str, str] = {}
    for path in sorted(FUNCTIONS.glob("*.sql")):
        text = path.read_text()
        starts = [(m.start(), m.group(1)) for m in _SQL_FUNCTION.finditer(text)]
        for i, (at, name) in enumerate(starts):
            end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
            out[name] = text[at:end]
    return out


def python_sources() -> list[Path]:
    return [
        p
        for d in ("server", "realtime", "db")
        for p in (ROOT / d).rglob("*.py")
        if "bench" not in p.parts  # the load generator emits nothing of its own
    ]


def python_constants() -> dict[str, str]:
    consts: dict[str, str] = {}
    for path in python_sources():
        for name, value in _PY_CONST.findall(path.read_text()):
            consts[name] = value
    return consts


def emitted_by_python() -> set[str]:
    consts = python_constants()
    out = set()
    for path in python_sources():
        for arg in _PY_EMIT.findall(path.read_text()):
            if arg.startswith('"'):
                out.add(arg.strip('"'))
            else:
                assert arg in consts, f"{path}: emit({arg}) names no event-type constant"
                out.add(consts[arg])
    return out


def emitted_by_sql() -> set[str]:
    return {t for body in sql_functions().values() for t in _SQL_TYPE.findall(body)}


def test_every_emitted_event_type_is_declared_and_every_declared_one_is_emitted():
    emitted = emitted_by_sql() | emitted_by_python()
    declared = set(CATALOGUE.events)
    assert not emitted - declared, f"emitted but not declared: {sorted(emitted - declared)}"
    assert not declared - emitted, f"declared but never emitted: {sorted(declared - emitted)}"


def test_sql_commands_and_timer_jobs_audit_under_their_name_and_emit_what_they_declare():
    bodies = sql_functions()
    wrong = []
    for op in [*CATALOGUE.operations.values(), *CATALOGUE.timers.values()]:
        if op.sql is None:
            continue
        body = bodies.get(op.sql)
        if body is None:
            wrong.append(f"{op.name}: its function {op.sql} is in no db/functions file")
            continue
        actions = set(_SQL_COMMIT_ACTION.findall(body))
        if actions != {op.name}:
            wrong.append(f"{op.name}: {op.sql} audits as {sorted(actions)}")
        types = set(_SQL_TYPE.findall(body))
        if types != set(op.emits):
            wrong.append(f"{op.name}: {op.sql} emits {sorted(types)}, declares {list(op.emits)}")
    assert not wrong, "\n".join(wrong)


def test_every_audit_action_is_a_declared_operation_or_timer_job():
    names = set(CATALOGUE.operations) | set(CATALOGUE.timers)
    actions = {a for body in sql_functions().values() for a in _SQL_COMMIT_ACTION.findall(body)}
    for path in python_sources():
        text = path.read_text()
        actions |= set(_PY_AUDIT.findall(text)) | set(_PY_COMMAND_ACTION.findall(text))
    assert actions, "the scan found no audit actions: the patterns are stale"
    assert not actions - names, f"audited but not declared: {sorted(actions - names)}"
    # a timer job written in Python commits under its own name, like a SQL one (checked above)
    python_jobs = {job.name for job in CATALOGUE.timers.values() if job.sql is None}
    assert python_jobs <= actions, f"timer jobs never audited: {sorted(python_jobs - actions)}"


def test_examples_validate_against_their_payload_schemas():
    for name, ev in CATALOGUE.events.items():
        ev.payload.model_validate(dict(ev.example))  # raises on a mismatch
        assert not set(ev.example) & ev.personal, f"{name}: its example shows personal data"


def test_payload_schemas_refuse_undeclared_fields():
    """A field nobody declared (say a citizen's query code) must fail the payload schema."""
    for name, ev in CATALOGUE.events.items():
        with pytest.raises(ValueError):
            ev.payload.model_validate({**ev.example, "query_code": "ABCD2345"})
        assert ev.payload.model_config.get("extra") == "forbid", name


def test_the_catalogue_refuses_a_command_that_emits_an_undeclared_type():
    async def handler(call, params, body):  # pragma: no cover - never called
        return None

    op = Operation("x.do", "x", "command", handler, {"admin": "hall"}, emits=("x.done",))
    with pytest.raises(ValueError, match="undeclared event type x.done"):
        Catalogue([Capability("x", operations=(op,))])
    ev = EventType("x.done", "x", CATALOGUE.events["hall.notice_set"].payload, ("all",), {})
    with pytest.raises(ValueError, match="declared twice"):
        Catalogue([Capability("x", events=(ev,)), Capability("y", events=(ev,))])


def test_permission_table_is_the_catalogues():
    policy = CATALOGUE.policy()
    commands = [op for op in CATALOGUE.operations.values() if op.kind == "command"]
    assert len({op.name for op in commands}) == len(commands)
    for op in CATALOGUE.operations.values():
        assert (op.name in policy) == (not op.public), op.name


async def test_the_event_schema_is_served_from_the_catalogue(live):
    async with ClientSession(base_url=live.url) as s:
        resp = await s.get("/api/events/schema")
        assert resp.status == 200
        body = await resp.json()
    assert set(body["types"]) == set(CATALOGUE.events)
    called = body["types"]["ticket.called"]
    assert called["rooms"] == ["window", "queue"] and called["delivered"] is True
    assert "ticket_no" in called["schema"]["properties"]
    assert body["types"]["session.ended"]["delivered"] is False
