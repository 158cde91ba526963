"""Any text a client sends reaches PostgreSQL and comes back unchanged, or is refused with
the contract's 4xx: never a 5xx. The statements of every request go in psycopg's pipeline,
their values as bound parameters (adapters/sqlalchemy/pipeline.py), so quotes, backslashes,
dollar signs, semicolons and any Unicode go through this path with each run."""

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.fake_llm.gateway import FakeLlmGateway
from tests.support.llm_helpers import new_tenant
from tests.support.sql_app import sql_client

pytestmark = pytest.mark.postgres

_TRICKY = st.text(alphabet="'\\\"$;-E\n\t%()é☃\U0001f600", min_size=1, max_size=40)
_TEXT = st.one_of(st.text(min_size=1, max_size=200), _TRICKY)
_FUZZ = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
async def tenant(
    sql_engine: AsyncEngine, operator: dict[str, str]
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    async with sql_client(sql_engine, FakeLlmGateway()) as client:
        _, headers = await new_tenant(client, operator)
        yield client, headers


@_FUZZ
@given(name=_TEXT, prompt=_TEXT, text=_TEXT)
async def test_text_comes_back_as_sent(
    tenant: tuple[httpx.AsyncClient, dict[str, str]], name: str, prompt: str, text: str
) -> None:
    client, headers = tenant
    name = f"{uuid.uuid4().hex[:8]} {name}"[:200]  # agent names are unique per tenant
    body = {"name": name, "system_prompt": prompt, "model": "gpt-4o"}
    created = await client.post("/api/agents", json=body, headers=headers)
    assert created.status_code in (201, 422), created.text
    event(f"agent {created.status_code}")
    if created.status_code != 201:
        return  # text the domain refuses (NUL, blank after trimming): the contract's 422
    agent = created.json()
    read = await client.get(f"/api/agents/{agent['id']}", headers=headers)
    assert (read.json()["name"], read.json()["system_prompt"]) == (name, prompt)
    run = await client.post(
        "/api/agents/execute", json={"agent_id": agent["id"], "input": text}, headers=headers
    )
    assert run.status_code in (200, 422), run.text
    event(f"run {run.status_code}")
    if run.status_code == 200:
        stored = await client.get(f"/api/executions/{run.json()['execution_id']}", headers=headers)
        assert stored.json()["input"] == text
        assert stored.json()["output"] == run.json()["output"]
