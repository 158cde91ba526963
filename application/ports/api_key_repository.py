import uuid
from typing import Protocol

from domain.api_key import ApiKey


class ApiKeyRepository(Protocol):
    """API keys visible in the unit of work's scope; hashes are write-only from here."""

    async def add(self, key: ApiKey) -> None:
        """Stores the key and its hash; NotFound('Tenant') if the tenant does not exist."""

    async def list_for_tenant(self, tenant_id: uuid.UUID) -> list[ApiKey]:
        """Oldest first. Returned keys carry an empty `key_hash`: hashes never leave storage."""
        ...

    async def get(self, key_id: uuid.UUID) -> ApiKey | None: ...

    async def delete(self, key_id: uuid.UUID) -> bool:
        """Revokes at once: the key stops authenticating when this transaction commits."""
        ...

    async def count_operator_keys(self) -> int: ...
