"""The in-memory HTTP app with a tenant ready for signed ticket webhooks: a ticket agent
and a webhook secret."""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.http_helpers import Api, open_api

INVALID = {"detail": "Invalid signature"}


@dataclass
class Hooked:
    api: Api
    tenant_id: str
    headers: dict[str, str]
    secret: str
    agent_id: str

    @property
    def url(self) -> str:
        return f"/api/webhooks/tickets/{self.tenant_id}"

    def post(
        self, body: bytes, headers: Mapping[str, Any], url: str | None = None
    ) -> tuple[int, Any]:
        response = self.api.client.post(url or self.url, content=body, headers=headers)
        assert response.status_code < 500, response.text
        return response.status_code, response.json()

    def mint(self) -> str:
        minted = self.api.client.post(
            f"/api/tenants/{self.tenant_id}/webhook-secret", headers=self.headers
        )
        assert minted.status_code == 201, minted.text
        secret: str = minted.json()["secret"]
        return secret


@pytest.fixture
def hooked() -> Iterator[Hooked]:
    with open_api() as api:
        tenant = api.tenant()
        agent = api.agent(tenant.headers)
        patched = api.client.patch(
            f"/api/tenants/{tenant.id}",
            json={"ticket_agent_id": agent["id"]},
            headers=tenant.headers,
        )
        assert patched.status_code == 200, patched.text
        made = Hooked(api, tenant.id, tenant.headers, "", agent["id"])
        made.secret = made.mint()
        yield made
