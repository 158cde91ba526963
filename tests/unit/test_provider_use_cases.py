"""BYOK provider flows over the in-memory adapters and the fake gateway: fast, no I/O."""

import uuid

import pytest

from application.gateway_errors import GatewayUnavailable
from application.ports.orphan_repository import GatewayOrphan
from application.use_cases.executions import ExecuteAgent
from application.use_cases.gateway_binding import orphan_key_context
from application.use_cases.provider_removal import DeleteProvider, ReconcileGateway
from application.use_cases.provider_secrets import open_api_key, open_virtual_key
from application.use_cases.providers import (
    CreateProvider,
    NewProvider,
    OldKeyNotRevoked,
    RotateProvider,
    VerifyProvider,
)
from domain.errors import DuplicateName, InvalidValue, NotFound, Refused
from domain.provider import ProviderStatus
from tests.support.factories import an_agent
from tests.support.llm_helpers import box_of, canary
from tests.support.provider_world import BOX, World, a_world


@pytest.fixture
def world() -> World:
    return a_world()


async def test_create_binds_a_deployment_and_a_restricted_key(world: World) -> None:
    api_key = canary()
    made = await world.create(api_key=api_key, max_budget=5.0, api_base="https://llm.example.com")
    provider, registry = made.provider, world.gateway.registry
    assert made.virtual_key.startswith("sk-") and provider.key_hint == "..." + api_key[-4:]
    deployment = registry.deployments[provider.deployment_id]
    assert deployment.model_name == f"agentkeel-{world.tenant_id}-{provider.id}"
    assert (deployment.litellm_model, deployment.provider_api_key) == (
        "openai/gpt-4o-mini",
        api_key,
    )
    key = registry.keys[made.virtual_key]
    assert (key.models, key.max_budget, key.alias) == (
        [deployment.model_name],
        5.0,
        provider.key_alias(provider.deployment_id),
    )
    assert key.token_id == provider.virtual_key_id
    row = world.store.providers[provider.id]
    assert open_api_key(BOX, provider, row.secrets) == api_key
    assert open_virtual_key(BOX, provider, row.secrets) == made.virtual_key
    assert api_key not in repr(row) and made.virtual_key not in repr(row)


@pytest.mark.parametrize(
    "fields",
    [
        {"provider_name": "not-a-provider"},
        {"api_key": "short"},
        {"api_key": "sk-has a space-1234"},
        {"api_base": "ftp://llm.example.com"},
        {"max_budget": 0.0},
        {"max_budget": -1.0},
        {"max_budget": float("inf")},
    ],
)
async def test_invalid_input_never_reaches_the_gateway(
    world: World, fields: dict[str, object]
) -> None:
    with pytest.raises(InvalidValue):
        await world.create(**fields)
    assert world.gateway.log == [] and world.store.providers == {}


async def test_duplicate_name_is_refused_before_the_gateway(world: World) -> None:
    await world.create()
    world.gateway.log.clear()
    with pytest.raises(DuplicateName):
        await world.create()
    assert world.gateway.log == [] and len(world.gateway.registry.deployments) == 1


async def test_key_minting_failure_removes_the_deployment(world: World) -> None:
    world.gateway.fail_next(GatewayUnavailable("down"), "create_virtual_key")
    with pytest.raises(GatewayUnavailable):
        await world.create()
    assert world.store.providers == {} and world.gateway.registry.deployments == {}
    assert world.orphans() == []


async def test_key_minting_and_undo_failing_records_the_deployment(world: World) -> None:
    world.gateway.down = {"create_virtual_key", "remove_deployment"}
    with pytest.raises(GatewayUnavailable):
        await world.create()
    assert world.store.providers == {}
    [deployment_id] = world.gateway.registry.deployments
    assert [(o.kind, o.reference) for o in world.orphans()] == [("deployment", deployment_id)]


async def test_storage_failure_unbinds_or_records_orphans(world: World) -> None:
    work = await world.scoped()

    async def refuse(*_: object) -> None:
        raise DuplicateName("A provider", " in this tenant")  # a concurrent create won

    work.providers.add = refuse  # type: ignore[method-assign, assignment]
    new = NewProvider("openai", canary(), "gpt-4o-mini")
    with pytest.raises(DuplicateName):
        await CreateProvider(work, world.services)(world.tenant, world.tenant_id, new)
    assert world.gateway.live_keys() == [] and world.gateway.registry.deployments == {}
    assert world.orphans() == []
    world.gateway.down = {"revoke_key", "remove_deployment"}
    with pytest.raises(DuplicateName):
        await CreateProvider(work, world.services)(world.tenant, world.tenant_id, new)
    orphans = sorted(world.orphans(), key=lambda o: o.kind)
    assert [o.kind for o in orphans] == ["deployment", "virtual_key"]
    assert all(o.tenant_id == world.tenant_id and o.attempts == 1 for o in orphans)
    [key] = world.gateway.live_keys()
    assert orphans[1].secret is not None and orphans[1].reference != key
    assert BOX.open(orphans[1].secret, orphan_key_context(orphans[1])).decode() == key
    world.gateway.down = set()
    report = await ReconcileGateway(world.uow(), world.services)()
    assert (report.removed, report.still_failing) == (2, 0)
    assert world.orphans() == [] and world.gateway.live_keys() == []
    assert world.gateway.registry.deployments == {}


