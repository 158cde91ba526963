"""Signed ticket webhooks over HTTP (in-memory adapters): the verifier matrix, replays,
malformed bodies, and what an unsigned caller can learn (nothing)."""

import json
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.http_helpers import Api, open_api
from tests.support.webhooks import jira_issue, jira_signed, signature, signed, ticket_body

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


def test_a_minted_secret_is_whsec_base64_of_32_bytes_shown_once(hooked: Hooked) -> None:
    import base64

    assert hooked.secret.startswith("whsec_")
    assert len(base64.b64decode(hooked.secret.removeprefix("whsec_"), validate=True)) == 32
    stored = repr(hooked.api.store.webhook_secrets)
    assert hooked.secret not in stored and hooked.secret.removeprefix("whsec_") not in stored


def test_a_valid_delivery_queues_the_ticket_agent(hooked: Hooked) -> None:
    body = ticket_body(priority="P2")
    status, answer = hooked.post(body, signed(hooked.secret, body))
    assert status == 202 and set(answer) == {"job_id"}
    job = hooked.api.client.get(f"/api/executions/{answer['job_id']}", headers=hooked.headers)
    assert job.status_code == 200, job.text
    row = job.json()
    assert (row["status"], row["agent_id"]) == ("queued", hooked.agent_id)
    assert "Printer jammed" in row["input"] and "priority: P2" in row["input"]
    assert "Floor 3, again." in row["input"]
    assert row["ticket_writeback"] == {"status": "waiting", "attempts": 0, "last_error": None}
    assert hooked.api.env.queue.sent == [(uuid.UUID(answer["job_id"]), uuid.UUID(hooked.tenant_id))]


