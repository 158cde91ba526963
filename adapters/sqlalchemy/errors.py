"""Translate the database's refusals into domain errors, by constraint name."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from domain.errors import DomainError, DuplicateName, LeaseLost, NotFound

CONSTRAINT_ERRORS: dict[str, Callable[[], DomainError]] = {
    "uq_tenants_name": lambda: DuplicateName("A tenant"),
    "uq_agents_tenant_id_name": lambda: DuplicateName("An agent", " in this tenant"),
    "fk_agents_tenant_id": lambda: NotFound("Tenant"),
    "fk_api_keys_tenant_id": lambda: NotFound("Tenant"),
    "fk_tenants_ticket_agent_id": lambda: NotFound("Agent"),
    "uq_llm_providers_tenant_id_provider_name": lambda: DuplicateName(
        "A provider", " in this tenant"
    ),
    "fk_llm_providers_tenant_id": lambda: NotFound("Tenant"),
    "fk_agents_provider_id": lambda: NotFound("Provider"),
    "fk_executions_tenant_id": lambda: NotFound("Tenant"),
    "fk_webhook_secrets_tenant_id": lambda: NotFound("Tenant"),
    "fk_ticket_systems_tenant_id": lambda: NotFound("Tenant"),
    "fk_webhook_receipts_tenant_id": lambda: NotFound("Tenant"),
    "fk_execution_deliveries_tenant_id": lambda: NotFound("Tenant"),
    "fk_execution_deliveries_execution_id": lambda: NotFound("Execution"),
    "fk_delivery_attempts_tenant_id": lambda: NotFound("Tenant"),
    "fk_delivery_attempts_delivery_id": lambda: NotFound("Delivery"),
    "uq_mcp_servers_tenant_id_name": lambda: DuplicateName("An MCP server", " in this tenant"),
    "fk_mcp_servers_tenant_id": lambda: NotFound("Tenant"),
}
# `expect_rows(n, what)` (migration 0006) raises no_data_found with `what` as its message
# when a statement that must change a row changed none.
EXPECTED_ROWS_ERRORS: dict[str, Callable[[], DomainError]] = {
    "Execution": lambda: NotFound("Execution"),
    "Execution lease": LeaseLost,
}
_NO_DATA_FOUND = "P0002"
# SQLSTATE 42501 on a write: the row is outside the transaction's tenant context.
_RLS_VIOLATION = "42501"


def constraint_name(exc: DBAPIError | psycopg.Error) -> str:
    driver_error = exc.orig if isinstance(exc, DBAPIError) else exc
    return getattr(getattr(driver_error, "diag", None), "constraint_name", None) or ""


@contextmanager
def domain_errors() -> Iterator[None]:
    """Around SQLAlchemy's execute (errors wrapped in DBAPIError) and the unit of work's
    own messages on the driver (psycopg's errors as they are)."""
    try:
        yield
    except (DBAPIError, psycopg.Error) as exc:
        driver_error = exc.orig if isinstance(exc, DBAPIError) else exc
        diag = getattr(driver_error, "diag", None)
        make_error = CONSTRAINT_ERRORS.get(constraint_name(exc))
        if make_error is not None:
            raise make_error() from exc
        sqlstate = getattr(driver_error, "sqlstate", None)
        if sqlstate == _NO_DATA_FOUND:
            expected = EXPECTED_ROWS_ERRORS.get(getattr(diag, "message_primary", None) or "")
            if expected is not None:
                raise expected() from exc
        if sqlstate == _RLS_VIOLATION:
            raise NotFound("Tenant") from exc
        raise


def is_database_unavailable(exc: BaseException) -> bool:
    """Connection refused, pool exhausted, server gone: the kinds a retry may cure."""
    return isinstance(
        exc,
        OperationalError
        | InterfaceError
        | PoolTimeout
        | ConnectionError
        | psycopg.OperationalError
        | psycopg.InterfaceError,
    )
