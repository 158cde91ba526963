"""Schema migrations (Alembic) run as the owner role, for `agentkeel migrate` and tests.

The same revisions and the same env.py as the Alembic CLI (alembic.ini at the project
root); here the script location is the installed `migrations` package, so this works
from a wheel too. env.py resets the runtime role's grants when a command leaves the
schema at head.
"""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import Connection, create_engine, pool

import migrations
from adapters.sqlalchemy.urls import sqlalchemy_url

SCRIPT_LOCATION = str(Path(migrations.__file__).parent)


def alembic_config(connection: Connection, runtime_login: str | None) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["connection"] = connection
    config.attributes["runtime_login"] = runtime_login
    return config


def _login(runtime_url: str | None) -> str | None:
    return sqlalchemy_url(runtime_url).username if runtime_url else None


def _run(owner_url: str, runtime_url: str | None, revision: str, *, down: bool) -> None:
    engine = create_engine(sqlalchemy_url(owner_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            config = alembic_config(conn, _login(runtime_url))
            (command.downgrade if down else command.upgrade)(config, revision)
    finally:
        engine.dispose()


def upgrade(owner_url: str, runtime_url: str | None = None, revision: str = "head") -> None:
    """Upgrade to `revision`; at head, give the runtime role exactly the grants it needs."""
    _run(owner_url, runtime_url, revision, down=False)


def downgrade(owner_url: str, revision: str, runtime_url: str | None = None) -> None:
    _run(owner_url, runtime_url, revision, down=True)


def migrate_to(owner_url: str, runtime_url: str | None, revision: str) -> str | None:
    """Go to `revision` (an id, `head`, `base`, `+N` or `-N`), up or down as it lies;
    returns the revision the database is at afterwards."""
    try:
        _run(owner_url, runtime_url, revision, down=_is_below_current(owner_url, revision))
    except (CommandError, RevisionError) as exc:
        raise ValueError(f"cannot migrate to {revision!r}: {exc}") from exc
    return current_revision(owner_url)


def _is_below_current(owner_url: str, revision: str) -> bool:
    if revision.startswith("-") or revision == "base":
        return True
    if revision.startswith("+") or revision in ("head", "heads"):
        return False
    current = current_revision(owner_url)
    if current is None:
        return False
    script = ScriptDirectory(SCRIPT_LOCATION)
    target = script.get_revision(revision)  # raises for an unknown revision
    below = {r.revision for r in script.iterate_revisions(current, "base")} - {current}
    return target is not None and target.revision in below


def current_revision(owner_url: str) -> str | None:
    engine = create_engine(sqlalchemy_url(owner_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
