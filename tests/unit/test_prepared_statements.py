"""How adapters/sqlalchemy/prepared.py turns a SQLAlchemy statement into a PREPARE and its
calls (PostgreSQL running them is covered by every SQL test)."""

import uuid
from typing import Any

import pytest
from sqlalchemy import bindparam, update

from adapters.sqlalchemy.prepared import PreparedStatement
from adapters.sqlalchemy.tables import executions as t

_RENAME = PreparedStatement(
    "test_rename_claimed",
    update(t)
    .where(t.c.id == bindparam("p_id"), t.c.status == "running")
    .values(claimed_by=bindparam("p_worker"), error=bindparam("p_worker")),
)
_NO_DRIVER: Any = None  # the values below never need psycopg's own quoting


def test_parameters_are_numbered_in_order_once_each() -> None:
    assert _RENAME.params == ("p_worker", "p_id", "status_1")
    prepared = _RENAME.prepare()
    assert prepared.startswith("PREPARE test_rename_claimed AS UPDATE executions SET ")
    assert "claimed_by=$1" in prepared and "error=$1" in prepared
    assert "executions.id = $2" in prepared and "executions.status = $3" in prepared


def test_a_call_carries_the_values_and_the_statement_its_own() -> None:
    execution_id = uuid.uuid4()
    call = _RENAME.call(_NO_DRIVER, {"p_id": execution_id, "p_worker": "w'1"})
    assert call == f"EXECUTE test_rename_claimed('w''1', '{execution_id}'::uuid, 'running')"


@pytest.mark.parametrize(
    "params",
    [{"p_id": uuid.uuid4()}, {"p_id": uuid.uuid4(), "p_worker": "w", "status": "queued"}],
)
def test_a_call_must_give_exactly_the_parameters(params: dict[str, Any]) -> None:
    """One too few would be a NULL, one too many a column silently not written."""
    with pytest.raises(ValueError, match="test_rename_claimed takes"):
        _RENAME.call(_NO_DRIVER, params)
