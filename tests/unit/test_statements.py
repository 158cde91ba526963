"""How adapters/sqlalchemy/statements.py turns a SQLAlchemy statement into psycopg's SQL
text and parameters (PostgreSQL running them is covered by every SQL test)."""

import uuid
from typing import Any

import pytest
from sqlalchemy import bindparam, update

from adapters.sqlalchemy.statements import Statement
from adapters.sqlalchemy.tables import executions as t

_RENAME = Statement(
    update(t)
    .where(t.c.id == bindparam("p_id"), t.c.status == "running")
    .values(claimed_by=bindparam("p_worker"), error=bindparam("p_worker")),
    around=("WITH changed AS ({}) SELECT %(p_tag)s::text", {"p_tag": "renamed"}),
)


def test_the_sql_has_placeholders_only_and_the_call_carries_every_value() -> None:
    execution_id = uuid.uuid4()
    bound = _RENAME.bind({"p_id": execution_id, "p_worker": "w'1; --"})
    sql = bound.statement.query.decode()
    assert sql.startswith("WITH changed AS (UPDATE executions SET ")
    assert "claimed_by=%(p_worker)s" in sql and "executions.id = %(p_id)s" in sql
    assert "running" not in sql and "w'1" not in sql and "renamed" not in sql
    assert bound.params is not None
    # The statement's own values (`status == "running"`, the tag) go as parameters too.
    assert set(bound.params.values()) >= {execution_id, "w'1; --", "running", "renamed"}


@pytest.mark.parametrize(
    "params",
    [{"p_id": uuid.uuid4()}, {"p_id": uuid.uuid4(), "p_worker": "w", "status_1": "queued"}],
)
def test_a_call_must_give_exactly_the_parameters(params: dict[str, Any]) -> None:
    """One too few would be a NULL, one too many a column silently not written."""
    with pytest.raises(ValueError, match="the statement takes"):
        _RENAME.bind(params)


def test_a_text_statement_without_parameters_is_sent_as_it_is() -> None:
    begin = Statement.text("BEGIN", reads_only=True, prepare=False).bind()
    assert (begin.statement.query, begin.params, begin.statement.prepare) == (b"BEGIN", None, False)
    with pytest.raises(ValueError):
        Statement.text("SELECT 1", reads_only=True).bind({"x": 1})
