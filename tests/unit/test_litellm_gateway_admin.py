"""Admin calls of `LiteLlmGateway` (deployments, virtual keys), against respx routes with
LiteLLM's real paths, field names and answers."""

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx

from adapters.litellm.gateway import LiteLlmGateway
from application.ports.llm_types import KeyInfo
from tests.support import litellm_bodies as bodies

BASE_URL = "http://litellm.test"
MASTER_KEY = "sk-master-admin-4e5f6a7b"
VIRTUAL_KEY = "sk-virtual-admin-8c9d0e1f"
PROVIDER_KEY = "sk-proj-provider-2a3b4c5d"


@pytest.fixture
def proxy() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture
async def gateway() -> AsyncIterator[LiteLlmGateway]:
    gateway = LiteLlmGateway(
        BASE_URL, MASTER_KEY, timeout_s=5, transport=httpx.AsyncHTTPTransport()
    )
    yield gateway
    await gateway.aclose()


async def test_register_deployment_sends_model_new_shape(
    proxy: respx.MockRouter, gateway: LiteLlmGateway
) -> None:
    def created(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        return httpx.Response(200, json=bodies.model_created(body["model_info"]["id"], body))

    route = proxy.post("/model/new").mock(side_effect=created)
    model_id = await gateway.register_deployment(
        "tenant-a-openai", "openai/gpt-4o-mini", PROVIDER_KEY, "https://api.openai.com/v1"
    )
    await gateway.register_deployment("tenant-b-openai", "openai/gpt-4o-mini", PROVIDER_KEY)
    first, second = (json.loads(call.request.content) for call in route.calls)
    assert first == {
        "model_name": "tenant-a-openai",
        "litellm_params": {
            "model": "openai/gpt-4o-mini",
            "api_key": PROVIDER_KEY,
            "api_base": "https://api.openai.com/v1",
        },
        "model_info": {"id": model_id},
    }
    assert "api_base" not in second["litellm_params"]
    assert route.calls.last.request.headers["authorization"] == f"Bearer {MASTER_KEY}"


async def test_key_generate_and_info_shapes(
    proxy: respx.MockRouter, gateway: LiteLlmGateway
) -> None:
    record = bodies.key_record(VIRTUAL_KEY, {"models": ["tenant-a-openai"], "max_budget": 5.0})
    generate = proxy.post("/key/generate").mock(
        return_value=httpx.Response(200, json=bodies.generated_key(VIRTUAL_KEY, record))
    )
    minted = await gateway.create_virtual_key(["tenant-a-openai"], "t/openai", 5.0, {"t": "a"})
    assert json.loads(generate.calls.last.request.content) == {
        "models": ["tenant-a-openai"],
        "key_alias": "t/openai",
        "max_budget": 5.0,
        "metadata": {"t": "a"},
    }
    assert minted.key == VIRTUAL_KEY and len(minted.token_id) == 64

    info = proxy.get("/key/info")
    info.return_value = httpx.Response(
        200, json={"key": VIRTUAL_KEY, "info": record | {"spend": 1.25}}
    )
    assert await gateway.key_info(VIRTUAL_KEY) == KeyInfo("active", 1.25, 5.0)
    # By its hash, never the key itself: query strings end up in access logs.
    assert info.calls.last.request.url.params["key"] == bodies.hash_token(VIRTUAL_KEY)
    assert VIRTUAL_KEY not in str(info.calls.last.request.url)
    info.return_value = httpx.Response(
        200, json={"key": VIRTUAL_KEY, "info": record | {"blocked": True}}
    )
    assert (await gateway.key_info(VIRTUAL_KEY)).status == "revoked"
    expired = record | {"expires": "2020-01-01T00:00:00+00:00"}
    info.return_value = httpx.Response(200, json={"key": VIRTUAL_KEY, "info": expired})
    assert (await gateway.key_info(VIRTUAL_KEY)).status == "invalid"
    # LiteLLM 1.10x derives `status` itself and answers deleted keys from its archive.
    for reported, status in [
        ("deleted", "invalid"),
        ("expired", "invalid"),
        ("revoked", "revoked"),
    ]:
        info.return_value = httpx.Response(
            200, json={"key": VIRTUAL_KEY, "info": record | {"status": reported}}
        )
        assert (await gateway.key_info(VIRTUAL_KEY)).status == status


async def test_deleting_what_is_already_gone_is_not_an_error(
    proxy: respx.MockRouter, gateway: LiteLlmGateway
) -> None:
    gone = bodies.key_route_http_error(404, {"error": "No keys found"})
    revoke = proxy.post("/key/delete").mock(return_value=gone)
    message = "{'error': 'Model with id=m-1 not found in db'}"
    proxy.post("/model/delete").mock(return_value=bodies.error(400, message, "auth_error"))
    await gateway.revoke_key(VIRTUAL_KEY)
    await gateway.remove_deployment("m-1")
    assert json.loads(revoke.calls.last.request.content) == {"keys": [VIRTUAL_KEY]}
