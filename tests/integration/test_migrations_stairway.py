"""Every revision upgrades and downgrades cleanly, one step at a time, both ways, through
the entry points a user has: Alembic's API on the project's alembic.ini, Alembic's CLI
from the project root, and `agentkeel migrate --revision`."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool, text

from adapters.sqlalchemy import migrate
from adapters.sqlalchemy.urls import sqlalchemy_url
from entrypoints.cli.main import main as agentkeel
from tests.support.postgres import scratch_database

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]


def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(Config(ROOT / "alembic.ini"))
    return [r.revision for r in reversed(list(script.walk_revisions("base", "heads")))]


@pytest.fixture
def empty_db(pg_admin_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A scratch database named the way a user names it to Alembic."""
    with scratch_database(pg_admin_url) as url:
        monkeypatch.setenv("AGENTKEEL_MIGRATION_DATABASE_URL", url)
        monkeypatch.delenv("AGENTKEEL_DATABASE_URL", raising=False)
        yield url


def _query(url: str, sql: str) -> tuple[object, ...]:
    engine = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return tuple(conn.execute(text(sql)).one())
    finally:
        engine.dispose()


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


_GRANTS = (
    "SELECT has_table_privilege('agentkeel_runtime', 'agents', 'SELECT'),"
    " has_table_privilege('agentkeel_runtime', 'api_key_credentials', 'SELECT'),"
    " has_function_privilege('agentkeel_runtime', 'authenticate_api_key(bytea)', 'EXECUTE'),"
    " has_function_privilege('public', 'authenticate_api_key(bytea)', 'EXECUTE')"
)
_HEAD_GRANTS = (True, False, True, False)


def test_there_is_a_single_linear_history() -> None:
    script = ScriptDirectory.from_config(Config(ROOT / "alembic.ini"))
    assert len(script.get_heads()) == 1
    assert _revisions()[0] == "0001"
    assert ScriptDirectory(migrate.SCRIPT_LOCATION).get_heads() == script.get_heads()


def test_stairway_through_alembic_ini(empty_db: str) -> None:
    """Example 4 of the seed: Config("alembic.ini"), command.upgrade / command.downgrade."""
    config = Config(ROOT / "alembic.ini")
    revisions = _revisions()
    previous = "base"
    for revision in revisions:
        command.upgrade(config, revision)
        command.downgrade(config, "-1")
        assert migrate.current_revision(empty_db) == (None if previous == "base" else previous)
        command.upgrade(config, "+1")
        assert migrate.current_revision(empty_db) == revision
        previous = revision
    assert _query(empty_db, _GRANTS) == _HEAD_GRANTS
    for revision in reversed(["base", *revisions[:-1]]):
        command.downgrade(config, revision)
    assert migrate.current_revision(empty_db) is None
    assert _public_objects(empty_db) == set()
    command.upgrade(config, "head")
    assert migrate.current_revision(empty_db) == revisions[-1]
    assert _query(empty_db, _GRANTS) == _HEAD_GRANTS


def _alembic_cli(*args: str) -> str:
    done = subprocess.run(
        [str(Path(sys.executable).with_name("alembic")), *args],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def test_the_alembic_cli_from_the_project_root(empty_db: str) -> None:
    head = _revisions()[-1]
    assert "Running upgrade" in _alembic_cli("upgrade", "head")
    assert _query(empty_db, _GRANTS) == _HEAD_GRANTS
    _alembic_cli("downgrade", "-1")
    assert migrate.current_revision(empty_db) == _revisions()[-2]
    assert _revisions()[-2] in _alembic_cli("current")
    _alembic_cli("upgrade", "head")
    assert migrate.current_revision(empty_db) == head
    _alembic_cli("downgrade", "base")
    assert _public_objects(empty_db) == set()


def test_agentkeel_migrate_goes_up_and_down(empty_db: str) -> None:
    revisions = _revisions()
    assert agentkeel(["migrate", "--revision", revisions[2]]) == 0
    assert migrate.current_revision(empty_db) == revisions[2]
    assert agentkeel(["migrate", "--revision", revisions[0]]) == 0
    assert migrate.current_revision(empty_db) == revisions[0]
    assert agentkeel(["migrate", "--revision", "no-such-revision"]) == 2
    assert agentkeel(["migrate"]) == 0
    assert migrate.current_revision(empty_db) == revisions[-1]
    assert _query(empty_db, _GRANTS) == _HEAD_GRANTS
    assert agentkeel(["migrate", "--revision", "-1"]) == 0
    assert migrate.current_revision(empty_db) == revisions[-2]
    assert agentkeel(["migrate", "--revision", "base"]) == 0
    assert migrate.current_revision(empty_db) is None


def test_upgrade_is_idempotent_and_keeps_grants(empty_db: str) -> None:
    migrate.upgrade(empty_db, empty_db)
    migrate.upgrade(empty_db, empty_db)
    assert _query(empty_db, _GRANTS) == _HEAD_GRANTS
