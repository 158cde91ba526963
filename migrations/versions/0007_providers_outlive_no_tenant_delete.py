"""A tenant is deleted only once its providers are: their foreign key RESTRICTs.

With ON DELETE CASCADE, a provider created while its tenant was being deleted (after the
delete had revoked the keys it knew of) went with the tenant row, and its virtual key
stayed live at the gateway with nothing left to revoke it. Now the tenant delete removes
the providers it revoked itself, and the database refuses to drop one it did not.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _tenant_key(on_delete: str) -> str:
    return f"""
ALTER TABLE llm_providers DROP CONSTRAINT fk_llm_providers_tenant_id;
ALTER TABLE llm_providers ADD CONSTRAINT fk_llm_providers_tenant_id
    FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE {on_delete};
"""


def upgrade() -> None:
    op.execute(_tenant_key("RESTRICT"))


def downgrade() -> None:
    op.execute(_tenant_key("CASCADE"))
