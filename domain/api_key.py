"""API keys: high-entropy bearer tokens, shown once, kept only as a SHA-256 hash.

A plain (fast) hash is enough because the tokens are 256-bit random values, not
passwords: there is nothing to brute-force, and a fast hash keeps authentication cheap.
"""

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from domain import validation
from domain.errors import InvalidCredentials

OPERATOR_TOKEN_PREFIX = "ak_op_"
TENANT_TOKEN_PREFIX = "ak_tn_"
# How much of the token is kept in clear to let people tell their keys apart.
DISPLAY_PREFIX_LENGTH = 12
_TOKEN_SHAPE = re.compile(r"^ak_(op|tn)_[A-Za-z0-9_-]{32,128}$")


def hash_token(token: str) -> bytes:
    """The only form in which a key is stored or looked up."""
    return hashlib.sha256(token.encode()).digest()


def check_token_shape(token: str) -> str:
    """Reject junk before it reaches storage; the caller learns only 'invalid'."""
    if not _TOKEN_SHAPE.match(token):
        raise InvalidCredentials()
    return token


@dataclass(slots=True, eq=False)
class ApiKey:
    id: uuid.UUID
    # None for an operator key: it belongs to no tenant and may act on all of them.
    tenant_id: uuid.UUID | None
    name: str
    prefix: str
    key_hash: bytes
    created_at: datetime

    def __post_init__(self) -> None:
        validation.name("name", self.name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiKey) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def is_operator(self) -> bool:
        return self.tenant_id is None

    @classmethod
    def from_token(
        cls,
        *,
        id: uuid.UUID,
        tenant_id: uuid.UUID | None,
        name: str,
        token: str,
        now: datetime,
    ) -> "ApiKey":
        expected = OPERATOR_TOKEN_PREFIX if tenant_id is None else TENANT_TOKEN_PREFIX
        if not token.startswith(expected):
            raise ValueError("token prefix does not match the key's scope")
        return cls(
            id=id,
            tenant_id=tenant_id,
            name=name,
            prefix=token[:DISPLAY_PREFIX_LENGTH],
            key_hash=hash_token(token),
            created_at=now,
        )
