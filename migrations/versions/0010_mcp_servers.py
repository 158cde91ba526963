"""MCP servers (tenant-owned, RLS), the servers each agent may use, the tool calls of a run.

`env_vars` holds each variable's name with its value sealed (SecretBox, associated data
bound to tenant, table, row and name): `{"NAME": {"kid": ..., "sealed": base64}}`.
`agents.mcp_server_ids` is an array, read with the agent in the same statement (no extra
round trip for a run); deleting a server takes it off every agent (the repository does,
in the same transaction), and the application checks each id is the tenant's own.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE mcp_servers (
    id               uuid        CONSTRAINT pk_mcp_servers PRIMARY KEY,
    tenant_id        uuid        NOT NULL CONSTRAINT fk_mcp_servers_tenant_id
                                 REFERENCES tenants (id) ON DELETE CASCADE,
    name             text        NOT NULL,
    transport_type   text        NOT NULL,
    command          text,
    args             jsonb       NOT NULL DEFAULT '[]',
    env_vars         jsonb       NOT NULL DEFAULT '{}',
    url              text,
    status           text        NOT NULL DEFAULT 'pending',
    tools            jsonb       NOT NULL DEFAULT '[]',
    last_error       text,
    last_checked_at  timestamptz,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    CONSTRAINT uq_mcp_servers_tenant_id_name UNIQUE (tenant_id, name),
    CONSTRAINT ck_mcp_servers_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT ck_mcp_servers_transport_type CHECK
        (transport_type IN ('stdio', 'http_sse', 'streamable_http')),
    CONSTRAINT ck_mcp_servers_status CHECK (status IN ('pending', 'active', 'error')),
    CONSTRAINT ck_mcp_servers_target CHECK (
        (transport_type = 'stdio' AND command IS NOT NULL AND url IS NULL)
        OR (transport_type <> 'stdio' AND url IS NOT NULL AND command IS NULL))
);
CREATE INDEX ix_mcp_servers_status_last_checked_at ON mcp_servers (status, last_checked_at);
ALTER TABLE mcp_servers ENABLE ROW LEVEL SECURITY;
ALTER TABLE mcp_servers FORCE ROW LEVEL SECURITY;
CREATE POLICY mcp_servers_isolation ON mcp_servers
    USING (tenant_id = app_current_tenant() OR app_is_operator())
    WITH CHECK (tenant_id = app_current_tenant() OR app_is_operator());

ALTER TABLE agents ADD COLUMN mcp_server_ids uuid[] NOT NULL DEFAULT '{}';
ALTER TABLE agents ADD CONSTRAINT ck_agents_mcp_server_ids
    CHECK (cardinality(mcp_server_ids) <= 20);
ALTER TABLE executions ADD COLUMN tool_calls jsonb NOT NULL DEFAULT '[]';
"""

DOWNGRADE = """
ALTER TABLE executions DROP COLUMN tool_calls;
ALTER TABLE agents DROP COLUMN mcp_server_ids;
DROP TABLE mcp_servers;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
