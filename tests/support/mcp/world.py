"""Real MCP servers for tests: the stdio module run by this interpreter (on the test
allowlist), and the same server over streamable HTTP on loopback, in a thread."""

import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from adapters.mcp.connector import SdkMcpConnector
from adapters.mcp.policy import OperatorMcpPolicy
from application.use_cases.mcp_services import McpServices, ToolLimits
from tests.support.mcp.tool_server import tool_server

REPO = Path(__file__).resolve().parents[3]
PYTHON = sys.executable
TOOL_MODULE = "tests.support.mcp.tool_server"


def mcp_services_for_tests(
    *, allow_private_urls: bool = False, commands: tuple[str, ...] = (PYTHON,), **limits: Any
) -> McpServices:
    policy = OperatorMcpPolicy(commands, allow_private_urls=allow_private_urls)
    defaults = {"connect_timeout_s": 30.0, "call_timeout_s": 5.0}
    return McpServices(SdkMcpConnector(policy), policy, ToolLimits(**(defaults | limits)))


def stdio_server_body(mode: str = "ok", name: str = "tools", **env: str) -> dict[str, Any]:
    """A POST /api/mcp-servers body for the test server over stdio (PYTHONPATH finds it:
    the child gets only the env configured here)."""
    return {
        "name": name,
        "transport_type": "stdio",
        "command": PYTHON,
        "args": ["-m", TOOL_MODULE, mode],
        "env_vars": {"PYTHONPATH": str(REPO), **env},
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def streamable_http_server() -> Iterator[str]:
    """The test tools over streamable HTTP at http://127.0.0.1:PORT/mcp, for the block."""
    port = _free_port()
    app = tool_server().streamable_http_app(host="127.0.0.1")
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="mcp-http-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the streamable HTTP MCP test server did not start"
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def live_tool_servers() -> list[int]:
    """Pids of this process's children still running the test tool server (not zombies:
    a reaped child is gone from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and TOOL_MODULE.encode() in cmdline:
            found.append(int(entry.name))
    return found
