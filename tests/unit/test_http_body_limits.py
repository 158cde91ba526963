"""The body limits hold on every route that takes a body, read off the OpenAPI document
(so routes added later are covered), and the depth check is exact."""

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from entrypoints.http.body import MAX_BODY_BYTES, MAX_JSON_DEPTH, nesting_depth
from tests.support.http_helpers import Api, open_api


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    with open_api() as opened:
        yield opened


def _body_operations(api: Api) -> list[tuple[str, str]]:
    schema = api.env.app.openapi_schema.to_schema()
    found = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "requestBody" in operation:
                url = re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)
                found.append((method.upper(), url))
    return found


def _send(api: Api, method: str, url: str, content: bytes) -> Any:
    headers = {**api.op, "Content-Type": "application/json"}
    return api.client.request(method, url, content=content, headers=headers)


def _error_text(url: str, response: Any) -> str:
    """The message, in the contract's shape, or OpenAI's on the OpenAI-compatible routes."""
    body = response.json()
    if url.startswith("/v1/"):
        error = body["error"]
        assert set(error) == {"message", "type", "param", "code"}, body
        return str(error["message"])
    detail = body["detail"]
    if isinstance(detail, list):
        [error] = detail
        assert error["loc"] == ["body"], error
        return str(error["msg"])
    return str(detail)


def test_the_api_has_body_routes(api: Api) -> None:
    assert len(_body_operations(api)) >= 8


@pytest.mark.parametrize(
    "content",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"name": ' + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"}",
        b"{" * 100_000,
    ],
    ids=["arrays", "objects-in-a-field", "unterminated"],
)
def test_every_body_route_refuses_deep_nesting_with_422(api: Api, content: bytes) -> None:
    for method, url in _body_operations(api):
        response = _send(api, method, url, content)
        assert response.status_code == 422, (method, url, response.text)
        assert "nested deeper" in _error_text(url, response), response.text


def test_every_body_route_refuses_an_over_long_body_with_413(api: Api) -> None:
    content = b'{"name": "' + b"x" * MAX_BODY_BYTES + b'"}'
    for method, url in _body_operations(api):
        response = _send(api, method, url, content)
        assert response.status_code == 413, (method, url, response.text)
        expected = f"Request body larger than {MAX_BODY_BYTES} bytes"
        assert _error_text(url, response) == expected, response.text


def test_nesting_up_to_the_limit_is_decoded(api: Api) -> None:
    at_limit = b'{"name": ' + b"[" * (MAX_JSON_DEPTH - 1) + b"]" * (MAX_JSON_DEPTH - 1) + b"}"
    response = _send(api, "POST", "/api/tenants", at_limit)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "name"] and error["type"] == "type_error", error


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


tricky_text = st.text(alphabet='[]{}"\\ax\n', max_size=8)
json_values = st.recursive(
    st.none() | st.integers() | tricky_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky_text, inner, max_size=3),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, database=None)
@given(value=json_values, indent=st.sampled_from([None, 1]))
def test_nesting_depth_is_exact_for_valid_json(value: Any, indent: int | None) -> None:
    assert nesting_depth(json.dumps(value, indent=indent).encode()) == _depth(value)


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/agents", {"temperature": "0.5"}, "temperature"),
        ("/api/agents", {"use_byok": 0}, "use_byok"),
        ("/api/agents", {"max_tokens": "5"}, "max_tokens"),
        ("/api/agents", {"use_byok": "true"}, "use_byok"),
    ],
)
def test_a_wrong_json_type_is_422_not_converted(
    api: Api, url: str, body: dict[str, Any], field: str
) -> None:
    """Found by Schemathesis: Litestar's lenient conversion took "0.5" for a float and 0
    for a boolean. Bodies are decoded strictly into their type."""
    tenant = api.tenant()
    content = json.dumps({"name": "strict", "system_prompt": "p", **body}).encode()
    headers = {**tenant.headers, "Content-Type": "application/json"}
    response = api.client.post(url, content=content, headers=headers)
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", field] and error["type"] == "type_error", error
    agent_id = api.agent(tenant.headers, name="strict-patch")["id"]
    patched = api.client.patch(f"/api/agents/{agent_id}", json=body, headers=tenant.headers)
    assert patched.status_code == 422, patched.text
