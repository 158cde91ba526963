"""The HTTP app over the SQL adapters, called in-process through httpx."""

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.fake_llm.gateway import FakeLlmGateway
from adapters.in_memory.job_queue import InMemoryJobQueue
from adapters.nacl.secret_box import NaclSecretBox
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from adapters.system import SecretsTokenGenerator, SystemClock
from application.ports.job_queue import JobQueue
from application.ports.llm_gateway import LlmGateway
from application.use_cases.api_keys import IssueOperatorKey
from application.use_cases.mcp_services import McpServices
from entrypoints.composition import http_dependencies
from entrypoints.http.app import create_app
from tests.support.mcp.world import mcp_services_for_tests


async def issue_operator_key(engine: AsyncEngine) -> str:
    async with SqlUnitOfWork(engine) as uow:
        issued = await IssueOperatorKey(uow, SystemClock(), SecretsTokenGenerator())("test")
    assert issued is not None
    return issued.token


TEST_SECRET_KEYS = "test:" + base64.b64encode(bytes(range(32))).decode()


@asynccontextmanager
async def sql_client(
    engine: AsyncEngine,
    gateway: LlmGateway | None = None,
    queue: JobQueue | None = None,
    mcp: McpServices | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    box = NaclSecretBox.from_env_value(TEST_SECRET_KEYS)
    deps = http_dependencies(
        engine,
        gateway or FakeLlmGateway(),
        box,
        queue or InMemoryJobQueue(),
        mcp=mcp or mcp_services_for_tests(),
    )
    app = create_app(deps)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://agentkeel") as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
