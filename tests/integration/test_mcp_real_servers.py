"""Real MCP servers written with the SDK's server API (tests/support/mcp/tool_server.py),
over stdio (this interpreter, on the allowlist) and streamable HTTP on loopback (private
URLs allowed for that): discovery, executions that call tools, and failing servers."""

import asyncio
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from application.use_cases.run_execution import RunQueuedExecution
from application.use_cases.services import LlmServices
from tests.support.http_helpers import Api, TenantHandle, open_api
from tests.support.mcp.world import (
    live_tool_servers,
    mcp_services_for_tests,
    stdio_server_body,
    streamable_http_server,
)

TOOLS = {"add", "ticket_status", "show_env", "slow", "broken"}


@pytest.fixture
def api() -> Iterator[Api]:
    # Generous: an interpreter importing the SDK takes seconds on a loaded machine.
    with open_api(mcp_services_for_tests(allow_private_urls=True, connect_timeout_s=30)) as api:
        yield api


@pytest.fixture
def impatient() -> Iterator[Api]:
    """For servers that never answer: the handshake timeout is short."""
    with open_api(mcp_services_for_tests(connect_timeout_s=6)) as api:
        yield api


def _server(api: Api, tenant: TenantHandle, body: dict[str, Any]) -> dict[str, Any]:
    response = api.client.post("/api/mcp-servers", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _check(api: Api, tenant: TenantHandle, server_id: str) -> dict[str, Any]:
    response = api.client.post(f"/api/mcp-servers/{server_id}/check", headers=tenant.headers)
    assert response.status_code == 200, response.text
    checked: dict[str, Any] = response.json()
    return checked


def _checked_agent(api: Api, body: dict[str, Any]) -> tuple[TenantHandle, dict[str, Any]]:
    tenant = api.tenant()
    server = _server(api, tenant, body)
    checked = _check(api, tenant, server["id"])
    assert checked["status"] == "active", checked["last_error"]
    return tenant, api.agent(tenant.headers, mcp_server_ids=[server["id"]])


def _run_now(api: Api, tenant: TenantHandle, agent: dict[str, Any], text: str) -> dict[str, Any]:
    body = {"agent_id": agent["id"], "input": text}
    response = api.client.post("/api/agents/execute", json=body, headers=tenant.headers)
    assert response.status_code == 200, response.text
    execution = api.client.get(
        f"/api/executions/{response.json()['execution_id']}", headers=tenant.headers
    )
    got: dict[str, Any] = execution.json()
    return got


def test_stdio_discovery_finds_the_tools(api: Api) -> None:
    tenant = api.tenant()
    server = _server(api, tenant, stdio_server_body())
    checked = _check(api, tenant, server["id"])
    assert checked["status"] == "active" and checked["last_error"] is None
    assert checked["last_checked_at"] is not None
    assert {t["name"] for t in checked["tools"]} == TOOLS
    add = next(t for t in checked["tools"] if t["name"] == "add")
    assert add["description"] == "Add two integers."
    assert add["input_schema"]["required"] == ["a", "b"]
    shown = api.client.get(f"/api/mcp-servers/{server['id']}", headers=tenant.headers).json()
    assert shown["status"] == "active" and len(shown["tools"]) == len(TOOLS)


def test_a_sync_run_calls_a_stdio_tool_and_the_model_reads_its_result(api: Api) -> None:
    tenant, agent = _checked_agent(api, stdio_server_body())
    api.env.gateway.call_tools_next(("ticket_status", {"ticket_id": "T-42"}))
    execution = _run_now(api, tenant, agent, "What is the status of T-42?")
    first, second = api.env.gateway.calls[-2:]
    assert {t.name for t in first.tools} == TOOLS
    assert first.tools[0].parameters["type"] == "object"
    answered = second.messages[-1]
    assert answered.role == "tool" and answered.content == "ticket T-42 is OPEN (assigned to L2)"
    asked = second.messages[-2]
    assert asked.role == "assistant" and asked.tool_calls[0].id == answered.tool_call_id
    assert execution["status"] == "success"
    assert execution["output"] == "echo: What is the status of T-42?"
    [call] = execution["tool_calls"]
    assert call["tool"] == "ticket_status" and call["arguments"] == {"ticket_id": "T-42"}
    assert call["error"] is None and call["step"] == 1
    assert call["result_size"] == len(answered.content) and call["duration_ms"] >= 0
    assert execution["usage"]["total_tokens"] > second.messages.__len__()  # both steps


def test_a_stdio_server_gets_only_its_configured_environment(api: Api) -> None:
    os.environ["AGENTKEEL_PROBE_SECRET"] = "must-not-leak"
    try:
        tenant, agent = _checked_agent(api, stdio_server_body(API_TOKEN="tenant-token"))
        api.env.gateway.call_tools_next(("show_env", {}))
        _run_now(api, tenant, agent, "env?")
    finally:
        del os.environ["AGENTKEEL_PROBE_SECRET"]
    shown = api.env.gateway.calls[-1].messages[-1].content
    env = dict(line.split("=", 1) for line in shown.splitlines())
    assert env["API_TOKEN"] == "tenant-token"
    assert "AGENTKEEL_PROBE_SECRET" not in env
    assert not any(k.startswith("AGENTKEEL_") for k in env)
    # The SDK's defaults (HOME, PATH, ...) are blanked, never the service's values.
    assert all(env.get(k, "") == "" for k in ("HOME", "PATH", "USER", "SHELL"))


def test_tool_failures_are_recorded_and_fed_back(api: Api) -> None:
    tenant, agent = _checked_agent(api, stdio_server_body())
    api.env.gateway.call_tools_next(
        ("broken", {}), ("slow", {"seconds": 30}), ("no_such_tool", {}), ("add", "not json")
    )
    execution = _run_now(api, tenant, agent, "try everything")
    assert execution["status"] == "success"
    errors = {c["tool"]: c["error"] for c in execution["tool_calls"]}
    assert errors["broken"].startswith("the tool reported an error")
    assert "did not answer within" in errors["slow"]
    assert "no tool named" in errors["no_such_tool"]
    assert errors["add"] == "the arguments are not a JSON object"
    fed_back = [m.content for m in api.env.gateway.calls[-1].messages if m.role == "tool"]
    assert len(fed_back) == 4 and all(text for text in fed_back)


def test_the_step_bound_stops_a_model_that_never_stops_asking(api: Api) -> None:
    tenant, agent = _checked_agent(api, stdio_server_body())
    for _ in range(8):
        api.env.gateway.call_tools_next(("add", {"a": 1, "b": 1}))
    body = {"agent_id": agent["id"], "input": "loop"}
    response = api.client.post("/api/agents/execute", json=body, headers=tenant.headers)
    assert response.status_code == 502
    [execution] = api.client.get("/api/executions", headers=tenant.headers).json()
    assert execution["status"] == "failed" and "after 8 steps" in execution["error"]
    assert len(execution["tool_calls"]) == 8


def test_a_queued_run_calls_tools_in_the_worker(api: Api) -> None:
    tenant, agent = _checked_agent(api, stdio_server_body())
    api.env.gateway.call_tools_next(("add", {"a": 2, "b": 3}))
    url = f"/api/agents/{agent['id']}/executions"
    queued = api.client.post(url, json={"input": "2+3?"}, headers=tenant.headers).json()
    services: LlmServices = api.env.app.state.deps.llm
    run = RunQueuedExecution(services, "worker-1")
    asyncio.run(run(uuid.UUID(queued["id"]), uuid.UUID(tenant.id)))
    execution = api.client.get(f"/api/executions/{queued['id']}", headers=tenant.headers).json()
    assert execution["status"] == "success"
    assert [c["tool"] for c in execution["tool_calls"]] == ["add"]
    assert api.env.gateway.calls[-1].messages[-1].content == "5"


def test_streamable_http_discovery_and_a_tool_call(api: Api) -> None:
    with streamable_http_server() as url:
        body = {"name": "http-tools", "transport_type": "streamable_http", "url": url}
        tenant, agent = _checked_agent(api, body)
        server_id = agent["mcp_server_ids"][0]
        shown = api.client.get(f"/api/mcp-servers/{server_id}", headers=tenant.headers).json()
        assert {t["name"] for t in shown["tools"]} == TOOLS
        api.env.gateway.call_tools_next(("add", {"a": 20, "b": 22}))
        execution = _run_now(api, tenant, agent, "20+22?")
    assert api.env.gateway.calls[-1].messages[-1].content == "42"
    assert execution["tool_calls"][0]["server_id"] == server_id


def test_stdio_servers_are_reaped_after_a_run(api: Api) -> None:
    tenant, agent = _checked_agent(api, stdio_server_body())
    api.env.gateway.call_tools_next(("slow", {"seconds": 30}))  # still busy when the run ends
    _run_now(api, tenant, agent, "slow")
    assert live_tool_servers() == []


@pytest.mark.parametrize(
    ("mode", "says"),
    [
        ("crash", "closed the connection"),
        ("hang", "did not complete the MCP handshake within 6 s"),
        ("garbage", "invalid MCP messages"),
    ],
)
def test_failing_stdio_servers_end_in_error(api: Api, impatient: Api, mode: str, says: str) -> None:
    api = api if mode == "crash" else impatient  # a crash is seen at once; the rest time out
    tenant = api.tenant()
    server = _server(api, tenant, stdio_server_body(mode))
    checked = _check(api, tenant, server["id"])
    assert checked["status"] == "error" and checked["tools"] == []
    assert says in checked["last_error"]
    if mode == "crash":
        assert "crashed on start" in checked["last_error"]  # its stderr, for the operator
    assert live_tool_servers() == []  # stopped and reaped, hung or not
    agent = api.agent(tenant.headers, mcp_server_ids=[server["id"]])
    execution = _run_now(api, tenant, agent, "hello")  # no tools offered: a plain run
    assert execution["status"] == "success" and execution["tool_calls"] == []
    assert api.env.gateway.calls[-1].tools == ()


def test_an_unreachable_http_server_ends_in_error(api: Api) -> None:
    tenant = api.tenant()
    body = {"name": "gone", "transport_type": "http_sse", "url": "http://127.0.0.1:9/sse"}
    checked = _check(api, tenant, _server(api, tenant, body)["id"])
    assert checked["status"] == "error" and checked["last_error"]
