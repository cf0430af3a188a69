"""Logins, sessions and the short-lived tickets that browsers hand to the socket handshake.

Staff log in with a password (argon2); devices (kiosks, displays) with their code and secret.
Both get an opaque session token; only its SHA-256 is stored. Both are audited, success and
failure, and locked out after repeated failures.

A session is named by a prefix of its token's SHA-256 (Actor.session): enough to tell sessions
apart, useless as a credential. When a session ends (logout, revocation) or a clerk is signed
out by an admin, the command appends a `session.ended` event in its transaction:

    {"session": "<16 hex>" | null, "staff_id": <id>  or  "device_id": <id>,
     "reason": "logout" | "forced_sign_out" | "revoked"}

session null means every session of that staff member or device. Every process closes the
live connections it names when the event reaches it over the bus, and drops its cached
sessions."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Final, Literal, Protocol

import asyncpg

from db.pool import Conn
from db.queries import auth as q
from db.queries.events import write_audit
from server.domain.actor import Actor
from server.domain.errors import Forbidden, Invalid, Locked, NotFound, Unauthenticated
from server.domain.events import EventRecord
from server.domain.hall import hall_by_id
from server.domain.passwords import verify_password
from server.domain.permissions import Target
from server.domain.store import Store, Tx

BAD_CREDENTIALS = "用户名或密码错误"
BAD_DEVICE_CREDENTIALS = "设备编号或密钥错误"
SESSION_ENDED: Final = "session.ended"
STAFF_CHANGED: Final = "staff.changed"
SESSION_ID_HEX: Final = 16  # 64 bits: no two live sessions share it by chance
_SIGNIN_EVENTS = frozenset({"window.signed_in", "window.signed_out"})
_CACHE_MAX = 50_000

EndReason = Literal["logout", "forced_sign_out", "revoked"]


class CommandCall(Protocol):
    """What a command needs of its invocation (server.catalogue.spine.Call provides it)."""

    @property
    def actor(self) -> Actor: ...

    def command(self) -> AbstractAsyncContextManager[Tx]: ...

    def check(self, target: Target) -> None: ...


@dataclass(frozen=True)
class LoginResult:
    token: str
    expires_at: datetime
    actor: Actor


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def session_id(digest: bytes) -> str:
    """The session's public name, from its token's SHA-256."""
    return digest.hex()[:SESSION_ID_HEX]


def session_ended(
    session: str | None,
    reason: EndReason,
    *,
    staff_id: int | None = None,
    device_id: int | None = None,
) -> dict[str, Any]:
    """The payload of a session.ended event (exactly one of staff_id, device_id)."""
    who = {"staff_id": staff_id} if staff_id is not None else {"device_id": device_id}
    return {"session": session, **who, "reason": reason}


def emit_forced_sign_out(tx: Tx, clerk_id: int, hall_id: int) -> None:
    """In a window sign-out's transaction: when someone other than the clerk (an admin) signed
    them out, every live connection of the clerk closes (session null: all their sessions)."""
    if tx.actor.kind == "staff" and tx.actor.id == clerk_id:
        return
    tx.emit(
        SESSION_ENDED, session_ended(None, "forced_sign_out", staff_id=clerk_id), hall_id=hall_id
    )


def require_password_changed(actor: Actor) -> None:
    """A password reset by the admin may be used for nothing but changing it: every operation
    but that, who-am-I and logging out, and every live connection, are refused meanwhile."""
    if actor.must_change_password:
        raise Forbidden("管理员已重置您的密码，请先修改密码", code="password_change_required")


def _locked_minutes(row: asyncpg.Record) -> int | None:
    """Minutes left of a lock-out, or None when the account or device is not locked."""
    if row["locked_until"] and row["locked_until"] > row["now"]:
        return max(1, int((row["locked_until"] - row["now"]).total_seconds() // 60) + 1)
    return None


def actor_from_row(row: asyncpg.Record) -> Actor:
    if row["staff_id"] is not None:
        return Actor(
            kind="staff",
            id=row["staff_id"],
            hall_id=row["hall_id"],
            role=row["role"],
            name=row["display_name"],
            department_id=row["department_id"],
            window_id=row["window_id"],
            window_no=row["window_no"],
            city_hall_id=row["hall_parent_id"],
            hall_code=row["hall_code"],
            must_change_password=row["must_change_password"],
        )
    return Actor(
        kind="device",
        id=row["device_id"],
        hall_id=row["hall_id"],
        role=row["device_kind"],
        name=row["device_name"],
        window_id=row["window_id"],  # a rating device's own window
        window_no=row["window_no"],
        city_hall_id=row["hall_parent_id"],
        hall_code=row["hall_code"],
    )


@dataclass(frozen=True)
class _LoginKind:
    """What differs between a staff login and a device login."""

    kind: str  # the audit's actor kind
    action: str  # the audit action (the operation's name)
    select_sql: str  # the account by its name (username, device code)
    secret_column: str
    failed_sql: str
    ok_sql: str
    session_key: str  # staff_id or device_id
    session_seconds: float | None  # None: the configured session length
    locked_message: str
    bad_message: str


_STAFF_LOGIN = _LoginKind(
    "staff",
    "auth.login",
    q.STAFF_BY_USERNAME,
    "password_hash",
    q.LOGIN_FAILED,
    q.LOGIN_OK,
    "staff_id",
    None,
    "登录失败次数过多，账号已锁定，请 {minutes} 分钟后再试",
    BAD_CREDENTIALS,
)
_DEVICE_LOGIN = _LoginKind(
    "device",
    "auth.device_login",
    q.DEVICE_BY_CODE,
    "secret_hash",
    q.DEVICE_LOGIN_FAILED,
    q.DEVICE_LOGIN_OK,
    "device_id",
    30 * 86400,
    "设备登录失败次数过多，已锁定，请 {minutes} 分钟后再试",
    BAD_DEVICE_CREDENTIALS,
)


class AuthService:
    def __init__(
        self,
        store: Store,
        *,
        secret: str,
        session_hours: float,
        lockout_attempts: int,
        lockout_minutes: float,
        cache_seconds: float = 2.0,
    ):
        self.store = store
        self._secret = secret.encode()
        self.session_seconds = session_hours * 3600
        self.lockout_attempts = lockout_attempts
        self.lockout_seconds = lockout_minutes * 60
        self.cache_seconds = cache_seconds
        self.monotonic: Callable[[], float] = time.monotonic  # the cache's clock (tests set it)
        self._cache: dict[bytes, tuple[Actor, float]] = {}  # token hash -> (actor, until)
        self._epoch = 0  # bumped by every invalidation

    async def login_staff(self, username: str, password: str) -> LoginResult:
        return await self._login(_STAFF_LOGIN, username, password, {"username": username})

    async def login_device(self, code: str, secret: str) -> LoginResult:
        """Like a staff login: audited either way, locked out after lockout_attempts failures
        for lockout_minutes (a kiosk's secret is typed on a public screen)."""
        return await self._login(_DEVICE_LOGIN, code, secret, {"device": code})

    async def _login(
        self, how: _LoginKind, name: str, secret: str, who: dict[str, str]
    ) -> LoginResult:
        """One login, staff or device: refused while locked out, the failures counted toward
        the lock-out, every outcome audited, the session created in the success's
        transaction."""
        async with self.store.read() as conn:
            row = await conn.fetchrow(how.select_sql, name)
            if row is not None and (minutes := _locked_minutes(row)) is not None:
                await self._audit_row(conn, row, how.kind, how.action, "account_locked", who)
                raise Locked(how.locked_message.format(minutes=minutes))
            # argon2 costs tens of milliseconds of CPU: keep it off the event loop.
            ok = await asyncio.to_thread(
                verify_password, row[how.secret_column] if row else None, secret
            )
            if row is None or not row["active"] or not ok:
                if row is not None:
                    async with conn.transaction():
                        await conn.execute(
                            how.failed_sql, row["id"], self.lockout_attempts, self.lockout_seconds
                        )
                        await self._audit_row(
                            conn, row, how.kind, how.action, "bad_credentials", who
                        )
                raise Unauthenticated(how.bad_message, code="bad_credentials")
            async with conn.transaction():
                await conn.execute(how.ok_sql, row["id"])
                token, expires_at = await self._create_session(
                    conn, **{how.session_key: row["id"]}, seconds=how.session_seconds
                )
                await self._audit(
                    conn,
                    row["hall_id"],
                    how.kind,
                    row["id"],
                    how.action,
                    "ok",
                    {"session": session_id(token_hash(token))},
                )
        actor = await self.resolve(token)
        assert actor is not None
        return LoginResult(token, expires_at, actor)

    async def logout(self, token: str, actor: Actor) -> list[EventRecord]:
        """Ends this session: revoked, audited and announced (session.ended) in one
        transaction, so its live connections close in every process. Returns that event."""
        digest = token_hash(token)
        self._forget(digest)
        async with self.store.command(actor, "auth.logout") as tx:
            tx.detail["session"] = session_id(digest)
            row = await tx.conn.fetchrow(q.REVOKE_SESSION, digest)
            if row is not None:
                tx.emit(
                    SESSION_ENDED,
                    session_ended(
                        session_id(digest),
                        "logout",
                        staff_id=row["staff_id"],
                        device_id=row["device_id"],
                    ),
                )
        self._forget(digest)  # a request resolving it meanwhile must not keep it cached
        return tx.records

    async def revoke_sessions(
        self, call: CommandCall, *, staff_id: int | None = None, device_id: int | None = None
    ) -> int:
        """Revokes every live session of one staff member or device (a lost kiosk, a clerk who
        left): their live connections close everywhere. Returns how many were live."""
        if (staff_id is None) == (device_id is None):
            raise Invalid("请指定一名工作人员或一台设备", code="invalid_target", field="staff_id")
        async with call.command() as tx:
            if staff_id is not None:
                row = await tx.conn.fetchrow(q.STAFF_IN_HALL, staff_id)
                if row is None:
                    raise NotFound("工作人员不存在", code="unknown_staff", field="staff_id")
                department_id = row["department_id"]
            else:
                row = await tx.conn.fetchrow(q.DEVICE_IN_HALL, device_id)
                if row is None:
                    raise NotFound("设备不存在", code="unknown_device", field="device_id")
                department_id = None
            hall = await hall_by_id(tx.conn, row["hall_id"])
            call.check(hall.target(department_id=department_id))
            revoked = await tx.conn.fetch(q.REVOKE_SESSIONS_OF, staff_id, device_id)
            tx.detail.update(staff_id=staff_id, device_id=device_id, sessions=len(revoked))
            # also when none was live: a connection may have outlived an expired session
            tx.emit(
                SESSION_ENDED,
                session_ended(None, "revoked", staff_id=staff_id, device_id=device_id),
                hall_id=hall.id,
            )
        for r in revoked:
            self._forget(r["token_hash"])
        return len(revoked)

    async def resolve(self, token: str | None) -> Actor | None:
        if not token or len(token) > 200:
            return None
        return await self.resolve_hash(token_hash(token))

    async def resolve_hash(self, digest: bytes) -> Actor | None:
        now = self.monotonic()
        hit = self._cache.get(digest)
        if hit is not None:
            if hit[1] > now:
                return hit[0]
            del self._cache[digest]
        epoch = self._epoch
        async with self.store.read() as conn:
            row = await conn.fetchrow(q.RESOLVE_SESSION, digest)
        if row is None:
            return None
        actor = replace(actor_from_row(row), session=session_id(digest))
        # Cached only if nothing was invalidated while we read (the row may predate it).
        if self.cache_seconds > 0 and epoch == self._epoch:
            left = (row["expires_at"] - datetime.now(UTC)).total_seconds()
            if left > 0:
                if len(self._cache) >= _CACHE_MAX:
                    self._cache.clear()
                self._cache[digest] = (actor, self.monotonic() + min(self.cache_seconds, left))
        return actor

    # -- the session cache ----------------------------------------------------------------
    # A resolved session is kept for cache_seconds (2 s): under load a window terminal sends
    # several commands a second and each would otherwise cost a session lookup. What a cached
    # Actor says can change in three ways, handled so:
    #   - the clerk signs in or out at a window (Actor.window_id/window_no): every process drops
    #     that clerk's entries when the window.signed_in / window.signed_out event reaches it
    #     over the bus (observe); the process that ran the command observes its events before
    #     its HTTP answer is sent (server/api/dispatch.py), whatever the bus. The admin's
    #     staff.changed (a role, department or forced password change) drops them likewise.
    #     Even a stale window never acts: every window command's SQL
    #     function checks window_signin itself (hq_window);
    #   - logout or revocation: dropped at once in this process, and in every other one when
    #     the session.ended event reaches it (at most cache_seconds if the bus is slower);
    #   - the bus reconnected (events may have been missed): everything is dropped.
    def observe(self, records: list[EventRecord]) -> None:
        """Bus handler: drops the cached sessions of clerks who signed in or out and of
        sessions that ended."""
        who: set[tuple[str, Any]] = set()
        sessions: set[str] = set()
        for r in records:
            if r.type in _SIGNIN_EVENTS and r.payload.get("clerk_id") is not None:
                who.add(("staff", r.payload["clerk_id"]))
            elif r.type == STAFF_CHANGED:  # a role, department or forced password change
                who.add(("staff", r.payload["staff_id"]))
            elif r.type == SESSION_ENDED:
                if r.payload.get("session"):
                    sessions.add(r.payload["session"])
                elif r.payload.get("staff_id") is not None:
                    who.add(("staff", r.payload["staff_id"]))
                elif r.payload.get("device_id") is not None:
                    who.add(("device", r.payload["device_id"]))
        if who or sessions:
            self._epoch += 1
            for digest, (actor, _) in list(self._cache.items()):
                if (actor.kind, actor.id) in who or actor.session in sessions:
                    del self._cache[digest]

    def forget_all(self) -> None:
        self._epoch += 1
        self._cache.clear()

    def _forget(self, digest: bytes) -> None:
        self._epoch += 1
        self._cache.pop(digest, None)

    # Socket tickets: a browser's session cookie is HttpOnly, so the page asks for a ticket
    # (valid 2 minutes) and passes it in the Socket.IO handshake's auth payload.
    def socket_ticket(self, token: str, ttl: int = 120) -> str:
        expires = int(time.time()) + ttl
        body = token_hash(token) + expires.to_bytes(8, "big")
        sig = hmac.new(self._secret, body, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(body + sig).decode().rstrip("=")

    async def resolve_ticket(self, ticket: str) -> Actor | None:
        try:
            raw = base64.urlsafe_b64decode(ticket + "=" * (-len(ticket) % 4))
        except (ValueError, TypeError):
            return None
        if len(raw) != 56:
            return None
        body, sig = raw[:40], raw[40:]
        good = hmac.new(self._secret, body, hashlib.sha256).digest()[:16]
        if not hmac.compare_digest(sig, good):
            return None
        if int.from_bytes(body[32:], "big") < time.time():
            return None
        return await self.resolve_hash(body[:32])

    async def resolve_credential(self, credential: str | None) -> Actor | None:
        """A socket handshake may carry a session token (devices, Python clients) or a ticket."""
        if not credential or not isinstance(credential, str):
            return None
        return await self.resolve_ticket(credential) or await self.resolve(credential)

    async def _create_session(
        self,
        conn: Conn,
        *,
        staff_id: int | None = None,
        device_id: int | None = None,
        seconds: float | None = None,
    ) -> tuple[str, datetime]:
        token = secrets.token_urlsafe(32)
        expires_at = await conn.fetchval(
            q.CREATE_SESSION,
            token_hash(token),
            staff_id,
            device_id,
            seconds or self.session_seconds,
        )
        return token, expires_at

    async def _audit(self, conn, hall_id, kind, actor_id, action, outcome, detail) -> None:
        await write_audit(conn, hall_id, kind, actor_id, None, action, outcome, detail)

    async def _audit_row(
        self,
        conn: Conn,
        row: asyncpg.Record,
        kind: str,
        action: str,
        code: str,
        who: dict[str, Any],
    ) -> None:
        """A refused login of a known account or device."""
        await self._audit(
            conn, row["hall_id"], kind, row["id"], action, "denied", {**who, "code": code}
        )
