"""Configuration from the environment (names are part of the public contract)."""

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str | None
    migration_database_url: str | None
    data_dir: Path
    db_pool_size: int
    litellm_url: str | None = None
    litellm_master_key: str | None = field(default=None, repr=False)
    gateway_timeout_s: float = 60.0
    secret_keys: str | None = field(default=None, repr=False)
    redis_url: str | None = field(default=None, repr=False)
    worker_lease_s: float = 30.0
    worker_heartbeat_s: float = 2.0
    reaper_interval_s: float = 5.0
    requeue_after_s: float = 120.0
    broker_heartbeat_timeout_s: float = 60.0
    embedded_worker_threads: int = 4
    metrics_public: bool = False
    allow_private_callbacks: bool = False
    delivery_first_retry_s: float = 10.0
    mcp_stdio_commands: tuple[str, ...] = ()
    mcp_allow_private_urls: bool = False
    mcp_max_tool_steps: int = 8
    mcp_tool_timeout_s: float = 30.0
    mcp_connect_timeout_s: float = 10.0
    mcp_check_interval_s: float = 300.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ) if env is None else env
        return cls(
            database_url=env.get("AGENTKEEL_DATABASE_URL") or None,
            migration_database_url=env.get("AGENTKEEL_MIGRATION_DATABASE_URL") or None,
            data_dir=Path(env.get("AGENTKEEL_DATA_DIR") or ".agentkeel"),
            db_pool_size=int(env.get("AGENTKEEL_DB_POOL_SIZE") or 10),
            litellm_url=env.get("AGENTKEEL_LITELLM_URL") or None,
            litellm_master_key=env.get("AGENTKEEL_LITELLM_MASTER_KEY") or None,
            gateway_timeout_s=float(env.get("AGENTKEEL_GATEWAY_TIMEOUT_S") or 60),
            secret_keys=env.get("AGENTKEEL_SECRET_KEYS") or None,
            redis_url=env.get("AGENTKEEL_REDIS_URL") or None,
            worker_lease_s=float(env.get("AGENTKEEL_WORKER_LEASE_S") or 30),
            worker_heartbeat_s=float(env.get("AGENTKEEL_WORKER_HEARTBEAT_S") or 2),
            reaper_interval_s=float(env.get("AGENTKEEL_REAPER_INTERVAL_S") or 5),
            requeue_after_s=float(env.get("AGENTKEEL_REQUEUE_AFTER_S") or 120),
            broker_heartbeat_timeout_s=float(env.get("AGENTKEEL_BROKER_HEARTBEAT_TIMEOUT_S") or 60),
            embedded_worker_threads=int(env.get("AGENTKEEL_EMBEDDED_WORKER_THREADS") or 4),
            metrics_public=(env.get("AGENTKEEL_METRICS_PUBLIC") or "").lower() == "true",
            allow_private_callbacks=(env.get("AGENTKEEL_ALLOW_PRIVATE_CALLBACKS") or "").lower()
            == "true",
            delivery_first_retry_s=float(env.get("AGENTKEEL_DELIVERY_FIRST_RETRY_S") or 10),
            mcp_stdio_commands=tuple(
                c.strip()
                for c in (env.get("AGENTKEEL_MCP_STDIO_COMMANDS") or "").split(",")
                if c.strip()
            ),
            mcp_allow_private_urls=(env.get("AGENTKEEL_MCP_ALLOW_PRIVATE_URLS") or "").lower()
            == "true",
            mcp_max_tool_steps=int(env.get("AGENTKEEL_MCP_MAX_TOOL_STEPS") or 8),
            mcp_tool_timeout_s=float(env.get("AGENTKEEL_MCP_TOOL_TIMEOUT_S") or 30),
            mcp_connect_timeout_s=float(env.get("AGENTKEEL_MCP_CONNECT_TIMEOUT_S") or 10),
            mcp_check_interval_s=float(env.get("AGENTKEEL_MCP_CHECK_INTERVAL_S") or 300),
        )

    @property
    def embedded(self) -> bool:
        """No database configured at all: run PostgreSQL from the pgserver wheel."""
        return self.database_url is None and self.migration_database_url is None
