"""In-memory deployments and virtual keys, shared by the fake and the sandbox gateways.

Enforces what LiteLLM enforces on a virtual key: unknown or revoked keys are refused, a key
reaches only its `models` (an empty list means any), a spend at or over `max_budget`
blocks further calls, and no two live keys share an alias. No method awaits, so each is
atomic under asyncio.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field

from application.gateway_errors import BudgetExceeded, GatewayError, UnknownVirtualKey
from application.ports.llm_types import KeyInfo, KeyStatus, VirtualKey


@dataclass(slots=True)
class Deployment:
    model_name: str
    litellm_model: str
    api_base: str | None
    provider_api_key: str = field(repr=False)


@dataclass(slots=True)
class KeyRecord:
    token_id: str
    alias: str
    models: list[str]
    max_budget: float | None
    metadata: dict[str, str]
    spend: float = 0.0
    revoked: bool = False


class GatewayRegistry:
    def __init__(self, key_prefix: str) -> None:
        self._key_prefix = key_prefix
        self.deployments: dict[str, Deployment] = {}
        self.keys: dict[str, KeyRecord] = {}

    def add_deployment(
        self, model_name: str, litellm_model: str, provider_api_key: str, api_base: str | None
    ) -> str:
        model_id = str(uuid.uuid4())
        self.deployments[model_id] = Deployment(
            model_name, litellm_model, api_base, provider_api_key
        )
        return model_id

    def served_model(self, model_name: str) -> str:
        """The provider model behind a deployment name, as LiteLLM reports it."""
        for deployment in self.deployments.values():
            if deployment.model_name == model_name:
                return deployment.litellm_model
        return model_name

    def remove_deployment(self, model_id: str) -> None:
        self.deployments.pop(model_id, None)

    def create_key(
        self, models: list[str], alias: str, max_budget: float | None, metadata: dict[str, str]
    ) -> VirtualKey:
        if any(r.alias == alias and not r.revoked for r in self.keys.values()):
            # LiteLLM's _enforce_unique_key_alias: no two live keys share an alias.
            raise GatewayError("the gateway refused the key: another live key has its alias")
        key = self._key_prefix + secrets.token_urlsafe(24)
        # Same token id as LiteLLM: the SHA-256 of the key, safe to store and log.
        token_id = hashlib.sha256(key.encode()).hexdigest()
        self.keys[key] = KeyRecord(token_id, alias, list(models), max_budget, dict(metadata))
        return VirtualKey(key=key, token_id=token_id)

    def key_info(self, key: str) -> KeyInfo:
        record = self.keys.get(key)
        if record is None:
            return KeyInfo(status="invalid", spend=0.0, max_budget=None)
        status: KeyStatus = "revoked" if record.revoked else "active"
        return KeyInfo(status=status, spend=record.spend, max_budget=record.max_budget)

    def revoke(self, key: str) -> None:
        record = self.keys.get(key)
        if record is not None:
            record.revoked = True

    def authorize(self, api_key: str | None, model: str) -> None:
        """Refuse the call before it runs, as the gateway would; None is the platform key."""
        if api_key is None:
            return
        record = self.keys.get(api_key)
        if record is None or record.revoked:
            raise UnknownVirtualKey("the virtual key is unknown or revoked")
        if record.models and model not in record.models:
            raise GatewayError("the virtual key may not use this model")
        if record.max_budget is not None and record.spend >= record.max_budget:
            raise BudgetExceeded("the virtual key has spent its budget")

    def charge(self, api_key: str | None, cost: float) -> None:
        if api_key is not None and api_key in self.keys:
            self.keys[api_key].spend += cost
