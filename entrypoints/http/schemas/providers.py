import uuid
from datetime import datetime
from typing import Annotated, Literal

from msgspec import Meta, Struct

from domain.provider import MAX_PROVIDER_KEY_LENGTH, SUPPORTED_PROVIDERS, LlmProvider

PROVIDER_NAMES = sorted(SUPPORTED_PROVIDERS)
ProviderKey = Annotated[str, Meta(min_length=8, max_length=MAX_PROVIDER_KEY_LENGTH)]


class ProviderCreate(Struct, forbid_unknown_fields=True):
    # Checked by the domain (its message names them all); the schema lists them too.
    provider_name: Annotated[
        str,
        Meta(min_length=1, max_length=50, extra_json_schema={"extra": {"enum": PROVIDER_NAMES}}),
    ]
    api_key: ProviderKey
    model: Annotated[str, Meta(min_length=1, max_length=200)]
    api_base: Annotated[str, Meta(min_length=1, max_length=2048)] | None = None
    # Litestar drops a falsy `gt` from the schema; say it explicitly.
    max_budget: (
        Annotated[
            float,
            Meta(gt=0, le=1_000_000_000, extra_json_schema={"extra": {"exclusiveMinimum": 0}}),
        ]
        | None
    ) = None


class ProviderRotate(Struct, forbid_unknown_fields=True):
    api_key: ProviderKey | None = None


class ProviderOut(Struct):
    id: uuid.UUID
    tenant_id: uuid.UUID
    provider_name: str
    model: str
    api_base: str | None
    status: str
    key_hint: str
    max_budget: float | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, p: LlmProvider) -> "ProviderOut":
        return cls(
            id=p.id,
            tenant_id=p.tenant_id,
            provider_name=p.provider_name,
            model=p.model,
            api_base=p.api_base,
            status=p.status.value,
            key_hint=p.key_hint,
            max_budget=p.max_budget,
            created_at=p.created_at,
            updated_at=p.updated_at,
        )


class ProviderWithVirtualKey(ProviderOut, kw_only=True):
    virtual_key: str  # shown in this response only


def with_virtual_key(provider: LlmProvider, virtual_key: str) -> ProviderWithVirtualKey:
    out = ProviderOut.of(provider)
    fields = {name: getattr(out, name) for name in out.__struct_fields__}
    return ProviderWithVirtualKey(**fields, virtual_key=virtual_key)


class RevokingOut(Struct):
    """202 from DELETE: the row is gone from use, the gateway revocation is retried."""

    detail: str
    status: Literal["revoking"] = "revoking"


class VerifyOut(Struct):
    status: Literal["active", "invalid", "revoked"]
    spend: float
    max_budget: float | None
