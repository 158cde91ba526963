"""Signed ticket webhooks over HTTP (in-memory adapters): the verifier matrix, replays,
malformed bodies, and what an unsigned caller can learn (nothing)."""

import base64
import json
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.webhook_app import INVALID, Hooked, hooked
from tests.support.webhooks import signature, signed, ticket_body

__all__ = ["hooked"]  # the fixture


def test_a_minted_secret_is_whsec_base64_of_32_bytes_shown_once(hooked: Hooked) -> None:

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
