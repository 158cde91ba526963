"""`McpConnector` with the official `mcp` SDK: stdio, SSE and streamable HTTP clients.

Each session is owned by a task of its own, which enters the SDK's client (its anyio task
groups and, for stdio, the server process) and leaves it when the session closes: the
caller's own exceptions and cancellations never pass through the SDK's task groups, and a
cancelled caller still gets its server process reaped (the SDK's shutdown is shielded and
bounded: stdin closed, then SIGTERM, then SIGKILL).
"""

import asyncio
import logging
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TextIO

from adapters.mcp.describe import describe, redact
from adapters.mcp.session import SdkMcpSession
from application.errors import McpUnavailable
from application.ports.mcp_client import McpTarget, McpTargetPolicy
from domain.errors import InvalidValue
from domain.mcp_server import McpTransport

if TYPE_CHECKING:
    from mcp import Client

_REAP_WAIT_S = 10.0  # the SDK's own shutdown takes at most ~6 s
_STDERR_TAIL = 600
# The SDK logs a stack trace for every line of garbage a server writes; the check reports
# it once, in last_error.
logging.getLogger("mcp.client.stdio").addFilter(
    lambda record: "Failed to parse JSONRPC" not in record.getMessage()
)


def stdio_environment(configured: dict[str, str]) -> dict[str, str]:
    """Only what the tenant configured. The SDK merges its "safe" defaults (HOME, PATH,
    USER...) from the service's environment under ours; blank ones keep those values out."""
    from mcp.client.stdio import DEFAULT_INHERITED_ENV_VARS

    return {name: "" for name in DEFAULT_INHERITED_ENV_VARS} | configured


class SdkMcpConnector:
    def __init__(self, policy: McpTargetPolicy) -> None:
        self._policy = policy

    async def _recheck(self, target: McpTarget) -> None:
        """The policy again, at connect time: the allowlist may have changed since the
        server was registered, and a host name may resolve elsewhere now."""
        try:
            if target.transport is McpTransport.STDIO:
                self._policy.check_command(target.command or "")
            else:
                await self._policy.check_url(target.url or "")
        except InvalidValue as exc:
            raise McpUnavailable(f"refused: {exc.field} {exc.message}") from None

    def _transport(self, target: McpTarget, errlog: TextIO, timeout_s: float) -> Any:
        # The SDK is imported on first use: a process that never talks to an MCP server
        # (most HTTP workers) does not pay its import time at startup.
        from mcp.client.sse import sse_client
        from mcp.client.stdio import StdioServerParameters, stdio_client
        from mcp.client.streamable_http import streamable_http_client

        if target.transport is McpTransport.STDIO:
            params = StdioServerParameters(
                command=target.command or "",
                args=list(target.args),
                env=stdio_environment(target.env),
                cwd=tempfile.gettempdir(),
            )
            return stdio_client(params, errlog=errlog)
        if target.transport is McpTransport.HTTP_SSE:
            return sse_client(target.url or "", timeout=timeout_s)
        return streamable_http_client(target.url or "")

    @asynccontextmanager
    async def session(self, target: McpTarget, timeout_s: float) -> AsyncIterator[SdkMcpSession]:
        await self._recheck(target)
        with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as errlog:
            garbage: list[str] = []

            def stderr_tail() -> str:
                errlog.flush()
                errlog.seek(0)
                tail = redact(errlog.read()[-_STDERR_TAIL:].strip(), target.env.values())
                return f"; its stderr ends: {tail}" if tail else ""

            async def on_message(message: object) -> None:
                if isinstance(message, Exception) and not garbage:
                    garbage.append(describe(message)[:200])

            from mcp import Client

            client = Client(
                self._transport(target, errlog, timeout_s),
                read_timeout_seconds=timeout_s,
                message_handler=on_message,
                cache=None,
            )
            ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            closing = asyncio.Event()
            owner = asyncio.create_task(_own(client, ready, closing))
            try:
                await asyncio.wait_for(asyncio.shield(ready), timeout_s)
            except BaseException as exc:
                owner.cancel()
                await asyncio.wait({owner}, timeout=_REAP_WAIT_S)
                if ready.done() and not ready.cancelled():
                    ready.exception()  # retrieved: the caller gets McpUnavailable instead
                if isinstance(exc, TimeoutError):
                    why = f"the server did not complete the MCP handshake within {timeout_s:g} s"
                    if garbage:
                        why += f" (it sent invalid MCP messages: {garbage[0]})"
                    raise McpUnavailable(why + stderr_tail()) from None
                if isinstance(exc, Exception):
                    raise McpUnavailable(_connect_failure(exc) + stderr_tail()) from None
                raise
            try:
                yield SdkMcpSession(client, stderr_tail)
            finally:
                closing.set()
                await asyncio.shield(asyncio.wait({owner}, timeout=_REAP_WAIT_S))


def _connect_failure(exc: BaseException) -> str:
    text = describe(exc)
    if "Connection closed" in text:
        return "the server closed the connection during the MCP handshake (did it crash?)"
    return f"cannot connect: {text}"


async def _own(client: "Client", ready: asyncio.Future[None], closing: asyncio.Event) -> None:
    try:
        async with client:
            ready.set_result(None)
            await closing.wait()
    except Exception as exc:  # handed to the waiting caller
        if not ready.done():
            ready.set_exception(exc)
    finally:
        if not ready.done():
            ready.cancel()
