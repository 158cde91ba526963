"""The HTTP app over the SQL adapters, called in-process through httpx."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from adapters.system import SecretsTokenGenerator, SystemClock
from application.use_cases.api_keys import IssueOperatorKey
from entrypoints.composition import http_dependencies
from entrypoints.http.app import create_app


async def issue_operator_key(engine: AsyncEngine) -> str:
    async with SqlUnitOfWork(engine) as uow:
        issued = await IssueOperatorKey(uow, SystemClock(), SecretsTokenGenerator())("test")
    assert issued is not None
    return issued.token


@asynccontextmanager
async def sql_client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(http_dependencies(engine))
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://agentkeel") as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
