import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from domain.tenant import Tenant

Name = Annotated[str, Meta(min_length=1, max_length=200)]
Email = Annotated[str, Meta(min_length=3, max_length=254)]


class TenantCreate(Struct, forbid_unknown_fields=True):
    name: Name
    admin_email: Email


class TenantPatch(Struct, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    admin_email: Email | UnsetType = UNSET
    ticket_agent_id: uuid.UUID | None | UnsetType = UNSET


class TenantOut(Struct):
    id: uuid.UUID
    name: str
    admin_email: str
    ticket_agent_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, tenant: Tenant) -> "TenantOut":
        return cls(
            id=tenant.id,
            name=tenant.name,
            admin_email=tenant.admin_email,
            ticket_agent_id=tenant.ticket_agent_id,
            created_at=tenant.created_at,
            updated_at=tenant.updated_at,
        )


class TenantCreated(TenantOut, kw_only=True):
    api_key: str  # the tenant's first key, shown once


def tenant_created(tenant: Tenant, api_key: str) -> TenantCreated:
    return TenantCreated(**msgspec.structs.asdict(TenantOut.of(tenant)), api_key=api_key)
