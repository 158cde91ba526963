"""`secrets rotate` over PostgreSQL: batches survive a crash, a rerun finishes, nothing is
lost; and a sealed secret moved to another row never opens (a clean 500)."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy import migrate
from adapters.sqlalchemy.engine import create_runtime_engine
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.use_cases.gateway_binding import orphan_key_context
from application.use_cases.provider_secrets import open_api_key, open_virtual_key
from application.use_cases.secrets_rotation import RotateSecrets
from domain.principal import CONSOLE_OPERATOR
from tests.support.llm_helpers import (
    FlakyGateway,
    add_agent,
    add_provider,
    admin_query,
    box_of,
    canary,
    client_with_box,
    new_tenant,
)
from tests.support.postgres import scratch_database
from tests.support.sql_app import bearer, issue_operator_key, sql_client

pytestmark = pytest.mark.postgres
NAMES = "openai anthropic azure gemini mistral groq cohere deepseek openrouter together_ai"


class Crash(Exception):
    """The process dies between two batches."""


@pytest.fixture(scope="module")
async def own_db(pg_admin_url: str) -> AsyncIterator[tuple[str, AsyncEngine]]:
    """A database of its own: rotation walks every row, and other tests' rows are sealed
    under keys this test does not hold."""
    with scratch_database(pg_admin_url) as url:
        migrate.upgrade(url, url)
        engine = create_runtime_engine(url, pool_size=3)
        try:
            yield url, engine
        finally:
            await engine.dispose()


def kids(db: str) -> list[tuple[str, str]]:
    rows = admin_query(db, "SELECT api_key_kid, virtual_key_kid FROM llm_providers ORDER BY id")
    return [tuple(r) for r in rows]


async def seed(engine: AsyncEngine, gateway: FlakyGateway) -> dict[uuid.UUID, tuple[str, str]]:
    """30 providers in 3 tenants and one orphaned virtual key, all sealed under "old"."""
    operator = bearer(await issue_operator_key(engine))
    secrets: dict[uuid.UUID, tuple[str, str]] = {}
    async with client_with_box(engine, gateway, box_of("old")) as client:
        for _ in range(3):
            tenant_id, headers = await new_tenant(client, operator)
            for name in NAMES.split():
                api_key = canary(name)
                made = await add_provider(
                    client, tenant_id, headers, provider_name=name, api_key=api_key
                )
                secrets[uuid.UUID(made["id"])] = (api_key, made["virtual_key"])
        gateway.down = {"revoke_key"}  # rotating one leaves its old key as a sealed orphan
        url = f"/api/tenants/{tenant_id}/providers/{made['id']}/rotate"
        assert (await client.post(url, json={}, headers=headers)).status_code == 502
        gateway.down = set()
    secrets.pop(uuid.UUID(made["id"]))  # its virtual key changed; the api key did not
    return secrets


async def test_rotation_resumes_after_a_crash_and_loses_nothing(
    own_db: tuple[str, AsyncEngine],
) -> None:
    db, engine = own_db
    gateway = FlakyGateway()
    secrets = await seed(engine, gateway)
    assert set(kids(db)) == {("old", "old")} and len(kids(db)) == 30
    progress: list[tuple[int, int]] = []

    def crash_after_three(seen: int, resealed: int) -> None:
        progress.append((seen, resealed))
        if len(progress) == 3:
            raise Crash()

    box = box_of("new", "old")

    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(engine)

    with pytest.raises(Crash):
        await RotateSecrets(uow, box, batch_size=5, progress=crash_after_three)()
    assert progress == [(5, 5), (10, 10), (15, 15)]
    assert kids(db) == [("new", "new")] * 15 + [("old", "old")] * 15  # by id, batch by batch
    assert await RotateSecrets(uow, box, batch_size=5)() == 15 + 1  # the rest and the orphan
    assert set(kids(db)) == {("new", "new")}
    orphan_kids = admin_query(db, "SELECT secret_kid FROM gateway_orphans")
    assert [k for (k,) in orphan_kids] == ["new"]
    assert await RotateSecrets(uow, box, batch_size=5)() == 0  # nothing left to do
    only_new = box_of("new")
    async with uow() as work:
        await work.scope_to(CONSOLE_OPERATOR)
        sealed = await work.providers.list_sealed(None, 100)
        [orphan] = await work.orphans.list(10)
    assert orphan.secret is not None
    assert only_new.open(orphan.secret, orphan_key_context(orphan)).decode().startswith("sk-")
    opened = {
        p.id: (open_api_key(only_new, p, s), open_virtual_key(only_new, p, s)) for p, s in sealed
    }
    assert len(opened) == 30
    assert all(opened[pid] == pair for pid, pair in secrets.items())
    async with client_with_box(engine, gateway, only_new) as client:
        operator = bearer(await issue_operator_key(engine))
        for provider, _ in sealed:
            url = f"/api/tenants/{provider.tenant_id}/providers/{provider.id}/verify"
            verified = await client.get(url, headers=operator)
            assert verified.json()["status"] == "active", verified.text


def assert_clean_500(response: Any, *secrets: str) -> None:
    assert response.status_code == 500
    body = response.json()
    assert body == {"detail": "Internal server error", "request_id": body["request_id"]}
    assert body["request_id"] == response.headers["X-Request-ID"]
    for leak in ("Traceback", "SecretUnreadable", "llm_providers", *secrets):
        assert leak not in response.text


async def test_a_secret_moved_to_another_row_never_opens(
    sql_engine: AsyncEngine, migrated_db: str
) -> None:
    gateway = FlakyGateway()
    operator = bearer(await issue_operator_key(sql_engine))
    async with sql_client(sql_engine, gateway) as client:
        tenant_id, headers = await new_tenant(client, operator)
        keys = {name: canary(name) for name in ("openai", "groq")}
        made = {
            name: await add_provider(client, tenant_id, headers, provider_name=name, api_key=key)
            for name, key in keys.items()
        }
        victim, donor = (uuid.UUID(made[n]["id"]) for n in ("openai", "groq"))
        agent = await add_agent(client, headers, use_byok=True, provider_id=str(victim))
        one = f"/api/tenants/{tenant_id}/providers/{victim}"
        copy = (
            "UPDATE llm_providers SET {0} = (SELECT {0} FROM llm_providers WHERE id = :d)"
            " WHERE id = :v"
        )
        admin_query(migrated_db, copy.format("api_key_sealed"), d=donor, v=victim)
        # The provider key is needed to rotate without a new one; verify and runs do not.
        assert_clean_500(
            await client.post(one + "/rotate", json={}, headers=headers), *keys.values()
        )
        assert (await client.get(one + "/verify", headers=headers)).json()["status"] == "active"
        admin_query(migrated_db, copy.format("virtual_key_sealed"), d=donor, v=victim)
        secrets = (*keys.values(), made["openai"]["virtual_key"], made["groq"]["virtual_key"])
        assert_clean_500(await client.get(one + "/verify", headers=headers), *secrets)
        run = {"agent_id": agent["id"], "input": "hi"}
        assert_clean_500(
            await client.post("/api/agents/execute", json=run, headers=headers), *secrets
        )
        assert gateway.calls == []  # nothing ran, least of all on the donor's key
        rows = admin_query(
            migrated_db, "SELECT id FROM executions WHERE agent_id = :a", a=uuid.UUID(agent["id"])
        )
        assert rows == []
        donor_url = f"/api/tenants/{tenant_id}/providers/{donor}/verify"
        assert (await client.get(donor_url, headers=headers)).json()["status"] == "active"
    # A shared database: leave no row that other tests' key rings cannot open.
    for table, column in (("llm_providers", "tenant_id"), ("tenants", "id")):  # RESTRICT
        sql = f"DELETE FROM {table} WHERE {column} = :t"
        admin_query(migrated_db, sql, t=uuid.UUID(tenant_id))


class RacingUnitOfWork(SqlUnitOfWork):
    """Runs `race` right after each `list_sealed` batch is read, before it is written."""

    def __init__(self, engine: AsyncEngine, race: Callable[[], Awaitable[None]]) -> None:
        super().__init__(engine)
        self._race = race

    async def __aenter__(self) -> "RacingUnitOfWork":
        await super().__aenter__()
        read = self.providers.list_sealed

        async def list_sealed(after: uuid.UUID | None, limit: int) -> Any:
            batch = await read(after, limit)
            await self._race()
            return batch

        self.providers.list_sealed = list_sealed  # type: ignore[method-assign]
        return self


async def test_secrets_rotation_does_not_undo_a_concurrent_provider_rotation(
    own_db: tuple[str, AsyncEngine],
) -> None:
    _, engine = own_db
    # The service seals with "new" and can already open "x", which the rotation moves to.
    gateway, box = FlakyGateway(), box_of("new", "x", "old")
    operator = bearer(await issue_operator_key(engine))
    async with client_with_box(engine, gateway, box) as client:
        tenant_id, headers = await new_tenant(client, operator)
        made = await add_provider(client, tenant_id, headers)
        one = f"/api/tenants/{tenant_id}/providers/{made['id']}"
        rotated: list[str] = []

        async def tenant_rotates() -> None:
            if not rotated:
                response = await client.post(one + "/rotate", json={}, headers=headers)
                rotated.append(response.json()["virtual_key"])

        rotation = RotateSecrets(
            lambda: RacingUnitOfWork(engine, tenant_rotates), box_of("x", "new", "old")
        )
        await rotation()
        verified = await client.get(one + "/verify", headers=headers)
    assert gateway.registry.key_info(rotated[0]).status == "active"
    assert verified.json()["status"] == "active"  # still the key the tenant rotated to
