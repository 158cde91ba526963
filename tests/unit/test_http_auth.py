"""Authentication, authorization and tenant isolation at the HTTP edge."""

from collections.abc import Iterator

import pytest

from tests.support.http_helpers import Api, assert_detail, bearer, open_api, snapshot

UNKNOWN = "0b7c4f1e-9a57-4d6e-8f3a-2c1d5e6f7a80"  # fixed, so test ids are stable


@pytest.fixture
def api() -> Iterator[Api]:
    with open_api() as api:
        yield api


def _requests(tenant_id: str) -> list[tuple[str, str, dict[str, object] | None]]:
    return [
        ("GET", "/api/tenants", None),
        ("POST", "/api/tenants", {"name": "t", "admin_email": "a@example.com"}),
        ("GET", f"/api/tenants/{tenant_id}", None),
        ("GET", "/api/agents", None),
        ("POST", "/api/agents", {"name": "a", "system_prompt": "p", "tenant_id": tenant_id}),
        ("GET", f"/api/tenants/{tenant_id}/api-keys", None),
    ]


@pytest.mark.parametrize(
    "authorization",
    [None, "Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "Token ak_op_x", "ak_op_abc", ""],
)
def test_missing_or_malformed_header_is_not_authenticated(
    api: Api, authorization: str | None
) -> None:
    tenant = api.tenant()
    before = snapshot(api.store)
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, url, body in _requests(tenant.id):
        response = api.client.request(method, url, json=body, headers=headers)
        assert_detail(response, 401, "Not authenticated")
        assert response.headers["www-authenticate"] == "Bearer"
    assert snapshot(api.store) == before


@pytest.mark.parametrize(
    "token",
    [
        "junk",
        "ak_tn_" + "a" * 43,  # well-shaped but unknown
        "ak_op_" + "b" * 43,
        "ak_xx_" + "c" * 43,  # unknown prefix
        "ak_tn_short",
        "ak_tn_" + "d" * 500,
        "ak_tn_" + "e" * 40 + "!",
    ],
)
def test_unknown_or_malformed_key_is_invalid_credentials(api: Api, token: str) -> None:
    tenant = api.tenant()
    for method, url, body in _requests(tenant.id):
        response = api.client.request(method, url, json=body, headers=bearer(token))
        assert_detail(response, 401, "Invalid credentials")


def test_a_key_with_one_extra_character_is_invalid(api: Api) -> None:
    response = api.client.get("/api/tenants", headers=bearer(api.env.operator_key + "x"))
    assert_detail(response, 401, "Invalid credentials")


def test_scheme_is_case_insensitive(api: Api) -> None:
    headers = {"Authorization": f"bearer {api.env.operator_key}"}
    assert api.client.get("/api/tenants", headers=headers).status_code == 200


def test_revocation_is_effective_immediately(api: Api) -> None:
    tenant = api.tenant()
    second = api.issue_key(tenant.id, tenant.headers, "second")
    assert api.client.get("/api/agents", headers=bearer(second["key"])).status_code == 200
    url = f"/api/tenants/{tenant.id}/api-keys/{second['id']}"
    assert api.client.delete(url, headers=api.op).status_code == 204
    assert_detail(api.client.get("/api/agents", headers=bearer(second["key"])), 401)
    assert api.client.get("/api/agents", headers=tenant.headers).status_code == 200


def test_a_tenant_key_may_revoke_itself(api: Api) -> None:
    tenant = api.tenant()
    own_id = api.client.get(f"/api/tenants/{tenant.id}/api-keys", headers=tenant.headers).json()
    url = f"/api/tenants/{tenant.id}/api-keys/{own_id[0]['id']}"
    assert api.client.delete(url, headers=tenant.headers).status_code == 204
    response = api.client.get(f"/api/tenants/{tenant.id}", headers=tenant.headers)
    assert_detail(response, 401, "Invalid credentials")


def test_deleting_a_tenant_kills_its_keys(api: Api) -> None:
    tenant = api.tenant()
    assert api.client.delete(f"/api/tenants/{tenant.id}", headers=api.op).status_code == 204
    assert_detail(api.client.get("/api/agents", headers=tenant.headers), 401, "Invalid credentials")


def test_tenant_key_on_operator_only_routes_is_forbidden(api: Api) -> None:
    tenant = api.tenant()
    before = snapshot(api.store)
    body = {"name": "sneaky", "admin_email": "a@example.com"}
    assert_detail(api.client.post("/api/tenants", json=body, headers=tenant.headers), 403)
    assert_detail(api.client.delete(f"/api/tenants/{tenant.id}", headers=tenant.headers), 403)
    assert snapshot(api.store) == before


def test_tenant_key_naming_another_tenant_in_a_body_is_forbidden(api: Api) -> None:
    mine, theirs = api.tenant(), api.tenant()
    before = snapshot(api.store)
    body = {"name": "a", "system_prompt": "p", "tenant_id": theirs.id}
    assert_detail(api.client.post("/api/agents", json=body, headers=mine.headers), 403)
    assert snapshot(api.store) == before


def test_tenant_key_on_another_tenants_resources_is_not_found(api: Api) -> None:
    mine, theirs = api.tenant(), api.tenant()
    agent = api.agent(theirs.headers)
    their_key = api.client.get(f"/api/tenants/{theirs.id}/api-keys", headers=api.op).json()[0]
    before = snapshot(api.store)
    calls = [
        ("GET", f"/api/tenants/{theirs.id}", None, "Tenant not found"),
        ("PATCH", f"/api/tenants/{theirs.id}", {"admin_email": "x@example.com"}, None),
        ("DELETE", f"/api/tenants/{theirs.id}", None, None),
        ("GET", f"/api/agents/{agent['id']}", None, "Agent not found"),
        ("PATCH", f"/api/agents/{agent['id']}", {"name": "mine-now"}, "Agent not found"),
        ("DELETE", f"/api/agents/{agent['id']}", None, "Agent not found"),
        ("GET", f"/api/tenants/{theirs.id}/api-keys", None, None),
        ("POST", f"/api/tenants/{theirs.id}/api-keys", {"name": "k"}, None),
        ("DELETE", f"/api/tenants/{theirs.id}/api-keys/{their_key['id']}", None, None),
        ("DELETE", f"/api/tenants/{mine.id}/api-keys/{their_key['id']}", None, None),
    ]
    for method, url, body, detail in calls:
        response = api.client.request(method, url, json=body, headers=mine.headers)
        assert_detail(response, 404, detail)
    assert snapshot(api.store) == before


def test_not_found_for_foreign_and_missing_ids_look_the_same(api: Api) -> None:
    mine, theirs = api.tenant(), api.tenant()
    agent = api.agent(theirs.headers)
    for foreign, missing in [
        (f"/api/tenants/{theirs.id}", f"/api/tenants/{UNKNOWN}"),
        (f"/api/agents/{agent['id']}", f"/api/agents/{UNKNOWN}"),
        (f"/api/tenants/{theirs.id}/api-keys", f"/api/tenants/{UNKNOWN}/api-keys"),
    ]:
        a = api.client.get(foreign, headers=mine.headers)
        b = api.client.get(missing, headers=mine.headers)
        assert (a.status_code, a.json()) == (b.status_code, b.json()) == (a.status_code, a.json())
        assert a.status_code == 404


def test_tenant_key_lists_only_its_own(api: Api) -> None:
    mine, theirs = api.tenant(), api.tenant()
    api.agent(theirs.headers)
    own_agent = api.agent(mine.headers)
    tenants = api.client.get("/api/tenants", headers=mine.headers).json()
    assert [t["id"] for t in tenants] == [mine.id]
    agents = api.client.get("/api/agents", headers=mine.headers).json()
    assert [a["id"] for a in agents] == [own_agent["id"]]
    filtered = api.client.get(f"/api/agents?tenant_id={theirs.id}", headers=mine.headers)
    assert filtered.status_code == 200 and filtered.json() == []


def test_operator_key_cannot_be_revoked_through_a_tenant_route(api: Api) -> None:
    tenant = api.tenant()
    op_key = next(k for k in api.store.api_keys.values() if k.tenant_id is None)
    url = f"/api/tenants/{tenant.id}/api-keys/{op_key.id}"
    assert_detail(api.client.delete(url, headers=tenant.headers), 404)
    assert_detail(api.client.delete(url, headers=api.op), 404)
    assert api.client.get("/api/tenants", headers=api.op).status_code == 200


def test_operator_can_do_everything(api: Api) -> None:
    c, op = api.client, api.op
    tenant = api.tenant()
    agent = api.agent(op, tenant_id=tenant.id)
    assert c.get("/api/tenants", headers=op).status_code == 200
    assert c.get(f"/api/tenants/{tenant.id}", headers=op).status_code == 200
    assert c.patch(f"/api/tenants/{tenant.id}", json={"name": "renamed"}, headers=op).is_success
    assert c.get(f"/api/agents?tenant_id={tenant.id}", headers=op).json()[0]["id"] == agent["id"]
    assert c.patch(f"/api/agents/{agent['id']}", json={"model": "m"}, headers=op).is_success
    key = api.issue_key(tenant.id, op)
    assert len(c.get(f"/api/tenants/{tenant.id}/api-keys", headers=op).json()) == 2
    assert c.delete(f"/api/tenants/{tenant.id}/api-keys/{key['id']}", headers=op).status_code == 204
    assert c.delete(f"/api/agents/{agent['id']}", headers=op).status_code == 204
    assert c.delete(f"/api/tenants/{tenant.id}", headers=op).status_code == 204


BAD_REQUESTS = [
    ("GET", "/api/agents/not-a-uuid", None),
    ("PATCH", "/api/agents/not-a-uuid", b"{}"),
    ("POST", "/api/agents", b"{"),
    ("POST", "/api/tenants", b'{"name": 5}'),
    ("POST", f"/api/tenants/{UNKNOWN}/api-keys", b"[]"),
]


@pytest.mark.parametrize(("method", "url", "content"), BAD_REQUESTS)
@pytest.mark.parametrize(
    ("authorization", "detail"),
    [(None, "Not authenticated"), ("Basic x", "Not authenticated"), ("Bearer junk", None)],
)
def test_anonymous_gets_401_before_validation(
    api: Api, method: str, url: str, content: bytes | None, authorization: str | None, detail: str
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = api.client.request(method, url, content=content, headers=headers)
    assert_detail(response, 401, detail or "Invalid credentials")


def test_health_needs_no_key(api: Api) -> None:
    live = api.client.get("/health/live")
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    ready = api.client.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["status"] == "ok"


def test_openapi_schema_lists_the_routes(api: Api) -> None:
    response = api.client.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    expected = {
        "/api/tenants": {"get", "post"},
        "/api/tenants/{tenant_id}": {"get", "patch", "delete"},
        "/api/tenants/{tenant_id}/api-keys": {"get", "post"},
        "/api/tenants/{tenant_id}/api-keys/{key_id}": {"delete"},
        "/api/agents": {"get", "post"},
        "/api/agents/{agent_id}": {"get", "patch", "delete"},
        "/health/live": {"get"},
        "/health/ready": {"get"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
