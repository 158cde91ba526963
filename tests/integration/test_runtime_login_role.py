"""The production layout: a separate login role for the service, a member of the runtime
role, next to the owner that runs migrations."""

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, pool, text
from sqlalchemy.exc import DBAPIError

from adapters.sqlalchemy import migrate
from adapters.sqlalchemy.engine import create_runtime_engine, runtime_connect_args
from adapters.sqlalchemy.urls import sqlalchemy_url
from tests.support.postgres import scratch_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def login_role(pg_admin_url: str) -> Iterator[str]:
    name = f"agentkeel_it_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        sqlalchemy_url(pg_admin_url), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {name} LOGIN"))
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP ROLE {name}"))
        admin.dispose()


async def test_separate_login_role_inherits_exactly_the_runtime_grants(
    pg_admin_url: str, login_role: str
) -> None:
    with scratch_database(pg_admin_url) as owner_url:
        runtime_url = (
            sqlalchemy_url(owner_url)
            .set(username=login_role, password=None)
            .render_as_string(hide_password=False)
        )
        migrate.upgrade(owner_url, runtime_url)
        assert runtime_connect_args(runtime_url) == {}  # no role switch needed
        engine = create_runtime_engine(runtime_url, pool_size=1)
        try:
            async with engine.connect() as conn:
                assert (await conn.execute(text("SELECT current_user"))).scalar() == login_role
                assert (await conn.execute(text("SELECT count(*) FROM agents"))).scalar() == 0
            for forbidden in (
                "SELECT * FROM api_key_credentials",
                "SET ROLE postgres",
                "ALTER TABLE agents DISABLE ROW LEVEL SECURITY",
            ):
                async with engine.connect() as conn:
                    with pytest.raises(DBAPIError):
                        await conn.execute(text(forbidden))
        finally:
            await engine.dispose()
