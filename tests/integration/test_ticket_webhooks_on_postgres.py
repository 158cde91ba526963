"""Ticket webhooks, callbacks and ticket systems over PostgreSQL: concurrent duplicate
deliveries make one job, secrets and credentials are sealed at rest and bound to their
row, the SSRF guard refuses callback URLs at submit, and row-level security holds."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.fake_llm.gateway import FakeLlmGateway
from adapters.in_memory.job_queue import InMemoryJobQueue
from adapters.nacl.secret_box import NaclSecretBox
from application.use_cases.secrets_rotation import RotateSecrets
from entrypoints.composition import http_dependencies
from entrypoints.http.app import create_app
from tests.support.llm_helpers import add_agent, admin_query, box_of, new_tenant
from tests.support.sql_app import TEST_SECRET_KEYS
from tests.support.webhooks import signed, ticket_body

pytestmark = pytest.mark.postgres
WEBHOOK_TABLES = (
    "webhook_secrets",
    "ticket_systems",
    "webhook_receipts",
    "execution_deliveries",
    "delivery_attempts",
)


@asynccontextmanager
async def client(
    engine: AsyncEngine,
    queue: InMemoryJobQueue,
    *,
    allow_private: bool = False,
    box: NaclSecretBox | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    deps = http_dependencies(
        engine,
        FakeLlmGateway(),
        box or NaclSecretBox.from_env_value(TEST_SECRET_KEYS),
        queue,
        allow_private_callbacks=allow_private,
    )
    transport = httpx.ASGITransport(app=create_app(deps))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://agentkeel") as made:
        yield made


async def ticket_tenant(
    http: httpx.AsyncClient, operator: dict[str, str]
) -> tuple[str, dict[str, str], str]:
    tenant_id, headers = await new_tenant(http, operator)
    agent = await add_agent(http, headers)
    patched = await http.patch(
        f"/api/tenants/{tenant_id}", json={"ticket_agent_id": agent["id"]}, headers=headers
    )
    assert patched.status_code == 200, patched.text
    minted = await http.post(f"/api/tenants/{tenant_id}/webhook-secret", headers=headers)
    assert minted.status_code == 201, minted.text
    return tenant_id, headers, minted.json()["secret"]


async def test_concurrent_identical_deliveries_make_exactly_one_job(
    sql_engine: AsyncEngine, operator: dict[str, str], migrated_db: str
) -> None:
    queue = InMemoryJobQueue()
    async with client(sql_engine, queue) as http:
        tenant_id, _, secret = await ticket_tenant(http, operator)
        body = ticket_body(ticket_id=f"T-{uuid.uuid4().hex[:6]}")
        headers = signed(secret, body)
        url = f"/api/webhooks/tickets/{tenant_id}"
        answers = await asyncio.gather(
            *(http.post(url, content=body, headers=headers) for _ in range(8))
        )
        replay = await http.post(url, content=body, headers=headers)
    assert {a.status_code for a in answers} == {202}, [a.text for a in answers]
    jobs = {a.json()["job_id"] for a in answers}
    assert len(jobs) == 1 and replay.json()["job_id"] in jobs
    count = admin_query(
        migrated_db, "SELECT count(*) FROM executions WHERE tenant_id = :t", t=tenant_id
    )
    assert count[0][0] == 1
    assert [str(e) for e, _ in queue.sent] == list(jobs)


async def test_secrets_and_credentials_are_sealed_and_never_returned(
    sql_engine: AsyncEngine, operator: dict[str, str], migrated_db: str
) -> None:
    token = f"jira-token-{uuid.uuid4().hex}"
    async with client(sql_engine, InMemoryJobQueue()) as http:
        tenant_id, headers, secret = await ticket_tenant(http, operator)
        url = f"/api/tenants/{tenant_id}/ticket-system"
        assert (await http.get(url, headers=headers)).status_code == 404
        body = {
            "kind": "jira",
            "base_url": "https://acme.atlassian.net",
            "credentials": {"email": "bot@acme.example", "api_token": token},
        }
        put = await http.put(url, json=body, headers=headers)
        got = await http.get(url, headers=headers)
        wrong = await http.put(
            url, json={**body, "credentials": {"authtoken": "x"}}, headers=headers
        )
        private = await http.put(
            url, json={**body, "base_url": "http://10.1.2.3/jira"}, headers=headers
        )
        _, others = await new_tenant(http, operator)
        theirs = await http.get(url, headers=others)
        deleted = await http.delete(url, headers=headers)
        gone = await http.get(url, headers=headers)
    assert put.status_code == 200, put.text
    assert set(put.json()) == {"id", "tenant_id", "kind", "base_url", "created_at", "updated_at"}
    assert got.json() == put.json() and token not in put.text + got.text
    assert wrong.status_code == 422 and private.status_code == 422, (wrong.text, private.text)
    assert private.json()["detail"][0]["loc"] == ["body", "base_url"]
    assert (theirs.status_code, deleted.status_code, gone.status_code) == (404, 204, 404)
    raw = admin_query(
        migrated_db,
        "SELECT secret_sealed FROM webhook_secrets WHERE tenant_id = :t",
        t=tenant_id,
    )
    assert raw and all(secret.encode() not in bytes(r[0]) for r in raw)


async def test_a_callback_url_to_a_private_address_is_refused_at_submit(
    sql_engine: AsyncEngine, operator: dict[str, str]
) -> None:
    async with client(sql_engine, InMemoryJobQueue()) as http:
        _tenant_id, headers, _ = await ticket_tenant(http, operator)
        agent = await add_agent(http, headers)
        url = f"/api/agents/{agent['id']}/executions"
        refused = [
            await http.post(url, json={"input": "x", "callback_url": target}, headers=headers)
            for target in (
                "http://127.0.0.1:8080/cb",
                "http://localhost/cb",
                "http://169.254.169.254/latest/meta-data",
                "http://10.0.0.5/cb",
                "http://[::1]/cb",
                "http://192.168.1.1/cb",
            )
        ]
        listed = await http.get("/api/executions", headers=headers)
    for answer in refused:
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["loc"] == ["body", "callback_url"]
    assert listed.json() == []  # no job for any of them
    async with client(sql_engine, InMemoryJobQueue(), allow_private=True) as http:
        body = {"input": "x", "callback_url": "http://127.0.0.1:8080/cb"}
        allowed = await http.post(url, json=body, headers=headers)
        assert allowed.status_code == 202, allowed.text
        deliveries = await http.get(
            f"/api/executions/{allowed.json()['id']}/deliveries", headers=headers
        )
    [delivery] = deliveries.json()
    assert (delivery["kind"], delivery["status"], delivery["target"]) == (
        "callback",
        "waiting",
        "http://127.0.0.1:8080/cb",
    )
    assert delivery["webhook_id"].startswith("msg_") and delivery["attempt_log"] == []


async def test_a_callback_without_a_webhook_secret_is_400(
    sql_engine: AsyncEngine, operator: dict[str, str]
) -> None:
    async with client(sql_engine, InMemoryJobQueue(), allow_private=True) as http:
        _, headers = await new_tenant(http, operator)
        agent = await add_agent(http, headers)
        body = {"input": "x", "callback_url": "http://127.0.0.1:8080/cb"}
        answer = await http.post(
            f"/api/agents/{agent['id']}/executions", json=body, headers=headers
        )
    assert answer.status_code == 400 and "webhook secret" in answer.json()["detail"]


def test_every_webhook_table_has_forced_row_level_security(migrated_db: str) -> None:
    rows = admin_query(
        migrated_db,
        "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
        "WHERE relname = ANY(:names)",
        names=list(WEBHOOK_TABLES),
    )
    assert sorted(rows) == sorted((name, True, True) for name in WEBHOOK_TABLES)
    policies = admin_query(
        migrated_db,
        "SELECT tablename FROM pg_policies WHERE tablename = ANY(:n)",
        n=list(WEBHOOK_TABLES),
    )
    assert sorted(p[0] for p in policies) == sorted(WEBHOOK_TABLES)


async def test_secrets_rotate_reseals_webhook_secrets_and_ticket_credentials(
    pg_admin_url: str,
) -> None:
    from adapters.sqlalchemy import migrate
    from adapters.sqlalchemy.engine import create_runtime_engine
    from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
    from tests.support.postgres import scratch_database
    from tests.support.sql_app import bearer, issue_operator_key

    with scratch_database(pg_admin_url) as db:
        migrate.upgrade(db, db)
        engine = create_runtime_engine(db, pool_size=2)
        try:
            operator = bearer(await issue_operator_key(engine))
            async with client(engine, InMemoryJobQueue(), box=box_of("old")) as http:
                tenant_id, headers, secret = await ticket_tenant(http, operator)
                body = {
                    "kind": "servicedesk_plus",
                    "base_url": "https://sdp.example",
                    "credentials": {"authtoken": "K-1"},
                }
                put = await http.put(
                    f"/api/tenants/{tenant_id}/ticket-system", json=body, headers=headers
                )
                assert put.status_code == 200, put.text
            rotated = await RotateSecrets(lambda: SqlUnitOfWork(engine), box_of("new", "old"))()
            assert rotated == 2
            kids = admin_query(db, "SELECT secret_kid FROM webhook_secrets") + admin_query(
                db, "SELECT credentials_kid FROM ticket_systems"
            )
            assert [k[0] for k in kids] == ["new", "new"]
            async with client(engine, InMemoryJobQueue(), box=box_of("new")) as http:
                ticket = ticket_body()
                hooked = await http.post(
                    f"/api/webhooks/tickets/{tenant_id}",
                    content=ticket,
                    headers=signed(secret, ticket),
                )
            assert hooked.status_code == 202, hooked.text  # opens with the new key alone
        finally:
            await engine.dispose()
