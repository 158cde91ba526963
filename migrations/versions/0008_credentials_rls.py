"""Row-level security on api_key_credentials, and its tenant bound to its key's tenant.

`authenticate_api_key()` trusts the credential's `tenant_id`: it sets that tenant's
context. Until now the runtime role could INSERT a credential naming any tenant (or none,
which authenticates as the operator). Now:

* an INSERT must name the tenant of the transaction's context, or happen in the operator's
  context (operator keys and a new tenant's first key), as on every other table;
* the credential's (key_id, tenant_id) must be its api_keys row's (id, tenant_id), so a
  credential cannot lend a key of one tenant to another;
* reading stays reserved to the role that ran this migration, the owner of
  `authenticate_api_key()` (SECURITY DEFINER), which FORCE would otherwise lock out too.
  The runtime role still has no SELECT grant at all.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE api_keys ADD CONSTRAINT uq_api_keys_id_tenant_id UNIQUE (id, tenant_id);
ALTER TABLE api_key_credentials ADD CONSTRAINT fk_api_key_credentials_key_id_tenant_id
    FOREIGN KEY (key_id, tenant_id) REFERENCES api_keys (id, tenant_id) ON DELETE CASCADE;
ALTER TABLE api_key_credentials ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_key_credentials FORCE ROW LEVEL SECURITY;
CREATE POLICY api_key_credentials_insert ON api_key_credentials FOR INSERT
    WITH CHECK (tenant_id = app_current_tenant() OR app_is_operator());
CREATE POLICY api_key_credentials_lookup ON api_key_credentials FOR SELECT
    TO CURRENT_USER USING (true);
"""

DOWNGRADE = """
DROP POLICY api_key_credentials_lookup ON api_key_credentials;
DROP POLICY api_key_credentials_insert ON api_key_credentials;
ALTER TABLE api_key_credentials NO FORCE ROW LEVEL SECURITY;
ALTER TABLE api_key_credentials DISABLE ROW LEVEL SECURITY;
ALTER TABLE api_key_credentials DROP CONSTRAINT fk_api_key_credentials_key_id_tenant_id;
ALTER TABLE api_keys DROP CONSTRAINT uq_api_keys_id_tenant_id;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
