"""ManageEngine ServiceDesk Plus, API v3 "add request note": a form field `input_data`
holding the JSON, with the v3 Accept header. On-premises servers take a technician key in
the `authtoken` header; the cloud edition takes a Zoho OAuth token
(`Authorization: Zoho-oauthtoken ...`) and names the object `request_note`."""

import json
from urllib.parse import quote

import httpx

from adapters.tickets.http import post_once
from domain.delivery import AttemptOutcome

ACCEPT_V3 = "application/vnd.manageengine.sdp.v3+json"


class ServiceDeskPlusTicketSystem:
    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        *,
        authtoken: str | None = None,
        oauth_token: str | None = None,
    ) -> None:
        if (authtoken is None) == (oauth_token is None):
            raise ValueError("exactly one of authtoken and oauth_token")
        self._client, self._base = client, base_url.rstrip("/")
        self._headers = {"Accept": ACCEPT_V3}
        if authtoken is not None:
            self._headers["authtoken"] = authtoken
            self._object = "note"
        else:
            self._headers["Authorization"] = f"Zoho-oauthtoken {oauth_token}"
            self._object = "request_note"

    async def add_note(self, ticket_id: str, text: str) -> AttemptOutcome:
        url = f"{self._base}/api/v3/requests/{quote(ticket_id, safe='')}/notes"
        note = {
            "description": text,
            "show_to_requester": False,
            "mark_first_response": False,
            "add_to_linked_requests": False,
        }
        return await post_once(
            self._client,
            url,
            data={"input_data": json.dumps({self._object: note})},
            headers=self._headers,
        )
