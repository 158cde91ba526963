"""A stateful stand-in for a LiteLLM proxy, served through respx routes.

Modelled on the proxy's own source (the version the Makefile pins), not on what agentkeel
expects: docs/litellm-emulation.md lists each rule and the function it comes from. Keys
are stored by their hash as LiteLLM stores them; /key/delete moves them to the archive
that /key/info still answers from (status "deleted"); a live key's alias is unique.
"""

import json
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import respx

from tests.support import litellm_bodies as bodies
from tests.support.litellm_bodies import hash_token, hash_token_if_needed

PLATFORM_MODELS = {"gpt-4o-mini": "gpt-4o-mini-2024-07-18"}
COST_PER_TOKEN = 0.00000015
Handler = Callable[[httpx.Request], httpx.Response]
INVALID_API_KEY = "Authentication Error, Invalid API key provided."
MODEL_ACCESS_DENIED = (
    "The requested model '{model}' is not available for this API key, or the model name is "
    "invalid. Check the models available to you and try again."
)
# key_management_endpoints: _UNSAFE_SECRET_NAME_PATTERN and _KEY_ALIAS_PATTERN.
_UNSAFE_ALIAS = re.compile(r"(^|/)\.\.(/|$)|[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ALIAS_FORMAT = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_\-/\.@]{0,253}[a-zA-Z0-9]$")


