"""Canary env_vars values go in; they come out nowhere: not in responses (create, get,
list, patch, check), logs, exceptions, a crashing server's stderr in last_error, or any
column as text (they are sealed)."""

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.test_secret_leaks import ExceptionSpy, all_logs, database_hits, hits
from tests.support.llm_helpers import canary, encodings, new_tenant
from tests.support.mcp.world import stdio_server_body
from tests.support.sql_app import bearer, issue_operator_key, sql_client

pytestmark = pytest.mark.postgres
__all__ = ["all_logs"]  # the fixture, used by name below


async def test_env_values_leak_nowhere(
    sql_engine: AsyncEngine, migrated_db: str, all_logs: pytest.LogCaptureFixture
) -> None:
    c1, c2 = canary("mcp-env"), canary("mcp-env-patched")
    needles = encodings(c1) + encodings(c2)
    operator = bearer(await issue_operator_key(sql_engine))
    spy, responses = ExceptionSpy(), list[httpx.Response]()
    async with sql_client(sql_engine) as client:
        _, headers = await new_tenant(client, operator)
        with spy.active():
            made = await client.post(
                "/api/mcp-servers", json=stdio_server_body("leak", TOKEN=c1), headers=headers
            )
            url = f"/api/mcp-servers/{made.json()['id']}"
            responses += [made, await client.get(url, headers=headers)]
            responses.append(await client.get("/api/mcp-servers", headers=headers))
            checked = await client.post(url + "/check", headers=headers)
            patched = await client.patch(
                url, json={"env_vars": {"PYTHONPATH": "/nowhere", "TOKEN": c2}}, headers=headers
            )
            responses += [checked, patched, await client.post(url + "/check", headers=headers)]
    assert checked.json()["status"] == "error"
    assert "TOKEN=***" in checked.json()["last_error"]  # its stderr, with the value masked
    assert all(r.status_code in (200, 201) for r in responses)
    for response in responses:
        assert hits(response.text, needles) == [], response.request.url
    log_text = all_logs.text + "".join(str(vars(r)) for r in all_logs.records)
    assert hits(log_text, needles) == []
    assert hits("\n".join(spy.seen), needles) == []
    assert database_hits(migrated_db, needles) == []
