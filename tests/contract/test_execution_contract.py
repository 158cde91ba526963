"""Executions: the in-memory and SQL adapters behave alike (runs, results, worker leases)."""

import uuid
from datetime import timedelta

import pytest

from application.ports.page import Page
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.errors import LeaseLost, NotFound
from domain.execution import Execution, ExecutionStatus, TokenUsage
from tests.support.factories import NOW
from tests.support.llm_helpers import an_execution
from tests.support.scopes import OPERATOR, as_tenant, new_tenant, scoped


async def test_execution_round_trip_and_update(uow_factory: UnitOfWorkFactory) -> None:
    tenant_id = await new_tenant(uow_factory)
    execution = an_execution(tenant_id, uuid.uuid4())
    execution.start(NOW)
    async with scoped(uow_factory, as_tenant(tenant_id)) as uow:
        await uow.executions.add(execution)
        await uow.commit()
    execution.succeed("hi", "gpt-x", TokenUsage(3, 1, 4), 0.25, NOW + timedelta(seconds=2))
    async with scoped(uow_factory, as_tenant(tenant_id)) as uow:
        await uow.executions.update(execution)
        await uow.commit()
    async with scoped(uow_factory, as_tenant(tenant_id)) as uow:
        got = await uow.executions.get(execution.id)
    assert got is not None
    assert (got.status, got.output, got.model, got.usage, got.cost, got.latency_ms) == (
        ExecutionStatus.SUCCESS, "hi", "gpt-x", TokenUsage(3, 1, 4), 0.25, 2000,
    )  # fmt: skip
    assert (got.input, got.snapshot, got.started_at) == (execution.input, execution.snapshot, NOW)
    assert got.finished_at == NOW + timedelta(seconds=2)


async def test_execution_list_order_filters_and_paging(uow_factory: UnitOfWorkFactory) -> None:
    a, b = await new_tenant(uow_factory), await new_tenant(uow_factory)
    agent_1, agent_2 = uuid.uuid4(), uuid.uuid4()
    runs = [an_execution(a, agent_1 if i % 2 else agent_2, second=i) for i in range(6)]
    runs[4].fail("boom", NOW)
    async with scoped(uow_factory, OPERATOR) as uow:
        for run in [*runs, an_execution(b, agent_1)]:
            await uow.executions.add(run)
        await uow.commit()
    newest = [r.id for r in reversed(runs)]
    async with scoped(uow_factory, as_tenant(a)) as uow:
        ex = uow.executions
        assert [e.id for e in await ex.list(a, Page())] == newest
        assert [e.id for e in await ex.list(None, Page())] == newest  # scope hides b
        assert [e.id for e in await ex.list(a, Page(limit=2, offset=1))] == newest[1:3]
        by_agent = await ex.list(a, Page(), agent_id=agent_1)
        assert [e.id for e in by_agent] == [r.id for r in reversed(runs) if r.agent_id == agent_1]
        failed = await ex.list(a, Page(), status=ExecutionStatus.FAILED)
        assert [(e.id, e.error) for e in failed] == [(runs[4].id, "boom")]
        assert await ex.list(a, Page(), agent_id=agent_2, status=ExecutionStatus.FAILED) != []
        assert await ex.list(b, Page()) == []


async def test_an_added_execution_is_seen_at_once_and_gone_without_commit(
    uow_factory: UnitOfWorkFactory,
) -> None:
    tenant_id = await new_tenant(uow_factory)
    execution = an_execution(tenant_id, uuid.uuid4())
    async with scoped(uow_factory, OPERATOR) as uow:
        await uow.executions.add(execution)
        seen = await uow.executions.get(execution.id)
        assert seen is not None and seen.input == execution.input
    async with scoped(uow_factory, OPERATOR) as uow:
        assert await uow.executions.get(execution.id) is None


async def test_an_update_of_a_missing_execution_commits_nothing(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """Its NotFound may come as late as the commit; then that commit writes nothing."""
    tenant_id = await new_tenant(uow_factory)
    kept_out = an_execution(tenant_id, uuid.uuid4())
    async with scoped(uow_factory, as_tenant(tenant_id)) as uow:

        async def add_update_commit() -> None:
            await uow.executions.add(kept_out)
            await uow.executions.update(an_execution(tenant_id, uuid.uuid4()))  # never added
            await uow.commit()

        with pytest.raises(NotFound):
            await add_update_commit()
    async with scoped(uow_factory, as_tenant(tenant_id)) as uow:
        assert await uow.executions.get(kept_out.id) is None


async def queued(uow_factory: UnitOfWorkFactory) -> Execution:
    tenant_id = await new_tenant(uow_factory)
    execution = an_execution(tenant_id, uuid.uuid4())
    async with scoped(uow_factory, as_tenant(tenant_id)) as uow:
        await uow.executions.add(execution)
        await uow.commit()
    return execution


async def claim(uow_factory: UnitOfWorkFactory, execution: Execution, worker: str) -> Execution:
    async with scoped(uow_factory, as_tenant(execution.tenant_id)) as uow:
        lease = NOW + timedelta(seconds=30)
        claimed = await uow.executions.claim(execution.id, worker, NOW, lease)
        await uow.commit()
    assert claimed is not None and claimed.claimed_by == worker
    return claimed


async def test_finish_stores_the_result_of_the_worker_holding_the_lease(
    uow_factory: UnitOfWorkFactory,
) -> None:
    claimed = await claim(uow_factory, await queued(uow_factory), "w1")
    claimed.succeed("done", "gpt-x", TokenUsage(1, 1, 2), None, NOW + timedelta(seconds=1))
    async with scoped(uow_factory, as_tenant(claimed.tenant_id)) as uow:
        await uow.executions.finish(claimed, "w1")
        await uow.commit()
    async with scoped(uow_factory, as_tenant(claimed.tenant_id)) as uow:
        got = await uow.executions.get(claimed.id)
    assert got is not None and (got.status, got.output) == (ExecutionStatus.SUCCESS, "done")


async def test_finish_after_the_lease_was_lost_is_refused_and_writes_nothing(
    uow_factory: UnitOfWorkFactory,
) -> None:
    execution = await queued(uow_factory)
    first = await claim(uow_factory, execution, "w1")
    async with scoped(uow_factory, OPERATOR) as uow:  # the reaper takes it back
        first.requeue(NOW)
        await uow.executions.update(first)
        await uow.commit()
    second = await claim(uow_factory, execution, "w2")
    late = an_execution(execution.tenant_id, uuid.uuid4())  # written beside the late result
    first.claimed_by = "w1"
    first.fail("late", NOW + timedelta(seconds=9))
    async with scoped(uow_factory, as_tenant(execution.tenant_id)) as uow:

        async def finish_late() -> None:
            await uow.executions.add(late)
            await uow.executions.finish(first, "w1")
            await uow.commit()

        with pytest.raises(LeaseLost):  # from finish, or at the latest from the commit
            await finish_late()
    async with scoped(uow_factory, as_tenant(execution.tenant_id)) as uow:
        got = await uow.executions.get(execution.id)
        assert await uow.executions.get(late.id) is None
    assert got is not None and (got.status, got.claimed_by) == (ExecutionStatus.RUNNING, "w2")
    assert second.attempts == 2
