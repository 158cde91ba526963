"""Canary provider keys go in; they must come out nowhere: not in responses, logs, exception
messages or any column of any table (as text, hex or base64)."""

import logging
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from application.gateway_errors import GatewayUnavailable
from application.ports.llm_types import ChatMessage, ChatRequest, VirtualKey
from application.use_cases.gateway_binding import Binding
from application.use_cases.providers import NewProvider, ProviderWithKey
from tests.support.llm_helpers import (
    FlakyGateway,
    a_provider,
    add_agent,
    admin_query,
    canary,
    encodings,
    new_tenant,
    provider_body,
)
from tests.support.sql_app import bearer, issue_operator_key, sql_client

pytestmark = pytest.mark.postgres
MARKER = uuid.uuid4().hex  # a harmless value the database scan must find


# How coroutines and generators hand back values, not errors: their args are return values.
CONTROL_FLOW = (StopIteration, StopAsyncIteration, GeneratorExit)


class ExceptionSpy:
    """Every exception raised in a Python frame while active (sys.settrace 'exception')."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def _local(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "exception" and not issubclass(arg[0], CONTROL_FLOW):
            exc = arg[1]
            try:
                self.seen.append(f"{type(exc).__name__}: {exc!s} {exc.args!r}")
            except Exception:  # an exception whose str() fails tells us nothing
                self.seen.append(type(exc).__name__)
        return self._local

    def _global(self, frame: FrameType, event: str, arg: Any) -> Any:
        frame.f_trace_lines = False
        return self._local

    @contextmanager
    def active(self) -> Iterator[None]:
        previous = sys.gettrace()
        sys.settrace(self._global)
        try:
            yield
        finally:
            sys.settrace(previous)


class Recorder:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.responses: list[httpx.Response] = []

    async def __call__(self, method: str, url: str, headers: Any, **kw: Any) -> httpx.Response:
        response = await self.client.request(method, url, headers=headers, **kw)
        self.responses.append(response)
        return response


def hits(haystack: str, needles: list[str]) -> list[str]:
    return [n for n in needles if n in haystack]


def database_hits(db: str, needles: list[str], raw: list[bytes] | None = None) -> list[str]:
    """`table.column` of every text, json, array or bytea column holding a needle; bytea is
    searched as raw bytes and as its 'escape' text form."""
    columns = admin_query(
        db,
        "SELECT table_name, column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = 'public' AND data_type IN"
        " ('text', 'character varying', 'json', 'jsonb', 'ARRAY', 'bytea')",
    )
    raw_needles = [n.encode() for n in needles] + (raw or [])
    params: dict[str, Any] = {f"n{i}": n for i, n in enumerate(needles)}
    params |= {f"b{i}": b for i, b in enumerate(raw_needles)}
    found = []
    for table, column, kind in columns:
        col = f'"{table}"."{column}"'
        as_text = f"encode({col}, 'escape')" if kind == "bytea" else f"CAST({col} AS text)"
        tests = [f"strpos({as_text}, :n{i}) > 0" for i in range(len(needles))]
        if kind == "bytea":
            tests += [f"position(:b{i} IN {col}) > 0" for i in range(len(raw_needles))]
        sql = f'SELECT count(*) FROM "{table}" WHERE {" OR ".join(tests)}'
        if tests and admin_query(db, sql, **params)[0][0]:
            found.append(f"{table}.{column}")
    return found


def provider_objects(response: httpx.Response) -> list[dict[str, Any]]:
    if not response.is_success or not response.content:
        return []
    body = response.json()
    objects = body if isinstance(body, list) else [body]
    return [o for o in objects if isinstance(o, dict) and "provider_name" in o]


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        logger = logging.getLogger(name)
        caplog.set_level(logging.DEBUG, logger=name)
        if not logger.propagate:
            logger.addHandler(caplog.handler)
    return caplog


async def run_flows(
    call: Recorder, gateway: FlakyGateway, db: str, operator: dict[str, str], c1: str, c2: str
) -> list[str]:
    """Every provider flow once; returns the virtual keys the responses handed out."""
    tenant_id, headers = await new_tenant(call.client, operator)
    base = f"/api/tenants/{tenant_id}/providers"
    bad = await call("POST", base, headers, json=provider_body(api_key=c1 + " x"))
    assert bad.status_code == 422
    made = await call("POST", base, headers, json=provider_body(api_key=c1, max_budget=50.0))
    assert made.status_code == 201 and made.json()["key_hint"] == "..." + c1[-4:]
    other = await call("POST", base, headers, json=provider_body(provider_name="groq"))
    one, other_one = f"{base}/{made.json()['id']}", f"{base}/{other.json()['id']}"
    assert (await call("GET", base, headers)).status_code == 200
    assert (await call("GET", one, headers)).json()["key_hint"] == "..." + c1[-4:]
    assert (await call("GET", one + "/verify", headers)).json()["status"] == "active"
    agent = await add_agent(call.client, headers, use_byok=True, provider_id=made.json()["id"])
    run = {"agent_id": agent["id"], "input": f"hello {MARKER}"}
    assert (await call("POST", "/api/agents/execute", headers, json=run)).status_code == 200
    gateway.fail_next(GatewayUnavailable("the gateway answered 503"), "chat")
    assert (await call("POST", "/api/agents/execute", headers, json=run)).status_code == 502
    rotated = await call("POST", one + "/rotate", headers, json={"api_key": c2})
    assert rotated.status_code == 200 and rotated.json()["key_hint"] == "..." + c2[-4:]
    assert (await call("POST", "/api/agents/execute", headers, json=run)).status_code == 200
    # A row whose sealed virtual key belongs to another row: a 500, logged with a traceback.
    swap = (
        "UPDATE llm_providers SET virtual_key_sealed ="
        " (SELECT virtual_key_sealed FROM llm_providers WHERE id = :src) WHERE id = :dst"
    )
    ids = {"src": uuid.UUID(other.json()["id"]), "dst": uuid.UUID(made.json()["id"])}
    original = admin_query(
        db, "SELECT virtual_key_sealed FROM llm_providers WHERE id = :dst", **ids
    )
    admin_query(db, swap, **ids)
    assert (await call("GET", one + "/verify", headers)).status_code == 500
    admin_query(db, "UPDATE llm_providers SET virtual_key_sealed = :v WHERE id = :dst",
                v=original[0][0], dst=ids["dst"])  # fmt: skip
    assert (await call("DELETE", one, headers)).status_code == 204
    assert (await call("DELETE", other_one, headers)).status_code == 204
    return [r.json()["virtual_key"] for r in (made, other, rotated)]


async def test_provider_keys_leak_nowhere(
    sql_engine: AsyncEngine, migrated_db: str, all_logs: pytest.LogCaptureFixture
) -> None:
    c1, c2 = canary("canary"), canary("canary-rotated")
    needles = encodings(c1) + encodings(c2)
    gateway, spy = FlakyGateway(), ExceptionSpy()
    operator = bearer(await issue_operator_key(sql_engine))
    async with sql_client(sql_engine, gateway) as client:
        call = Recorder(client)
        with spy.active():
            virtual_keys = await run_flows(call, gateway, migrated_db, operator, c1, c2)
    log_text = all_logs.text + "".join(str(vars(r)) for r in all_logs.records)
    assert "unhandled error" in log_text and "Traceback" in log_text  # logs were captured
    assert hits(log_text, needles + virtual_keys) == []
    raised = "\n".join(spy.seen)
    assert "GatewayUnavailable" in raised and "SecretUnreadable" in raised  # the spy saw them
    assert hits(raised, needles + virtual_keys) == []
    for response in call.responses:
        assert hits(response.text, needles) == [], response.request.url
        assert hits(str(response.headers.multi_items()), needles + virtual_keys) == []
        for provider in provider_objects(response):
            assert provider["key_hint"] in ("..." + c1[-4:], "..." + c2[-4:]) or (
                provider["provider_name"] == "groq"
            )
            assert "api_key" not in provider
    assert sum(len(provider_objects(r)) for r in call.responses) >= 6
    assert database_hits(migrated_db, needles + virtual_keys) == []
    # The scan finds what is there: the run's input (text) and a key hash (raw bytea).
    [(key_hash,)] = admin_query(migrated_db, "SELECT key_hash FROM api_key_credentials LIMIT 1")
    assert "executions.input" in database_hits(migrated_db, [MARKER])
    assert "api_key_credentials.key_hash" in database_hits(migrated_db, [], [bytes(key_hash)])


KEY = canary("repr")
LATENT = "BUG (latent leak): this dataclass shows a key in its repr, unlike VirtualKey and "
LATENT += "ChatRequest (llm_types: 'Keys are kept out of repr so logs cannot leak them')"


@pytest.mark.parametrize(
    "value",
    [
        VirtualKey(key=KEY, token_id="tok"),
        ChatRequest("m", (ChatMessage("user", "hi"),), api_key=KEY),
        pytest.param(Binding("dep", KEY, "tok")),
        pytest.param(
            NewProvider("openai", KEY, "gpt-4o-mini"),
        ),
        pytest.param(
            ProviderWithKey(a_provider(uuid.uuid4()), KEY),
        ),
    ],
    ids=["VirtualKey", "ChatRequest", "Binding", "NewProvider", "ProviderWithKey"],
)
def test_values_carrying_keys_hide_them_in_repr(value: object) -> None:
    assert KEY not in repr(value) and KEY not in str(value)
