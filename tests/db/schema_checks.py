"""Checks on a migrated schema, shared by the migration tests."""

from __future__ import annotations

import asyncpg

import db.migrate as m

# Functions of a schema that no extension owns, as name(identity arguments).
_FUNCTIONS_OF = """
select p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' as sig
from pg_proc p
where p.pronamespace = $1::regnamespace
  and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass
                  and d.objid = p.oid and d.deptype = 'e')
"""


async def functions_not_in_files(conn: asyncpg.Connection) -> set[str]:
    """Functions of schema public that no db/functions file defines (stale overloads left by a
    signature change without a drop, or functions created by hand). The files are applied in a
    scratch schema, first on the search path, in a transaction rolled back afterwards."""
    tx = conn.transaction()
    await tx.start()
    try:
        await conn.execute("create schema hq_defined; set local search_path = hq_defined, public")
        for path in m.function_files():
            await m._run_file(conn, path)
        defined = {r["sig"] for r in await conn.fetch(_FUNCTIONS_OF, "hq_defined")}
        present = {r["sig"] for r in await conn.fetch(_FUNCTIONS_OF, "public")}
    finally:
        await tx.rollback()
    return present - defined
