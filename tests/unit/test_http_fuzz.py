"""Property-based fuzzing of the HTTP edge: junk in, never a 5xx, never a half-done change."""

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, quote_from_bytes, urlencode

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from entrypoints.http.body import MAX_JSON_DEPTH
from tests.support.http_helpers import (
    AGENT_FIELDS,
    KEY_FIELDS,
    TENANT_FIELDS,
    Api,
    TenantHandle,
    open_api,
    snapshot,
)

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


class World:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.a: TenantHandle = api.tenant("fuzz-a")
        self.b: TenantHandle = api.tenant("fuzz-b")
        self.agent_a = api.agent(self.a.headers, name="agent-a")["id"]
        self.agent_b = api.agent(self.b.headers, name="agent-b")["id"]

    def headers(self, who: str) -> dict[str, str]:
        return self.api.op if who == "operator" else self.a.headers


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with open_api() as api:
        yield World(api)


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(["", " ", "\x00", "x" * 201, "a@example.com", "active", "draft"])
    | st.uuids().map(str)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)
FIELDS = sorted(AGENT_FIELDS | TENANT_FIELDS | {"api_key", "key"})
whos = st.sampled_from(["operator", "tenant"])
names = st.text(min_size=1, max_size=30) | st.sampled_from(["fuzz-a", "agent-a", " ", "x" * 201])
emails = st.sampled_from(["a@b.example", "ops@x.io", "z@q.example", "no-at", "a@b"])
Fields = dict[str, st.SearchStrategy[Any]]


def shaped(required: Fields, optional: Fields) -> st.SearchStrategy[bytes]:
    """Mostly plausible bodies with a little noise, plus raw JSON values and plain text."""
    plausible = st.fixed_dictionaries(required, optional=optional)
    noise = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=2)
    mixed = st.tuples(plausible, st.one_of(st.just({}), st.just({}), noise)).map(
        lambda p: {**p[0], **p[1]}
    )
    dropped = st.tuples(mixed, st.sampled_from(FIELDS)).map(
        lambda p: {k: v for k, v in p[0].items() if k != p[1]}
    )
    values = st.one_of(mixed, mixed, dropped, json_values)
    as_json = values.map(lambda v: json.dumps(v).encode())
    return st.one_of(as_json, as_json, as_json, st.text(max_size=40).map(str.encode))


def check(
    world: World,
    method: str,
    url: str,
    who: str,
    content: bytes | None = None,
    ok_fields: set[str] | None = None,
) -> int:
    api = world.api
    before = snapshot(api.store)
    headers = {**world.headers(who), "Content-Type": "application/json"}
    response = api.client.request(method, url, content=content, headers=headers)
    status = response.status_code
    event(f"{method} {status}")
    assert status < 500, (method, url, content, response.text)
    if status == 204:
        return status
    body = response.json()
    if status < 300 and ok_fields is not None:
        assert set(body) == ok_fields, body
    if status >= 400:
        assert isinstance(body, dict) and "detail" in body, body
        assert snapshot(api.store) == before, (url, content, status)
    if status == 422:
        assert isinstance(body["detail"], list) and body["detail"]
        for error in body["detail"]:
            assert set(error) == {"loc", "msg", "type"}
            assert isinstance(error["loc"], list) and error["loc"]
            assert isinstance(error["msg"], str) and isinstance(error["type"], str)
    elif 400 <= status < 500:
        assert isinstance(body["detail"], str), body
    return status


def ids(world: World) -> st.SearchStrategy[Any]:
    known = [world.a.id, world.b.id, world.agent_a, world.agent_b, None]
    return st.sampled_from(known) | st.uuids().map(str)


def agent_fields(world: World) -> Fields:
    return {
        "model": st.sampled_from(["gpt-4o", ""]) | st.text(max_size=5),
        "temperature": st.floats(-1, 3) | st.integers(-1, 3),
        "max_tokens": st.none() | st.integers(-1, 2_000_000),
        "use_byok": st.booleans(),
        "status": st.sampled_from(["draft", "active", "suspended", "inactive", "bogus"]),
        "provider_id": ids(world),
    }


@FUZZ
@given(data=st.data(), who=whos)
def test_post_tenants(world: World, data: st.DataObject, who: str) -> None:
    content = data.draw(shaped({"name": names, "admin_email": emails}, {}))
    check(world, "POST", "/api/tenants", who, content, {*TENANT_FIELDS, "api_key"})


@FUZZ
@given(data=st.data(), who=whos)
def test_post_agents(world: World, data: st.DataObject, who: str) -> None:
    required = {"name": names, "system_prompt": st.text(max_size=20)}
    optional = {**agent_fields(world), "tenant_id": ids(world)}
    content = data.draw(shaped(required, optional))
    check(world, "POST", "/api/agents", who, content, AGENT_FIELDS)


@FUZZ
@given(data=st.data(), who=whos, target=st.sampled_from(["a", "b"]))
def test_patch_agents(world: World, data: st.DataObject, who: str, target: str) -> None:
    agent_id = world.agent_a if target == "a" else world.agent_b
    optional = {**agent_fields(world), "name": names, "system_prompt": st.text(max_size=9)}
    content = data.draw(shaped({}, optional))
    check(world, "PATCH", f"/api/agents/{agent_id}", who, content, AGENT_FIELDS)


