"""BYOK providers: a tenant's own LLM provider key, bound to a gateway virtual key.

The secrets themselves (the provider key and the virtual key) never live on the entity:
they are sealed by the application and stored beside it. The entity knows only a hint.
"""

import enum
import math
import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from domain import validation
from domain.errors import InvalidValue

# Provider names as the gateway (LiteLLM) spells them, the prefix of its model names.
SUPPORTED_PROVIDERS = frozenset(
    {
        "openai",
        "anthropic",
        "azure",
        "gemini",
        "vertex_ai",
        "bedrock",
        "mistral",
        "groq",
        "cohere",
        "deepseek",
        "openrouter",
        "together_ai",
        "ollama",
    }
)
MAX_PROVIDER_KEY_LENGTH = 4096
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


class ProviderStatus(enum.StrEnum):
    ACTIVE = "active"
    REVOKING = "revoking"  # deleted by the tenant; the gateway revocation is still pending


def check_provider_key(api_key: str) -> str:
    validation.text("api_key", api_key, min_len=8, max_len=MAX_PROVIDER_KEY_LENGTH)
    if any(c.isspace() for c in api_key):
        raise InvalidValue("api_key", "must not contain whitespace")
    return api_key


def key_hint(api_key: str) -> str:
    """The last four characters: enough to tell keys apart, useless to an attacker."""
    return "..." + api_key[-4:]


@dataclass(slots=True, eq=False)
class LlmProvider:
    id: uuid.UUID
    tenant_id: uuid.UUID
    provider_name: str
    model: str
    key_hint: str
    created_at: datetime
    updated_at: datetime
    api_base: str | None = None
    max_budget: float | None = None
    status: ProviderStatus = ProviderStatus.ACTIVE
    # Where the gateway knows this provider: its deployment and the virtual key's token id
    # (the gateway's hash of the key, not the key).
    deployment_id: str = ""
    virtual_key_id: str = ""

    def __post_init__(self) -> None:
        if self.provider_name not in SUPPORTED_PROVIDERS:
            supported = ", ".join(sorted(SUPPORTED_PROVIDERS))
            raise InvalidValue("provider_name", f"must be one of {supported}")
        validation.name("model", self.model)
        if self.api_base is not None:
            validation.text("api_base", self.api_base, max_len=2048)
            if not _URL.match(self.api_base):
                raise InvalidValue("api_base", "must be an http(s) URL")
        budget = self.max_budget
        if budget is not None and (
            isinstance(budget, bool) or not math.isfinite(budget) or budget <= 0
        ):
            raise InvalidValue("max_budget", "must be a positive number of USD")
        self.status = ProviderStatus(self.status)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LlmProvider) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def deployment_name(self) -> str:
        """The gateway model name routed to this provider: unique per tenant and provider."""
        return f"agentkeel-{self.tenant_id}-{self.id}"

    @property
    def gateway_model(self) -> str:
        return f"{self.provider_name}/{self.model}"

    def key_alias(self, generation: str) -> str:
        """The virtual key's alias at the gateway. LiteLLM refuses an alias that another live
        key holds, and rotation mints the new key while the old one still lives: so each
        binding's key carries its own `generation` (its deployment's id). Only characters
        LiteLLM's optional alias format check accepts (`a-zA-Z0-9_-/.@`)."""
        return f"agentkeel/{self.tenant_id}/{self.id}/{generation}"

    @property
    def is_active(self) -> bool:
        return self.status is ProviderStatus.ACTIVE
