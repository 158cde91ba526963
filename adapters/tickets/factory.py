"""Builds the tenant's ticket system adapter from its kind and opened credentials."""

from collections.abc import Mapping

import httpx

from adapters.net.ssrf import guarded_client
from adapters.tickets.jira import JiraCloudTicketSystem
from adapters.tickets.servicedesk_plus import ServiceDeskPlusTicketSystem
from application.ports.outbound import TicketSystem
from domain.ticket import TicketSystemKind


class HttpTicketSystems:
    """One guarded client (no redirects, public addresses only unless allowed) for all."""

    def __init__(self, *, allow_private: bool, timeout_s: float = 15.0) -> None:
        self._client = guarded_client(allow_private=allow_private, timeout_s=timeout_s)

    @property
    def client(self) -> httpx.AsyncClient:
        return self._client

    def __call__(
        self, kind: TicketSystemKind, base_url: str, credentials: Mapping[str, str]
    ) -> TicketSystem:
        if kind is TicketSystemKind.JIRA:
            return JiraCloudTicketSystem(
                self._client, base_url, credentials["email"], credentials["api_token"]
            )
        return ServiceDeskPlusTicketSystem(
            self._client,
            base_url,
            authtoken=credentials.get("authtoken"),
            oauth_token=credentials.get("oauth_token"),
        )

    async def aclose(self) -> None:
        await self._client.aclose()
