"""Executions: each agent run, its configuration snapshot, result, usage and cost.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE executions (
    id                   uuid             CONSTRAINT pk_executions PRIMARY KEY,
    tenant_id            uuid             NOT NULL CONSTRAINT fk_executions_tenant_id
                                          REFERENCES tenants (id) ON DELETE CASCADE,
    -- No foreign key: the history of a run outlives the agent.
    agent_id             uuid             NOT NULL,
    status               text             NOT NULL,
    input                text             NOT NULL,
    output               text,
    error                text,
    prompt_tokens        integer,
    completion_tokens    integer,
    total_tokens         integer,
    cost                 double precision,
    model                text,
    latency_ms           integer,
    config_model         text             NOT NULL,
    config_temperature   double precision NOT NULL,
    config_max_tokens    integer,
    config_system_prompt_sha256 text      NOT NULL,
    config_use_byok      boolean          NOT NULL,
    config_provider_id   uuid,
    created_at           timestamptz      NOT NULL,
    started_at           timestamptz,
    finished_at          timestamptz,
    CONSTRAINT ck_executions_status CHECK (status IN
        ('queued', 'running', 'success', 'failed', 'cancelled', 'timed_out'))
);
CREATE INDEX ix_executions_tenant_id_created_at ON executions (tenant_id, created_at);
CREATE INDEX ix_executions_agent_id_created_at ON executions (agent_id, created_at);
ALTER TABLE executions ENABLE ROW LEVEL SECURITY;
ALTER TABLE executions FORCE ROW LEVEL SECURITY;
CREATE POLICY executions_isolation ON executions
    USING (tenant_id = app_current_tenant() OR app_is_operator())
    WITH CHECK (tenant_id = app_current_tenant() OR app_is_operator());
"""

DOWNGRADE = """
DROP TABLE executions;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
