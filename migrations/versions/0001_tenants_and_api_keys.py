"""Tenants, API keys, the tenant context and the key lookup.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UPGRADE = """
-- The context every RLS policy reads. NULLIF: once a pooled connection has used
-- set_config(..., true), later transactions see '' rather than NULL, and ''::uuid raises.
CREATE FUNCTION app_current_tenant() RETURNS uuid LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;
CREATE FUNCTION app_is_operator() RETURNS boolean LANGUAGE sql STABLE
    AS $$ SELECT coalesce(current_setting('app.operator', true), '') = 'on' $$;

-- Transaction-local (is_local = true): gone at COMMIT or ROLLBACK.
CREATE FUNCTION set_tenant_context(p_tenant_id uuid) RETURNS void LANGUAGE sql VOLATILE
    AS $$ SELECT set_config('app.tenant_id', p_tenant_id::text, true) $$;
-- The operator's cross-tenant view; see docs/database.md for who may call it.
CREATE FUNCTION set_operator_context() RETURNS void LANGUAGE sql VOLATILE
    AS $$ SELECT set_config('app.operator', 'on', true) $$;

CREATE TABLE tenants (
    id              uuid        CONSTRAINT pk_tenants PRIMARY KEY,
    name            text        NOT NULL CONSTRAINT uq_tenants_name UNIQUE,
    admin_email     text        NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CONSTRAINT ck_tenants_name_length CHECK (char_length(name) BETWEEN 1 AND 200)
);
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenants_isolation ON tenants
    USING (id = app_current_tenant() OR app_is_operator())
    WITH CHECK (id = app_current_tenant() OR app_is_operator());

-- tenant_id NULL: an operator key. Hashes live in api_key_credentials, not here.
CREATE TABLE api_keys (
    id         uuid        CONSTRAINT pk_api_keys PRIMARY KEY,
    tenant_id  uuid        CONSTRAINT fk_api_keys_tenant_id
                           REFERENCES tenants (id) ON DELETE CASCADE,
    name       text        NOT NULL,
    prefix     text        NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX ix_api_keys_tenant_id ON api_keys (tenant_id);
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY api_keys_isolation ON api_keys
    USING (tenant_id = app_current_tenant() OR app_is_operator())
    WITH CHECK (tenant_id = app_current_tenant() OR app_is_operator());

-- Only key hashes and ids: read solely through authenticate_api_key(), before any
-- tenant context exists. The runtime role may insert here, never select.
CREATE TABLE api_key_credentials (
    key_id    uuid  CONSTRAINT pk_api_key_credentials PRIMARY KEY
                    CONSTRAINT fk_api_key_credentials_key_id
                    REFERENCES api_keys (id) ON DELETE CASCADE,
    key_hash  bytea NOT NULL CONSTRAINT uq_api_key_credentials_key_hash UNIQUE,
    tenant_id uuid,
    CONSTRAINT ck_api_key_credentials_key_hash CHECK (octet_length(key_hash) = 32)
);

-- Resolves a key hash and sets the caller's context in the same statement (one round
-- trip). SECURITY DEFINER with a pinned search_path; no PUBLIC EXECUTE.
CREATE FUNCTION authenticate_api_key(p_key_hash bytea)
    RETURNS TABLE (key_id uuid, tenant_id uuid, key_hash bytea)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cred public.api_key_credentials%ROWTYPE;
BEGIN
    SELECT * INTO cred FROM public.api_key_credentials c WHERE c.key_hash = p_key_hash;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF cred.tenant_id IS NULL THEN
        PERFORM set_config('app.operator', 'on', true);
    ELSE
        PERFORM set_config('app.tenant_id', cred.tenant_id::text, true);
    END IF;
    key_id := cred.key_id;
    tenant_id := cred.tenant_id;
    key_hash := cred.key_hash;
    RETURN NEXT;
END
$$;

REVOKE ALL ON FUNCTION app_current_tenant(), app_is_operator(), set_tenant_context(uuid),
    set_operator_context(), authenticate_api_key(bytea) FROM PUBLIC;
"""

DOWNGRADE = """
DROP FUNCTION authenticate_api_key(bytea);
DROP TABLE api_key_credentials;
DROP TABLE api_keys;
DROP TABLE tenants;
DROP FUNCTION set_operator_context();
DROP FUNCTION set_tenant_context(uuid);
DROP FUNCTION app_is_operator();
DROP FUNCTION app_current_tenant();
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
