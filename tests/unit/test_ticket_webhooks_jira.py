"""Signed ticket webhooks, continued: Jira's own scheme, the OpenAPI document, and the
body limits a signed body is held to."""

from collections.abc import Mapping
from typing import Any

import pytest

from entrypoints.http.body import MAX_BODY_BYTES
from tests.support.webhook_app import INVALID, Hooked, hooked
from tests.support.webhooks import jira_issue, jira_signed, signed, ticket_body

__all__ = ["hooked"]  # the fixture


def test_jira_scheme_signature_and_dedupe(hooked: Hooked) -> None:
    url = f"{hooked.url}/jira"
    body = jira_issue()
    headers = jira_signed(hooked.secret, body, delivery_id="d-1")
    status, answer = hooked.post(body, headers, url)
    assert status == 202, answer
    row = hooked.api.client.get(f"/api/executions/{answer['job_id']}", headers=hooked.headers)
    assert "Ticket: OPS-7" in row.json()["input"] and "Since 9" in row.json()["input"]
    assert hooked.post(body, headers, url) == (202, answer)  # Jira's retry
    # The delivery id is not signed: the same body under another id is the same delivery.
    assert hooked.post(body, jira_signed(hooked.secret, body, "d-2"), url) == (202, answer)
    assert len(hooked.api.env.queue.sent) == 1
    tampered = {**headers, "X-Hub-Signature": headers["X-Hub-Signature"][:-1] + "0"}
    other = jira_issue(key="OPS-8")
    bad_ones: list[Mapping[str, Any]] = [
        {**jira_signed(hooked.secret, other), "X-Hub-Signature": tampered["X-Hub-Signature"]},
        {k: v for k, v in jira_signed(hooked.secret, other).items() if k != "X-Hub-Signature"},
        {
            k: v
            for k, v in jira_signed(hooked.secret, other).items()
            if k != "X-Atlassian-Webhook-Identifier"
        },
        {**jira_signed(hooked.secret, other), "X-Hub-Signature": "sha1=abc"},
        {
            **jira_signed(hooked.secret, other),
            "X-Hub-Signature": "sha256=\u00e9\u00e9".encode("latin-1"),
        },
    ]
    for bad in bad_ones:
        assert hooked.post(other, bad, url) == (401, INVALID)
    bad_issue = b'{"issue": {"key": "X-1"}}'
    assert hooked.post(bad_issue, jira_signed(hooked.secret, bad_issue), url)[0] == 422


def test_the_routes_are_in_the_openapi_document(hooked: Hooked) -> None:
    schema = hooked.api.client.get("/schema/openapi.json").json()
    paths = schema["paths"]
    for path, method in [
        ("/api/webhooks/tickets/{tenant_id}", "post"),
        ("/api/webhooks/tickets/{tenant_id}/jira", "post"),
        ("/api/tenants/{tenant_id}/webhook-secret", "post"),
        ("/api/tenants/{tenant_id}/ticket-system", "put"),
        ("/api/tenants/{tenant_id}/ticket-system", "get"),
        ("/api/tenants/{tenant_id}/ticket-system", "delete"),
        ("/api/executions/{execution_id}/deliveries", "get"),
    ]:
        assert method in paths[path], (path, method)
    assert paths["/api/webhooks/tickets/{tenant_id}"]["post"]["security"] == [{}]
    assert {"202", "400", "401", "422"} <= set(
        paths["/api/webhooks/tickets/{tenant_id}"]["post"]["responses"]
    )


@pytest.mark.parametrize("depth", [65, 100_000])
def test_a_signed_body_nested_too_deep_is_422(hooked: Hooked, depth: int) -> None:
    body = b'{"ticket_id": "T", "title": "x", "deep": ' + b"[" * depth + b"]" * depth + b"}"
    status, answer = hooked.post(body, signed(hooked.secret, body))
    assert status == 422 and answer["detail"][0]["loc"] == ["body"], answer


def test_a_body_over_the_limit_is_413_before_anything(hooked: Hooked) -> None:
    body = ticket_body(description="x" * (MAX_BODY_BYTES + 1))
    response = hooked.api.client.post(hooked.url, content=body, headers=signed(hooked.secret, body))
    assert response.status_code == 413