@FUZZ
@given(data=st.data(), who=whos, target=st.sampled_from(["a", "b"]))
def test_patch_tenants(world: World, data: st.DataObject, who: str, target: str) -> None:
    tenant_id = world.a.id if target == "a" else world.b.id
    optional = {"name": names, "admin_email": emails, "ticket_agent_id": ids(world)}
    content = data.draw(shaped({}, optional))
    check(world, "PATCH", f"/api/tenants/{tenant_id}", who, content, TENANT_FIELDS)


@FUZZ
@given(data=st.data(), who=whos, target=st.sampled_from(["a", "b"]))
def test_post_api_keys(world: World, data: st.DataObject, who: str, target: str) -> None:
    tenant_id = world.a.id if target == "a" else world.b.id
    content = data.draw(shaped({"name": names}, {}))
    url = f"/api/tenants/{tenant_id}/api-keys"
    check(world, "POST", url, who, content, {*KEY_FIELDS, "key"})


ROUTES = [
    ("POST", "/api/tenants"),
    ("POST", "/api/agents"),
    ("PATCH", "/api/agents/{agent}"),
    ("PATCH", "/api/tenants/{tenant}"),
    ("POST", "/api/tenants/{tenant}/api-keys"),
]


def _url(world: World, template: str) -> str:
    return template.format(agent=world.agent_a, tenant=world.a.id)


@FUZZ
@given(
    content=st.binary(max_size=64) | json_values.map(lambda v: json.dumps(v).encode()[:-1]),
    route=st.sampled_from(ROUTES),
    who=whos,
)
def test_random_bytes(world: World, content: bytes, route: tuple[str, str], who: str) -> None:
    check(world, route[0], _url(world, route[1]), who, content)


# Nesting past the decoder's limit: whole bodies of arrays, a field of nested objects,
# unterminated ones, and brackets hidden in strings that must not count.
deep = st.integers(MAX_JSON_DEPTH + 1, 120_000)
deep_bodies = st.one_of(
    deep.map(lambda n: b"[" * n + b"]" * n),
    deep.map(lambda n: b'{"name": ' + b'{"a":' * n + b"1" + b"}" * n + b"}"),
    deep.map(lambda n: b'{"name": "x", "system_prompt": ' + b"[" * n),
    st.tuples(deep, st.text(max_size=5)).map(
        lambda p: b'[{"a": "' + b"[" * p[0] + p[1].encode() + b'"}' + b"[" * MAX_JSON_DEPTH
    ),
)


@settings(FUZZ, max_examples=60)
@example(content=b"[" * 100_000 + b"]" * 100_000, route=ROUTES[0], who="operator")
@example(
    content=b'{"name": ' + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"}",
    route=ROUTES[1],
    who="tenant",
)
@given(content=deep_bodies, route=st.sampled_from(ROUTES), who=whos)
def test_deeply_nested_bodies(
    world: World, content: bytes, route: tuple[str, str], who: str
) -> None:
    assert check(world, route[0], _url(world, route[1]), who, content) == 422


@settings(FUZZ, max_examples=100)
@example(raw=b"\xff", route=ROUTES[0])
@given(raw=st.binary(min_size=1, max_size=8), route=st.sampled_from(ROUTES))
def test_random_bytes_inside_json_strings(world: World, raw: bytes, route: tuple[str, str]) -> None:
    content = b'{"name": "' + raw + b'"}'
    check(world, route[0], _url(world, route[1]), "operator", content)


segments = (
    st.text(max_size=40).map(lambda s: quote(s, safe=""))
    | st.binary(max_size=20).map(lambda b: quote_from_bytes(b, safe=""))
    | st.uuids().map(str)
    | st.uuids().map(lambda u: u.hex.upper())
)
queries = st.dictionaries(
    st.sampled_from(["limit", "offset", "tenant_id"]) | st.text(max_size=5),
    st.text(max_size=20) | st.integers().map(str) | st.uuids().map(str),
    max_size=4,
).map(urlencode)
GETS = [
    "/api/agents/{}",
    "/api/tenants/{}",
    "/api/tenants/{}/api-keys",
    "/api/agents",
    "/api/tenants",
]


@settings(FUZZ, max_examples=250)
@given(template=st.sampled_from(GETS), segment=segments, query=queries, who=whos)
def test_get_routes_with_random_paths_and_queries(
    world: World, template: str, segment: str, query: str, who: str
) -> None:
    url = template.format(segment or "x") + (f"?{query}" if query else "")
    check(world, "GET", url, who)


header_values = st.binary(max_size=150).map(
    lambda b: bytes(c for c in b if 0x20 <= c != 0x7F).strip(b" ")
)
SANE_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


@FUZZ
@given(value=header_values | header_values.map(lambda v: b"Bearer " + v))
def test_random_authorization_headers(world: World, value: bytes) -> None:
    response = world.api.client.get("/api/agents", headers={b"authorization": value})
    assert response.status_code == 401
    assert response.json()["detail"] in {"Not authenticated", "Invalid credentials"}


@FUZZ
@given(value=header_values)
def test_random_request_ids(world: World, value: bytes) -> None:
    response = world.api.client.get("/health/live", headers={b"x-request-id": value})
    [request_id] = response.headers.get_list("x-request-id")
    assert SANE_ID.fullmatch(request_id.encode())
    assert (request_id.encode() == value) == bool(SANE_ID.fullmatch(value))


def test_the_world_survives(world: World) -> None:
    """After all of the above, the fixtures are still intact and usable."""
    response = world.api.client.get(f"/api/agents/{world.agent_a}", headers=world.a.headers)
    assert response.status_code == 200
    assert str(uuid.UUID(response.json()["tenant_id"])) == world.a.id
