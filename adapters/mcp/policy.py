"""The operator's MCP policy: an allowlist of stdio commands, and no internal URLs (the
platform's one SSRF rule, adapters/net/ssrf.py over domain/network_policy.py)."""

from collections.abc import Iterable

from adapters.net.ssrf import RefusedAddress, http_host_and_port, resolve_allowed
from domain.errors import InvalidValue


class OperatorMcpPolicy:
    """`stdio_commands`: exact absolute paths (AGENTKEEL_MCP_STDIO_COMMANDS); nothing else
    may be spawned, and an empty list refuses every stdio server. `allow_private_urls`
    (AGENTKEEL_MCP_ALLOW_PRIVATE_URLS) lets URLs reach internal addresses, for an operator
    whose MCP servers run inside its own network (and for tests on loopback)."""

    def __init__(self, stdio_commands: Iterable[str], *, allow_private_urls: bool = False) -> None:
        self._commands = frozenset(c for c in stdio_commands if c.startswith("/"))
        self._allow_private = allow_private_urls

    def check_command(self, command: str) -> None:
        if command not in self._commands:
            raise InvalidValue(
                "command",
                "is not on the operator's allowlist of stdio MCP commands "
                "(AGENTKEEL_MCP_STDIO_COMMANDS)",
            )

    async def check_url(self, url: str) -> None:
        """Every address the host resolves to must be public. Unlike the callback guard
        (SsrfUrlGuard), a host that does not resolve is refused too."""
        host, port = http_host_and_port(url, "url")
        if self._allow_private:
            return
        try:
            await resolve_allowed(host, port, allow_private=False)
        except RefusedAddress as exc:
            if exc.unresolved:
                raise InvalidValue("url", f"host {host!r} does not resolve") from None
            raise InvalidValue(
                "url",
                f"resolves to {exc.address}, {exc.reason} (refused unless the operator sets "
                "AGENTKEEL_MCP_ALLOW_PRIVATE_URLS=true)",
            ) from None
