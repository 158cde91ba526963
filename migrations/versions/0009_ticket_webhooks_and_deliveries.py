"""Ticket webhooks and outbound deliveries: webhook secrets, per-tenant ticket systems,
received webhook ids (replay dedupe), and each execution's callbacks and write-backs with
every attempt made.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = (
    "webhook_secrets",
    "ticket_systems",
    "webhook_receipts",
    "execution_deliveries",
    "delivery_attempts",
)

CREATE = """
CREATE TABLE webhook_secrets (
    id             uuid        CONSTRAINT pk_webhook_secrets PRIMARY KEY,
    tenant_id      uuid        NOT NULL CONSTRAINT fk_webhook_secrets_tenant_id
                               REFERENCES tenants (id) ON DELETE CASCADE,
    secret_kid     text        NOT NULL,
    secret_sealed  bytea       NOT NULL,
    created_at     timestamptz NOT NULL,
    -- NULL: the current secret; else it still verifies until then (the 24 h overlap).
    expires_at     timestamptz
);
CREATE INDEX ix_webhook_secrets_tenant_id ON webhook_secrets (tenant_id, created_at);

CREATE TABLE ticket_systems (
    id                  uuid        CONSTRAINT pk_ticket_systems PRIMARY KEY,
    tenant_id           uuid        NOT NULL CONSTRAINT fk_ticket_systems_tenant_id
                                    REFERENCES tenants (id) ON DELETE CASCADE,
    kind                text        NOT NULL,
    base_url            text        NOT NULL,
    credentials_kid     text        NOT NULL,
    credentials_sealed  bytea       NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    CONSTRAINT uq_ticket_systems_tenant_id UNIQUE (tenant_id),
    CONSTRAINT ck_ticket_systems_kind CHECK (kind IN ('jira', 'servicedesk_plus'))
);

CREATE TABLE webhook_receipts (
    tenant_id     uuid        NOT NULL CONSTRAINT fk_webhook_receipts_tenant_id
                              REFERENCES tenants (id) ON DELETE CASCADE,
    source        text        NOT NULL,
    delivery_id   text        NOT NULL,
    execution_id  uuid        NOT NULL,
    created_at    timestamptz NOT NULL,
    CONSTRAINT pk_webhook_receipts PRIMARY KEY (tenant_id, source, delivery_id)
);
CREATE INDEX ix_webhook_receipts_created_at ON webhook_receipts (created_at);

CREATE TABLE execution_deliveries (
    id               uuid        CONSTRAINT pk_execution_deliveries PRIMARY KEY,
    tenant_id        uuid        NOT NULL CONSTRAINT fk_execution_deliveries_tenant_id
                                 REFERENCES tenants (id) ON DELETE CASCADE,
    execution_id     uuid        NOT NULL CONSTRAINT fk_execution_deliveries_execution_id
                                 REFERENCES executions (id) ON DELETE CASCADE,
    kind             text        NOT NULL,
    target           text        NOT NULL,
    message_id       text        NOT NULL,
    status           text        NOT NULL,
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    last_error       text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz,
    activated_at     timestamptz,
    CONSTRAINT ck_execution_deliveries_kind CHECK (kind IN ('callback', 'ticket_writeback')),
    CONSTRAINT ck_execution_deliveries_status CHECK (status IN
        ('waiting', 'pending', 'delivered', 'failed', 'skipped'))
);
CREATE INDEX ix_execution_deliveries_execution_id ON execution_deliveries (execution_id);
-- What the dispatcher scans: deliveries not ended yet.
CREATE INDEX ix_execution_deliveries_status_next_attempt_at
    ON execution_deliveries (status, next_attempt_at) WHERE status IN ('waiting', 'pending');

CREATE TABLE delivery_attempts (
    delivery_id       uuid        NOT NULL CONSTRAINT fk_delivery_attempts_delivery_id
                                  REFERENCES execution_deliveries (id) ON DELETE CASCADE,
    tenant_id         uuid        NOT NULL CONSTRAINT fk_delivery_attempts_tenant_id
                                  REFERENCES tenants (id) ON DELETE CASCADE,
    number            integer     NOT NULL,
    started_at        timestamptz NOT NULL,
    finished_at       timestamptz NOT NULL,
    delivered         boolean     NOT NULL,
    status_code       integer,
    error             text,
    response_excerpt  text,
    CONSTRAINT pk_delivery_attempts PRIMARY KEY (delivery_id, number)
);
"""

RLS = """
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
CREATE POLICY {table}_isolation ON {table}
    USING (tenant_id = app_current_tenant() OR app_is_operator())
    WITH CHECK (tenant_id = app_current_tenant() OR app_is_operator());
"""


def upgrade() -> None:
    op.execute(CREATE + "".join(RLS.format(table=table) for table in TABLES))


def downgrade() -> None:
    op.execute("".join(f"DROP TABLE {table};\n" for table in reversed(TABLES)))
