"""api_key_credentials under row-level security, and the catalogue rule for every table."""

import hashlib
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, pool, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy import migrate
from adapters.sqlalchemy.engine import create_runtime_engine
from adapters.sqlalchemy.urls import sqlalchemy_url
from tests.support.factories import unique

pytestmark = pytest.mark.postgres

_INSERT_KEY = "INSERT INTO api_keys VALUES (:id, :t, 'k', 'ak_tn_x', now())"
_INSERT_CREDENTIAL = "INSERT INTO api_key_credentials VALUES (:id, :h, :t)"


async def _tenant(engine: AsyncEngine) -> uuid.UUID:
    tenant_id = uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(text("SELECT set_operator_context()"))
        await conn.execute(
            text("INSERT INTO tenants VALUES (:id, :n, 'a@b.io', now(), now())"),
            {"id": tenant_id, "n": unique("cred")},
        )
    return tenant_id


def _hash() -> bytes:
    return hashlib.sha256(os.urandom(16)).digest()


def test_every_table_with_a_tenant_id_has_forced_rls_and_a_tenant_policy(migrated_db: str) -> None:
    engine = create_engine(sqlalchemy_url(migrated_db), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,"
                    " EXISTS (SELECT 1 FROM pg_policies p WHERE p.schemaname = 'public'"
                    "  AND p.tablename = c.relname AND concat(p.qual, ' ', p.with_check)"
                    "  LIKE '%app_current_tenant()%')"
                    " FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
                    " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'"
                    " AND a.attname = 'tenant_id' AND NOT a.attisdropped"
                )
            ).all()
    finally:
        engine.dispose()
    tables = {row[0]: tuple(row[1:]) for row in rows}
    assert "api_key_credentials" in tables and "agents" in tables
    assert {name: flags for name, flags in tables.items() if flags != (True, True, True)} == {}


async def test_a_tenant_cannot_insert_a_credential_for_another_tenant(
    tx_engine: AsyncEngine,
) -> None:
    a, b = await _tenant(tx_engine), await _tenant(tx_engine)
    key_id = uuid.uuid4()
    async with tx_engine.connect() as conn, conn.begin():
        await conn.execute(text("SELECT set_tenant_context(:t)"), {"t": a})
        await conn.execute(text(_INSERT_KEY), {"id": key_id, "t": a})
        with pytest.raises(DBAPIError, match="row-level security"):
            await conn.execute(text(_INSERT_CREDENTIAL), {"id": key_id, "h": _hash(), "t": b})


async def test_a_tenant_cannot_insert_an_operator_credential(tx_engine: AsyncEngine) -> None:
    a = await _tenant(tx_engine)
    key_id = uuid.uuid4()
    async with tx_engine.connect() as conn, conn.begin():
        await conn.execute(text("SELECT set_tenant_context(:t)"), {"t": a})
        await conn.execute(text(_INSERT_KEY), {"id": key_id, "t": a})
        with pytest.raises(DBAPIError, match="row-level security"):
            await conn.execute(text(_INSERT_CREDENTIAL), {"id": key_id, "h": _hash(), "t": None})


async def test_a_credential_carries_its_keys_tenant(tx_engine: AsyncEngine) -> None:
    """Even the operator's context cannot lend one tenant's key to another."""
    a, b = await _tenant(tx_engine), await _tenant(tx_engine)
    key_id = uuid.uuid4()
    async with tx_engine.connect() as conn, conn.begin():
        await conn.execute(text("SELECT set_operator_context()"))
        await conn.execute(text(_INSERT_KEY), {"id": key_id, "t": a})
        with pytest.raises(DBAPIError, match="fk_api_key_credentials_key_id_tenant_id"):
            await conn.execute(text(_INSERT_CREDENTIAL), {"id": key_id, "h": _hash(), "t": b})


async def test_a_tenant_inserts_and_authenticates_its_own_credential(
    tx_engine: AsyncEngine,
) -> None:
    a = await _tenant(tx_engine)
    key_id, key_hash = uuid.uuid4(), _hash()
    async with tx_engine.begin() as conn:
        await conn.execute(text("SELECT set_tenant_context(:t)"), {"t": a})
        await conn.execute(text(_INSERT_KEY), {"id": key_id, "t": a})
        await conn.execute(text(_INSERT_CREDENTIAL), {"id": key_id, "h": key_hash, "t": a})
    async with tx_engine.begin() as conn:
        found = await conn.execute(
            text("SELECT key_id, tenant_id FROM authenticate_api_key(:h)"), {"h": key_hash}
        )
        assert tuple(found.one()) == (key_id, a)


@pytest.fixture
def owner_url(pg_admin_url: str) -> Iterator[str]:
    """A database owned and migrated by an ordinary (not superuser) owner role, which
    FORCEd row-level security applies to, as in production."""
    role, database = (
        f"agentkeel_own_{uuid.uuid4().hex[:8]}",
        f"agentkeel_test_{uuid.uuid4().hex[:12]}",
    )
    admin = create_engine(
        sqlalchemy_url(pg_admin_url), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN CREATEROLE"))
        conn.execute(text(f"CREATE DATABASE {database} OWNER {role}"))
        conn.execute(text(f"GRANT agentkeel_runtime TO {role} WITH ADMIN OPTION"))
    url = sqlalchemy_url(pg_admin_url).set(username=role, password=None, database=database)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
        admin.dispose()


async def test_authentication_works_under_a_non_superuser_owner(
    owner_url: str, migrated_db: str
) -> None:
    del migrated_db  # it made sure agentkeel_runtime exists in the cluster
    migrate.upgrade(owner_url, owner_url)
    engine = create_runtime_engine(owner_url, pool_size=1)
    try:
        tx = engine.execution_options(isolation_level="READ COMMITTED")
        key_id, key_hash = uuid.uuid4(), _hash()
        async with tx.begin() as conn:
            assert (await conn.execute(text("SELECT current_user"))).scalar() == "agentkeel_runtime"
            await conn.execute(text("SELECT set_operator_context()"))
            await conn.execute(text(_INSERT_KEY), {"id": key_id, "t": None})
            await conn.execute(text(_INSERT_CREDENTIAL), {"id": key_id, "h": key_hash, "t": None})
        async with tx.begin() as conn:
            found = await conn.execute(
                text("SELECT key_id FROM authenticate_api_key(:h)"), {"h": key_hash}
            )
            assert found.scalar() == key_id
            with pytest.raises(DBAPIError):
                await conn.execute(text("SELECT * FROM api_key_credentials"))
    finally:
        await engine.dispose()
