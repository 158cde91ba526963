"""X-Request-ID on every response: echoed when sane, generated otherwise."""

import dataclasses
import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from litestar.testing import TestClient

from tests.support.http_app import in_memory_app
from tests.support.http_helpers import Api, open_api

UNKNOWN = "0b7c4f1e-9a57-4d6e-8f3a-2c1d5e6f7a80"  # fixed, so test ids are stable
SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


@pytest.fixture
def api() -> Iterator[Api]:
    with open_api() as api:
        yield api


def _responses(api: Api, request_id: bytes | None) -> list[tuple[int, httpx.Response]]:
    """One response of each kind: 200, 401 (both kinds), 404, 422."""
    c = api.client
    rid = {} if request_id is None else {b"x-request-id": request_id}
    op = {**rid, b"authorization": f"Bearer {api.env.operator_key}".encode()}
    return [
        (200, c.get("/health/live", headers=rid)),
        (401, c.get("/api/agents", headers={**rid, b"authorization": b"Bearer junk"})),
        (401, c.get("/api/agents", headers=rid)),
        (404, c.get(f"/api/agents/{UNKNOWN}", headers=op)),
        (422, c.get("/api/agents/not-a-uuid", headers=op)),
        (422, c.get("/api/agents?limit=500", headers=op)),
    ]


@pytest.mark.parametrize("sent", ["abc-123", "req.1:2_x", "A" * 128, str(uuid.uuid4())])
def test_sane_request_id_is_echoed_on_every_response(api: Api, sent: str) -> None:
    for status, response in _responses(api, sent.encode()):
        assert response.status_code == status
        assert response.headers.get_list("x-request-id") == [sent]


@pytest.mark.parametrize(
    "sent", [b"a" * 300, b"has spaces", b"", b"<script>", b"a" * 129, "caf\u00e9".encode()]
)
def test_junk_request_id_is_replaced(api: Api, sent: bytes) -> None:
    for status, response in _responses(api, sent):
        assert response.status_code == status
        [generated] = response.headers.get_list("x-request-id")
        assert generated.encode() != sent and SANE_ID.match(generated)


def test_request_id_is_generated_and_unique_when_absent(api: Api) -> None:
    ids = [r.headers["x-request-id"] for _, r in _responses(api, None)]
    assert all(SANE_ID.match(i) for i in ids) and len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    ("method", "url"), [("GET", "/api/nope"), ("GET", "/nope"), ("PUT", "/api/agents")]
)
def test_request_id_on_unrouted_requests(api: Api, method: str, url: str) -> None:
    for headers in ({}, api.op):
        response = api.client.request(method, url, headers={**headers, "X-Request-ID": "r-1"})
        assert response.status_code in (404, 405)
        assert response.json()["detail"]
        assert response.headers.get_list("x-request-id") == ["r-1"]
        junk = api.client.request(method, url, headers={**headers, "X-Request-ID": "a b"})
        assert SANE_ID.match(junk.headers["x-request-id"])


def test_request_id_on_writes_and_refusals(api: Api) -> None:
    tenant = api.tenant()
    rid = {"X-Request-ID": "w-1"}
    body = {"name": tenant.body["name"], "admin_email": "a@example.com"}
    responses = [
        api.client.post("/api/tenants", json={**body, "name": "n2"}, headers={**api.op, **rid}),
        api.client.post("/api/tenants", json=body, headers={**api.op, **rid}),
        api.client.post("/api/tenants", json=body, headers={**tenant.headers, **rid}),
        api.client.delete(f"/api/tenants/{tenant.id}", headers={**api.op, **rid}),
    ]
    assert [r.status_code for r in responses] == [201, 409, 403, 204]
    assert all(r.headers.get_list("x-request-id") == ["w-1"] for r in responses)


def test_a_500_carries_the_request_id_and_no_internals() -> None:
    env = in_memory_app()

    async def broken() -> dict[str, str]:
        raise RuntimeError("postgresql://agentkeel:s3cret@db/agentkeel SELECT * FROM api_keys")

    env.app.state.deps = dataclasses.replace(env.app.state.deps, readiness=broken)
    with TestClient(env.app) as client:
        response = client.get("/health/ready", headers={"X-Request-ID": "r-500"})
    assert response.status_code == 500
    assert response.headers.get_list("x-request-id") == ["r-500"]
    assert isinstance(response.json()["detail"], str)
    for leak in ("s3cret", "SELECT", "Traceback", "RuntimeError", "postgresql"):
        assert leak not in response.text


def test_a_trailing_newline_is_junk(api: Api) -> None:
    response = api.client.get("/health/live", headers={b"x-request-id": b"abc\n"})
    [generated] = response.headers.get_list("x-request-id")
    assert SANE_ID.fullmatch(generated)
