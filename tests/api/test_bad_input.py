"""Bad input outside the body is a 400 naming the parameter, never a 500: every path and query
parameter of every declared route gets a NUL byte, and every integer of every declared body a
number past PostgreSQL's bigint. The routes come from the catalogue, so a new one is covered
the day it is declared."""

from __future__ import annotations

import re
from urllib.parse import quote

from server.catalogue import CATALOGUE
from tests.api_client import Api
from tests.queue_helpers import rater_at

_PARAM = re.compile(r"{(\w+)}")
SAMPLE = {"hall": "rizhao", "window_no": "1", "day": "2026-12-01", "code": "amr-001"}
SAMPLE |= {"reg_no": "26120100000000", "query_code": "ABCD2345"}
SAMPLE |= {"token": "ABCDEFGHJKMN", "project_no": "XM-RIZHAO-2026-00001"}


def url_for(path: str, bad: str | None = None) -> str:
    """The route's path with sample values; the parameter `bad` gets a NUL byte."""
    return _PARAM.sub(
        lambda m: quote("a\x00b" if m.group(1) == bad else SAMPLE.get(m.group(1), "1")), path
    )


def routes():
    for op in CATALOGUE.operations.values():
        if op.http is not None:
            yield op, op.http[0], op.http[1]


def who(op) -> str:
    """An actor whose role the operation admits, so the input is what is judged."""
    if op.policy is None or "admin" in op.policy:
        return "admin"
    if "clerk" in op.policy:
        return "clerk001"
    if "rater" in op.policy:
        return "rater"  # window 1's rating device
    # the leader's sign-off, a department's answer to an alarm; supervision's commands
    return "leader.amr" if "leader" in op.policy else "supervisor1"


async def test_a_nul_byte_in_any_path_or_query_parameter_is_a_400(live, http, db):
    api = Api(http)
    await api.login("admin")
    await api.login("clerk001")
    await api.login("leader.amr")
    await api.login("supervisor1")
    api.tokens["rater"] = await rater_at(db, 1)
    wrong = []
    for op, method, path in routes():
        in_path = _PARAM.findall(path)
        cases = [(url_for(path, name), name, "invalid_path") for name in in_path]
        if op.params is not None:
            for name, field in op.params.model_fields.items():
                key = field.alias or name
                if key not in in_path:
                    cases.append((f"{url_for(path)}?{key}=a%00b", key, "invalid_query"))
        for url, name, code in cases:
            headers = {"Authorization": f"Bearer {api.tokens[who(op)]}"}
            resp = await http.request(method, url, headers=headers, json={})
            body = await resp.json() if resp.content_type == "application/json" else {}
            err = body.get("error", {})
            if (resp.status, err.get("code"), err.get("field")) != (400, code, name):
                wrong.append(f"{method} {url}: {resp.status} {err or await resp.text()}")
    assert not wrong, "\n".join(wrong)


def int_fields(model) -> list[str]:
    return [
        name
        for name, field in model.model_fields.items()
        if "int" in str(field.annotation) and "list" not in str(field.annotation)
    ]


async def test_an_integer_past_bigint_in_any_body_is_a_400(live, http, db):
    api = Api(http)
    await api.login("admin")
    await api.login("clerk001")
    await api.login("leader.amr")
    await api.login("supervisor1")
    api.tokens["rater"] = await rater_at(db, 1)
    tried = 0
    wrong = []
    for op, method, path in routes():
        if op.body is None:
            continue
        for name in int_fields(op.body):
            tried += 1
            for number in (2**63, -(2**63) - 1, 10**30):
                raw = f'{{"{name}": {number}}}'  # orjson would refuse to write it
                resp = await http.request(
                    method,
                    url_for(path),
                    data=raw,
                    headers={
                        "Authorization": f"Bearer {api.tokens[who(op)]}",
                        "Content-Type": "application/json",
                    },
                )
                body = await resp.json()
                if resp.status != 400 or body["error"]["code"] not in (
                    "invalid_field",
                    "malformed_json",
                ):
                    wrong.append(f"{method} {path} {name}={number}: {resp.status} {body}")
    assert tried >= 3, "the scan found no integer body fields: it is stale"
    assert not wrong, "\n".join(wrong)
