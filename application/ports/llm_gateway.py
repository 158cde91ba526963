from typing import Protocol

from application.ports.llm_stream import ChatStreaming
from application.ports.llm_types import ChatRequest, ChatResult, KeyInfo, VirtualKey


class LlmGateway(ChatStreaming, Protocol):
    """The LLM gateway (LiteLLM proxy in production, an offline sandbox otherwise).

    Chat completions are billed to a virtual key or the platform key. The admin calls give
    each tenant provider its own deployment (carrying the tenant's provider key) and a
    virtual key restricted to it, with a budget. Every method raises a `GatewayError`
    subclass (application.gateway_errors) on failure; messages never contain keys.
    `stream` (application.ports.llm_stream) is `chat` answered piece by piece.
    """

    async def chat(self, request: ChatRequest) -> ChatResult:
        """UnknownVirtualKey for an unknown or revoked `api_key`, BudgetExceeded once its
        spend reached `max_budget`, InvalidProviderKey when the provider refuses its key,
        RateLimited, GatewayUnavailable, GatewayTimeout."""
        ...

    async def register_deployment(
        self,
        model_name: str,
        litellm_model: str,
        provider_api_key: str,
        api_base: str | None = None,
    ) -> str:
        """Route `model_name` to `litellm_model` (e.g. "openai/gpt-4o-mini") with the
        provider's key; returns the gateway's deployment id."""
        ...

    async def remove_deployment(self, model_id: str) -> None:
        """Idempotent: removing an unknown deployment is not an error."""

    async def create_virtual_key(
        self,
        models: list[str],
        alias: str,
        max_budget: float | None,
        metadata: dict[str, str],
    ) -> VirtualKey:
        """Mint a key that may only call `models` (an empty list means any), spending at
        most `max_budget` USD (None: unlimited)."""
        ...

    async def key_info(self, key: str) -> KeyInfo:
        """Status, spend and budget; an unknown key is `invalid`, not an error."""
        ...

    async def revoke_key(self, key: str) -> None:
        """The key stops working at once. Idempotent: an unknown key is not an error."""