async def test_rotation_creates_stores_then_revokes(world: World) -> None:
    old = await world.create()
    old_deployment = old.provider.deployment_id
    stored_at_revoke: list[str] = []
    world.gateway.log.clear()

    def spy(method: str) -> None:
        if method == "revoke_key":  # what is committed when the old key is revoked
            stored_at_revoke.append(world.store.providers[old.provider.id].provider.virtual_key_id)

    world.gateway.on_call = spy
    new_key = canary("new")
    made = await RotateProvider(await world.scoped(), world.services)(
        world.tenant, world.tenant_id, old.provider.id, new_key
    )
    assert world.gateway.admin_calls() == [
        "register_deployment", "create_virtual_key", "revoke_key", "remove_deployment",
    ]  # fmt: skip
    assert stored_at_revoke == [made.provider.virtual_key_id]  # swapped before revoking
    registry = world.gateway.registry
    assert registry.key_info(old.virtual_key).status == "revoked"
    assert registry.key_info(made.virtual_key).status == "active"
    assert old_deployment not in registry.deployments
    assert registry.deployments[made.provider.deployment_id].provider_api_key == new_key
    assert made.provider.key_hint == "..." + new_key[-4:]


async def test_rotation_whose_old_key_survives_is_reported_and_recorded(world: World) -> None:
    old = await world.create()
    world.gateway.down = {"revoke_key"}
    with pytest.raises(OldKeyNotRevoked):
        await RotateProvider(await world.scoped(), world.services)(
            world.tenant, world.tenant_id, old.provider.id
        )
    [orphan] = world.orphans()
    assert orphan.kind == "virtual_key" and orphan.reference == old.provider.virtual_key_id
    row = world.store.providers[old.provider.id]
    assert open_virtual_key(BOX, row.provider, row.secrets) != old.virtual_key  # new one stored
    world.gateway.down = set()
    await ReconcileGateway(world.uow(), world.services)()
    assert world.gateway.registry.key_info(old.virtual_key).status == "revoked"
    assert world.orphans() == []


async def test_delete_with_the_gateway_down_keeps_a_revoking_row(world: World) -> None:
    made = await world.create()
    agent = an_agent(world.tenant_id, use_byok=True)
    world.store.agents[agent.id] = agent
    world.gateway.down = {"revoke_key"}
    done = await DeleteProvider(await world.scoped(), world.services)(
        world.tenant, world.tenant_id, made.provider.id
    )
    assert done is False
    assert world.store.providers[made.provider.id].provider.status is ProviderStatus.REVOKING
    verify = VerifyProvider(await world.scoped(), world.services)
    assert (await verify(world.tenant, world.tenant_id, made.provider.id)).status == "revoked"
    with pytest.raises(Refused):  # a revoking provider no longer serves BYOK runs
        await ExecuteAgent(await world.scoped(), world.services)(world.tenant, agent.id, "hi")
    with pytest.raises(NotFound):
        await RotateProvider(await world.scoped(), world.services)(
            world.tenant, world.tenant_id, made.provider.id
        )
    world.gateway.down = set()
    report = await ReconcileGateway(world.uow(), world.services)()
    assert (report.removed, report.still_failing) == (1, 0)
    assert world.store.providers == {} and world.gateway.live_keys() == []
    assert world.gateway.registry.deployments == {}


async def test_byok_run_goes_through_the_virtual_key(world: World) -> None:
    made = await world.create()
    agent = an_agent(world.tenant_id, use_byok=True, temperature=0.1, max_tokens=3)
    world.store.agents[agent.id] = agent
    execution = await ExecuteAgent(await world.scoped(), world.services)(
        world.tenant, agent.id, "one two three four"
    )
    [request] = world.gateway.calls
    assert (request.model, request.api_key) == (made.provider.deployment_name, made.virtual_key)
    assert (request.temperature, request.max_tokens) == (0.1, 3)
    assert execution.snapshot.provider_id == made.provider.id
    assert world.store.executions[execution.id].output == "echo: one two"
    assert world.gateway.registry.keys[made.virtual_key].spend > 0


async def test_one_unreadable_orphan_does_not_block_reconciliation(world: World) -> None:
    made = await world.create()
    world.gateway.down = {"revoke_key"}
    await DeleteProvider(await world.scoped(), world.services)(
        world.tenant, world.tenant_id, made.provider.id
    )
    poison = GatewayOrphan(
        uuid.uuid4(), world.tenant_id, "virtual_key", "tok", made.provider.created_at
    )
    poison.secret = box_of("retired").seal(b"sk-old", orphan_key_context(poison))
    world.store.orphans[poison.id] = poison
    world.gateway.down = set()
    report = await ReconcileGateway(world.uow(), world.services)()
    assert (report.removed, report.still_failing) == (1, 1)
    assert world.store.providers == {}