@dataclass
class LiteLlmProxyEmulator:
    master_key: str
    # litellm.enable_key_alias_format_validation (off by default, as in LiteLLM).
    alias_format_validation: bool = False
    deployments: dict[str, dict[str, Any]] = field(default_factory=dict)
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)  # by hash: live rows
    deleted_keys: dict[str, dict[str, Any]] = field(default_factory=dict)  # the archive
    chat_bodies: list[dict[str, Any]] = field(default_factory=list)
    unavailable: set[str] = field(default_factory=set)  # admin paths answering 503, for tests

    def install(self, router: respx.MockRouter) -> None:
        router.post("/chat/completions").mock(side_effect=self.chat)
        router.post("/model/new").mock(side_effect=self._admin(self.model_new))
        router.post("/model/delete").mock(side_effect=self._admin(self.model_delete))
        router.post("/key/generate").mock(side_effect=self._admin(self.key_generate))
        router.get("/key/info").mock(side_effect=self._admin(self.key_info))
        router.post("/key/delete").mock(side_effect=self._admin(self.key_delete))

    def live_aliases(self) -> list[str | None]:
        return [record["key_alias"] for record in self.keys.values()]

    def _admin(self, handler: Handler) -> Handler:
        """user_api_key_auth: anything but the master key (our admin calls all use it) is
        looked up as a virtual key; an unknown one is KeyNotFoundError."""

        def guarded(request: httpx.Request) -> httpx.Response:
            if request.url.path in self.unavailable:
                return bodies.error(503, "database unavailable", "internal_server_error", None)
            if _bearer(request) != self.master_key:
                return bodies.error(401, INVALID_API_KEY, "token_not_found_in_db", "key")
            return handler(request)

        return guarded

    def _refusal(self, bearer: str, model: str) -> httpx.Response | None:
        """user_api_key_auth on a chat call: the key, its models, its budget."""
        if bearer == self.master_key:
            return None
        record = self.keys.get(hash_token(bearer))
        if record is None:  # never minted, or deleted (the archive is not consulted)
            return bodies.error(401, INVALID_API_KEY, "token_not_found_in_db", "key")
        if record["models"] and model not in record["models"]:  # can_key_call_model
            message = MODEL_ACCESS_DENIED.format(model=model)
            return bodies.error(403, message, "key_model_access_denied", "model")
        budget = record["max_budget"]  # virtual_key_max_budget_check
        if budget is not None and math.isfinite(budget) and record["spend"] >= budget:
            label = f"{record['key_alias'] or 'key'} ({record['key_name']})"
            message = f"Budget has been exceeded! Key={label} Current cost: {record['spend']}, Max budget: {budget}"  # noqa: E501
            # litellm.budget_exceeded_status_code: 422 in this version (400, then 429, before).
            return bodies.error(422, message, "budget_exceeded", None)
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
        if (record := self.keys.get(hash_token(bearer))) is not None:
            record["spend"] += cost
        truncated = max_tokens is not None and len(words) > max_tokens
        return bodies.completion(content, served, prompt_tokens, cost, truncated=truncated)

    def model_new(self, request: httpx.Request) -> httpx.Response:
        """add_new_model -> add_model_to_db: the id in model_info is the row's primary key;
        a second create with it fails in the database, which the handler reports as 500."""
        body = json.loads(request.content)
        if "model_name" not in body or "model" not in (body.get("litellm_params") or {}):
            return bodies.validation_error(["model_name"])
        model_id = (body.get("model_info") or {}).get("id") or str(uuid.uuid4())
        if model_id in self.deployments:
            detail = {
                "error": "Failed to add model to db. Check your server logs for more details."
            }
            return bodies.model_route_http_error(500, detail)
        self.deployments[model_id] = body
        return httpx.Response(200, json=bodies.model_created(model_id, body))

    def model_delete(self, request: httpx.Request) -> httpx.Response:
        model_id = json.loads(request.content)["id"]
        if self.deployments.pop(model_id, None) is None:
            detail = {"error": f"Model with id={model_id} not found in db"}
            return bodies.model_route_http_error(400, detail)
        return httpx.Response(200, json={"message": f"Model: {model_id} deleted successfully"})

    def key_generate(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        budget = body.get("max_budget")
        if budget is not None and (not math.isfinite(budget) or budget < 0):  # generate_key_fn
            message = f"max_budget must be a non-negative finite number. Received: {budget}"
            return bodies.key_route_http_error(400, {"error": message})
        alias = body.get("key_alias")
        if refusal := self._alias_refusal(alias):
            return refusal
        key = body.get("key")
        if key is not None and (not key.startswith("sk-") or len(key) < 16):
            masked = f"{key[:4]}****{key[-4:]}" if len(key) > 8 else "****"
            message = "Invalid key format. LiteLLM Virtual Key must start with 'sk-'. Received: "
            return bodies.key_route_http_error(400, {"error": message + masked})
        key = key or bodies.new_key()
        record = bodies.key_record(key, body)
        self.keys[record["token"]] = record
        return httpx.Response(200, json=bodies.generated_key(key, record))

    def _alias_refusal(self, alias: str | None) -> httpx.Response | None:
        """_validate_key_alias_format, then _enforce_unique_key_alias (live keys only)."""
        if alias is None:
            return None
        if _UNSAFE_ALIAS.search(alias):
            message = 'Invalid key_alias: must not contain control characters (such as tab or newline) or a ".." path segment'  # noqa: E501
            return bodies.error(400, message, "bad_request_error", "key_alias")
        if self.alias_format_validation and (len(alias) > 255 or not _ALIAS_FORMAT.match(alias)):
            message = "Invalid key_alias format. Must be 2-255 characters, start/end with alphanumeric, and only contain a-zA-Z0-9_-/.@."  # noqa: E501
            return bodies.error(400, message, "bad_request_error", "key_alias")
        if alias in self.live_aliases():
            message = f"Key with alias '{alias}' already exists. Unique key aliases across all keys are required."  # noqa: E501
            return bodies.error(400, message, "bad_request_error", "key_alias")
        return None

    def key_info(self, request: httpx.Request) -> httpx.Response:
        """info_key_fn: the key or its hash; a deleted key answers from the archive."""
        passed = request.url.params.get("key", "")
        hashed = hash_token_if_needed(passed)
        if (record := self.keys.get(hashed)) is not None:
            status = "revoked" if record["blocked"] else "active"  # _derive_key_status
            return httpx.Response(200, json=bodies.key_info(passed, record, status))
        if (record := self.deleted_keys.get(hashed)) is not None:
            return httpx.Response(200, json=bodies.key_info(passed, record, "deleted"))
        return bodies.error(404, "Key not found in database", "not_found_error", "key")

    def key_delete(self, request: httpx.Request) -> httpx.Response:
        """delete_key_fn -> delete_verification_tokens (as the proxy admin)."""
        keys = json.loads(request.content).get("keys")
        if not keys:
            return bodies.error(500, "Invalid request type", "internal_server_error", None)
        found = [h for h in map(hash_token_if_needed, keys) if h in self.keys]
        if not found:
            return bodies.key_route_http_error(404, {"error": "No keys found"})
        for hashed in found:
            self.deleted_keys[hashed] = bodies.archived(self.keys.pop(hashed))
        return httpx.Response(200, json={"deleted_keys": keys})


def _bearer(request: httpx.Request) -> str:
    return str(request.headers.get("authorization", "")).removeprefix("Bearer ")
