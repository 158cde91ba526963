"""Who is calling: an operator (all tenants) or one tenant, as proven by an API key."""

import uuid
from dataclasses import dataclass

from domain.errors import Forbidden, InvalidValue, NotFound


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: uuid.UUID
    tenant_id: uuid.UUID | None

    @property
    def is_operator(self) -> bool:
        return self.tenant_id is None

    def require_operator(self) -> None:
        if not self.is_operator:
            raise Forbidden("This operation needs the operator key")

    def may_access(self, tenant_id: uuid.UUID) -> bool:
        return self.tenant_id is None or self.tenant_id == tenant_id

    def require_access(self, tenant_id: uuid.UUID, entity: str) -> None:
        """Another tenant's resource is reported as absent: existence is not revealed."""
        if not self.may_access(tenant_id):
            raise NotFound(entity)

    def acting_tenant(self, requested: uuid.UUID | None) -> uuid.UUID:
        """The tenant a create operation targets.

        A tenant key acts for its own tenant (naming another one is forbidden); the
        operator must name the tenant explicitly.
        """
        if self.tenant_id is not None:
            if requested is not None and requested != self.tenant_id:
                raise Forbidden("A tenant key may only act for its own tenant")
            return self.tenant_id
        if requested is None:
            raise InvalidValue("tenant_id", "is required when using the operator key")
        return requested


# The operator acting through the command line: whoever can run `agentkeel` against the
# database is trusted as the operator. It has no key of its own.
CONSOLE_OPERATOR = Principal(key_id=uuid.UUID(int=0), tenant_id=None)
