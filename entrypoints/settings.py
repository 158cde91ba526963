"""Configuration from the environment (names are part of the public contract)."""

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str | None
    migration_database_url: str | None
    data_dir: Path
    db_pool_size: int

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ) if env is None else env
        return cls(
            database_url=env.get("AGENTKEEL_DATABASE_URL") or None,
            migration_database_url=env.get("AGENTKEEL_MIGRATION_DATABASE_URL") or None,
            data_dir=Path(env.get("AGENTKEEL_DATA_DIR") or ".agentkeel"),
            db_pool_size=int(env.get("AGENTKEEL_DB_POOL_SIZE") or 10),
        )

    @property
    def embedded(self) -> bool:
        """No database configured at all: run PostgreSQL from the pgserver wheel."""
        return self.database_url is None and self.migration_database_url is None
