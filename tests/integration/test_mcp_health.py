"""The worker's periodic re-check, and the policy checked again before a spawn."""

import asyncio
import sys
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from adapters.mcp.connector import SdkMcpConnector
from adapters.mcp.policy import OperatorMcpPolicy
from application.errors import McpUnavailable
from application.ports.mcp_client import McpTarget
from application.use_cases.mcp_checks import RecheckMcpServers
from application.use_cases.mcp_services import McpServices
from application.use_cases.services import LlmServices
from domain.mcp_server import McpTransport
from tests.support.http_helpers import open_api
from tests.support.mcp.world import REPO, TOOL_MODULE, mcp_services_for_tests, stdio_server_body


async def test_a_command_taken_off_the_allowlist_is_not_spawned() -> None:
    connector = SdkMcpConnector(OperatorMcpPolicy(["/usr/bin/true"]))
    target = McpTarget(
        McpTransport.STDIO, sys.executable, ("-m", TOOL_MODULE), {"PYTHONPATH": str(REPO)}
    )
    with pytest.raises(McpUnavailable, match="refused: command is not on the operator's allowlist"):
        async with connector.session(target, 5):
            pass


async def test_a_private_url_is_refused_again_at_connect_time() -> None:
    connector = SdkMcpConnector(OperatorMcpPolicy([]))
    target = McpTarget(McpTransport.STREAMABLE_HTTP, url="http://127.0.0.1:9/mcp")
    with pytest.raises(McpUnavailable, match=r"refused: url resolves to 127\.0\.0\.1"):
        async with connector.session(target, 5):
            pass


def test_the_periodic_recheck_turns_a_server_that_stopped_working_to_error() -> None:
    with open_api() as api:
        tenant = api.tenant()
        created = api.client.post(
            "/api/mcp-servers", json=stdio_server_body(), headers=tenant.headers
        ).json()
        url = f"/api/mcp-servers/{created['id']}"
        assert api.client.post(url + "/check", headers=tenant.headers).json()["status"] == "active"
        services: LlmServices = api.env.app.state.deps.llm
        assert services.mcp is not None
        # The operator removes the interpreter from the allowlist; the next pass notices.
        strict = OperatorMcpPolicy([])
        revoked = McpServices(SdkMcpConnector(strict), strict, services.mcp.limits)
        recheck = RecheckMcpServers(replace(services, mcp=revoked), timedelta(0))
        assert asyncio.run(recheck()) == 1
        shown = api.client.get(url, headers=tenant.headers).json()
        assert shown["status"] == "error" and "allowlist" in shown["last_error"]
        assert asyncio.run(recheck()) == 0  # only active servers are re-checked
        healthy = RecheckMcpServers(
            replace(services, mcp=mcp_services_for_tests()), timedelta(hours=1)
        )
        assert api.client.post(url + "/check", headers=tenant.headers).json()["status"] == "active"
        assert asyncio.run(healthy()) == 0  # checked just now: not due
    assert uuid.UUID(created["id"])
