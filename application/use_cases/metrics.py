from application.ports.unit_of_work import UnitOfWork
from domain.principal import CONSOLE_OPERATOR


class CountExecutions:
    """Executions per status across tenants (the operator's view, for /metrics)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self) -> dict[str, int]:
        await self._uow.scope_to(CONSOLE_OPERATOR)
        return await self._uow.executions.count_by_status()
