import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from application.ports.secret_box import SealedSecret
from domain.provider import LlmProvider

PROVIDERS_TABLE = "llm_providers"  # part of each sealed secret's associated data


@dataclass(frozen=True, slots=True)
class ProviderSecrets:
    """The provider's own API key and its gateway virtual key, both sealed."""

    api_key: SealedSecret
    virtual_key: SealedSecret


class ProviderRepository(Protocol):
    """BYOK providers visible in the unit of work's scope."""

    async def add(self, provider: LlmProvider, secrets: ProviderSecrets) -> None:
        """Conflict if the tenant already has this provider_name; NotFound('Tenant')."""

    async def get(self, provider_id: uuid.UUID) -> LlmProvider | None: ...

    async def secrets(self, provider_id: uuid.UUID) -> ProviderSecrets | None: ...

    async def list_sealed(
        self, after: uuid.UUID | None, limit: int
    ) -> list[tuple[LlmProvider, ProviderSecrets]]:
        """Every visible provider with its secrets, by id, for key rotation in batches."""
        ...

    async def list(self, tenant_id: uuid.UUID | None) -> list[LlmProvider]:
        """Oldest first; None: every visible provider."""
        ...

    async def update(self, provider: LlmProvider, secrets: ProviderSecrets | None = None) -> None:
        """Save the entity, and the secrets too when given."""

    async def rebind(
        self, provider: LlmProvider, secrets: ProviderSecrets, held_key_id: str
    ) -> bool:
        """Save a provider rotated to a new binding, only if its row is still active and on
        the virtual key `held_key_id` (a compare-and-swap): False, writing nothing, when it
        was deleted, is being deleted or was rotated by someone else since it was read."""
        ...

    async def mark_revoking(self, provider_id: uuid.UUID, held_key_id: str, at: datetime) -> bool:
        """Set status `revoking` (and `updated_at`), nothing else, only if the row still
        holds the virtual key `held_key_id` (a compare-and-swap): False, writing nothing,
        when it was deleted or rotated to another key since it was read. A row already
        `revoking` on that key is marked again, so that a retried delete goes through."""
        ...

    async def replace_secrets(
        self, provider_id: uuid.UUID, old: ProviderSecrets, new: ProviderSecrets
    ) -> bool:
        """Write `new` over the secrets, and nothing else, only if they are still `old`:
        False, writing nothing, when the row was deleted or its secrets changed meanwhile."""
        ...

    async def delete(self, provider_id: uuid.UUID) -> bool: ...
