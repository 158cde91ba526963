"""The provider tests' tenant: its HTTP client, fake gateway and superuser SQL."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.tenant_env import ProviderEnv, tenant_env


@pytest.fixture
async def env(
    sql_engine: AsyncEngine, migrated_db: str, operator: dict[str, str]
) -> AsyncIterator[ProviderEnv]:
    async with tenant_env(ProviderEnv, sql_engine, migrated_db, operator) as made:
        yield made
