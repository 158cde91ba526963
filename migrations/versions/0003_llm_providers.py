"""BYOK providers (secrets sealed), the agents' provider link, and gateway orphans.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE llm_providers (
    id                     uuid             CONSTRAINT pk_llm_providers PRIMARY KEY,
    tenant_id              uuid             NOT NULL CONSTRAINT fk_llm_providers_tenant_id
                                            REFERENCES tenants (id) ON DELETE CASCADE,
    provider_name          text             NOT NULL,
    model                  text             NOT NULL,
    api_base               text,
    max_budget             double precision,
    status                 text             NOT NULL,
    key_hint               text             NOT NULL,
    -- Sealed secrets: XChaCha20-Poly1305, associated data = tenant, table, row, field.
    api_key_kid            text             NOT NULL,
    api_key_sealed         bytea            NOT NULL,
    virtual_key_kid        text             NOT NULL,
    virtual_key_sealed     bytea            NOT NULL,
    deployment_id          text             NOT NULL,
    virtual_key_id         text             NOT NULL,
    created_at             timestamptz      NOT NULL,
    updated_at             timestamptz      NOT NULL,
    CONSTRAINT uq_llm_providers_tenant_id_provider_name UNIQUE (tenant_id, provider_name),
    CONSTRAINT uq_llm_providers_tenant_id_id UNIQUE (tenant_id, id),
    CONSTRAINT ck_llm_providers_status CHECK (status IN ('active', 'revoking')),
    CONSTRAINT ck_llm_providers_max_budget CHECK (max_budget IS NULL OR max_budget > 0)
);
ALTER TABLE llm_providers ENABLE ROW LEVEL SECURITY;
ALTER TABLE llm_providers FORCE ROW LEVEL SECURITY;
CREATE POLICY llm_providers_isolation ON llm_providers
    USING (tenant_id = app_current_tenant() OR app_is_operator())
    WITH CHECK (tenant_id = app_current_tenant() OR app_is_operator());

ALTER TABLE agents ADD CONSTRAINT fk_agents_provider_id
    FOREIGN KEY (tenant_id, provider_id) REFERENCES llm_providers (tenant_id, id)
    ON DELETE SET NULL (provider_id);

-- Gateway objects that no provider row owns any more (an undo or a revocation that failed).
-- `agentkeel providers reconcile` retries them. Tenants may record, only the operator reads.
CREATE TABLE gateway_orphans (
    id           uuid        CONSTRAINT pk_gateway_orphans PRIMARY KEY,
    tenant_id    uuid,
    kind         text        NOT NULL,
    reference    text        NOT NULL,
    secret_kid   text,
    secret_sealed bytea,
    attempts     integer     NOT NULL DEFAULT 0,
    last_error   text,
    created_at   timestamptz NOT NULL,
    CONSTRAINT ck_gateway_orphans_kind CHECK (kind IN ('deployment', 'virtual_key'))
);
ALTER TABLE gateway_orphans ENABLE ROW LEVEL SECURITY;
ALTER TABLE gateway_orphans FORCE ROW LEVEL SECURITY;
CREATE POLICY gateway_orphans_isolation ON gateway_orphans
    USING (app_is_operator())
    WITH CHECK (app_is_operator() OR tenant_id = app_current_tenant());
"""

DOWNGRADE = """
DROP TABLE gateway_orphans;
ALTER TABLE agents DROP CONSTRAINT fk_agents_provider_id;
DROP TABLE llm_providers;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
