import uuid
from datetime import datetime
from typing import Annotated

from msgspec import Meta, Struct

from domain.api_key import ApiKey


class ApiKeyCreate(Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=200)]


class ApiKeyOut(Struct):
    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime

    @classmethod
    def of(cls, key: ApiKey) -> "ApiKeyOut":
        return cls(id=key.id, name=key.name, prefix=key.prefix, created_at=key.created_at)


class ApiKeyCreated(Struct):
    id: uuid.UUID
    name: str
    prefix: str
    key: str  # shown once
    created_at: datetime
