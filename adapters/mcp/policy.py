"""The operator's MCP policy: an allowlist of stdio commands, and no internal URLs."""

from collections.abc import Iterable

from adapters.net.private_addresses import RefusedAddress, check_public_url, host_and_port
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
        try:
            if self._allow_private:
                host_and_port(url)
            else:
                await check_public_url(url)
        except RefusedAddress as exc:
            raise InvalidValue("url", str(exc)) from None
