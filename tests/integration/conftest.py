"""Fixtures shared by the integration tests: an operator's bearer header, the real Redis."""

from collections.abc import Iterator

import pytest
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.dramatiq_queue.broker import make_broker
from tests.support.redis import flush, redis_url
from tests.support.sql_app import bearer, issue_operator_key


@pytest.fixture(scope="module")
async def operator(sql_engine: AsyncEngine) -> dict[str, str]:
    return bearer(await issue_operator_key(sql_engine))


@pytest.fixture(scope="module")
def redis_base() -> Iterator[str]:
    with redis_url() as url:
        yield url


@pytest.fixture
def broker(redis_base: str) -> Iterator[RedisBroker]:
    """A broker on an emptied Redis database; a silent worker counts as dead after 1 s."""
    flush(redis_base)
    made = make_broker(redis_base, heartbeat_timeout_ms=1_000)
    yield made
    made.close()
