"""adapters/sqlalchemy/literal.py writes a run's values as psycopg's client-side binding
does (its `sql.Literal`), and hands psycopg what it does not write itself."""

import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from psycopg import sql

from adapters.sqlalchemy.literal import sql_literal, uuid_literal

_AWARE = st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5, minutes=-30))]))
_WRITTEN_HERE = st.one_of(
    st.text().filter(lambda s: "\x00" not in s),
    st.text(alphabet="'\\\"; -$E\n").filter(bool),  # what quoting is about
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    _AWARE,
)


def _refuse(value: object) -> str:
    raise AssertionError(f"{value!r} went to psycopg")


@given(_WRITTEN_HERE)
def test_values_are_written_as_psycopg_writes_them(value: object) -> None:
    assert sql_literal(value, _refuse) == sql.Literal(value).as_string(None)


@pytest.mark.parametrize(
    "value",
    ["nul \x00 inside", float("nan"), datetime(2026, 1, 1), Decimal("1.5"), b"\x00"],
)
def test_other_values_go_to_psycopg(value: object) -> None:
    assert sql_literal(value, lambda v: f"psycopg({v!r})") == f"psycopg({value!r})"


def test_a_uuid_is_its_canonical_text() -> None:
    value = uuid.uuid4()
    assert sql_literal(value, _refuse) == f"'{value}'::uuid" == uuid_literal(value)
    with pytest.raises(TypeError):
        uuid_literal(str(value))  # type: ignore[arg-type]  # text could be anything
