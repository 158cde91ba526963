from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.in_memory.store import InMemoryStore
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from adapters.sqlalchemy import migrate
from adapters.sqlalchemy.engine import create_runtime_engine
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.ports.unit_of_work import UnitOfWorkFactory
from tests.support.postgres import admin_url, scratch_database


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    with admin_url() as url:
        yield url


@pytest.fixture(scope="session")
def migrated_db(pg_admin_url: str) -> Iterator[str]:
    """One migrated database shared by a test session; tests use fresh tenants in it."""
    with scratch_database(pg_admin_url) as url:
        migrate.upgrade(url, url)
        yield url


@pytest.fixture(scope="session")
async def sql_engine(migrated_db: str) -> AsyncIterator[AsyncEngine]:
    engine = create_runtime_engine(migrated_db, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def tx_engine(sql_engine: AsyncEngine) -> AsyncEngine:
    """The service's pool, but with ordinary transactions for raw SQL in tests (the pool
    itself runs in autocommit mode: units of work send their own BEGIN)."""
    return sql_engine.execution_options(isolation_level="READ COMMITTED")


@pytest.fixture(params=["in_memory", "sql"])
def uow_factory(request: pytest.FixtureRequest) -> UnitOfWorkFactory:
    """The contract suite runs every test against each adapter."""
    if request.param == "in_memory":
        store = InMemoryStore()
        return lambda: InMemoryUnitOfWork(store)
    engine: AsyncEngine = request.getfixturevalue("sql_engine")
    return lambda: SqlUnitOfWork(engine)
