"""Outbound HTTP with respx: the real request shapes of Jira Cloud and ServiceDesk Plus
(paths, auth headers, bodies), and signed callbacks a receiver verifies with the secret."""

import base64
import json
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from standardwebhooks.webhooks import Webhook

from adapters.net.ssrf import guarded_client
from adapters.tickets.factory import HttpTicketSystems
from adapters.webhooks.callbacks import HttpCallbackSender
from domain.delivery import MAX_EXCERPT
from domain.ticket import TicketSystemKind

SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
ENHANCEMENT = "Likely cause: toner.\nNext step: replace the cartridge."


@pytest.fixture
async def tickets() -> HttpTicketSystems:
    return HttpTicketSystems(allow_private=False)


@respx.mock
async def test_jira_cloud_add_comment_v3_with_adf_and_basic_auth(
    tickets: HttpTicketSystems,
) -> None:
    route = respx.post("https://acme.atlassian.net/rest/api/3/issue/OPS-7/comment").mock(
        return_value=httpx.Response(201, json={"id": "10000"})
    )
    jira = tickets(
        TicketSystemKind.JIRA,
        "https://acme.atlassian.net/",
        {"email": "bot@acme.example", "api_token": "tok-123"},
    )
    outcome = await jira.add_note("OPS-7", ENHANCEMENT)
    assert outcome.delivered and outcome.status_code == 201
    request = route.calls.last.request
    expected_auth = "Basic " + base64.b64encode(b"bot@acme.example:tok-123").decode()
    assert request.headers["authorization"] == expected_auth
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"
    assert json.loads(request.content) == {
        "body": {
            "type": "doc",
            "version": 1,
            "content": [
                {
                    "type": "paragraph",
                    "content": [{"type": "text", "text": "Likely cause: toner."}],
                },
                {
                    "type": "paragraph",
                    "content": [{"type": "text", "text": "Next step: replace the cartridge."}],
                },
            ],
        }
    }


@respx.mock
async def test_servicedesk_plus_on_premises_note_with_authtoken(tickets: HttpTicketSystems) -> None:
    route = respx.post("https://sdp.acme.example/api/v3/requests/4242/notes").mock(
        return_value=httpx.Response(200, json={"response_status": {"status_code": 2000}})
    )
    sdp = tickets(
        TicketSystemKind.SERVICEDESK_PLUS, "https://sdp.acme.example", {"authtoken": "ABC-KEY"}
    )
    outcome = await sdp.add_note("4242", ENHANCEMENT)
    assert outcome.delivered
    request = route.calls.last.request
    assert request.headers["authtoken"] == "ABC-KEY"
    assert "authorization" not in request.headers
    assert request.headers["accept"] == "application/vnd.manageengine.sdp.v3+json"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = parse_qs(request.content.decode())
    assert list(form) == ["input_data"]
    assert json.loads(form["input_data"][0]) == {
        "note": {
            "description": ENHANCEMENT,
            "show_to_requester": False,
            "mark_first_response": False,
            "add_to_linked_requests": False,
        }
    }


@respx.mock
async def test_servicedesk_plus_cloud_note_with_zoho_oauth(tickets: HttpTicketSystems) -> None:
    route = respx.post("https://sdpondemand.manageengine.com/app/itdesk/api/v3/requests/9/notes")
    route.mock(return_value=httpx.Response(201, json={}))
    sdp = tickets(
        TicketSystemKind.SERVICEDESK_PLUS,
        "https://sdpondemand.manageengine.com/app/itdesk",
        {"oauth_token": "1000.abc"},
    )
    assert (await sdp.add_note("9", "note")).delivered
    request = route.calls.last.request
    assert request.headers["authorization"] == "Zoho-oauthtoken 1000.abc"
    assert "authtoken" not in request.headers
    note = json.loads(parse_qs(request.content.decode())["input_data"][0])
    assert note["request_note"]["description"] == "note"


@pytest.mark.parametrize(
    ("status", "transient"),
    [(429, True), (500, True), (503, True), (400, False), (401, False), (404, False)],
)
@respx.mock
async def test_ticket_errors_say_whether_a_retry_may_help(
    tickets: HttpTicketSystems, status: int, transient: bool
) -> None:
    respx.post("https://acme.atlassian.net/rest/api/3/issue/OPS-1/comment").mock(
        return_value=httpx.Response(status, text="x" * 5000)
    )
    jira = tickets(
        TicketSystemKind.JIRA, "https://acme.atlassian.net", {"email": "a@b.c", "api_token": "t"}
    )
    outcome = await jira.add_note("OPS-1", "text")
    assert (outcome.delivered, outcome.transient, outcome.status_code) == (False, transient, status)
    assert outcome.response_excerpt is not None and len(outcome.response_excerpt) == MAX_EXCERPT


@respx.mock
async def test_a_transport_error_is_transient(tickets: HttpTicketSystems) -> None:
    respx.post("https://acme.atlassian.net/rest/api/3/issue/OPS-1/comment").mock(
        side_effect=httpx.ConnectTimeout("slow")
    )
    jira = tickets(
        TicketSystemKind.JIRA, "https://acme.atlassian.net", {"email": "a@b.c", "api_token": "t"}
    )
    outcome = await jira.add_note("OPS-1", "text")
    assert (outcome.delivered, outcome.transient) == (False, True) and "ConnectTimeout" in (
        outcome.error or ""
    )


@respx.mock
async def test_a_callback_verifies_with_only_the_secret() -> None:
    route = respx.post("https://hooks.acme.example/done").mock(return_value=httpx.Response(204))
    sender = HttpCallbackSender(allow_private=False)
    body = b'{"type":"execution.finished","data":{"id":"x"}}'
    outcome = await sender.post("https://hooks.acme.example/done", body, "msg_1", SECRET)
    assert outcome.delivered and outcome.status_code == 204
    request = route.calls.last.request
    assert request.headers["webhook-id"] == "msg_1"
    assert request.content == body
    verified = Webhook(SECRET).verify(request.content, dict(request.headers))
    assert verified == json.loads(body)
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + base64.b64encode(bytes(32)).decode()).verify(
            request.content, dict(request.headers)
        )


@respx.mock
async def test_a_redirect_is_not_followed_and_counts_as_refused() -> None:
    respx.post("https://hooks.acme.example/moved").mock(
        return_value=httpx.Response(302, headers={"location": "http://169.254.169.254/"})
    )
    metadata = respx.route(host="169.254.169.254")
    outcome = await HttpCallbackSender(allow_private=False).post(
        "https://hooks.acme.example/moved", b"{}", "msg_2", SECRET
    )
    assert (outcome.delivered, outcome.transient, outcome.status_code) == (False, False, 302)
    assert not metadata.called


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/x", "http://169.254.169.254/latest", "http://[::1]/"]
)
async def test_a_private_target_is_refused_at_send_time(url: str) -> None:
    outcome = await HttpCallbackSender(allow_private=False).post(url, b"{}", "msg_3", SECRET)
    assert not outcome.delivered and "resolves to" in (outcome.error or "")


async def test_the_guarded_client_refuses_names_that_resolve_to_loopback() -> None:
    async with guarded_client(allow_private=False, timeout_s=2) as client:
        with pytest.raises(httpx.ConnectError, match="loopback"):
            await client.get("http://localhost:9/")
