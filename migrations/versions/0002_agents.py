"""Agents, and the tenant's ticket agent.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE agents (
    id            uuid             CONSTRAINT pk_agents PRIMARY KEY,
    tenant_id     uuid             NOT NULL CONSTRAINT fk_agents_tenant_id
                                   REFERENCES tenants (id) ON DELETE CASCADE,
    name          text             NOT NULL,
    system_prompt text             NOT NULL,
    model         text             NOT NULL,
    temperature   double precision NOT NULL,
    max_tokens    integer,
    use_byok      boolean          NOT NULL DEFAULT false,
    provider_id   uuid,
    status        text             NOT NULL,
    created_at    timestamptz      NOT NULL,
    updated_at    timestamptz      NOT NULL,
    CONSTRAINT uq_agents_tenant_id_name UNIQUE (tenant_id, name),
    -- The target of tenants.ticket_agent_id: an agent of that same tenant.
    CONSTRAINT uq_agents_tenant_id_id UNIQUE (tenant_id, id),
    CONSTRAINT ck_agents_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT ck_agents_temperature CHECK (temperature >= 0 AND temperature <= 2),
    CONSTRAINT ck_agents_max_tokens CHECK (max_tokens IS NULL OR max_tokens > 0),
    CONSTRAINT ck_agents_status CHECK (status IN ('draft', 'active', 'suspended', 'inactive'))
);
CREATE INDEX ix_agents_tenant_id_created_at ON agents (tenant_id, created_at);
ALTER TABLE agents ENABLE ROW LEVEL SECURITY;
ALTER TABLE agents FORCE ROW LEVEL SECURITY;
CREATE POLICY agents_isolation ON agents
    USING (tenant_id = app_current_tenant() OR app_is_operator())
    WITH CHECK (tenant_id = app_current_tenant() OR app_is_operator());

ALTER TABLE tenants ADD COLUMN ticket_agent_id uuid;
ALTER TABLE tenants ADD CONSTRAINT fk_tenants_ticket_agent_id
    FOREIGN KEY (id, ticket_agent_id) REFERENCES agents (tenant_id, id)
    ON DELETE SET NULL (ticket_agent_id);
"""

DOWNGRADE = """
ALTER TABLE tenants DROP COLUMN ticket_agent_id;
DROP TABLE agents;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
