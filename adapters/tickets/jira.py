"""Jira Cloud: REST API v3 "add comment", whose body is an Atlassian Document Format doc;
basic auth with the account's email and an API token."""

from urllib.parse import quote

import httpx

from adapters.tickets.http import post_once
from domain.delivery import AttemptOutcome


def adf_document(text: str) -> dict[str, object]:
    """Plain text as ADF: one paragraph per non-empty line (ADF has no bare newlines)."""
    paragraphs = [
        {"type": "paragraph", "content": [{"type": "text", "text": line}]}
        for line in text.splitlines()
        if line.strip()
    ]
    return {"type": "doc", "version": 1, "content": paragraphs or [{"type": "paragraph"}]}


class JiraCloudTicketSystem:
    def __init__(self, client: httpx.AsyncClient, base_url: str, email: str, api_token: str):
        self._client, self._base = client, base_url.rstrip("/")
        self._auth = httpx.BasicAuth(email, api_token)

    async def add_note(self, ticket_id: str, text: str) -> AttemptOutcome:
        url = f"{self._base}/rest/api/3/issue/{quote(ticket_id, safe='')}/comment"
        return await post_once(
            self._client,
            url,
            json={"body": adf_document(text)},
            headers={"Accept": "application/json"},
            auth=self._auth,
        )
