"""An API client for tests that speaks as named actors: bearer tokens, no cookie jar, so each
call is exactly the actor it names; every answer must be JSON, every error the documented
{"error": {code, message, field}}."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientSession

from tests.conftest import login


class Api:
    def __init__(self, session: ClientSession):
        self.session = session
        self.tokens: dict[str, str] = {}

    async def login(self, username: str) -> dict:
        body = await login(self.session, username)
        self.tokens[username] = body["token"]
        return body["actor"]

    async def call(self, who: str, method: str, url: str, **kw: Any) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.tokens[who]}", **kw.pop("headers", {})}
        resp = await self.session.request(method, url, headers=headers, **kw)
        assert resp.content_type == "application/json", (resp.status, await resp.text())
        return resp.status, await resp.json()

    async def ok(self, who: str, method: str, url: str, **kw: Any) -> Any:
        status, body = await self.call(who, method, url, **kw)
        assert status == 200, (method, url, status, body)
        return body

    async def error(
        self,
        who: str,
        method: str,
        url: str,
        status: int,
        code: str,
        field: str | None = None,
        **kw: Any,
    ) -> dict:
        got, body = await self.call(who, method, url, **kw)
        assert (got, body.get("error", {}).get("code")) == (status, code), (method, url, got, body)
        err = body["error"]
        assert err["message"] and set(err) <= {"code", "message", "field"}, body
        if field is not None:
            assert err.get("field") == field, body
        return err
