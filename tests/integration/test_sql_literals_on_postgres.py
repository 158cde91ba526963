"""What adapters/sqlalchemy/literal.py writes, PostgreSQL reads back as the same value,
with standard_conforming_strings on (the default) or off."""

import uuid
from collections.abc import Iterator
from datetime import UTC, timedelta, timezone
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.sqlalchemy.literal import bytea_literal, sql_literal
from adapters.sqlalchemy.urls import sqlalchemy_url

pytestmark = pytest.mark.postgres

_VALUES = st.one_of(
    st.text().filter(lambda s: "\x00" not in s),
    st.text(alphabet="'\\\"; -$E\n").filter(bool),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.uuids(),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=9, minutes=30))])),
)


@pytest.fixture(scope="module", params=["on", "off"])
def conn(request: pytest.FixtureRequest, migrated_db: str) -> Iterator[psycopg.Connection]:
    url = sqlalchemy_url(migrated_db).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"SET standard_conforming_strings = {request.param}")
        yield connection


def _read_back(conn: psycopg.Connection, literal: str) -> Any:
    row = conn.execute(f"SELECT {literal}".encode()).fetchone()
    assert row is not None
    return row[0]


def _refuse(value: object) -> str:
    raise AssertionError(f"{value!r} went to psycopg")


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=_VALUES)
def test_a_literal_reads_back_as_its_value(conn: psycopg.Connection, value: object) -> None:
    read = _read_back(conn, sql_literal(value, _refuse))
    if isinstance(value, float):  # written as Python's repr, read as numeric: the same double
        read = float(read)
    assert read == value and type(read) is type(value)


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.binary())
def test_a_bytea_literal_reads_back(conn: psycopg.Connection, value: bytes) -> None:
    assert _read_back(conn, bytea_literal(value)) == value


def test_uuids_stay_uuids(conn: psycopg.Connection) -> None:
    value = uuid.uuid4()
    assert _read_back(conn, sql_literal(value, _refuse)) == value
