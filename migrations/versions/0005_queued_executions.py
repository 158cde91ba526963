"""Queued executions: worker leases, cancellation requests, idempotency keys.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE executions
    ADD COLUMN callback_url     text,
    ADD COLUMN attempts         integer     NOT NULL DEFAULT 0,
    ADD COLUMN claimed_by       text,
    ADD COLUMN lease_expires_at timestamptz,
    ADD COLUMN cancel_requested boolean     NOT NULL DEFAULT false;
-- What the reaper scans: running rows whose lease ran out, queued rows nobody took.
CREATE INDEX ix_executions_status_lease_expires_at ON executions (status, lease_expires_at)
    WHERE status IN ('queued', 'running');

CREATE TABLE idempotency_keys (
    tenant_id      uuid        NOT NULL CONSTRAINT fk_idempotency_keys_tenant_id
                               REFERENCES tenants (id) ON DELETE CASCADE,
    key            text        NOT NULL,
    request_sha256 text        NOT NULL,
    execution_id   uuid        NOT NULL,
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    CONSTRAINT pk_idempotency_keys PRIMARY KEY (tenant_id, key)
);
ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY idempotency_keys_isolation ON idempotency_keys
    USING (tenant_id = app_current_tenant() OR app_is_operator())
    WITH CHECK (tenant_id = app_current_tenant() OR app_is_operator());
"""

DOWNGRADE = """
DROP TABLE idempotency_keys;
DROP INDEX ix_executions_status_lease_expires_at;
ALTER TABLE executions
    DROP COLUMN cancel_requested,
    DROP COLUMN lease_expires_at,
    DROP COLUMN claimed_by,
    DROP COLUMN attempts,
    DROP COLUMN callback_url;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