def _now() -> int:
    return int(time.time())


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("valid", 202),
        ("one flipped byte", 401),
        ("re-serialized JSON", 401),
        ("timestamp +301 s", 401),
        ("timestamp -301 s", 401),
        ("timestamp +299 s", 202),
        ("timestamp -299 s", 202),
        ("several signatures, one valid", 202),
        ("several signatures, none valid", 401),
        ("a v2 signature only", 401),
    ],
)
def test_the_verifier_matrix(hooked: Hooked, case: str, expected: int) -> None:
    body = ticket_body()
    msg_id, ts = f"msg_{uuid.uuid4().hex}", _now()
    if case.startswith("timestamp"):
        ts += int(case.split()[1].removesuffix("s").replace("+", ""))
    headers = signed(hooked.secret, body, msg_id=msg_id, timestamp=ts)
    sent = body
    if case == "one flipped byte":
        sent = _flip(body, len(body) // 2)
    elif case == "re-serialized JSON":  # same data, other bytes: the signature is on bytes
        sent = json.dumps(json.loads(body), indent=2).encode()
    elif case.startswith("several signatures"):
        other = "whsec_" + "A" * 43 + "="
        wrong = signature(other, msg_id, ts, body)
        one_valid = case == "several signatures, one valid"
        right = headers["webhook-signature"] if one_valid else wrong
        headers["webhook-signature"] = f"{wrong} v1,AAAA {right}"
    elif case == "a v2 signature only":
        headers["webhook-signature"] = headers["webhook-signature"].replace("v1,", "v2,")
    status, answer = hooked.post(sent, headers)
    assert status == expected, answer
    if expected == 401:
        assert answer == INVALID


@pytest.mark.parametrize(
    "garble",
    [
        {"webhook-id": None},
        {"webhook-timestamp": None},
        {"webhook-signature": None},
        {"webhook-timestamp": "yesterday"},
        {"webhook-timestamp": "nan"},
        {"webhook-timestamp": "1e400"},
        {"webhook-signature": "v1"},
        {"webhook-signature": "v1,not base64!"},
        {"webhook-signature": ""},
        {"webhook-id": "x" * 300},
    ],
)
def test_malformed_headers_are_the_same_401(hooked: Hooked, garble: dict[str, str | None]) -> None:
    body = ticket_body()
    headers = signed(hooked.secret, body)
    for name, value in garble.items():
        if value is None:
            del headers[name]
        else:
            headers[name] = value
    assert hooked.post(body, headers) == (401, INVALID)


def test_an_unknown_tenant_gets_the_same_401_as_a_bad_signature(hooked: Hooked) -> None:
    body = ticket_body()
    headers = signed(hooked.secret, body)
    for url in (
        f"/api/webhooks/tickets/{uuid.uuid4()}",
        "/api/webhooks/tickets/not-a-uuid",
        f"/api/webhooks/tickets/{uuid.uuid4()}/jira",
    ):
        assert hooked.post(body, headers, url) == (401, INVALID)
    wrong = signed("whsec_" + "B" * 43 + "=", body)
    assert hooked.post(body, wrong) == (401, INVALID)
    assert hooked.api.env.queue.sent == []


def test_no_bearer_key_is_asked_for_and_none_helps(hooked: Hooked) -> None:
    body = ticket_body()
    response = hooked.api.client.post(
        hooked.url, content=body, headers={**hooked.headers, "content-type": "application/json"}
    )
    assert (response.status_code, response.json()) == (401, INVALID)
    assert "www-authenticate" not in response.headers


def test_old_and_new_secret_both_verify_during_the_overlap(hooked: Hooked) -> None:
    old = hooked.secret
    new = hooked.mint()
    assert new != old
    for secret in (old, new):
        body = ticket_body(title=f"signed with {secret[:10]}")
        assert hooked.post(body, signed(secret, body))[0] == 202
    # The overlap ends 24 h after the new secret: move the old one's expiry into the past.
    store = hooked.api.store.webhook_secrets
    for secret_id, row in list(store.items()):
        if row.expires_at is not None:
            assert row.expires_at - datetime.now(UTC) > timedelta(hours=23, minutes=59)
            store[secret_id] = replace(row, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    body = ticket_body(title="after the overlap")
    assert hooked.post(body, signed(old, body)) == (401, INVALID)
    assert hooked.post(body, signed(new, body))[0] == 202


def test_a_third_secret_ends_the_first_ones_overlap_at_once(hooked: Hooked) -> None:
    first, _second, third = hooked.secret, hooked.mint(), hooked.mint()
    body = ticket_body()
    assert hooked.post(body, signed(first, body)) == (401, INVALID)
    assert hooked.post(body, signed(third, body))[0] == 202


def test_a_replayed_delivery_returns_the_same_job_and_starts_no_other(hooked: Hooked) -> None:
    body = ticket_body()
    headers = signed(hooked.secret, body)
    first = hooked.post(body, headers)
    again = hooked.post(body, headers)
    assert first[0] == again[0] == 202 and first[1] == again[1]
    resigned = signed(hooked.secret, body, msg_id=headers["webhook-id"])  # a sender's retry
    assert hooked.post(body, resigned) == first
    assert len(hooked.api.env.queue.sent) == 1
    assert len(hooked.api.store.executions) == 1


def test_the_same_id_of_another_tenant_is_another_delivery(hooked: Hooked) -> None:
    api = hooked.api
    other = api.tenant()
    agent = api.agent(other.headers)
    api.client.patch(
        f"/api/tenants/{other.id}", json={"ticket_agent_id": agent["id"]}, headers=other.headers
    )
    secret = api.client.post(f"/api/tenants/{other.id}/webhook-secret", headers=other.headers)
    body = ticket_body()
    msg_id = f"msg_{uuid.uuid4().hex}"
    mine = hooked.post(body, signed(hooked.secret, body, msg_id=msg_id))
    theirs = hooked.post(
        body,
        signed(secret.json()["secret"], body, msg_id=msg_id),
        f"/api/webhooks/tickets/{other.id}",
    )
    assert mine[0] == theirs[0] == 202 and mine[1] != theirs[1]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"title": "no id"}',
        b'{"ticket_id": "T-1"}',
        b'{"ticket_id": "T-1", "title": 5}',
        b'{"ticket_id": "T-1", "title": "x", "description": {"a": 1}}',
        b'{"ticket_id": "", "title": "x"}',
    ],
)
def test_a_signed_malformed_body_is_422_and_no_job(hooked: Hooked, body: bytes) -> None:
    status, answer = hooked.post(body, signed(hooked.secret, body))
    assert status == 422, answer
    assert isinstance(answer["detail"], list) and answer["detail"][0]["loc"][0] == "body"
    assert hooked.api.env.queue.sent == [] and not hooked.api.store.executions


def test_no_ticket_agent_is_400(hooked: Hooked) -> None:
    hooked.api.client.patch(
        f"/api/tenants/{hooked.tenant_id}", json={"ticket_agent_id": None}, headers=hooked.headers
    )
    body = ticket_body()
    status, answer = hooked.post(body, signed(hooked.secret, body))
    assert status == 400 and "ticket agent" in answer["detail"]
    assert hooked.api.env.queue.sent == []


def test_a_tenant_without_a_secret_verifies_nothing(hooked: Hooked) -> None:
    other = hooked.api.tenant()
    body = ticket_body()
    url = f"/api/webhooks/tickets/{other.id}"
    assert hooked.post(body, signed(hooked.secret, body), url) == (401, INVALID)


def test_a_tenant_key_mints_only_its_own_secret(hooked: Hooked) -> None:
    other = hooked.api.tenant()
    theirs = hooked.api.client.post(
        f"/api/tenants/{other.id}/webhook-secret", headers=hooked.headers
    )
    assert theirs.status_code == 404
    by_operator = hooked.api.client.post(
        f"/api/tenants/{other.id}/webhook-secret", headers=hooked.api.op
    )
    assert by_operator.status_code == 201 and by_operator.json()["secret"].startswith("whsec_")


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


def test_a_body_over_1_mib_is_413_before_anything(hooked: Hooked) -> None:
    body = ticket_body(description="x" * 1_100_000)
    response = hooked.api.client.post(hooked.url, content=body, headers=signed(hooked.secret, body))
    assert response.status_code == 413
