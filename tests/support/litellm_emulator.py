"""A stateful stand-in for a LiteLLM proxy, served through respx routes.

It enforces what the proxy enforces on a virtual key (known, model allowed, under budget),
charges `x-litellm-response-cost` to the key, and deletes keys on /key/delete as LiteLLM
does, so their /key/info becomes 404. Bodies come from `litellm_bodies`.
"""

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import respx

from tests.support import litellm_bodies as bodies

PLATFORM_MODELS = {"gpt-4o-mini": "gpt-4o-mini-2024-07-18"}
COST_PER_TOKEN = 0.00000015
Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class LiteLlmProxyEmulator:
    master_key: str
    deployments: dict[str, dict[str, Any]] = field(default_factory=dict)
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    chat_bodies: list[dict[str, Any]] = field(default_factory=list)

    def install(self, router: respx.MockRouter) -> None:
        router.post("/chat/completions").mock(side_effect=self.chat)
        router.post("/model/new").mock(side_effect=self._admin(self.model_new))
        router.post("/model/delete").mock(side_effect=self._admin(self.model_delete))
        router.post("/key/generate").mock(side_effect=self._admin(self.key_generate))
        router.get("/key/info").mock(side_effect=self._admin(self.key_info))
        router.post("/key/delete").mock(side_effect=self._admin(self.key_delete))

    def _admin(self, handler: Handler) -> Handler:
        def guarded(request: httpx.Request) -> httpx.Response:
            if _bearer(request) != self.master_key:
                message = "Authentication Error, Invalid proxy server token passed."
                return bodies.error(401, message, "auth_error", "None")
            return handler(request)

        return guarded

    def _refusal(self, bearer: str, model: str) -> httpx.Response | None:
        if bearer == self.master_key:
            return None
        record = self.keys.get(bearer)
        if record is None:
            token = hashlib.sha256(bearer.encode()).hexdigest()
            message = f"Authentication Error, Invalid proxy server token passed. key={token}"
            return bodies.error(401, message, "token_not_found_in_db", "key")
        if record["models"] and model not in record["models"]:
            message = f"key not allowed to access model. This key can only access models={record['models']}. Tried to access {model}"  # noqa: E501
            return bodies.error(401, message, "key_model_access_denied", "model")
        if record["max_budget"] is not None and record["spend"] >= record["max_budget"]:
            message = f"Budget has been exceeded! Current cost: {record['spend']}, Max budget: {record['max_budget']}"  # noqa: E501
            return bodies.error(400, message, "budget_exceeded")
        return None

    def _served_model(self, name: str) -> str | None:
        for deployment in self.deployments.values():
            if deployment["model_name"] == name:
                return str(deployment["litellm_params"]["model"]).split("/")[-1]
        return PLATFORM_MODELS.get(name)

    def chat(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.chat_bodies.append(body)
        bearer, model = _bearer(request), body["model"]
        if refusal := self._refusal(bearer, model):
            return refusal
        served = self._served_model(model)
        if served is None:
            message = (
                f"{{'error': '/chat/completions: Invalid model name passed in model={model}'}}"
            )
            return bodies.error(400, message, "None", "None")
        last_user = next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")
        words = f"Echo: {last_user}".split()
        max_tokens = body.get("max_tokens")
        content = " ".join(words[:max_tokens] if max_tokens else words)
        prompt_tokens = sum(len(m["content"].split()) + 3 for m in body["messages"])
        cost = (prompt_tokens + len(content.split())) * COST_PER_TOKEN
        if bearer in self.keys:
            self.keys[bearer]["spend"] += cost
        truncated = max_tokens is not None and len(words) > max_tokens
        return bodies.completion(content, served, prompt_tokens, cost, truncated=truncated)

    def model_new(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        model_id = (body.get("model_info") or {}).get("id") or str(uuid.uuid4())
        self.deployments[model_id] = body
        return httpx.Response(200, json=bodies.model_created(model_id, body))

    def model_delete(self, request: httpx.Request) -> httpx.Response:
        model_id = json.loads(request.content)["id"]
        if self.deployments.pop(model_id, None) is None:
            message = f"{{'error': 'Model with id={model_id} not found in db'}}"
            return bodies.error(400, message, "auth_error", "None")
        return httpx.Response(200, json={"message": f"Model: {model_id} deleted successfully"})

    def key_generate(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        key = "sk-" + uuid.uuid4().hex[:22]
        self.keys[key] = bodies.key_record(key, body)
        return httpx.Response(200, json=bodies.generated_key(key, self.keys[key]))

    def key_info(self, request: httpx.Request) -> httpx.Response:
        key = request.url.params.get("key", "")
        if key not in self.keys:
            return bodies.error(404, "Key not found in database", "not_found_error", "key")
        return httpx.Response(200, json={"key": key, "info": self.keys[key]})

    def key_delete(self, request: httpx.Request) -> httpx.Response:
        keys = json.loads(request.content)["keys"]
        if not all(key in self.keys for key in keys):
            return bodies.error(404, "{'error': 'No keys found'}", "auth_error", "None")
        for key in keys:
            del self.keys[key]
        return httpx.Response(200, json={"deleted_keys": keys})


def _bearer(request: httpx.Request) -> str:
    return str(request.headers.get("authorization", "")).removeprefix("Bearer ")
