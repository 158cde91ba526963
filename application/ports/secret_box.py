import uuid
from dataclasses import dataclass
from typing import Protocol

# Bumped only with a migration that re-seals every secret: stored ciphertexts are bound to it.
_AD_VERSION = b"agentkeel:secret:v1"


@dataclass(frozen=True, slots=True)
class SecretContext:
    """Where a secret lives; sealed into its ciphertext so it cannot be moved elsewhere."""

    tenant_id: uuid.UUID
    table: str
    row_id: uuid.UUID
    field: str

    def __post_init__(self) -> None:
        if not self.table or not self.field:
            raise ValueError("a secret context needs a table and a field")

    def associated_data(self) -> bytes:
        """Canonical AEAD associated data.

        Every part is length-prefixed, so no choice of table or field names (even ones
        containing separators) can make two different contexts encode the same way.
        """
        parts = (
            _AD_VERSION,
            self.tenant_id.bytes,
            self.table.encode(),
            self.row_id.bytes,
            self.field.encode(),
        )
        return b"".join(len(part).to_bytes(4, "big") + part for part in parts)


@dataclass(frozen=True, slots=True)
class SealedSecret:
    """What is stored: the id of the key that sealed it and the opaque ciphertext."""

    key_id: str
    ciphertext: bytes


class SecretBox(Protocol):
    """Authenticated encryption of secrets at rest (provider keys, webhook secrets, ...).

    A sealed secret opens only with the same context it was sealed with; anything else
    (another row, tenant, table or field, altered bytes, an unknown key id) raises
    `application.errors.SecretUnreadable`.
    """

    @property
    def current_key_id(self) -> str:
        """The key new secrets are sealed with."""
        ...

    def seal(self, plaintext: bytes, context: SecretContext) -> SealedSecret: ...

    def open(self, sealed: SealedSecret, context: SecretContext) -> bytes:
        """The plaintext, or SecretUnreadable; never None."""
        ...

    def needs_rotation(self, sealed: SealedSecret) -> bool:
        """True when `sealed` was not sealed with the current key (`secrets rotate`)."""
        ...
