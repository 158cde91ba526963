"""A real MCP server for the tests, written with the SDK's own server API (MCPServer,
formerly FastMCP). Run as `python -m tests.support.mcp.tool_server [MODE]` (stdio), or
build it with `tool_server()` and serve `streamable_http_app()`.

MODE: `ok` (default), `crash` (exits before answering), `hang` (never answers),
`garbage` (writes non-JSON-RPC lines), `leak` (prints its environment to stderr, exits).
"""

import os
import sys
import time
from typing import Any


def tool_server() -> Any:
    # Imported here: the failing modes start (and fail) without the SDK's import time.
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("agentkeel-test-tools")

    @server.tool(description="Add two integers.")
    def add(a: int, b: int) -> str:
        return str(a + b)

    @server.tool(description="Look up a ticket's status by id.")
    def ticket_status(ticket_id: str) -> str:
        return f"ticket {ticket_id} is OPEN (assigned to L2)"

    @server.tool(description="The server process's environment variable names and values.")
    def show_env() -> str:
        return "\n".join(f"{k}={v}" for k, v in sorted(os.environ.items()))

    @server.tool(description="Sleeps longer than any sane per-call timeout.")
    def slow(seconds: float = 30.0) -> str:
        time.sleep(seconds)
        return "woke up"

    @server.tool(description="Always fails.")
    def broken() -> str:
        raise RuntimeError("the tool broke on purpose")

    return server


def main(mode: str) -> None:
    if mode == "crash":
        print("fatal: the test server crashed on start", file=sys.stderr, flush=True)
        sys.exit(3)
    if mode == "leak":
        print(" ".join(f"{k}={v}" for k, v in os.environ.items()), file=sys.stderr, flush=True)
        sys.exit(4)
    if mode == "hang":
        time.sleep(3600)
    if mode == "garbage":
        for _ in range(1000):
            print("this is not JSON-RPC", flush=True)
            time.sleep(0.01)
        return
    tool_server().run("stdio")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "ok")
