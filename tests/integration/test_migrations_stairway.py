"""Every revision upgrades and downgrades cleanly, one step at a time, both ways."""

from collections.abc import Iterator

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool, text

from adapters.sqlalchemy import migrate
from adapters.sqlalchemy.urls import sqlalchemy_url
from tests.support.postgres import scratch_database

pytestmark = pytest.mark.postgres


def _revisions() -> list[str]:
    script = ScriptDirectory(migrate.SCRIPT_LOCATION)
    return [r.revision for r in reversed(list(script.walk_revisions("base", "heads")))]


@pytest.fixture
def empty_db(pg_admin_url: str) -> Iterator[str]:
    with scratch_database(pg_admin_url) as url:
        yield url


def _public_objects(url: str) -> set[str]:
    engine = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT 'table ' || tablename FROM pg_tables WHERE schemaname = 'public'"
                    " AND tablename <> 'alembic_version'"
                    " UNION ALL SELECT 'function ' || proname FROM pg_proc"
                    " WHERE pronamespace = 'public'::regnamespace"
                )
            )
            return {row[0] for row in rows}
    finally:
        engine.dispose()


def test_there_is_a_single_linear_history() -> None:
    script = ScriptDirectory(migrate.SCRIPT_LOCATION)
    assert len(script.get_heads()) == 1
    assert _revisions()[0] == "0001"


def test_stairway_up_and_down_one_step_at_a_time(empty_db: str) -> None:
    revisions = _revisions()
    previous = "base"
    for revision in revisions:
        migrate.upgrade(empty_db, revision=revision)
        migrate.downgrade(empty_db, previous)
        assert migrate.current_revision(empty_db) == (None if previous == "base" else previous)
        migrate.upgrade(empty_db, revision=revision)
        assert migrate.current_revision(empty_db) == revision
        previous = revision
    for revision in reversed(["base", *revisions[:-1]]):
        migrate.downgrade(empty_db, revision)
    assert migrate.current_revision(empty_db) is None
    assert _public_objects(empty_db) == set()
    migrate.upgrade(empty_db)
    assert migrate.current_revision(empty_db) == revisions[-1]


def test_upgrade_is_idempotent_and_keeps_grants(empty_db: str) -> None:
    migrate.upgrade(empty_db, empty_db)
    migrate.upgrade(empty_db, empty_db)
    engine = create_engine(sqlalchemy_url(empty_db), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            granted = conn.execute(
                text(
                    "SELECT has_table_privilege('agentkeel_runtime', 'agents', 'SELECT'),"
                    " has_table_privilege('agentkeel_runtime', 'api_key_credentials', 'SELECT'),"
                    " has_function_privilege('agentkeel_runtime',"
                    " 'authenticate_api_key(bytea)', 'EXECUTE'),"
                    " has_function_privilege('public', 'authenticate_api_key(bytea)', 'EXECUTE')"
                )
            ).one()
    finally:
        engine.dispose()
    assert tuple(granted) == (True, False, True, False)
